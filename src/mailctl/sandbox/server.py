"""The sandbox over real HTTP: one thread per connection, HTTP/1.1 framing by h11.

``serve(app, host, port, on_ready)`` blocks until SIGINT/SIGTERM; ``run_in_thread(app)`` starts a
server in a background thread for tests and returns ``(url, stop)``.

Why not an event loop (waitress, until issue 19): a loop reads every request, hands it to a
worker thread and takes the answer back, all under one GIL shared with the workers. On 2 cores
that loop took 40% of the sandbox's GIL time, and its queue of requests waiting for one of 48
workers read, to mailctl's pacer, as latency: ~500 requests/s. Here each connection's thread
reads its request, calls the app and writes the answer: no hand-off, no polling of every
connection per event. h11 (the protocol layer under httpx) does the parsing and framing:
request smuggling (both Content-Length and chunked), oversized headers, HTTP/1.0, keep-alive
and pipelining are its rules, not ours.

Limits. At most ``threads`` requests are *served* at once (the rest wait their turn); idle
connections, half-sent requests and requests waiting out an organisation's injected latency
(the app's ``pace``, called before a turn is taken) cost a thread and a socket, not a turn, so
one organisation's latency never slows another's requests. What starves a server is the
connection cap: past ``CONNECTION_LIMIT`` open connections, accepting one closes the oldest
connection that has no complete request (idle, or still sending one), so a new client is always
accepted and served; a client that trickles a byte now and then never leaves on its own (1,100
of them stalled a request for 54 s, issue 17). A connection silent for ``CHANNEL_TIMEOUT``
seconds is closed too. A request body larger than the app accepts is never read: the app answers
413 from its ``Content-Length`` and the connection closes. ``bench/sandbox.py --slow-clients``
and ``--trickling`` measure it.

Stopping closes the listener and shuts every connection down (their threads see end-of-file),
then waits briefly for the threads serving a request to answer.
"""

from __future__ import annotations

import io
import json
import os
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_to_bytes

import h11

from mailctl.sandbox.app import MAX_BODY_BYTES as APP_MAX_BODY_BYTES
from mailctl.sandbox.backend.errors import SandboxError, bad_request
from mailctl.sandbox.server_defaults import THREADS

CONNECTION_LIMIT = 1000  # open connections kept; past it the stalest unfinished one is shed
CHANNEL_TIMEOUT = 30  # seconds of silence before a connection (idle or half-sent) is closed
MAX_HEADER_BYTES = 64 * 1024  # a request line and headers longer than this are refused (431)
# (h11 checks it while a head is unfinished, ``_head_size`` once it is whole)
MAX_BODY_BYTES = APP_MAX_BODY_BYTES  # read at most this much of a body; the app refuses more (413)
_RECV = 64 * 1024
_STOP_WAIT = 2.0  # seconds stop() waits for requests being served
LINGER_SECONDS = 2.0  # after refusing a request mid-way: how long what still comes of it is read ...
LINGER_BYTES = 4 * MAX_BODY_BYTES  # ... and how much of it, before closing (see _Exchange.linger)


class _Connection:
    """One client connection and its state, as the shedding sees it."""

    def __init__(self, sock: socket.socket, peer: Any) -> None:
        self.sock = sock
        self.peer = peer
        self.creation_time = time.monotonic()
        self.requests: list[str] = []  # non-empty while a complete request is being served
        self.closed = False

    def handle_close(self) -> None:
        """Shut the socket down: the connection's thread sees end-of-file and finishes."""
        if not self.closed:
            self.closed = True
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already gone


def shed_connections(channels: dict[int, Any], limit: int) -> int:
    """Close the oldest connections without a complete request until at most ``limit`` remain;
    the number closed. A connection being served is never closed."""
    excess = len(channels) - limit
    if excess <= 0:
        return 0
    idle = sorted((c for c in channels.values() if not c.requests), key=lambda c: c.creation_time)
    for channel in idle[:excess]:
        channel.handle_close()
    return min(excess, len(idle))


