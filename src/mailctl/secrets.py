"""Where new API key secrets go: a JSON file, mode 0600, appended atomically.

A created key's secret exists only in the create response; this sink is the only place it is
ever written. The file holds one JSON array of records
``{"address", "api_key_id", "prefix", "secret", "created_at"}``.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mailctl.errors import UsageError


class SecretSink:
    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._lock = threading.Lock()
        self.written: list[str] = []  # addresses whose secret was stored (never the secrets)

    def check_writable(self) -> None:
        """Fail before any change is made, not after a key was created and its secret lost."""
        directory = self.path.parent if str(self.path.parent) else Path(".")
        if self.path.exists():
            self._read()  # must be our JSON format
            if not os.access(self.path, os.W_OK):
                raise UsageError(f"--secrets-out {self.path}: file is not writable")
        elif not directory.is_dir() or not os.access(directory, os.W_OK):
            raise UsageError(f"--secrets-out {self.path}: directory {directory} is not writable")

    def store(self, address: str, response: dict[str, Any]) -> None:
        record = {
            "address": address,
            "api_key_id": response.get("api_key_id"),
            "prefix": response.get("prefix"),
            "secret": response.get("api_key"),
            "created_at": response.get("created_at") or datetime.now(timezone.utc).isoformat(),
        }
        with self._lock:
            records = self._read() if self.path.exists() else []
            records.append(record)
            self._write_atomically(json.dumps(records, indent=2) + "\n")
            self.written.append(address)

    def _read(self) -> list[dict[str, Any]]:
        try:
            records = json.loads(self.path.read_text() or "[]")
        except (OSError, ValueError) as exc:
            raise UsageError(f"--secrets-out {self.path}: not a mailctl secrets file ({exc.__class__.__name__})") from None
        if not isinstance(records, list):
            raise UsageError(f"--secrets-out {self.path}: not a mailctl secrets file (expected a JSON array)")
        return records

    def _write_atomically(self, text: str) -> None:
        directory = self.path.parent if str(self.path.parent) else Path(".")
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=directory)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
