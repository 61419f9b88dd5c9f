"""A connection pool for one origin whose cost per request does not grow with its size.

httpcore's ``ConnectionPool`` rescans every connection (and polls every idle socket) under one
lock on each request and on each response close; one of its checks is quadratic in the number of
connections. With apply's dozens of worker threads on one pool that was about 40% of mailctl's CPU
time (issue 19 point 4, measured with py-spy). mailctl's client talks to one origin, with one
request per connection at a time (HTTP/1.1), so a pool needs far less:

- idle connections wait on a stack; a request takes the most recently used one that is still
  usable (not closed, not expired: the same checks httpcore makes, on one connection) or opens a
  new one, and puts it back when its response is closed;
- at most ``max_connections`` requests hold a connection at once (a semaphore; waiting longer
  than the pool timeout is httpcore's ``PoolTimeout``, as before);
- at most ``max_keepalive_connections`` idle connections are kept.

Connections are httpcore's own ``HTTPConnection`` (connect, TLS, HTTP/1.1, keep-alive expiry),
on the deadline-aware network backend of :mod:`mailctl.api.deadline`. The TLS context (loading
the CA bundle: ~50 ms) is made once, on the first HTTPS connection: commands against the
sandbox's plain HTTP never need one.
"""

from __future__ import annotations

import ssl
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType

import httpcore


class StackPool:
    def __init__(
        self,
        *,
        make_ssl_context: Callable[[], ssl.SSLContext],
        max_connections: int | None,
        max_keepalive_connections: int | None,
        keepalive_expiry: float | None,
        network_backend: httpcore.NetworkBackend,
    ) -> None:
        self._make_ssl_context = make_ssl_context  # made on the first HTTPS connection (~50 ms), once
        self._ssl_context: ssl.SSLContext | None = None
        self._keepalive_expiry = keepalive_expiry
        self._backend = network_backend
        self._slots = threading.Semaphore(max_connections) if max_connections else None
        self._keep = max_keepalive_connections if max_keepalive_connections is not None else 2**31
        self._idle: deque[httpcore.HTTPConnection] = deque()  # appends and pops are thread-safe
        self._lock = threading.Lock()  # guards _open and _closed (not touched per request)
        self._open: set[httpcore.HTTPConnection] = set()
        self._closed = False

    def handle_request(self, request: httpcore.Request) -> httpcore.Response:
        scheme = request.url.scheme.decode()
        if scheme not in ("http", "https"):
            raise httpcore.UnsupportedProtocol(f"Request URL has an unsupported protocol '{scheme}://'.")
        timeout = request.extensions.get("timeout", {}).get("pool")
        if self._slots is not None and not self._slots.acquire(timeout=timeout):
            raise httpcore.PoolTimeout(f"no free connection within {timeout}s")
        try:
            while True:
                connection = self._take(request.url.origin)
                try:
                    response = connection.handle_request(request)
                    break
                except httpcore.ConnectionNotAvailable:
                    self._dispose(connection)  # closed under us: try another
                except BaseException:
                    self._dispose(connection)
                    raise
        except BaseException:
            self._free_slot()
            raise
        stream = response.stream
        assert isinstance(stream, Iterable)
        return httpcore.Response(
            status=response.status,
            headers=response.headers,
            content=_ReturningStream(stream, self, connection),
            extensions=response.extensions,
        )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._open = list(self._open), set()
        self._idle.clear()
        for connection in connections:
            connection.close()

    def __enter__(self) -> StackPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        self.close()

    # -- connections ----------------------------------------------------------------------------

    def _take(self, origin: httpcore.Origin) -> httpcore.HTTPConnection:
        """The most recently used idle connection that can still serve ``origin``, else a new one."""
        while True:
            try:
                connection = self._idle.pop()
            except IndexError:
                break
            if connection.can_handle_request(origin) and connection.is_idle() and not connection.has_expired():
                return connection
            self._dispose(connection)
        connection = httpcore.HTTPConnection(
            origin=origin,
            ssl_context=self._tls() if origin.scheme == b"https" else None,
            keepalive_expiry=self._keepalive_expiry,
            network_backend=self._backend,
        )
        with self._lock:
            if self._closed:
                raise httpcore.ConnectError("the connection pool is closed")
            self._open.add(connection)
        return connection

    def _tls(self) -> ssl.SSLContext:
        with self._lock:
            if self._ssl_context is None:
                self._ssl_context = self._make_ssl_context()
            return self._ssl_context

    def _give_back(self, connection: httpcore.HTTPConnection) -> None:
        """A response was closed: keep its connection for the next request if it can serve one."""
        try:
            if connection.is_idle() and not self._closed and len(self._idle) < self._keep:
                self._idle.append(connection)
            else:
                self._dispose(connection)
        finally:
            self._free_slot()

    def _dispose(self, connection: httpcore.HTTPConnection) -> None:
        with self._lock:
            self._open.discard(connection)
        connection.close()

    def _free_slot(self) -> None:
        if self._slots is not None:
            self._slots.release()


class _ReturningStream:
    """A response body that gives its connection back to the pool when it is closed (once)."""

    def __init__(self, stream: Iterable[bytes], pool: StackPool, connection: httpcore.HTTPConnection) -> None:
        self._stream = stream
        self._pool = pool
        self._connection: httpcore.HTTPConnection | None = connection

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._stream
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            close = getattr(self._stream, "close", None)
            if close is not None:
                close()
        finally:
            self._pool._give_back(connection)
