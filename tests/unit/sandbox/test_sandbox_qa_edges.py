"""Sandbox defects a conformance pass found: every 2xx body must parse into the SDK's models,
every client mistake is a JSON error, page tokens are bound to the listing that made them, and
the connection cap sheds connections stalled in the middle of a body too."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from agentmail.inboxes.types import Inbox, ListInboxesResponse

from mailctl import strict_json
from mailctl.sandbox import server
from mailctl.sandbox.app import create_app

KEY = "am_unit_qa_edges_key_0123456789"


@pytest.fixture
def client() -> httpx.Client:
    app = create_app(api_keys=(KEY,), page_size=3)
    return httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="http://sandbox", headers={"Authorization": f"Bearer {KEY}"}
    )


# -- numbers no SDK model can hold -----------------------------------------------------------


@pytest.mark.parametrize("number", ["1" + "0" * 400, "-1" + "0" * 400, "1e400"])
def test_metadata_beyond_a_float_is_refused_and_reads_stay_valid(client: httpx.Client, number: str):
    body = b'{"username": "big", "metadata": {"k": ' + number.encode() + b"}}"
    response = client.post("/v0/inboxes", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["code"] == "validation_error"
    ListInboxesResponse.model_validate(client.get("/v0/inboxes").json())


def test_a_large_integer_a_float_holds_is_kept_and_parses(client: httpx.Client):
    body = b'{"username": "large", "metadata": {"k": 12345678901234567890}}'
    assert client.post("/v0/inboxes", content=body, headers={"Content-Type": "application/json"}).status_code == 200
    Inbox.model_validate(client.get("/v0/inboxes/large@agentmail.to").json())


def test_strict_json_refuses_an_integer_beyond_a_float():
    with pytest.raises(strict_json.NotFinite):
        strict_json.loads("[" + "9" * 400 + "]")
    assert strict_json.loads("[" + "9" * 300 + "]") == [int("9" * 300)]


# -- page tokens -----------------------------------------------------------------------------


def _pod_with_inboxes(client: httpx.Client, name: str) -> str:
    pod = client.post("/v0/pods", json={"name": name}).json()["pod_id"]
    for i in range(5):
        assert client.post(f"/v0/pods/{pod}/inboxes", json={"username": f"zz{i}{name}"}).status_code == 200
    return pod


def test_a_search_token_of_one_pod_is_refused_by_another(client: httpx.Client):
    a, b = _pod_with_inboxes(client, "a"), _pod_with_inboxes(client, "b")
    first = client.get(f"/v0/pods/{a}/inboxes/search", params={"q": "zz"}).json()
    token = first["next_page_token"]
    assert client.get(f"/v0/pods/{a}/inboxes/search", params={"q": "zz", "page_token": token}).status_code == 200
    replayed = client.get(f"/v0/pods/{b}/inboxes/search", params={"q": "zz", "page_token": token})
    assert replayed.status_code == 400 and replayed.json()["errors"][0]["path"] == "page_token"


@pytest.mark.parametrize(
    "position", [-100, ["x", 1, 2], [0, 1], [[0], {}, None]], ids=["offset", "types", "length", "json"]
)
def test_a_forged_search_position_is_refused(client: httpx.Client, position: Any):
    _pod_with_inboxes(client, "a")
    token = client.get("/v0/inboxes/search", params={"q": "zz"}).json()["next_page_token"]
    data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**data, "k": position}).encode()).decode().rstrip("=")
    response = client.get("/v0/inboxes/search", params={"q": "zz", "page_token": forged})
    assert response.status_code == 400 and response.json()["code"] == "validation_error"


# -- the HTTP server ---------------------------------------------------------------------------


@pytest.fixture
def served() -> Iterator[str]:
    url, stop = server.run_in_thread(create_app(api_keys=(KEY,)))
    yield url
    stop()


def _raw(url: str, *pieces: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send ``pieces`` on one connection; the status line, headers and body of the answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        for piece in pieces:
            sock.sendall(piece)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


@pytest.mark.parametrize(
    ("pieces", "status"),
    [
        ([b"GET /v0/pods/\xc3\x28 HTTP/1.1\r\nHost: x\r\n\r\n"], 400),
        ([b"POST /v0/pods HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n"], 400),
        ([b"GET /v0/pods HTTP/1.1\r\n\r\n"], 400),  # no Host
        ([b"GET /v0/pods HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000], 431),  # never ends
    ],
    ids=["invalid-utf8-path", "bad-content-length", "no-host", "endless-header"],
)
def test_a_request_that_is_not_http_gets_a_json_error(served: str, pieces: list[bytes], status: int):
    line, headers, body = _raw(served, *pieces)
    assert line.startswith(f"HTTP/1.1 {status} ") and len(line) > len(f"HTTP/1.1 {status} ")  # a reason phrase
    assert headers["content-type"].startswith("application/json")
    error = json.loads(body)
    assert isinstance(error["name"], str) and isinstance(error["message"], str) and len(error["message"]) < 500
    if status == 400:
        assert error["code"] == "validation_error" and isinstance(error["errors"], list)


def test_connections_stalled_in_the_middle_of_a_body_are_shed_past_the_cap(
    served: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(server, "CONNECTION_LIMIT", 20)
    parts = urlsplit(served)
    with ExitStack() as stack:
        stalled = []
        for _ in range(30):
            sock = stack.enter_context(socket.create_connection((parts.hostname, parts.port), timeout=5))
            sock.sendall(b"POST /v0/pods HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            stalled.append(sock)
        response = httpx.get(f"{served}/v0/pods", headers={"Authorization": f"Bearer {KEY}"}, timeout=20)
        assert response.status_code == 200
        closed = 0
        for sock in stalled[:10]:  # the oldest ten had to go to keep 20 open
            sock.settimeout(2)
            try:
                closed += sock.recv(1) == b""
            except TimeoutError:
                pass  # still open: not shed
            except OSError:
                closed += 1  # reset: shed
        assert closed == 10
