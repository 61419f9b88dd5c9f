"""What the mutation sweep of ``api/lock.py`` found unpinned: each test names the line whose
deletion (or negated ``if``) it catches
(``.ci/mutate.py --worktree --sweep src/mailctl/api/lock.py tests/unit/lock ...
tests/unit/lock/test_lock_sweep.py``; the hand-made ``lock-*`` mutations of ``.ci/mutations.toml``
are a separate list).

The lock runs against an in-process sandbox (pod creation idempotent by ``client_id``, as the API);
a request the test refuses never reaches it and is answered 503 (no retries: ``max_retries=0``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from mailctl.api import lock
from mailctl.api.client import AgentMailClient
from mailctl.errors import ApiError, LockNotReleased, UnsafePlan
from mailctl.ops.apply import LockState
from mailctl.sandbox import create_app

KEY = "am_lock_sweep_test_org_key_0123456789ab"
OTHER = "mailctl lock ci@runner-7 pid 4242 since 2026-01-01T10:00:00Z [abcd1234]"

Pick = Callable[[httpx.Request], bool]


class _Refusing(httpx.WSGITransport):
    """The in-process sandbox; records ``METHOD path`` of each request, and answers those
    ``refuse`` picks with a 503 (the sandbox never sees them)."""

    def __init__(self, app: Any) -> None:
        super().__init__(app=app)
        self.sent: list[str] = []
        self.refuse: Pick = lambda request: False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.path}")
        if self.refuse(request):
            return httpx.Response(503, json={"name": "Error", "code": "unavailable", "message": "refused by the test"})
        return super().handle_request(request)


@dataclass
class Api:
    http: httpx.Client  # the test's own view of the organisation
    transport: _Refusing

    def client(self) -> AgentMailClient:
        return AgentMailClient("http://sandbox", KEY, transport=self.transport, max_retries=0, sleep=lambda s: None)

    def hold(self, client_id: str, name: str) -> str:
        """A lock pod another apply holds (or left behind)."""
        made = self.http.post("/v0/pods", json={"client_id": client_id, "name": name})
        made.raise_for_status()
        return str(made.json()["pod_id"])

    def pod_id_of(self, client_id: str) -> str:
        rows = self.http.get("/v0/pods", params={"limit": 100}).json()["pods"]
        return next(str(r["pod_id"]) for r in rows if r.get("client_id") == client_id)

    def locks(self) -> dict[str, str]:
        """client_id -> name of every lock pod."""
        rows = self.http.get("/v0/pods", params={"limit": 100}).json()["pods"]
        return {r["client_id"]: r["name"] for r in rows if lock.is_lock_pod(r.get("client_id"))}


@pytest.fixture
def api() -> Iterator[Api]:
    app = create_app(api_keys=(KEY,))
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sandbox", headers=headers) as http:
        yield Api(http, _Refusing(app))


# -- the holder's name -----------------------------------------------------------------------------


def test_a_user_with_no_name_takes_the_lock_as_unknown(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """``user = "unknown"`` in ``_holder``: in a container whose uid has no passwd entry
    ``getpass.getuser()`` raises; without the fallback every apply crashed before taking the lock."""

    def no_user() -> str:
        raise KeyError("getpwuid(): uid not found: 1234")

    monkeypatch.setattr(lock.getpass, "getuser", no_user)
    with lock.ApplyLock(api.client()) as held:
        assert api.locks()[lock.LOCK_CLIENT_ID].startswith("mailctl lock unknown@")
        assert held.taken
    assert api.locks() == {}


def test_a_holder_whose_since_is_not_a_time_is_still_named_in_the_refusal(api: Api) -> None:
    """``since = None`` when the holder's ``since`` does not parse (``Holder.parse``): a lock pod
    named by another version or by hand is refused naming it, with no age; without the line the
    refusal was an UnboundLocalError traceback."""
    api.hold(lock.LOCK_CLIENT_ID, "mailctl lock ci@runner-7 pid 4242 since yesterday [abcd1234]")
    with pytest.raises(UnsafePlan) as caught, lock.ApplyLock(api.client()):
        pass
    message = str(caught.value)
    assert "another apply holds the organisation lock (mailctl lock ci@runner-7 pid 4242" in message
    assert "held for" not in message
    holder = lock.Holder.parse("mailctl lock ci@runner-7 pid 4242 since yesterday [abcd1234]")
    assert (holder.host, holder.pid, holder.since) == ("runner-7", 4242, None)


# -- waiting for the lock --------------------------------------------------------------------------


def test_a_lock_taken_after_waiting_says_since_when_it_was_taken(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """``self.name = _holder()`` on each attempt in ``__enter__``: the name's ``since`` is when
    the lock was taken, which ``unlock`` and the next apply show as its age. Without the line the
    name was built before the wait: a lock just taken looked held for as long as its apply waited."""
    clock = {"now": 0.0}
    monkeypatch.setattr(
        lock, "_holder", lambda: f"mailctl lock ci@runner pid 1 since 2026-01-01T10:00:{clock['now']:02.0f}Z [x]"
    )
    other = api.hold(lock.LOCK_CLIENT_ID, OTHER)

    def sleep(seconds: float) -> None:
        clock["now"] += seconds
        if clock["now"] >= 3:
            api.http.delete(f"/v0/pods/{other}").raise_for_status()  # the other apply ends

    applock = lock.ApplyLock(api.client(), timeout=30, sleep=sleep, clock=lambda: clock["now"], jitter=lambda: 1.0)
    with applock:
        name = api.locks()[lock.LOCK_CLIENT_ID]
    assert lock.Holder.parse(name).since == datetime(2026, 1, 1, 10, 0, 3, tzinfo=UTC)


# -- a signal while the lock is taken --------------------------------------------------------------


class _SignalOnce:
    """A shield that lets the first block it guards finish, then raises the signal it held (as
    the CLI's shield does); the later blocks (the release) run undisturbed."""

    def __init__(self) -> None:
        self.fired = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        yield
        if not self.fired:
            self.fired = True
            raise KeyboardInterrupt


def test_a_signal_after_the_lock_was_taken_whose_release_fails_is_raised_with_a_note(api: Api) -> None:
    """``exc.add_note(str(left))`` and ``raise`` in ``__enter__``'s handler: a signal that lands
    while the lock is taken still ends the apply, and says the lock may be left held and how to
    remove it. Without the note nothing said so; without the ``raise`` the signal was swallowed
    (an UnboundLocalError instead, or another round of waiting for the lock)."""
    api.transport.refuse = lambda request: request.method == "DELETE"  # the release, and its retry
    with (
        pytest.raises(KeyboardInterrupt) as caught,
        lock.ApplyLock(api.client(), shield=_SignalOnce(), unlock_hint=lambda shard: "mailctl unlock -e x"),
    ):
        pytest.fail("the body ran although the signal landed while taking the lock")
    notes = getattr(caught.value, "__notes__", [])
    assert len(notes) == 1
    assert "the organisation lock may still be held" in notes[0] and "`mailctl unlock -e x`" in notes[0]
    assert list(api.locks()) == [lock.LOCK_CLIENT_ID]  # left, as the note says
    assert api.transport.sent.count("DELETE /v0/pods/" + api.pod_id_of(lock.LOCK_CLIENT_ID)) == 2


# -- a shard's probe of the organisation lock ------------------------------------------------------


def test_a_shard_gets_in_while_another_shard_probes_the_organisation_lock(api: Api) -> None:
    """``return None`` after ``global_name.endswith(PROBE_SUFFIX)`` in ``_try_shard``: the
    organisation lock held by another shard's probe is no apply of the whole config. Without it
    shards that start together refused each other as if a whole-config apply ran."""
    probe = api.hold(lock.LOCK_CLIENT_ID, OTHER + lock.PROBE_SUFFIX)  # shard 2's probe, at this moment
    with lock.ApplyLock(api.client(), shard=(1, 2)) as held:
        assert held.taken
        assert set(api.locks()) == {lock.shard_lock_id(1, 2), lock.LOCK_CLIENT_ID}
    assert api.locks() == {lock.LOCK_CLIENT_ID: OTHER + lock.PROBE_SUFFIX}  # the other's probe left alone
    assert f"DELETE /v0/pods/{probe}" not in api.transport.sent


def test_a_probe_whose_release_failed_is_looked_for_and_released_on_the_way_out(api: Api) -> None:
    """``self._unanswered.append((LOCK_CLIENT_ID, probe))`` and the ``raise`` after it, when
    releasing the probe fails in ``_try_shard``: the probe holds the organisation lock, so one left
    behind refuses every apply of the whole config until someone runs ``mailctl unlock``. Asked
    again on the way out, it goes; and the shard stops with the API's error instead of applying
    with the API failing under it."""
    refused: list[str] = []

    def refuse_the_probes_release(request: httpx.Request) -> bool:
        if request.method != "DELETE" or len(refused) >= 2:
            return False
        probe = api.locks().get(lock.LOCK_CLIENT_ID, "")
        if probe.endswith(lock.PROBE_SUFFIX):
            refused.append(request.url.path)  # the release and its retry
            return True
        return False

    api.transport.refuse = refuse_the_probes_release
    with pytest.raises(ApiError), lock.ApplyLock(api.client(), shard=(1, 2)):
        pytest.fail("the shard went on although its probe may still hold the organisation lock")
    assert len(refused) == 2
    assert api.locks() == {}  # neither the shard lock nor the probe is left


# -- what the apply says of its lock ---------------------------------------------------------------


def test_an_apply_refused_the_lock_says_no_lock_was_taken(api: Api) -> None:
    """``self.taken = False`` in ``__init__``: what apply prints after a signal or a refusal
    (``LockState.released``) asks whether the lock was ever taken. Without the line an apply that
    never got the lock failed there with an AttributeError instead of "no lock was taken"."""
    api.hold(lock.LOCK_CLIENT_ID, OTHER)
    state = LockState()
    state.lock = lock.ApplyLock(api.client())
    with pytest.raises(UnsafePlan), state.lock:
        pass
    assert state.released == "no lock was taken"


def test_a_shard_lock_left_held_names_the_unlock_of_that_shard(api: Api) -> None:
    """``_shard_text``: a shard whose lock could not be released is told to run
    ``mailctl unlock --shard 2/4``; without it the hint was the bare ``mailctl unlock``, which
    removes the locks of every shard, also of the siblings still running elsewhere."""
    with pytest.raises(LockNotReleased) as caught, lock.ApplyLock(api.client(), shard=(2, 4)):
        api.transport.refuse = lambda request: request.method == "DELETE"  # the API fails as the shard ends
    assert "the lock of shard 2/4 may still be held" in str(caught.value)
    assert "`mailctl unlock --shard 2/4`" in str(caught.value)
