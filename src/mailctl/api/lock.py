"""The apply locks (organisation-wide and per shard), built from what the API offers.

The API has no locks, but pod creation with a ``client_id`` is idempotent: a second create with
the same ``client_id`` returns the *original* pod. So an apply creates the pod
``client_id = mailctl.lock`` with a name unique to itself; if the pod that comes back carries
another name, another apply holds the lock (its name says who, where, which pid and since when).
Releasing deletes the pod. A crashed apply leaves the lock behind: ``mailctl unlock`` removes it
(refusing while the holder still runs on this host). The reader never reports a pod whose
``client_id`` starts with ``mailctl.lock``, so locks are invisible to plans, drift and saved-plan
fingerprints.

Shards (``apply --shard K/N``): the N shards of a config run at once, two runs of one shard
exclude each other, and an unsharded apply excludes every shard:

- a sharded apply takes ``mailctl.lock.shard-K-of-N``, *then* probes the global lock by taking
  and at once releasing it (the probe's name ends in ``probe``). If an apply holds it, the shard
  lock is released and the shard refused (or waits). A probe of another shard is no obstacle.
- an unsharded apply takes ``mailctl.lock``, *then* lists the pods: while any shard lock exists
  it releases the global lock and is refused (or waits).

Each side takes its own lock before looking for the other's, so when the two race at least one
of them sees the other: both may be refused, never both let through. Shard locks of different
N are not compared: run one N per config at a time. Sides that wait (``--lock-timeout``) try again
after a random part of :data:`POLL_INTERVAL` (an apply of the whole config blocked by shards after
twice that: shards go first), so they do not keep taking and letting go in step until every one
has timed out.

Taking (with its probe or its look at the shard locks) and releasing run inside ``shield``: the
CLI passes a block that holds a signal until the requests in flight have returned, so a lock pod
the server made is always known, and released, before the signal unwinds the apply.

A lock request that got no answer (a timeout, a 5xx) may have been acted on all the same. A take
without an answer is asked again on the way out (the same ``client_id`` and name: the pod comes
back if it was made, ours to release); a release without an answer is tried once more (a 404 then
says it went). What cannot be settled so is :class:`~mailctl.errors.LockNotReleased`, naming the
lock and the unlock command: raised when nothing else went wrong, else a note on the error that did.
"""

from __future__ import annotations

import getpass
import os
import random
import re
import socket
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mailctl.api.client import AgentMailClient, quote_segment
from mailctl.api.listing import list_both_ends
from mailctl.api.responses import clip, expect_fields
from mailctl.errors import ApiError, LockNotReleased, NotFound, TransientError, UnsafePlan

LOCK_CLIENT_ID = "mailctl.lock"
LOCK_PREFIX = LOCK_CLIENT_ID  # every lock pod's client_id starts with it (the reader hides them)
PROBE_SUFFIX = " probe"
POLL_INTERVAL = 1.0
HOLDER_LIMIT = 200  # characters of a holder's name printed (ours are about 80)
_SINCE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_NAME = re.compile(r"^mailctl lock (?P<user>.*)@(?P<host>[^@\s]*) pid (?P<pid>\d+) since (?P<since>\S+) \[")


def is_lock_pod(client_id: object) -> bool:
    """A lock's pod: ``mailctl.lock`` or ``mailctl.lock.shard-K-of-N``, and nothing else another
    tool may have named with the prefix (never taken for a running apply, never unlocked)."""
    return client_id == LOCK_CLIENT_ID or (isinstance(client_id, str) and _SHARD_ID.match(client_id) is not None)


def is_reserved(client_id: object) -> bool:
    """A client_id under the lock prefix: never declared, and left out of plans, drift and exports."""
    return isinstance(client_id, str) and client_id.startswith(LOCK_PREFIX)


def shard_lock_id(index: int, count: int) -> str:
    return f"{LOCK_CLIENT_ID}.shard-{index}-of-{count}"


