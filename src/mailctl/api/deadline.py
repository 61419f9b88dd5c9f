"""A total deadline per request attempt, enforced at every socket operation.

httpx's timeouts are per operation: a read that waits at most 30 s, but a server sending one byte
every second (headers or body) never trips it. So the client sets a monotonic deadline for the
current thread around each attempt, and the network backend below clamps every connect, TLS
handshake, read and write to the time left; past the deadline the operation fails with httpcore's
own timeout errors, raised as ``httpx.ConnectTimeout`` / ``ReadTimeout`` / ``WriteTimeout``.

Requests run synchronously in the calling thread (apply's workers share one pool), so a
thread-local deadline belongs to exactly the request that the socket is serving.
"""

from __future__ import annotations

import ssl
import threading
import time
import typing
from collections.abc import Iterator
from contextlib import contextmanager

import httpcore

_local = threading.local()

# Seconds a read waits at most before returning to Python (and trying again, within its time).
# CPython runs a signal's Python handler at its next bytecode: a Ctrl-C landing just before
# ``recv`` starts waiting (after Python's last check) interrupts nothing, and the handler ran only
# once the request timed out (30 s; ``rotate`` ignored a Ctrl-C in about 1 run in 20 while the
# lock's request hung). Answers that come sooner cost nothing more.
SLICE = 0.25

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]


@contextmanager
def deadline(at: float) -> Iterator[None]:
    """Bound every socket operation of this thread until the block ends by ``at`` (monotonic)."""
    previous = getattr(_local, "at", None)
    _local.at = at
    try:
        yield
    finally:
        _local.at = previous


def _clamp(timeout: float | None, error: type[Exception]) -> float | None:
    at: float | None = getattr(_local, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the request deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Wait ``timeout`` (and at most until the deadline) in waits of at most :data:`SLICE`."""
        until = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if until is None else max(0.0, until - time.monotonic())  # 0: what is there
            wait = _clamp(left, httpcore.ReadTimeout)
            try:
                return self._inner.read(max_bytes, SLICE if wait is None else min(wait, SLICE))
            except httpcore.ReadTimeout:
                if wait is not None and wait <= SLICE:
                    raise  # the whole time was waited

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _clamp(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: typing.Iterable[SocketOption] | None = None
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(path, _clamp(timeout, httpcore.ConnectTimeout), socket_options)
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
