"""A long list is read from both ends at once: the same rows in the same order as reading it
front to back, in about half the round trips one after another; a short one costs one request."""

from __future__ import annotations

import threading

import httpx
import pytest

from mailctl.api import listing
from mailctl.api.client import AgentMailClient
from mailctl.api.listing import list_both_ends
from mailctl.errors import ApiError, UnexpectedResponse
from mailctl.sandbox.app import create_app

KEY = "am_test_key_for_listing_both_ends"


class _Counting(httpx.WSGITransport):
    def __init__(self, app):
        super().__init__(app=app)
        self.lock = threading.Lock()
        self.gets: list[httpx.URL] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            with self.lock:
                self.gets.append(request.url)
        return super().handle_request(request)


def _sandbox_with_pods(count: int) -> tuple[AgentMailClient, _Counting]:
    transport = _Counting(create_app(api_keys=(KEY,)))
    client = AgentMailClient("http://sandbox", KEY, transport=transport)
    for i in range(count):
        client.post("/v0/pods", {"name": f"P{i}", "client_id": f"p-{i:04d}"})
    transport.gets.clear()
    return client, transport


def test_a_long_list_reads_the_same_rows_in_the_same_order_from_both_ends():
    client, transport = _sandbox_with_pods(730)
    expected = client.list_all("/v0/pods", "pods")
    front_to_back = len(transport.gets)
    transport.gets.clear()
    rows = list_both_ends(client, "/v0/pods", "pods", "pod_id")
    assert [r["pod_id"] for r in rows] == [r["pod_id"] for r in expected]
    assert front_to_back == 8
    assert len(transport.gets) <= 10  # two walkers of ~4 pages each, at most a page past the meeting
    assert any(url.params.get("ascending") == "true" for url in transport.gets)


def test_a_list_of_one_page_costs_one_request():
    client, transport = _sandbox_with_pods(40)
    rows = list_both_ends(client, "/v0/pods", "pods", "pod_id")
    assert len(transport.gets) == 1
    assert rows == client.list_all("/v0/pods", "pods")


def _pages(rows: list[dict], request: httpx.Request) -> httpx.Response:
    """A page of pods from ``rows`` (already in the order asked for) at the request's page token."""
    start = int(request.url.params.get("page_token") or 0)
    body: dict = {"pods": rows[start : start + 100], "count": len(rows[start : start + 100])}
    if start + 100 < len(rows):
        body["next_page_token"] = str(start + 100)
    return httpx.Response(200, json=body)


def test_a_server_that_ignores_ascending_still_gives_every_row_once():
    rows = [{"pod_id": str(i)} for i in range(250)]

    def handler(request: httpx.Request) -> httpx.Response:
        return _pages(rows, request)  # `ascending` ignored: always newest first

    client = AgentMailClient("http://api.test", KEY, transport=httpx.MockTransport(handler))
    assert list_both_ends(client, "/v0/pods", "pods", "pod_id") == rows


def test_a_row_whose_id_is_not_text_is_an_unexpected_answer_not_a_crash():
    rows = [{"pod_id": str(i)} for i in range(250)]
    rows[160] = {"pod_id": ["160"]}  # the walkers compare ids: a list would not even hash

    def handler(request: httpx.Request) -> httpx.Response:
        ascending = request.url.params.get("ascending") == "true"
        return _pages(rows[::-1] if ascending else rows, request)

    client = AgentMailClient("http://api.test", KEY, transport=httpx.MockTransport(handler))
    with pytest.raises(UnexpectedResponse, match="pod_id"):
        list_both_ends(client, "/v0/pods", "pods", "pod_id")


def test_when_one_walker_fails_the_other_stops_at_its_next_row(monkeypatch):
    """The newest-first walker's second page is refused: the error is raised, and the walker from
    the other end stops at its first row instead of paging through the rest of the list."""
    rows = [{"pod_id": str(i)} for i in range(1000)]
    finished = threading.Event()  # the failed walker has told the other to stop
    finish = listing._Meeting.finish

    def finish_and_tell(meeting: listing._Meeting) -> None:
        finish(meeting)
        finished.set()

    monkeypatch.setattr(listing._Meeting, "finish", finish_and_tell)
    ascending_pages: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("ascending") == "true":
            finished.wait(5)  # its first page arrives after the failure (never told: 5 s, then on)
            ascending_pages.append(request.url.params.get("page_token"))
            return _pages(rows[::-1], request)
        if request.url.params.get("page_token"):
            return httpx.Response(400, json={"name": "ValidationError", "message": "no such page"})
        return _pages(rows, request)

    client = AgentMailClient("http://api.test", KEY, transport=httpx.MockTransport(handler))
    with pytest.raises(ApiError, match="no such page"):
        list_both_ends(client, "/v0/pods", "pods", "pod_id")
    assert ascending_pages == [None]  # its first page only: 9 more would reach the rows read