def describe_lock(client_id: str) -> str:
    """``the organisation lock`` or ``the lock of shard 2/4``, from a lock pod's client_id."""
    match = _SHARD_ID.match(client_id)
    return f"the lock of shard {match[1]}/{match[2]}" if match else "the organisation lock"


_SHARD_ID = re.compile(r"^mailctl\.lock\.shard-(\d+)-of-(\d+)$")


def shard_of_lock(client_id: str) -> str | None:
    """``K/N`` from a shard lock pod's client_id, else None."""
    match = _SHARD_ID.match(client_id)
    return f"{match[1]}/{match[2]}" if match else None


def _holder() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    since = datetime.now(UTC).strftime(_SINCE_FORMAT)
    return f"mailctl lock {user}@{socket.gethostname()} pid {os.getpid()} since {since} [{uuid.uuid4().hex[:8]}]"


@dataclass(frozen=True)
class Holder:
    """Who holds the lock, read back from the lock pod's name (other names: only ``name``)."""

    name: str
    host: str | None = None
    pid: int | None = None
    since: datetime | None = None
    shown_name: str = ""  # the name as printed: the API's text, so secrets scrubbed and clipped

    @classmethod
    def parse(cls, name: str, redact: Callable[[str], str] = str) -> Holder:
        """``redact``: the client's (a server may put anything in a pod's name, the key too)."""
        shown = clip(redact(name), HOLDER_LIMIT)
        match = _NAME.match(name)
        if match is None:
            return cls(name, shown_name=shown)
        try:
            since: datetime | None = datetime.strptime(match["since"], _SINCE_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            since = None
        return cls(name, match["host"], int(match["pid"]), since, shown)

    def age(self, now: datetime | None = None) -> str | None:
        if self.since is None:
            return None
        seconds = max(0, int(((now or datetime.now(UTC)) - self.since).total_seconds()))
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
        return f"{self.shown_name} (held for {age})" if age else self.shown_name


@dataclass(frozen=True)
class _Blocked:
    what: str  # "another apply holds the organisation lock"
    holder: Holder
    lock: str  # the lock waited for: "the organisation lock", "the lock of shard 2/4"
    shard: str | None = None  # "K/N" of a shard lock (the unlock command names it), else None
    yields: bool = False  # an apply of the whole config lets running shards go first


class ApplyLock:
    """Take the lock on enter (waiting up to ``timeout`` seconds if held), release it on exit.

    ``shard`` (K, N): take the lock of that shard (see the module docstring). ``exclude_shards``:
    an unsharded apply is also refused while shard locks exist (the CLI always asks for it).
    ``shield``: a block each attempt and each release runs in (see the module docstring).
    """

    def __init__(
        self,
        client: AgentMailClient,
        timeout: float = 0.0,
        on_wait: Callable[[str, str, float], None] | None = None,
        unlock_hint: Callable[[str | None], str] | None = None,
        poll_interval: float = POLL_INTERVAL,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        shard: tuple[int, int] | None = None,
        exclude_shards: bool = False,
        shield: Callable[[], AbstractContextManager[None]] = nullcontext,
        jitter: Callable[[], float] = lambda: random.uniform(0.5, 1.0),
    ):
        self.client = client
        self.name = _holder()
        self.pod_id: str | None = None
        self.timeout = timeout
        self.on_wait = on_wait or (lambda lock, holder, waited: None)  # (lock waited for, holder, seconds)
        # The command that removes a lock left by a dead apply: that shard's (``K/N``), or all (None).
        self.unlock_hint = unlock_hint or (lambda shard: "mailctl unlock" + (f" --shard {shard}" if shard else ""))
        self._jitter = jitter
        self.poll_interval = poll_interval
        self._sleep = sleep
        self._clock = clock
        self.shard = shard
        self.exclude_shards = exclude_shards
        self.shield = shield
        self.taken = False  # the lock was ours at some point (then released on exit)
        self.not_released: LockNotReleased | None = None  # a lock this apply may have left held
        self._unanswered: list[tuple[str, str]] = []  # (client_id, name) of takes that got no answer
        # Every pod, as listed once the lock was ours (None: not listed). The apply's plan reads
        # them from here: listed again a moment later they would cost as many requests again.
        self.pods: list[dict[str, Any]] | None = None
        self.what = describe_lock(shard_lock_id(*shard) if shard else LOCK_CLIENT_ID)

    def __enter__(self) -> ApplyLock:
        started = self._clock()
        while True:
            self.pods = None  # a listing of an attempt that was blocked is stale by the next one
            self.name = _holder()  # "since" says when this attempt took it (it names the holder's age)
            try:
                with self.shield():
                    blocked = self._try_shard() if self.shard else self._try_global()
                if blocked is None:
                    return self  # inside the try: a signal before `with` holds the lock still releases it
            except BaseException as exc:  # a signal or an error after the lock pod was made: release it
                left = self._release_all()
                if left is None:
                    raise
                if isinstance(exc, ApiError):  # the lock's own request failed: what it may have left is the news
                    raise left from exc
                exc.add_note(str(left))
                raise
            waited = self._clock() - started
            if waited >= self.timeout:
                after = f" after waiting {self.timeout:g}s" if self.timeout else ""
                raise UnsafePlan(
                    f"{blocked.what} ({blocked.holder}){after}; wait for it "
                    f"to finish (--lock-timeout SECONDS waits for it), or if it died, run "
                    f"`{self.unlock_hint(blocked.shard)}` (nothing was changed)"
                )
            self.on_wait(blocked.lock, blocked.holder.shown_name, waited)  # the name, not its age
            interval = self.poll_interval * self._jitter() * (2.0 if blocked.yields else 1.0)
            self._sleep(min(interval, max(0.0, self.timeout - waited)))

    def __exit__(self, kind: object = None, exc: BaseException | None = None, traceback: object = None) -> None:
        left = self._release_all()
        if left is None:
            return
        if exc is None:
            raise left
        exc.add_note(str(left))  # the error unwinding is still what is reported

    def _release_all(self) -> LockNotReleased | None:
        """Release what this apply holds or may hold; what may be left held, if anything."""
        problems = []
        with self.shield():
            if self.pod_id is not None:
                pod_id, self.pod_id = self.pod_id, None
                try:
                    _release_surely(self.client, pod_id)
                except ApiError as exc:
                    problems.append(f"{self.what} may still be held: releasing it failed ({exc})")
            unanswered, self._unanswered = self._unanswered, []
            for client_id, name in unanswered:
                try:
                    pod_id, holder = self._post_lock(client_id, name)
                    if holder == name:
                        _release_surely(self.client, pod_id)
                except ApiError as exc:
                    problems.append(
                        f"{describe_lock(client_id)} may be held by this apply: the request that took it got "
                        f"no answer, and asking again failed ({exc})"
                    )
        if not problems:
            return None
        self.not_released = LockNotReleased(
            f"{'; '.join(problems)}. Once the API answers, run `{self.unlock_hint(self._shard_text())}` to remove it "
            f"(until then every apply is refused)"
        )
        return self.not_released

    def _shard_text(self) -> str | None:
        return f"{self.shard[0]}/{self.shard[1]}" if self.shard else None

    def _holder(self, name: str) -> Holder:
        return Holder.parse(name, self.client.redact)

    def _take(self, client_id: str, name: str) -> tuple[str, str]:
        """Create the lock pod; (its pod_id, the name it carries: ours if we took it)."""
        try:
            return self._post_lock(client_id, name)
        except TransientError:  # the server may have made it after we stopped listening
            self._unanswered.append((client_id, name))
            raise
        except BaseException as exc:  # interrupted on its way (a service's Ctrl-C): it may be made too
            if not isinstance(exc, ApiError):  # an answer (403...) says it was not
                self._unanswered.append((client_id, name))
            raise

    def _post_lock(self, client_id: str, name: str) -> tuple[str, str]:
        # An answer that is not a pod (an HTML page, a list, no pod_id or name) is a clear
        # "unexpected response from the API" error, never "held by None".
        pod = self.client.post(
            "/v0/pods", {"client_id": client_id, "name": name}, idempotent=True, require=("pod_id", "name")
        )
        return str(pod["pod_id"]), str(pod["name"])

    def _try_global(self) -> _Blocked | None:
        pod_id, name = self._take(LOCK_CLIENT_ID, self.name)
        if name != self.name:
            return _Blocked("another apply holds the organisation lock", self._holder(name), self.what)
        self.pod_id, self.taken = pod_id, True
        if not self.exclude_shards:
            return None
        self.pods = list_pods(self.client)
        shards = [pod for pod in lock_pods(self.pods) if pod["client_id"] != LOCK_CLIENT_ID]
        if not shards:
            return None
        self.__exit__()
        held = [describe_lock(p["client_id"]).removeprefix("the lock of shard ") for p in shards]
        return _Blocked(
            f"applies of shard(s) {', '.join(held)} are running and an apply of the whole "
            f"config waits for every shard; shard {held[0]} is held by",
            self._holder(shards[0]["name"]),
            describe_lock(shards[0]["client_id"]),
            shard=held[0],
            yields=True,
        )

    def _try_shard(self) -> _Blocked | None:
        assert self.shard is not None
        index, count = self.shard
        pod_id, name = self._take(shard_lock_id(index, count), self.name)
        if name != self.name:
            return _Blocked(
                f"another apply of shard {index}/{count} holds its lock",
                self._holder(name),
                self.what,
                f"{index}/{count}",
            )
        self.pod_id, self.taken = pod_id, True
        probe = self.name + PROBE_SUFFIX
        global_id, global_name = self._take(LOCK_CLIENT_ID, probe)
        if global_name == probe:
            try:
                _release_surely(self.client, global_id)
            except ApiError:
                self._unanswered.append((LOCK_CLIENT_ID, probe))  # looked for again on the way out
                raise
            return None
        if global_name.endswith(PROBE_SUFFIX):
            return None  # another shard's probe: no apply of the whole config holds it
        self.__exit__()
        return _Blocked(
            "an apply of the whole config holds the organisation lock",
            self._holder(global_name),
            describe_lock(LOCK_CLIENT_ID),
        )


def release(client: AgentMailClient, pod_id: str) -> None:
    try:
        client.delete(f"/v0/pods/{quote_segment(pod_id)}")
    except NotFound:
        pass


def _release_surely(client: AgentMailClient, pod_id: str) -> None:
    """``release``, once more if the first got no answer (it may have happened: then a 404)."""
    try:
        release(client, pod_id)
    except TransientError:
        release(client, pod_id)


def of_shard(found: list[dict[str, str]], index: int, count: int) -> list[dict[str, str]]:
    """Of the lock pods ``found``, those an apply of shard ``index``/``count`` holds: its shard lock
    and, when it was killed while probing, the organisation lock named as its probe."""
    own = [pod for pod in found if pod["client_id"] == shard_lock_id(index, count)]
    probes = {pod["name"] + PROBE_SUFFIX for pod in own}
    return own + [pod for pod in found if pod["client_id"] == LOCK_CLIENT_ID and pod["name"] in probes]


def find_all(client: AgentMailClient) -> list[dict[str, str]]:
    """Every lock pod (organisation and shards): ``pod_id``, ``client_id`` and ``name``."""
    return lock_pods(list_pods(client))


def list_pods(client: AgentMailClient) -> list[dict[str, Any]]:
    """Every pod row of the organisation, as the reader lists them."""
    return list_both_ends(client, "/v0/pods", "pods", "pod_id")


def lock_pods(pods: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Of the pod rows ``pods``, the lock pods: ``pod_id``, ``client_id`` and ``name``."""
    found = []
    for pod in pods:
        if is_lock_pod(pod.get("client_id")):
            row = expect_fields(pod, ("pod_id", "name"), "GET", "/v0/pods")
            found.append({"pod_id": str(row["pod_id"]), "client_id": str(pod["client_id"]), "name": str(row["name"])})
    return found
