"""The rotate workflow: a declared API key gets a new secret without an outage, under the lock.

Rotation creates a second key with the same scope, name, permissions and expiry, and records its
secret in the sink. While both exist the newest carries the name; the older one is left alone
(plans list it as unmanaged) until ``retire_old`` deletes it, once consumers have switched.
It takes the apply lock like every workflow that writes, so it never interleaves with an apply.

A webhook's header values are write-only: no plan can see that one changed. ``push_webhook_headers``
sends every declared value again (read from the config and the environment now), under the lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from mailctl.api.client import AgentMailClient
from mailctl.api.paths import item_path
from mailctl.api.writer import ApiWriter, IdRegistry, SecretStore
from mailctl.errors import ApiError, LockNotReleased, MailctlError, NotFound, UsageError
from mailctl.kinds import spec_of
from mailctl.ops.apply import ApplyHooks, LockState, locked
from mailctl.ops.planning import read_addresses
from mailctl.resources import WEBHOOK, DesiredState, Resource


@dataclass
class RotateResult:
    created: bool = False  # a new key was made (its secret is in the sink)
    deleted: list[str] = field(default_factory=list)  # older keys deleted (prefix or id)
    kept: int = 0  # older keys left for --retire-old
    lock_left: LockNotReleased | None = None  # the work is done, but its lock may still be held


class RotationIncomplete(MailctlError):
    """Deleting an older key failed after the new key was made (or while retiring): ``result`` says
    what was done, the message what is left and how to finish (``--retire-old``)."""

    def __init__(self, message: str, result: RotateResult):
        super().__init__(message)
        self.result = result


def declared_key(desired: DesiredState, address: str) -> Resource:
    declared = desired.resources.get(address)
    if declared is None or not _rotatable(declared):
        raise UsageError(f"{address} is not an API key declared in the config")
    return declared


def declared_rotatable(desired: DesiredState, address: str) -> Resource:
    """An API key, or a resource with write-only values to push (a webhook with headers)."""
    declared = desired.resources.get(address)
    if declared is not None and (_rotatable(declared) or declared.write_only):
        return declared
    if declared is not None and declared.kind == WEBHOOK:
        raise UsageError(f"{address} declares no headers: there is nothing to push")
    raise UsageError(f"{address} is not an API key declared in the config, nor a webhook that declares headers")


@dataclass
class PushResult:
    pushed: dict[str, list[str]] = field(default_factory=dict)  # attribute -> names whose values were sent
    lock_left: LockNotReleased | None = None  # the work is done, but its lock may still be held


@contextmanager
def _keeping_what_was_done(result: RotateResult | PushResult, done: Callable[[], bool]) -> Iterator[None]:
    """A lock not released after the work (raised only when nothing else failed) goes into
    ``result.lock_left``, for the caller to report after what was done, as apply does: told only
    "the lock may still be held", a user re-runs rotate and makes yet another key. With nothing
    ``done``, it is the error."""
    try:
        yield
    except LockNotReleased as left:
        if not done():
            raise
        result.lock_left = left


def push_webhook_headers(
    client: AgentMailClient,
    desired: DesiredState,
    address: str,
    hooks: ApplyHooks | None = None,
    lock_timeout: float = 0.0,
    lock_state: LockState | None = None,
) -> PushResult:
    """Send the current value of every write-only value ``address`` declares (its headers),
    holding the lock. Names the webhook lacks are added; it keeps the names it has."""
    declared = declared_rotatable(desired, address)
    spec = spec_of(declared.kind)
    sent = spec.values_to_send(declared)
    unknown = [name for values in sent.values() for name, v in values.items() if v.value is None]
    if unknown or not sent:
        raise UsageError(f"{address}: the values of {', '.join(unknown) or 'its headers'} are not known")
    client.hide(desired.write_only_values())  # an API error that quotes the request shows none of them
    result = PushResult()
    with (
        _keeping_what_was_done(result, lambda: bool(result.pushed)),
        locked(client, hooks or ApplyHooks(), lock_timeout, state=lock_state) as lock,
    ):
        actual = read_addresses(client, desired, [address], lock.pods)
        current = actual.resources.get(address)
        if current is None:
            raise UsageError(f"{address} does not exist yet: `mailctl apply` creates it")
        ids = IdRegistry({a: r.remote_id for a, r in actual.resources.items() if r.remote_id})
        for attr in spec.attributes:
            values = sent.get(attr.name)
            if values and attr.sub_route:
                body = {attr.field: {name: v.value for name, v in values.items()}}
                client.patch(f"{item_path(current, ids)}/{attr.sub_route}", body)
                result.pushed[attr.name] = sorted(values)
    return result


def _rotatable(resource: Resource) -> bool:
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
    retire_hint: str = "",
) -> RotateResult:
    """Rotate (or, with ``retire_old``, only retire) the key at ``address``, holding the lock.
    ``retire_hint``: the command that retires older keys, as the caller's users write it."""
    declared_key(desired, address)
    if retire_old and delete_old:
        raise UsageError("--retire-old and --delete-old exclude each other")
    if not retire_old and sink is None:
        raise UsageError("rotation creates a key whose secret is shown once: pass --secrets-out FILE")
    result = RotateResult()
    with (
        _keeping_what_was_done(result, lambda: result.created or bool(result.deleted)),
        locked(client, hooks or ApplyHooks(), lock_timeout, state=lock_state) as lock,
    ):
        actual = read_addresses(client, desired, [address], lock.pods)
        ids = IdRegistry({a: r.remote_id for a, r in actual.resources.items() if r.remote_id})
        current = actual.resources.get(address)
        older = [r for a, r in actual.resources.items() if a.startswith(address + "#")]
        if current is None:
            raise UsageError(f"{address} does not exist yet: `mailctl apply` creates it")
        doomed = older if retire_old else [*older, current] if delete_old else []
        own = next((r.observed.prefix for r in doomed if client.authenticates_with(r.observed.prefix)), None)
        if own is not None:  # deleting it would cut this run off, the apply lock still held
            raise UsageError(
                f"{address}: the key {own}... is the key this run authenticates with; nothing was deleted. "
                "Retire it with another key (AGENTMAIL_API_KEY), once its consumers use the new one"
            )
        if not retire_old:
            new_key = Resource(current.kind, address, dict(current.attrs), parent=current.parent)
            ApiWriter(client, ids, sink).create(new_key)
            result.created = True
            older.append(current)
        if not (retire_old or delete_old):
            result.kept = len(older)
            return result
        for done, old in enumerate(older):
            try:
                client.delete(item_path(old, ids, old.remote_id))
            except NotFound:
                pass
            except ApiError as exc:
                made = "the new key exists (its secret is stored) and carries the name; " if result.created else ""
                raise RotationIncomplete(
                    f"deleting an older key of {address} failed ({exc}): {made}{len(older) - done} older "
                    f"key(s) are left; delete them with `{retire_hint or f'mailctl rotate {address} --retire-old'}`",
                    result,
                ) from None
            result.deleted.append(old.observed.prefix or old.remote_id or old.address)
    return result
