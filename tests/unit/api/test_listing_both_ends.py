"""A long list is read from both ends at once: the same rows in the same order as reading it
front to back, in about half the round trips one after another; a short one costs one request."""

from __future__ import annotations

import threading

import httpx

from mailctl.api.client import AgentMailClient
from mailctl.api.listing import list_both_ends
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


def test_a_server_that_ignores_ascending_still_gives_every_row_once():
    rows = [{"pod_id": str(i)} for i in range(250)]

    def handler(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("page_token") or 0)  # `ascending` ignored: always newest first
        body: dict = {"pods": rows[start : start + 100], "count": len(rows[start : start + 100])}
        if start + 100 < len(rows):
            body["next_page_token"] = str(start + 100)
        return httpx.Response(200, json=body)

    client = AgentMailClient("http://api.test", KEY, transport=httpx.MockTransport(handler))
    assert list_both_ends(client, "/v0/pods", "pods", "pod_id") == rows
