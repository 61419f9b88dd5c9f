"""The client's connection pool (api/pool.py) over real sockets: keep-alive reuse, connections the
server closed, the cap on connections in use, and close()."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpcore
import httpx
import pytest

from mailctl.api.client import POOL_SIZE, AgentMailClient
from mailctl.api.pacing import Pacer
from mailctl.api.pool import StackPool
from mailctl.api.transport import DirectTransport
from mailctl.cli.scale_options import PARALLELISM_CAP

KEY = "am_pool_test_key_0123456789abcdef"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.peers: list[int] = []  # the client port of each request, in order
        self.close_after: set[int] = set()  # request numbers answered then hung up on (no header)
        self.hold = threading.Event()  # /v0/slow waits for this
        self.hung_up = threading.Event()  # a client closed its connection


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.server.peers.append(self.client_address[1])
        number = len(self.server.peers)
        if self.path.startswith("/v0/slow"):
            self.server.hold.wait(10)
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if number in self.server.close_after:
            self.close_connection = True

    def finish(self) -> None:
        super().finish()
        self.server.hung_up.set()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        pass


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.hold.set()
    srv.shutdown()
    srv.server_close()


def _client(server: _Server, **options: object) -> AgentMailClient:
    return AgentMailClient(f"http://127.0.0.1:{server.server_address[1]}", KEY, **options)  # type: ignore[arg-type]


def test_sequential_requests_reuse_one_connection(server):
    with _client(server) as client:
        for _ in range(5):
            assert client.get("/v0/pods") == {"ok": True}
    assert len(set(server.peers)) == 1


def test_a_connection_the_server_hung_up_on_is_replaced_without_an_error(server):
    server.close_after = {2}
    with _client(server, max_retries=0) as client:  # not saved by a retry
        for _ in range(4):
            assert client.get("/v0/pods") == {"ok": True}
    first, second, third, fourth = server.peers
    assert first == second and third == fourth and second != third


def test_concurrent_requests_use_their_own_connections_then_share_them(server):
    with _client(server) as client:
        threads = [threading.Thread(target=client.get, args=("/v0/slow",)) for _ in range(3)]
        for thread in threads:
            thread.start()
        while len(server.peers) < 3:  # all three are in the server at once
            threading.Event().wait(0.01)
        server.hold.set()
        for thread in threads:
            thread.join()
        for _ in range(3):
            client.get("/v0/pods")
    assert len(set(server.peers[:3])) == 3
    assert set(server.peers[3:]) <= set(server.peers[:3])  # kept alive and reused


def test_the_pacer_not_the_pool_bounds_requests_in_flight(server):
    """--max-parallelism 64 (the default) puts 64 requests on the wire, not the pool's cap."""
    assert POOL_SIZE >= PARALLELISM_CAP
    with _client(server, pacer=Pacer(fixed=64)) as client:
        threads = [threading.Thread(target=client.get, args=("/v0/slow",)) for _ in range(64)]
        for thread in threads:
            thread.start()
        for _ in range(1000):  # bounded: with a smaller pool the rest would wait for a free connection
            if len(server.peers) == 64:
                break
            threading.Event().wait(0.01)
        assert len(server.peers) == 64  # all in the server at once
        server.hold.set()
        for thread in threads:
            thread.join()


def test_no_more_connections_than_the_pool_size_are_in_use(server):
    pool = DirectTransport(httpx.Limits(max_connections=1))._pool
    assert isinstance(pool, StackPool)
    port = server.server_address[1]
    url, host = f"http://127.0.0.1:{port}/v0/pods", [(b"Host", f"127.0.0.1:{port}".encode())]
    held = pool.handle_request(httpcore.Request("GET", url, headers=host))  # its body not read: the slot is in use
    with pytest.raises(httpcore.PoolTimeout):
        pool.handle_request(httpcore.Request("GET", url, headers=host, extensions={"timeout": {"pool": 0.05}}))
    held.read()
    held.close()
    again = pool.handle_request(httpcore.Request("GET", url, headers=host))  # the slot and the connection came back
    again.read()
    again.close()
    pool.close()
    assert len(server.peers) == 2 and len(set(server.peers)) == 1


def test_closing_the_client_closes_its_connections(server):
    client = _client(server)
    client.get("/v0/pods")
    assert not server.hung_up.is_set()
    client.close()
    assert server.hung_up.wait(10)
