"""A read that waits long is made of short waits, so a Ctrl-C is never lost behind it.

CPython runs a Python signal handler at its next bytecode, after the C handler trips a flag. A
signal that lands between Python's last check and the socket call starting to wait (or on a
thread other than the main one) interrupts nothing: the main thread slept in ``recv`` until the
request's timeout (30 s) before the handler ran. Seen as ``mailctl rotate`` ignoring the first
Ctrl-C in about 1 run in 20 while the lock's request hung (tests/e2e/test_e2e_startup_interrupt.py).
Every read now waits at most ``deadline.SLICE`` seconds at a time, returning to Python between."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import threading
import time
from collections.abc import Iterator

import httpcore
import pytest

from mailctl.api import deadline
from mailctl.api.deadline import _DeadlineStream
from mailctl.api.deadline import deadline as request_deadline

SLICE = 0.02


class _Counted(httpcore.NetworkStream):
    """httpcore's socket stream (or ``stream``), recording the timeout of every read it is asked
    for and how many of them timed out."""

    def __init__(self, sock: socket.socket | None = None, stream: httpcore.NetworkStream | None = None) -> None:
        self.stream = stream if stream is not None else httpcore._backends.sync.SyncStream(sock)
        self.timeouts: list[float | None] = []
        self.timed_out = 0

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.timeouts.append(timeout)
        try:
            return self.stream.read(max_bytes, timeout)
        except httpcore.ReadTimeout:
            self.timed_out += 1
            raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.stream.write(buffer, timeout)

    def close(self) -> None:
        self.stream.close()


@pytest.fixture
def pair(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[_DeadlineStream, _Counted, socket.socket]]:
    monkeypatch.setattr(deadline, "SLICE", SLICE)
    ours, theirs = socket.socketpair()
    counted = _Counted(ours)
    yield _DeadlineStream(counted), counted, theirs
    ours.close()
    theirs.close()


def test_a_silent_peer_times_out_in_short_waits(pair) -> None:
    stream, counted, _ = pair
    with pytest.raises(httpcore.ReadTimeout):
        stream.read(100, timeout=0.2)
    assert len(counted.timeouts) >= 2  # 0.2 s in waits of 0.02 s: ten, fewer on a busy machine
    assert all(t is not None and t <= SLICE for t in counted.timeouts)


def test_an_answer_after_several_waits_is_returned(pair) -> None:
    stream, counted, theirs = pair
    threading.Timer(0.2, theirs.sendall, args=(b"HTTP/1.1 200 OK\r\n",)).start()
    assert stream.read(100, timeout=5) == b"HTTP/1.1 200 OK\r\n"
    assert len(counted.timeouts) >= 2 and max(t or 0 for t in counted.timeouts) <= SLICE


def test_no_timeout_still_waits_in_short_waits(pair) -> None:
    stream, counted, theirs = pair
    threading.Timer(0.2, theirs.sendall, args=(b"x",)).start()
    assert stream.read(100, timeout=None) == b"x"
    assert None not in counted.timeouts


def test_the_request_deadline_still_bounds_the_read(pair) -> None:
    stream, counted, _ = pair
    with request_deadline(time.monotonic() + 0.1), pytest.raises(httpcore.ReadTimeout):
        stream.read(100, timeout=None)
    assert counted.timeouts and all(t is not None and t <= SLICE for t in counted.timeouts)


class _Interrupted(Exception):
    pass


def test_a_signal_that_misses_the_wait_is_handled_within_a_slice(pair) -> None:
    """The signal goes to another thread (the main thread blocks it), as a signal landing just
    before ``recv`` starts waiting does: the C handler trips the flag and the wait goes on. The
    main thread's Python handler must still run, during the read, not after its timeout."""
    stream, counted, _ = pair
    assert threading.current_thread() is threading.main_thread()

    def handler(signum: int, frame: object) -> None:
        raise _Interrupted

    previous = signal.signal(signal.SIGUSR1, handler)
    ready, fire = threading.Event(), threading.Event()

    def deliverer() -> None:  # started before the main thread blocks SIGUSR1: it takes the signal
        ready.set()
        fire.wait(5)
        os.kill(os.getpid(), signal.SIGUSR1)

    thread = threading.Thread(target=deliverer)
    thread.start()
    ready.wait(5)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    try:
        fire.set()
        with pytest.raises(_Interrupted):
            stream.read(100, timeout=3)  # unsliced: a ReadTimeout after 3 s, then the handler
        # Handled within a few waits of 0.02 s (unsliced: one wait of 3 s, then the handler).
        assert all(t is not None and t <= SLICE for t in counted.timeouts) and len(counted.timeouts) < 100
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})
        signal.signal(signal.SIGUSR1, previous)
        thread.join(5)


def test_a_zero_timeout_still_returns_what_has_arrived(pair) -> None:
    stream, _, theirs = pair
    theirs.sendall(b"ready")
    time.sleep(0.05)  # let it land in our socket's buffer
    assert stream.read(100, timeout=0) == b"ready"  # a non-blocking read, as httpcore makes it


FIXTURES = __import__("pathlib").Path(__file__).resolve().parents[2] / "fixtures" / "tls"


def _tls_server(body: bytes) -> tuple[socket.socket, int]:
    """A TLS server (tests/fixtures/tls: a self-signed localhost certificate) that answers one
    request with ``body``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(FIXTURES / "localhost.crt", FIXTURES / "localhost.key")
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with context.wrap_socket(conn, server_side=True) as tls:
            tls.recv(65536)
            tls.sendall(body)

    threading.Thread(target=serve, daemon=True).start()
    return listener, listener.getsockname()[1]


def _dribbling_proxy(port: int, chunk: int, pause: float) -> tuple[socket.socket, int]:
    """Forwards to ``port``; what comes back is passed on ``chunk`` bytes at a time, ``pause`` s
    apart: TLS records arrive cut in pieces, each after a wait longer than a slice."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        client, _ = listener.accept()
        upstream = socket.create_connection(("127.0.0.1", port))

        def up() -> None:
            while data := client.recv(65536):
                upstream.sendall(data)

        threading.Thread(target=up, daemon=True).start()
        while data := upstream.recv(65536):
            for start in range(0, len(data), chunk):
                client.sendall(data[start : start + chunk])
                time.sleep(pause)
        client.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener, listener.getsockname()[1]


def test_a_tls_record_that_arrives_in_pieces_across_slices_is_read_whole(monkeypatch) -> None:
    """The real API is HTTPS: a read that times out in the middle of a TLS record and is tried
    again must go on with that record (OpenSSL keeps what it has)."""
    monkeypatch.setattr(deadline, "SLICE", SLICE)
    body = bytes(range(256)) * 40  # 10 KB: more than one record's worth of pieces
    server, server_port = _tls_server(body)
    proxy, proxy_port = _dribbling_proxy(server_port, chunk=700, pause=3 * SLICE)
    context = ssl.create_default_context(cafile=str(FIXTURES / "localhost.crt"))
    stream = deadline.DeadlineBackend().connect_tcp("127.0.0.1", proxy_port, timeout=5)
    try:
        stream = stream.start_tls(context, server_hostname="localhost", timeout=5)
        assert isinstance(stream, _DeadlineStream)
        counted = stream._inner = _Counted(stream=stream._inner)
        stream.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", timeout=5)
        received = b""
        while len(received) < len(body):
            chunk = stream.read(65536, timeout=5)
            assert chunk, "the connection ended early"
            received += chunk
        assert received == body
        assert counted.timed_out >= 5  # slices ran out between the pieces of a record, and went on
    finally:
        stream.close()
        server.close()
        proxy.close()