class _Server:
    """A listening socket, an accept loop that a flag stops, a thread per connection."""

    def __init__(self, app: Any, host: str, port: int, threads: int = THREADS) -> None:
        self.app = app
        self.turns = threading.BoundedSemaphore(max(1, threads))
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.connections: dict[int, _Connection] = {}
        self.threads: set[threading.Thread] = set()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.create_server((host, port), family=family, backlog=1024)
        self.host, self.port = host, self.listener.getsockname()[1]
        self._wake_r, self._wake_w = os.pipe()
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}"

    @property
    def active_channels(self) -> dict[int, _Connection]:
        return self.connections

    def run(self) -> None:
        """Accept until ``stop()``; then shut every connection down."""
        poller = select.poll()
        poller.register(self.listener, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        try:
            while not self.stopping.is_set():
                if not any(fd == self.listener.fileno() for fd, _ in poller.poll()):
                    continue
                try:
                    sock, peer = self.listener.accept()
                except OSError:
                    continue  # the client left before we took it (or too many descriptors)
                self._start(sock, peer)
        finally:
            self.listener.close()
            wake_r, wake_w, self._wake_w = self._wake_r, self._wake_w, -1
            os.close(wake_r)
            os.close(wake_w)
            with self.lock:
                connections = list(self.connections.values())
            for connection in connections:
                connection.handle_close()

    def _start(self, sock: socket.socket, peer: Any) -> None:
        connection = _Connection(sock, peer)
        with self.lock:
            shed_connections(self.connections, CONNECTION_LIMIT - 1)
            self.connections[id(connection)] = connection
        thread = threading.Thread(target=self._serve, args=(connection,), name="sandbox-connection", daemon=True)
        with self.lock:
            self.threads.add(thread)
        thread.start()

    def stop(self) -> None:
        """Ask the loop to finish (from any thread or a signal handler) and wake it now."""
        self.stopping.set()
        if self._wake_w >= 0:
            try:
                os.write(self._wake_w, b"x")
            except OSError:
                pass  # closed meanwhile: the loop is gone

    def join(self, timeout: float = _STOP_WAIT) -> None:
        """Wait (a while) for the connections' threads once ``run`` has returned."""
        deadline = time.monotonic() + timeout
        with self.lock:
            threads = list(self.threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # -- one connection ---------------------------------------------------------------------
    def _serve(self, connection: _Connection) -> None:
        sock = connection.sock
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(CHANNEL_TIMEOUT)
            _Exchange(self, connection).run()
        except OSError:
            pass  # reset, timed out or shed: the connection is over
        finally:
            with self.lock:
                self.connections.pop(id(connection), None)
                self.threads.discard(threading.current_thread())
            sock.close()


class _Exchange:
    """Requests and answers on one connection until either side closes it."""

    def __init__(self, server: _Server, connection: _Connection) -> None:
        self.server = server
        self.connection = connection
        self.sock = connection.sock
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)

    def run(self) -> None:
        while not self.connection.closed:
            try:
                request = self._next()
                if isinstance(request, h11.Request) and _head_size(request) > MAX_HEADER_BYTES:
                    raise h11.RemoteProtocolError("request header fields too large", error_status_hint=431)
            except h11.RemoteProtocolError as exc:
                self._refuse(exc)
                return self.linger()
            if not isinstance(request, h11.Request):
                return
            try:
                keep = self._answer(request)
            finally:
                self.connection.requests.clear()
            if not keep:
                return self.linger()  # refused with its body unread
            if self.h11.our_state is not h11.DONE or self.h11.their_state is not h11.DONE:
                return
            self.h11.start_next_cycle()

    def linger(self) -> None:
        """Read and drop what the client still sends of a request refused mid-way (431, 413, 400),
        for a bounded while, then let the connection close. Closing with bytes unread makes the
        kernel reset the connection: a client still sending gets ECONNRESET, and the reset may
        destroy the answer before the client reads it (RFC 9112 section 9.6, "tear-down")."""
        try:
            self.sock.shutdown(socket.SHUT_WR)  # the answer is complete: the client sees its end
            deadline = time.monotonic() + LINGER_SECONDS
            drained = 0
            while drained < LINGER_BYTES and (left := deadline - time.monotonic()) > 0:
                self.sock.settimeout(left)
                data = self.sock.recv(_RECV)
                if not data:
                    return
                drained += len(data)
        except OSError:
            pass  # reset or timed out: the connection is over either way

    def _next(self, reading_body: bool = False) -> Any:
        """The next event h11 makes of what the client sent (None at end-of-file), reading as needed."""
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return None if isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED else event
            if reading_body and self.h11.they_are_waiting_for_100_continue:
                self._send(h11.InformationalResponse(status_code=100, headers=[]))
            self.h11.receive_data(self.sock.recv(_RECV))

    def _body(self, request: h11.Request) -> bytes | None:
        """The request body, or None when it is longer than the app accepts (left unread)."""
        length = _content_length(request)
        if length is not None and length > MAX_BODY_BYTES:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            event = self._next(reading_body=True)
            if event is None:
                raise ConnectionResetError("the client left mid-body")
            if isinstance(event, h11.EndOfMessage):
                return b"".join(chunks)
            size += len(event.data)
            if size > MAX_BODY_BYTES:
                return None
            chunks.append(bytes(event.data))

    def _answer(self, request: h11.Request) -> bool:
        """Serve one request; whether the connection may carry another."""
        try:
            body = self._body(request)
        except h11.RemoteProtocolError as exc:
            self._refuse(exc)
            return False
        # Being served from here on, never shed; until its body is in, it may be (a client that
        # stalls mid-body holds a connection like one that stalls mid-headers).
        self.connection.requests.append(request.method.decode("ascii", "replace"))
        environ = _environ(request, body, self.server, self.connection)
        pace = getattr(self.server.app, "pace", None)
        if pace is not None:  # the injected latency, waited out before taking a turn
            pace(environ)
        with self.server.turns:
            status, headers, payload = _call(self.server.app, environ)
        if body is None:  # unread: the connection cannot carry another request
            headers.append(("Connection", "close"))
        reason = status.split(" ", 1)[1] if " " in status else ""
        headers.append(("Date", _http_date()))
        headers.append(("Server", "agentmail-sandbox"))
        self._send(h11.Response(status_code=int(status[:3]), headers=headers, reason=reason))
        if request.method != b"HEAD" and payload:
            self._send(h11.Data(data=payload))
        self._send(h11.EndOfMessage())
        return body is not None

    def _refuse(self, exc: h11.RemoteProtocolError) -> None:
        """A request h11 cannot read: its status (400, 431, ...) as the API's JSON error, then close."""
        if self.h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        status = exc.error_status_hint
        payload = json.dumps(_protocol_error(status, str(exc)).body()).encode()
        try:
            self._send(
                h11.Response(
                    status_code=status,
                    reason=HTTPStatus(status).phrase,
                    headers=[
                        ("Content-Type", "application/json"),
                        ("Content-Length", str(len(payload))),
                        ("Connection", "close"),
                    ],
                )
            )
            self._send(h11.Data(data=payload))
            self._send(h11.EndOfMessage())
        except h11.LocalProtocolError:
            pass  # h11 cannot frame an answer in this state: just close

    def _send(self, event: Any) -> None:
        data = self.h11.send(event)
        if data:
            self.sock.sendall(data)


def _protocol_error(status: int, detail: str) -> SandboxError:
    """What a request that is not HTTP/1.1 as h11 reads it is told (h11's words, clipped: they
    may quote the whole request line)."""
    if status == 431:
        return SandboxError(
            431,
            "request_header_fields_too_large",
            f"The request line and headers exceed {MAX_HEADER_BYTES} bytes",
            name="RequestHeaderFieldsTooLargeError",
        )
    clipped = detail if len(detail) <= 200 else detail[:200] + "..."
    message = f"The request is not valid HTTP/1.1: {clipped}"
    return bad_request(message) if status == 400 else SandboxError(status, "bad_request", message)


def _head_size(request: h11.Request) -> int:
    """The bytes of a request line and headers as h11 parsed them. h11's own limit
    (``max_incomplete_event_size``) applies only while the head is unfinished, so a head that
    arrived whole in one read was never measured: whether a 100 KB one was refused depended on
    how TCP cut it up."""
    line = len(request.method) + len(request.target) + len(b"  HTTP/1.1\r\n")
    return line + sum(len(name) + len(value) + 4 for name, value in request.headers.raw_items()) + 2


def _content_length(request: h11.Request) -> int | None:
    for name, value in request.headers:
        if name == b"content-length":
            return int(value)
    return None


def _environ(request: h11.Request, body: bytes | None, server: _Server, connection: _Connection) -> dict[str, Any]:
    """The WSGI environ of one request (PEP 3333: text is latin-1 decoded bytes)."""
    target = request.target.decode("latin-1")
    path, _, query = target.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method.decode("latin-1"),
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query,
        "REQUEST_URI": target,
        "SERVER_NAME": server.host,
        "SERVER_PORT": str(server.port),
        "SERVER_PROTOCOL": "HTTP/" + request.http_version.decode("latin-1"),
        "REMOTE_ADDR": str(connection.peer[0]) if connection.peer else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body or b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in request.headers:
        name = raw_name.decode("latin-1")
        if "_" in name:
            continue  # "X_Key" would pass for "X-Key" in the environ: dropped, as waitress did
        value = raw_value.decode("latin-1")
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
            continue
        key = "HTTP_" + key
        environ[key] = f"{environ[key]}, {value}" if key in environ else value
    # the body as read (a chunked one has no Content-Length of its own); one too long is refused
    # by the app from its length alone (413), unread
    environ["CONTENT_LENGTH"] = str(MAX_BODY_BYTES + 1 if body is None else len(body))
    return environ


def _call(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run the WSGI app; its status, headers and whole body."""
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        answer["status"], answer["headers"] = status, list(headers)
        return lambda data: None  # the legacy write(): the app never uses it

    chunks: Iterable[bytes] = app(environ, start_response)
    try:
        payload = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return answer["status"], answer["headers"], payload


def _http_date() -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())


def serve(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 8025,
    on_ready: Callable[[str], None] | None = None,
    threads: int = THREADS,
) -> None:
    """Serve until SIGINT or SIGTERM, then close the listening socket and return."""
    server = _Server(app, host, port, threads)
    previous = {sig: signal.signal(sig, lambda _s, _f: server.stop()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if on_ready is not None:
            on_ready(server.url)
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.join()


def run_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> tuple[str, Callable[[], None]]:
    """Start a server on a daemon thread; returns its base URL and an idempotent ``stop()``."""
    server = _Server(app, host, port)
    thread = threading.Thread(target=server.run, name="agentmail-sandbox", daemon=True)
    thread.start()
    lock = threading.Lock()

    def stop() -> None:
        with lock:
            if thread.is_alive():
                server.stop()
                thread.join(timeout=5)
                server.join()

    return server.url, stop
