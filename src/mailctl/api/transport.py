"""mailctl's HTTP transport: httpx's engine without building an ``httpx.Request`` per request.

``httpx.HTTPTransport`` takes an ``httpx.Request``: making one parses and validates the whole URL
(character by character, in Python) and merges the headers, and the transport then converts it
into httpcore's request. mailctl sends every request to one origin with the same headers, so the
client prepares those once and :meth:`DirectTransport.open` hands httpcore its request as is
(issue 19 point 4: serially against the sandbox, mailctl's CPU per request 1,000 -> 850 us;
under apply's 64 workers that CPU is what bounds the apply).

Everything else is what ``httpx.HTTPTransport`` does: httpcore's HTTP/1.1 connections (on a
:class:`~mailctl.api.pool.StackPool`, on the deadline-aware backend of :mod:`mailctl.api.deadline`),
httpcore's errors raised as httpx's (while sending and while the body is read), and the body
decoded as httpx decodes it (:class:`Answer`). :meth:`DirectTransport.handle_request` serves any
``httpx.Request`` the same way, so the transport is still an ``httpx.BaseTransport``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import httpcore
import httpx

from mailctl.api.deadline import DeadlineBackend
from mailctl.api.pool import StackPool

# httpcore's errors and the httpx error each is raised as: the most specific first, as httpx maps
# them (httpx._transports.default), so a ReadTimeout stays a ReadTimeout, not a TimeoutException.
_HTTPX_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)

# A request target made only of characters a URL may carry as they are (RFC 3986: unreserved,
# sub-delims, ":", "@", "/", "?", and "%" escapes). Anything else is encoded by httpx's URL
# parser first, as an httpx.Request would have encoded it.
_PLAIN_TARGET = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*(?:%[0-9A-Fa-f]{2}[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*)*")


def _as_httpx_error(exc: Exception) -> Exception:
    """The httpx error httpcore's ``exc`` is raised as (``exc`` itself if none: not httpcore's)."""
    for core_error, httpx_error in _HTTPX_ERRORS:
        if isinstance(exc, core_error):
            mapped = httpx_error(str(exc))
            mapped.__cause__ = exc
            return mapped
    return exc


class _Body(httpx.SyncByteStream):
    """httpcore's response body, its errors raised as httpx's."""

    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._stream
        except Exception as exc:
            raise _as_httpx_error(exc)  # noqa: B904 - the cause is set

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            try:
                close()
            except Exception as exc:
                raise _as_httpx_error(exc)  # noqa: B904 - the cause is set


class Answer:
    """An answer whose body is still to be read: ``chunks()`` as httpx decodes it, then ``close()``
    (which frees the connection). A body without Content-Encoding (what the API sends) is read as
    it comes, without the work of httpx's streaming response (serially 850 -> 730 us of the
    client's CPU per request); an encoded one goes through httpx's own decoders."""

    def __init__(
        self,
        status: int,
        headers: list[tuple[bytes, bytes]],
        chunks: Callable[[], Iterator[bytes]],
        close: Callable[[], None],
    ) -> None:
        self.status, self.headers = status, headers
        self.chunks, self.close = chunks, close

    @classmethod
    def of_httpcore(cls, status: int, headers: list[tuple[bytes, bytes]], stream: Iterable[bytes]) -> Answer:
        body = _Body(stream)
        if any(name.lower() == b"content-encoding" for name, _ in headers):
            return cls.of_httpx(httpx.Response(status, headers=headers, stream=body))
        return cls(status, headers, body.__iter__, body.close)

    @classmethod
    def of_httpx(cls, response: httpx.Response) -> Answer:
        return cls(response.status_code, response.headers.raw, response.iter_bytes, response.close)


class Origin:
    """Where a client's requests go, prepared once: httpcore's URL parts, the Host header, and
    ``prefix``, what each request's path (less its leading ``/``) is appended to: the endpoint
    with one trailing slash, as httpx.Client merges a ``base_url`` (``http://h/am`` + ``/v0/pods``
    is ``http://h/am/v0/pods``)."""

    def __init__(self, endpoint: str) -> None:
        url = httpx.URL(endpoint)
        # copy_with also when it ends in "/": str() of a bare host's URL would drop that slash
        url = url.copy_with(raw_path=url.raw_path if url.raw_path.endswith(b"/") else url.raw_path + b"/")
        self.prefix = str(url)
        self.scheme, self.host, self.port = url.raw_scheme, url.raw_host, url.port
        self.host_header = (b"Host", url.netloc)
        self.path_prefix = url.raw_path.decode("ascii")

    def url(self, path: str, params: Mapping[str, Any] | None) -> httpcore.URL:
        """The URL of ``path`` (relative to the prefix) with ``params`` as its query string."""
        target = self.path_prefix + path
        if params:
            target += "?" + str(httpx.QueryParams(params))
        if _PLAIN_TARGET.fullmatch(target) is None:
            target = httpx.URL(target).raw_path.decode("ascii")  # percent-encoded as httpx would
        return httpcore.URL(scheme=self.scheme, host=self.host, port=self.port, target=target.encode("ascii"))


class DirectTransport(httpx.BaseTransport):
    """HTTP/1.1 over httpcore connections, taking either httpcore's request parts or an httpx.Request."""

    def __init__(self, limits: httpx.Limits) -> None:
        self._pool = StackPool(
            make_ssl_context=httpx.create_ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=DeadlineBackend(),
        )

    def open(
        self,
        method: bytes,
        url: httpcore.URL,
        headers: list[tuple[bytes, bytes]],
        content: bytes | Iterable[bytes] | None,
        extensions: dict[str, Any],
    ) -> Answer:
        """The answer, its body not read yet (read it, then close it: that frees the connection)."""
        response = self._send(httpcore.Request(method, url, headers=headers, content=content, extensions=extensions))
        assert isinstance(response.stream, Iterable)
        return Answer.of_httpcore(response.status, response.headers, response.stream)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        url = request.url
        target = httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path)
        method, headers, content = request.method.encode("ascii"), request.headers.raw, request.stream
        extensions = request.extensions
        response = self._send(httpcore.Request(method, target, headers=headers, content=content, extensions=extensions))
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream),
            extensions=response.extensions,
        )

    def _send(self, request: httpcore.Request) -> httpcore.Response:
        try:
            return self._pool.handle_request(request)
        except Exception as exc:
            raise _as_httpx_error(exc)  # noqa: B904 - the cause is set

    def close(self) -> None:
        self._pool.close()
