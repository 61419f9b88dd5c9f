"""The organisation lock: who holds it, waiting for it (--lock-timeout), and answers it cannot read."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mailctl.api import lock
from mailctl.api.client import AgentMailClient
from mailctl.errors import ApiError, UnsafePlan

KEY = "am_unit_lock_key_0123456789abcdef"


def _client(answer: Any) -> AgentMailClient:
    """A client whose every POST /v0/pods gets ``answer()`` (a JSON value, or an httpx.Response)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":  # the release
            return httpx.Response(204)
        body = answer(json.loads(request.content)) if callable(answer) else answer
        return body if isinstance(body, httpx.Response) else httpx.Response(200, json=body)

    return AgentMailClient("http://api.test", KEY, transport=httpx.MockTransport(handler), max_retries=0)


@pytest.mark.parametrize(
    "answer",
    [
        ["not", "a", "pod"],
        {},
        {"pod_id": "p-1"},
        {"name": "mailctl lock someone"},
        {"pod_id": None, "name": None},
        httpx.Response(200, text="<html><title>Login</title></html>", headers={"content-type": "text/html"}),
        httpx.Response(200, content=b""),
    ],
    ids=["array", "empty-object", "no-name", "no-pod_id", "nulls", "html", "empty-body"],
)
def test_an_answer_that_is_not_a_pod_is_a_clear_error_not_a_traceback_nor_held_by_none(answer: Any) -> None:
    with pytest.raises(ApiError) as caught, lock.ApplyLock(_client(answer)):
        pass
    message = str(caught.value)
    assert "unexpected response from the API" in message and "POST /v0/pods" in message
    assert "None" not in message and "another apply" not in message


def _held_then_free(holder: str, busy_answers: int) -> Any:
    calls = {"n": 0}

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        calls["n"] += 1
        name = holder if calls["n"] <= busy_answers else body["name"]
        return {"pod_id": "p-lock", "name": name, "client_id": lock.LOCK_CLIENT_ID}

    return answer


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


HOLDER = "mailctl lock ci@runner-7 pid 4242 since 2026-01-01T10:00:00Z [abcd1234]"


def test_a_held_lock_fails_at_once_by_default_naming_holder_and_age() -> None:
    with pytest.raises(UnsafePlan) as caught, lock.ApplyLock(_client(_held_then_free(HOLDER, 99))):
        pass
    message = str(caught.value)
    assert "another apply holds the organisation lock" in message
    assert "ci@runner-7 pid 4242" in message and "held for" in message
    assert "--lock-timeout" in message and "mailctl unlock" in message


def test_lock_timeout_waits_for_the_holder_reporting_who_holds_it_then_takes_the_lock() -> None:
    fake, waits = FakeTime(), []
    applock = lock.ApplyLock(
        _client(_held_then_free(HOLDER, 3)),
        timeout=30,
        sleep=fake.sleep,
        clock=fake.clock,
        on_wait=lambda lock_name, holder, waited: waits.append((holder, waited)),
        jitter=lambda: 1.0,
    )
    with applock:
        assert applock.pod_id == "p-lock"
    assert [w for w, _ in waits] == [HOLDER] * 3  # the same holder each time: progress is not repeated
    assert [s for _, s in waits] == [0.0, 1.0, 2.0] and fake.sleeps == [1.0, 1.0, 1.0]


def test_lock_timeout_gives_up_after_the_timeout_and_says_it_waited() -> None:
    fake = FakeTime()
    with (
        pytest.raises(UnsafePlan) as caught,
        lock.ApplyLock(_client(_held_then_free(HOLDER, 99)), timeout=2.5, sleep=fake.sleep, clock=fake.clock),
    ):
        pass
    assert "after waiting 2.5s" in str(caught.value)
    assert fake.now == 2.5


def test_the_holder_is_read_back_from_the_lock_name() -> None:
    mine = lock.Holder.parse(lock._holder())
    assert mine.pid == os.getpid() and mine.host == socket.gethostname() and mine.running_here()
    assert mine.age() is not None and str(mine).endswith(")") and "held for" in str(mine)
    since = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert lock.Holder.parse(HOLDER).age(since + timedelta(minutes=3, seconds=5)) == "3m 5s"
    assert lock.Holder.parse(HOLDER).age(since + timedelta(hours=2, minutes=1)) == "2h 1m"
    odd = lock.Holder.parse("someone's own lock")
    assert (odd.pid, odd.host, odd.age(), str(odd)) == (None, None, None, "someone's own lock")
    assert not odd.running_here()


def test_a_dead_pid_or_another_host_is_not_running_here() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True, timeout=60
    )
    dead = int(done.stdout)
    host = socket.gethostname()
    assert not lock.Holder.parse(f"mailctl lock u@{host} pid {dead} since 2026-01-01T10:00:00Z [x]").running_here()
    elsewhere = lock.Holder.parse(f"mailctl lock u@not-{host} pid {os.getpid()} since 2026-01-01T10:00:00Z [x]")
    assert not elsewhere.on_this_host() and not elsewhere.running_here()


def test_pods_listed_while_taking_the_lock_are_not_carried_into_the_next_taking() -> None:
    """``ApplyLock.pods`` is what this taking listed: a taking that lists nothing leaves None."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return httpx.Response(204)
        if request.method == "GET":
            pod = {"pod_id": "p-1", "name": "A", "client_id": "tenant-a"}
            return httpx.Response(200, json={"pods": [pod], "count": 1})
        body = json.loads(request.content)
        return httpx.Response(200, json={"pod_id": "p-lock", "client_id": body["client_id"], "name": body["name"]})

    client = AgentMailClient("http://api.test", KEY, transport=httpx.MockTransport(handler), max_retries=0)
    applock = lock.ApplyLock(client, exclude_shards=True)
    with applock:
        assert applock.pods and applock.pods[0]["client_id"] == "tenant-a"
    applock.exclude_shards = False
    with applock:
        assert applock.pods is None
