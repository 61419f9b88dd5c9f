"""An organisation-wide apply lock, built from what the API offers.

The API has no locks, but pod creation with a ``client_id`` is idempotent: a second create with
the same ``client_id`` returns the *original* pod. So every apply creates the pod
``client_id = mailctl.lock`` with a name unique to itself; if the pod that comes back carries
another name, another apply holds the lock (its name says who and since when). Releasing deletes
the pod. A crashed apply leaves the lock behind: ``mailctl unlock`` removes it. The reader
never reports this pod, so it is invisible to plans, drift and saved-plan fingerprints.
"""

from __future__ import annotations

import getpass
import os
import socket
import uuid
from datetime import datetime, timezone

from mailctl.api.client import AgentMailClient, quote_segment
from mailctl.errors import NotFound, UnsafePlan

LOCK_CLIENT_ID = "mailctl.lock"


def _holder() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    since = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"mailctl lock {user}@{socket.gethostname()} pid {os.getpid()} since {since} [{uuid.uuid4().hex[:8]}]"


class ApplyLock:
    def __init__(self, client: AgentMailClient):
        self.client = client
        self.name = _holder()
        self.pod_id: str | None = None

    def __enter__(self) -> ApplyLock:
        pod = self.client.post("/v0/pods", {"client_id": LOCK_CLIENT_ID, "name": self.name}, idempotent=True)
        if pod.get("name") != self.name:
            raise UnsafePlan(f"another apply holds the organisation lock ({pod.get('name')}); wait for "
                             f"it to finish, or if it died, run `mailctl unlock` (nothing was changed)")
        self.pod_id = pod["pod_id"]
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pod_id is not None:
            release(self.client, self.pod_id)


def release(client: AgentMailClient, pod_id: str) -> None:
    try:
        client.delete(f"/v0/pods/{quote_segment(pod_id)}")
    except NotFound:
        pass


def find(client: AgentMailClient) -> dict[str, str] | None:
    """The lock pod, if any apply holds (or crashed holding) the lock."""
    for pod in client.paginate("/v0/pods", "pods"):
        if pod.get("client_id") == LOCK_CLIENT_ID:
            return pod
    return None
