"""The rotate workflow: a declared API key gets a new secret without an outage, under the lock.

Rotation creates a second key with the same scope, name, permissions and expiry, and records its
secret in the sink. While both exist the newest carries the name; the older one is left alone
(plans list it as unmanaged) until ``retire_old`` deletes it, once consumers have switched.
It takes the apply lock like every workflow that writes, so it never interleaves with an apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailctl.api.client import AgentMailClient
from mailctl.api.paths import item_path
from mailctl.api.reader import StateReader
from mailctl.api.writer import ApiWriter, IdRegistry, SecretStore
from mailctl.errors import NotFound, UsageError
from mailctl.ops.apply import ApplyHooks, LockState, locked
from mailctl.resources import DesiredState, Resource


@dataclass
class RotateResult:
    created: bool = False  # a new key was made (its secret is in the sink)
    deleted: list[str] = field(default_factory=list)  # older keys deleted (prefix or id)
    kept: int = 0  # older keys left for --retire-old


def declared_key(desired: DesiredState, address: str) -> Resource:
    declared = desired.resources.get(address)
    if declared is None or not _rotatable(declared):
        raise UsageError(f"{address} is not an API key declared in the config")
    return declared


def _rotatable(resource: Resource) -> bool:
    from mailctl.kinds import spec_of

    return spec_of(resource.kind).shows_secret_once


def rotate_key(
    client: AgentMailClient,
    desired: DesiredState,
    address: str,
    sink: SecretStore | None,
    delete_old: bool = False,
    retire_old: bool = False,
    hooks: ApplyHooks | None = None,
    lock_timeout: float = 0.0,
    lock_state: LockState | None = None,
) -> RotateResult:
    """Rotate (or, with ``retire_old``, only retire) the key at ``address``, holding the lock."""
    declared_key(desired, address)
    if retire_old and delete_old:
        raise UsageError("--retire-old and --delete-old exclude each other")
    if not retire_old and sink is None:
        raise UsageError("rotation creates a key whose secret is shown once: pass --secrets-out FILE")
    result = RotateResult()
    with locked(client, hooks or ApplyHooks(), lock_timeout, state=lock_state):
        actual = StateReader(client).read(desired)
        ids = IdRegistry({a: r.remote_id for a, r in actual.resources.items() if r.remote_id})
        current = actual.resources.get(address)
        older = [r for a, r in actual.resources.items() if a.startswith(address + "#")]
        if current is None:
            raise UsageError(f"{address} does not exist yet: `mailctl apply` creates it")
        if not retire_old:
            new_key = Resource(current.kind, address, dict(current.attrs), parent=current.parent)
            ApiWriter(client, ids, sink).create(new_key)
            result.created = True
            older.append(current)
        if not (retire_old or delete_old):
            result.kept = len(older)
            return result
        for old in older:
            try:
                client.delete(item_path(old, ids, old.remote_id))
            except NotFound:
                pass
            result.deleted.append(old.observed.prefix or old.remote_id or old.address)
    return result
