"""A lock request that gets no answer: the server may have acted on it all the same.

Found by QA: with the API slower than --timeout, the POST that takes the lock timed out, the
server made the lock pod anyway, and every later apply was refused ("another apply holds the
organisation lock") until someone ran `mailctl unlock`; the error never mentioned a lock. And a
release (DELETE) that got no answer replaced the apply's report and left the lock held unsaid.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from mailctl.api import lock
from mailctl.api.client import AgentMailClient
from mailctl.errors import ApiError, LockNotReleased, UnsafePlan

KEY = "am_unit_lock_key_0123456789abcdef"


class FakeApi:
    """Lock pods by client_id, as the API keeps them; ``lost`` answers are never seen by the client
    (the server acts, then the connection times out)."""

    def __init__(self, lose_posts: int = 0, lose_deletes: int = 0) -> None:
        self.pods: dict[str, dict[str, Any]] = {}
        self.lose_posts = lose_posts
        self.lose_deletes = lose_deletes
        self.requests: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.method)
        if request.method == "POST":
            body = json.loads(request.content)
            made = {"pod_id": f"p-{len(self.pods)}", "client_id": body["client_id"], "name": body["name"]}
            pod = self.pods.setdefault(body["client_id"], made)
            if self.lose_posts:
                self.lose_posts -= 1
                raise httpx.ReadTimeout("no answer", request=request)
            return httpx.Response(200, json=pod)
        if request.method == "DELETE":
            if self.lose_deletes:
                self.lose_deletes -= 1
                raise httpx.ReadTimeout("no answer", request=request)
            pod_id = request.url.path.rsplit("/", 1)[1]
            self.pods = {k: v for k, v in self.pods.items() if v["pod_id"] != pod_id}
            return httpx.Response(204)
        return httpx.Response(200, json={"pods": list(self.pods.values()), "count": len(self.pods)})

    def client(self) -> AgentMailClient:
        return AgentMailClient("http://api.test", KEY, transport=httpx.MockTransport(self.handler), max_retries=0)


def test_a_lock_taken_without_an_answer_is_looked_for_and_released_before_the_error() -> None:
    api = FakeApi(lose_posts=1)
    with pytest.raises(ApiError) as caught, lock.ApplyLock(api.client()):
        pass
    assert api.pods == {}, "the lock the server made after the client gave up is left held"
    assert "POST /v0/pods" in str(caught.value)


def test_a_lock_that_may_be_held_and_cannot_be_checked_says_so_and_how_to_remove_it() -> None:
    api = FakeApi(lose_posts=99)
    with (
        pytest.raises(LockNotReleased) as caught,
        lock.ApplyLock(api.client(), unlock_hint=lambda shard: "mailctl unlock -x"),
    ):
        pass
    message = str(caught.value)
    assert "the organisation lock" in message and "may" in message and "`mailctl unlock -x`" in message
    assert list(api.pods) == [lock.LOCK_CLIENT_ID]  # still there: the message is the only way to know


def test_someone_elses_lock_found_when_looking_is_left_alone() -> None:
    api = FakeApi(lose_posts=1)
    other = {"pod_id": "p-other", "client_id": lock.LOCK_CLIENT_ID, "name": "mailctl lock them@there pid 1 since x [y]"}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and api.lose_posts:  # theirs was made first; our POST got no answer
            api.pods[lock.LOCK_CLIENT_ID] = other
        return api.handler(request)

    client = AgentMailClient("http://api.test", KEY, transport=httpx.MockTransport(handler), max_retries=0)
    with pytest.raises(ApiError), lock.ApplyLock(client):
        pass
    assert api.pods == {lock.LOCK_CLIENT_ID: other}


def test_a_release_without_an_answer_after_the_work_says_the_lock_may_still_be_held() -> None:
    api = FakeApi(lose_deletes=99)
    done = []
    with (
        pytest.raises(LockNotReleased) as caught,
        lock.ApplyLock(api.client(), unlock_hint=lambda shard: "mailctl unlock"),
    ):
        done.append("work")
    assert done == ["work"]
    assert "the organisation lock" in str(caught.value) and "`mailctl unlock`" in str(caught.value)
    assert "DELETE /v0/pods/" in str(caught.value)


def test_a_release_without_an_answer_while_an_error_unwinds_keeps_that_error_and_notes_the_lock() -> None:
    api = FakeApi(lose_deletes=99)
    with pytest.raises(UnsafePlan) as caught, lock.ApplyLock(api.client()):
        raise UnsafePlan("the plan creates keys: pass --secrets-out FILE (nothing was changed)")
    assert "pass --secrets-out" in str(caught.value)
    notes = getattr(caught.value, "__notes__", [])
    assert len(notes) == 1 and "the organisation lock" in notes[0] and "mailctl unlock" in notes[0]


def test_a_release_whose_answer_was_lost_but_which_happened_is_not_reported() -> None:
    api = FakeApi(lose_deletes=1)  # the server deleted it; the client saw a timeout, then a 404 on retry
    with lock.ApplyLock(api.client()):
        pass
    assert api.pods == {}


class Interrupting(FakeApi):
    """The server makes the lock pod; before its answer is read, the caller is interrupted (a
    service's Ctrl-C or SIGINT: the Python API has no signal shield, unlike the CLI)."""

    def handler(self, request: httpx.Request) -> httpx.Response:
        response = super().handler(request)
        if request.method == "POST" and not getattr(self, "interrupted", False):
            self.interrupted = True
            raise KeyboardInterrupt
        return response


def test_an_interruption_while_the_lock_is_taken_releases_the_lock_the_server_made() -> None:
    api = Interrupting()
    with pytest.raises(KeyboardInterrupt), lock.ApplyLock(api.client()):
        pass
    assert api.pods == {}  # the next apply of the same process is not refused by its own lock
    with lock.ApplyLock(api.client()):
        pass
