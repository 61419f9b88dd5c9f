"""The client's default transport (api/transport.py) sends what httpx's own transport sends.

The same requests go to one recording server twice: through the client's default
``DirectTransport`` (httpcore's request made from prepared parts) and through ``httpx.HTTPTransport``
(an ``httpx.Request`` per request, as before). The server must see the same request line, headers
and body; answers, errors and an httpx.Request handed to the transport behave alike too.
"""

from __future__ import annotations

import json
import socket
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from mailctl.api.client import AgentMailClient, quote_segment
from mailctl.api.transport import DirectTransport
from mailctl.errors import ApiError, TransientError

KEY = "am_direct_transport_key_0123456789"

Seen = tuple[str, str, list[tuple[str, str]], bytes]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, 0), _Handler)
        self.seen: list[Seen] = []
        self.encoding = ""  # "gzip" or "deflate": answers are compressed so


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = sorted((name.lower(), value) for name, value in self.headers.items())
        self.server.seen.append((self.command, self.path, headers, body))
        answer = json.dumps({"seen": self.path, "text": "ünï ✓"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.server.encoding == "gzip":
            compressor = zlib.compressobj(wbits=31)
            answer = compressor.compress(answer) + compressor.flush()
            self.send_header("Content-Encoding", "gzip")
        elif self.server.encoding == "deflate":
            answer = zlib.compress(answer)
            self.send_header("Content-Encoding", "deflate")
        elif self.server.encoding:  # one httpx cannot decode: handed over as it came
            self.send_header("Content-Encoding", self.server.encoding)
        self.send_header("Set-Cookie", "session=tracked; Path=/")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer  # noqa: N815 - http.server's names

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        pass


@contextmanager
def _serving(server: _Server) -> Iterator[_Server]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def server() -> Iterator[_Server]:
    with _serving(_Server()) as server:
        yield server


def _url(server: _Server, prefix: str = "") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{prefix}"


REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/v0/pods", {}),
    ("GET", "/v0/pods", {"params": {"limit": 100, "page_token": "a b&c/ü", "ascending": True}}),
    ("POST", "/v0/pods", {"json": {"name": "Ünïcode ✓ \u202e", "client_id": "t-1", "n": 1.5, "none": None}}),
    ("POST", "/v0/pods/p1/domains/x.com/verify", {}),  # no body: Content-Length 0, as httpx says it
    ("PATCH", "/v0/api-keys/k1", {"json": {"name": "ci"}}),
    ("DELETE", "/v0/pods/p1", {}),
    ("GET", f"/v0/inboxes/{quote_segment('a+b@x.com')}/api-keys", {}),
    ("GET", "/v0/pods/a b/ünï", {}),  # not quoted by the caller: encoded as httpx encodes it
    ("GET", "/v0/pods/%41%zz", {}),  # a stray % too
]


@pytest.mark.parametrize("prefix", ["", "/am", "/am/"])
def test_the_server_sees_the_same_requests_as_through_httpx(server, prefix):
    for transport in (None, httpx.HTTPTransport()):
        with AgentMailClient(_url(server, prefix), KEY, transport=transport) as client:
            for method, path, options in REQUESTS:
                client.request(method, path, **options)
    direct, through_httpx = server.seen[: len(REQUESTS)], server.seen[len(REQUESTS) :]
    assert direct == through_httpx
    assert direct[2][3].decode() == json.dumps(REQUESTS[2][2]["json"], ensure_ascii=False, separators=(",", ":"))
    assert ("content-length", "0") in direct[3][2]
    assert direct[1][1].endswith("/v0/pods?limit=100&page_token=a+b%26c%2F%C3%BC&ascending=true")
    assert "cookie" not in {name for _, _, headers, _ in direct for name, _ in headers}


def test_the_host_header_names_the_port_and_an_ipv6_address_in_brackets():
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        ipv6 = _Server("::1")
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    with _serving(ipv6) as server:
        port = server.server_address[1]
        with AgentMailClient(f"http://[::1]:{port}", KEY) as client:
            assert client.get("/v0/pods")["seen"] == "/v0/pods"
        assert ("host", f"[::1]:{port}") in server.seen[0][2]


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "", "identity", "x-unknown"])
def test_answers_are_decoded_as_httpx_decodes_them(server, encoding):
    server.encoding = encoding
    answers = []
    for transport in (None, httpx.HTTPTransport()):
        with AgentMailClient(_url(server), KEY, transport=transport) as client:
            answers.append(client.get("/v0/pods"))
    assert answers == [{"seen": "/v0/pods", "text": "ünï ✓"}] * 2


