"""Typed access to a request's JSON body and query string; every mistake is a 400 naming the field.

``Body`` wraps the parsed JSON object. ``body.string("name")`` returns the value or ``None`` when
absent (an explicit JSON ``null`` on a create is treated as absent; PATCH handlers call
``body.reject_nulls(...)`` first, §11 Q18). ``Query`` accepts repeated keys and JSON-array strings
for list-valued parameters (spec §1.3). Lengths the API enforces come from ``mailctl.limits`` (pass
``limit=``), the table the config schema reads too.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from mailctl import limits
from mailctl.sandbox.backend.errors import bad_request

CLIENT_ID_RE = re.compile(rf"^[{limits.CLIENT_ID_CHARACTERS}]{{{limits.CLIENT_ID.min},{limits.CLIENT_ID.max}}}\Z")
_MISSING = object()


class Body:
    """A request body that must be a JSON object (an absent body is ``{}``)."""

    def __init__(self, data: Any):
        if not isinstance(data, dict):
            raise bad_request("Request body must be a JSON object")
        self.data: dict[str, Any] = data

    def has(self, name: str) -> bool:
        return name in self.data

    def reject_nulls(self, *names: str) -> None:
        """§11 Q18: an explicit null on a non-nullable field is a 400, never a silent guess."""
        for name in names:
            if name in self.data and self.data[name] is None:
                raise bad_request(f"'{name}' cannot be null", name)

    def raw(self, name: str) -> Any:
        return self.data.get(name)

    def _get(self, name: str, kind: type | tuple[type, ...], label: str, required: bool) -> Any:
        value = self.data.get(name, _MISSING)
        if value is _MISSING or value is None:
            if required:
                raise bad_request(f"'{name}' is required", name)
            return None
        # bool is an int in Python: never accept true/false where a number is expected
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            raise bad_request(f"'{name}' must be {label}", name)
        return value

    def string(
        self,
        name: str,
        *,
        required: bool = False,
        max_len: int = 256,
        min_len: int = 1,
        limit: limits.Length | None = None,
    ) -> str | None:
        """The text value of ``name`` (None when absent), ``limit`` (else min_len..max_len) characters long."""
        if limit is not None:
            min_len, max_len = limit.min, limit.max
        value: str | None = self._get(name, str, "a string", required)
        if value is not None and not (min_len <= len(value) <= max_len):
            raise bad_request(f"'{name}' must be {min_len} to {max_len} characters long", name)
        return value

    def boolean(self, name: str, *, required: bool = False) -> bool | None:
        value: bool | None = self._get(name, bool, "a boolean", required)
        return value

    def integer(self, name: str, *, required: bool = False) -> int | None:
        value: int | None = self._get(name, int, "an integer", required)
        return value

    def mapping(self, name: str, *, required: bool = False) -> dict[str, Any] | None:
        value: dict[str, Any] | None = self._get(name, dict, "an object", required)
        return value

    def strings(self, name: str, *, required: bool = False) -> list[str] | None:
        value: list[str] | None = self._get(name, list, "a list of strings", required)
        if value is not None and not all(isinstance(v, str) for v in value):
            raise bad_request(f"'{name}' must be a list of strings", name)
        return value

    def client_id(self) -> str | None:
        value = self.string("client_id")
        if value is not None and not CLIENT_ID_RE.match(value):
            low, high = limits.CLIENT_ID.min, limits.CLIENT_ID.max
            raise bad_request(f"'client_id' must be {low}-{high} characters from A-Z a-z 0-9 - . _ ~", "client_id")
        return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


class Query:
    """The query string. Repeated keys and JSON-array strings both give lists."""

    def __init__(self, query_string: str):
        self.pairs = parse_qsl(query_string, keep_blank_values=True)

    def string(self, name: str) -> str | None:
        values = [v for k, v in self.pairs if k == name]
        return values[-1] if values else None

    def integer(self, name: str) -> int | None:
        value = self.string(name)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise bad_request(f"'{name}' must be an integer", name) from None

    def boolean(self, name: str) -> bool | None:
        value = self.string(name)
        if value is None:
            return None
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0"):
            return False
        raise bad_request(f"'{name}' must be true or false", name)

    def strings(self, name: str) -> list[str]:
        out: list[str] = []
        for key, value in self.pairs:
            if key != name:
                continue
            parsed: Any = None
            if value.startswith("["):
                try:
                    parsed = json.loads(value)
                except ValueError:
                    parsed = None
            if isinstance(parsed, list):
                out.extend(str(v) for v in parsed)
            else:
                out.append(value)
        return out
