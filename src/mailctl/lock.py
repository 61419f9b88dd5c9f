"""An organisation-wide apply lock, built from what the API offers.

The API has no locks, but pod creation with a ``client_id`` is idempotent: a second create with
the same ``client_id`` returns the *original* pod. So every apply creates the pod
``client_id = mailctl.lock`` with a name unique to itself; if the pod that comes back carries
another name, another apply holds the lock (its name says who, where, which pid and since when).
Releasing deletes the pod. A crashed apply leaves the lock behind: ``mailctl unlock`` removes it
(refusing while the holder still runs on this host). The reader never reports this pod, so it is
invisible to plans, drift and saved-plan fingerprints.
"""

from __future__ import annotations

import getpass
import os
import re
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from mailctl.api.client import AgentMailClient, quote_segment
from mailctl.api.responses import expect_fields
from mailctl.errors import NotFound, UnsafePlan

LOCK_CLIENT_ID = "mailctl.lock"
POLL_INTERVAL = 1.0
_SINCE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_NAME = re.compile(r"^mailctl lock (?P<user>.*)@(?P<host>[^@\s]*) pid (?P<pid>\d+) since (?P<since>\S+) \[")


def _holder() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    since = datetime.now(timezone.utc).strftime(_SINCE_FORMAT)
    return f"mailctl lock {user}@{socket.gethostname()} pid {os.getpid()} since {since} [{uuid.uuid4().hex[:8]}]"


@dataclass(frozen=True)
class Holder:
    """Who holds the lock, read back from the lock pod's name (other names: only ``name``)."""

    name: str
    host: str | None = None
    pid: int | None = None
    since: datetime | None = None

    @classmethod
    def parse(cls, name: str) -> Holder:
        match = _NAME.match(name)
        if match is None:
            return cls(name)
        try:
            since: datetime | None = datetime.strptime(match["since"], _SINCE_FORMAT).replace(tzinfo=timezone.utc)
        except ValueError:
            since = None
        return cls(name, match["host"], int(match["pid"]), since)

    def age(self, now: datetime | None = None) -> str | None:
        if self.since is None:
            return None
        seconds = max(0, int(((now or datetime.now(timezone.utc)) - self.since).total_seconds()))
        hours, rest = divmod(seconds, 3600)
        return f"{hours}h {rest // 60}m" if hours else f"{rest // 60}m {rest % 60}s"

    def on_this_host(self) -> bool:
        return self.host is not None and self.host == socket.gethostname()

    def running_here(self) -> bool:
        """True when the holder's pid is alive on this host (a reused pid looks alive too)."""
        if not self.on_this_host() or self.pid is None or self.pid <= 0:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # alive, owned by another user
        return True

    def __str__(self) -> str:
        age = self.age()
        return f"{self.name} (held for {age})" if age else self.name


class ApplyLock:
    """Take the lock on enter (waiting up to ``timeout`` seconds if held), release it on exit."""

    def __init__(self, client: AgentMailClient, timeout: float = 0.0,
                 on_wait: Callable[[str, float], None] | None = None, unlock_hint: str = "mailctl unlock",
                 poll_interval: float = POLL_INTERVAL, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.client = client
        self.name = _holder()
        self.pod_id: str | None = None
        self.timeout = timeout
        self.on_wait = on_wait or (lambda holder, waited: None)
        self.unlock_hint = unlock_hint
        self.poll_interval = poll_interval
        self._sleep = sleep
        self._clock = clock

    def __enter__(self) -> ApplyLock:
        started = self._clock()
        while True:
            # An answer that is not a pod (an HTML page, a list, no pod_id or name) is a clear
            # "unexpected response from the API" error, never "held by None".
            pod = self.client.post("/v0/pods", {"client_id": LOCK_CLIENT_ID, "name": self.name},
                                   idempotent=True, require=("pod_id", "name"))
            if pod["name"] == self.name:
                self.pod_id = str(pod["pod_id"])
                return self
            holder = Holder.parse(str(pod["name"]))
            waited = self._clock() - started
            if waited >= self.timeout:
                after = f" after waiting {self.timeout:g}s" if self.timeout else ""
                raise UnsafePlan(f"another apply holds the organisation lock ({holder}){after}; wait for it "
                                 f"to finish (--lock-timeout SECONDS waits for it), or if it died, run "
                                 f"`{self.unlock_hint}` (nothing was changed)")
            self.on_wait(holder.name, waited)  # the name, not its age: the same holder each time
            self._sleep(min(self.poll_interval, max(0.0, self.timeout - waited)))

    def __exit__(self, *exc: object) -> None:
        if self.pod_id is not None:
            release(self.client, self.pod_id)


def release(client: AgentMailClient, pod_id: str) -> None:
    try:
        client.delete(f"/v0/pods/{quote_segment(pod_id)}")
    except NotFound:
        pass


def find(client: AgentMailClient) -> dict[str, str] | None:
    """The lock pod (``pod_id`` and ``name``), if any apply holds (or crashed holding) the lock."""
    for pod in client.paginate("/v0/pods", "pods"):
        if pod.get("client_id") == LOCK_CLIENT_ID:
            found = expect_fields(pod, ("pod_id", "name"), "GET", "/v0/pods")
            return {"pod_id": str(found["pod_id"]), "name": str(found["name"])}
    return None