@pytest.mark.parametrize("framing", [b"Content-Length: 5000\r\n\r\n", b"Transfer-Encoding: chunked\r\n\r\n"])
def test_an_answer_past_the_cap_is_refused(monkeypatch, framing):
    monkeypatch.setattr("mailctl.api.client.MAX_BODY_BYTES", 1000)
    listener = socket.create_server(("127.0.0.1", 0))
    body = b"[" + b" " * 4998 + b"]"

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + framing
            chunks = [body[i : i + 500] for i in range(0, len(body), 500)]
            if b"chunked" in framing:
                conn.sendall(head + b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n")
            else:
                conn.sendall(head + body)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with AgentMailClient(f"http://127.0.0.1:{listener.getsockname()[1]}", KEY) as client:
        with pytest.raises(ApiError, match="an answer larger than"):
            client.get("/v0/pods")
    listener.close()
    thread.join(5)


def test_an_httpx_request_handed_to_the_transport_is_sent_as_httpx_would(server):
    request = httpx.Request("POST", _url(server, "/v0/pods?x=1"), json={"a": "ü"}, headers={"X-Test": "1"})
    with DirectTransport(httpx.Limits()) as transport:
        response = transport.handle_request(request)
        response.read()
        response.close()
    assert response.status_code == 200 and response.json()["seen"] == "/v0/pods?x=1"
    method, path, headers, body = server.seen[0]
    assert (method, path, body) == ("POST", "/v0/pods?x=1", b'{"a":"\xc3\xbc"}')
    assert ("x-test", "1") in headers


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_transport_errors_are_httpx_errors_and_reported_alike():
    port = _closed_port()
    with DirectTransport(httpx.Limits()) as transport, pytest.raises(httpx.ConnectError):
        transport.handle_request(httpx.Request("GET", f"http://127.0.0.1:{port}/v0/pods"))
    messages = []
    for transport in (None, httpx.HTTPTransport()):
        client = AgentMailClient(f"http://127.0.0.1:{port}", KEY, transport=transport, sleep=lambda _: None)
        with client, pytest.raises(ApiError) as failed:
            client.get("/v0/pods")
        messages.append((type(failed.value), str(failed.value)))
    assert messages[0] == messages[1]


def test_a_connection_dropped_mid_body_is_an_httpx_read_error_and_retried():
    listener = socket.create_server(("127.0.0.1", 0))
    answers = iter([b'Content-Length: 50\r\n\r\n{"half', b"Content-Length: 2\r\n\r\n{}"])

    def serve() -> None:
        for answer in answers:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    with DirectTransport(httpx.Limits()) as transport:
        with pytest.raises(httpx.RemoteProtocolError):
            transport.handle_request(httpx.Request("GET", f"http://127.0.0.1:{port}/v0/pods")).read()
        with AgentMailClient(f"http://127.0.0.1:{port}", KEY, transport=transport) as client:
            assert client.get("/v0/pods") == {}  # a GET is retried after a dropped answer
    listener.close()
    thread.join(5)


def test_a_dropped_plain_post_is_not_retried_and_says_it_may_have_been_applied():
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with AgentMailClient(f"http://127.0.0.1:{listener.getsockname()[1]}", KEY) as client:
        with pytest.raises(TransientError, match="may have been applied"):
            client.post("/v0/pods", json={"name": "n"})
    listener.close()
    thread.join(5)


def test_plain_http_never_loads_a_tls_context(server, monkeypatch):
    def refuse() -> None:
        raise AssertionError("a TLS context was made for plain HTTP")

    monkeypatch.setattr(httpx, "create_ssl_context", refuse)
    with AgentMailClient(_url(server), KEY) as client:
        assert client.get("/v0/pods")["seen"] == "/v0/pods"


def test_https_connections_share_one_tls_context_made_on_the_first(monkeypatch):
    import ssl
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    tls = Path(__file__).resolve().parents[2] / "fixtures" / "tls"
    server = _Server()
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(tls / "localhost.crt", tls / "localhost.key")
    server.socket = server_side.wrap_socket(server.socket, server_side=True)
    made = []

    def trusting_the_fixture() -> ssl.SSLContext:
        made.append(1)
        return ssl.create_default_context(cafile=str(tls / "localhost.crt"))

    monkeypatch.setattr(httpx, "create_ssl_context", trusting_the_fixture)
    with _serving(server), AgentMailClient(f"https://localhost:{server.server_address[1]}", KEY) as client:
        assert made == []  # not before the first connection
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda n: client.get(f"/v0/pods/p{n}"), range(16)))
    assert [a["seen"] for a in answers] == [f"/v0/pods/p{n}" for n in range(16)]
    assert made == [1]
