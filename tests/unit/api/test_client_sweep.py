"""AgentMailClient: the lines the mutation sweep found no test depending on
(.ci/mutate.py --sweep src/mailctl/api/client.py against the client's unit tests).

Where the behaviour crosses the wire the client talks to the sandbox over real HTTP (its own
socket transport, a server on a thread); error mapping and retry waits use the mock-transport
harness with its recorded (never real) sleeps.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from agentmail.pods import Pod
from client_harness import replies
from test_pacing import FakeTime

from mailctl.api.client import AgentMailClient
from mailctl.api.pacing import Pacer
from mailctl.errors import ApiError, NotFound, TransientError
from mailctl.sandbox import create_app
from mailctl.sandbox.server import run_in_thread

KEY = "am_us_sweepSWEEPsweep0123456789abcdef"


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    url, stop = run_in_thread(create_app(api_keys=(KEY,)))
    yield url
    stop()


@pytest.fixture
def live(sandbox_url: str) -> Iterator[AgentMailClient]:
    client = AgentMailClient(sandbox_url, KEY, max_retries=0)
    client.request("POST", "/_sandbox/reset", expect="nothing")
    yield client
    client.close()


# -- the request loop ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["delete", "Delete"])
def test_a_method_in_any_case_is_sent_and_reported_in_upper_case(live: AgentMailClient, method: str) -> None:
    with pytest.raises(NotFound) as caught:
        live.request(method, "/v0/pods/no-such-pod", expect="nothing")
    assert (caught.value.status, caught.value.method) == (404, "DELETE")
    assert "(DELETE /v0/pods/no-such-pod)" in str(caught.value)
    assert live.stats.by_method.get("DELETE", 0) == 1 and "delete" not in live.stats.by_method


def test_a_lower_case_post_creates_over_the_wire(live: AgentMailClient) -> None:
    pod = live.request("post", "/v0/pods", json={"name": "sweep"}, expect="object")
    assert Pod.model_validate(dict(pod)).name == "sweep"  # the SDK's contract
    assert live.get(f"/v0/pods/{pod['pod_id']}")["pod_id"] == pod["pod_id"]


def test_a_client_first_in_line_claims_its_turn_at_once_ahead_of_the_pace(harness) -> None:
    """A known budget already promised far ahead: a request made first in line waits once (its
    turn); the same request made plainly waits until its turn is near, then for the turn."""

    def waits(first: bool) -> list[float]:
        time = FakeTime()
        pacer = Pacer(clock=time.clock, sleep=time.sleep, budget=20.0)
        pacer.share([1.0] * 4, 0)
        assert pacer.budget is not None
        for _ in range(40):
            pacer.budget.turn(time.now, pacer._share)
        client = harness.client(
            replies(httpx.Response(200, json={"ok": True})), sleep=time.sleep, clock=time.clock, pacer=pacer
        )
        (client.first_in_line() if first else client).get("/v0/pods")
        return time.sleeps

    assert len(waits(first=True)) == 1
    assert len(waits(first=False)) == 2


# -- reading the answer ----------------------------------------------------------------------


class _LateSecondChunk(httpx.SyncByteStream):
    """A body whose second chunk comes after the attempt's deadline (no socket to clamp)."""

    def __init__(self, pause: float) -> None:
        self._pause = pause

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"pod_id": '
        threading.Event().wait(self._pause)
        yield b'"p1"}'


def test_a_streamed_answer_whose_body_outlasts_the_deadline_is_a_timeout_not_retried(harness) -> None:
    client = harness.client(
        lambda request: httpx.Response(200, stream=_LateSecondChunk(0.05)), timeout=0.01, max_retries=3
    )
    with pytest.raises(TransientError) as caught:
        client.get("/v0/pods/p1")
    assert (caught.value.status, caught.value.code) == (0, "connection_error")
    assert "no complete answer from api.test:80 within 0.01s" in caught.value.api_message
    assert len(harness.requests) == 1 and harness.sleeps == []


@pytest.mark.parametrize("value", [[1, "two", None], "text", 3, True])
def test_expect_json_returns_any_json_value_not_only_objects(harness, value: object) -> None:
    client = harness.client(replies(httpx.Response(200, json=value)))
    assert client.request("GET", "/v0/anything") == value


# -- lists -----------------------------------------------------------------------------------


def test_a_page_token_is_compared_as_the_text_sent_so_a_number_then_its_string_is_a_repeat(harness) -> None:
    """``7`` and ``"7"`` are one token on the wire (``page_token=7``): the server repeated itself."""
    client = harness.client(
        replies(
            httpx.Response(200, json={"pods": [{"pod_id": "a"}], "next_page_token": 7}),
            httpx.Response(200, json={"pods": [{"pod_id": "b"}], "next_page_token": "7"}),
            httpx.Response(200, json={"pods": [{"pod_id": "c"}]}),
        )
    )
    with pytest.raises(ApiError) as caught:
        client.list_all("/v0/pods", "pods")
    assert caught.value.code == "pagination_loop"
    assert "repeated a next_page_token" in caught.value.api_message
    assert [r.url.params.get("page_token") for r in harness.requests] == [None, "7"]
