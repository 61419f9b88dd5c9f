"""The AgentMail HTTP client: auth, retries, pagination, and the one place HTTP errors get typed.

Every API call in mailctl goes through :class:`AgentMailClient`. It maps error responses and
transport failures into the exception tree of :mod:`mailctl.errors` and never lets the API key
(or a secret from a response body) into an exception message, a repr or a log line.
"""

from __future__ import annotations

import copy
import logging
import math
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from json import dumps as json_dumps
from types import TracebackType
from typing import Any, Literal

import httpx

from mailctl import __version__
from mailctl.api.deadline import deadline
from mailctl.api.pacing import Pacer, PauseTooLong, Ticket
from mailctl.api.reply import Reply
from mailctl.api.responses import (
    ApiObject,
    clip,
    describe_json,
    error_code_and_message,
    expect_fields,
    expect_object,
    parse_json,
    parse_json_object,
)
from mailctl.api.retry import (
    RETRYABLE_5XX,
    Backoff,
    connection_failure,
    is_idempotent,
    is_timeout,
    parse_retry_after,
    quick_wait,
    retry_budget,
    status_is_refusal,
    transport_error_was_sent,
)
from mailctl.api.stats import RequestStats
from mailctl.api.timeouts import CONNECT_TIMEOUT_CAP, DEFAULT_TIMEOUT
from mailctl.api.transport import Answer, DirectTransport, Origin
from mailctl.errors import (
    ApiError,
    Forbidden,
    InvalidRequest,
    NotFound,
    NotStarted,
    TransientError,
    Unauthorized,
    UnexpectedResponse,
    UsageError,
)
from mailctl.text import without_userinfo

API_BASE_DEFAULT = "https://api.agentmail.to"
_STEP = threading.local()  # this thread's step, not yet under way: see first_request_unless
REDACTED = "[REDACTED]"
MAX_BODY_BYTES = 64 * 1024 * 1024  # list pages are ~100 items; anything near this is not the API
# A list that never ends is a server's loop, not an organisation: 20,000 pages is 2,000,000 rows of
# 100 (mailctl is built for tens of thousands of tenants). A page filtered by the key's scope may
# be empty and still point further, but not 200 times (20,000 rows out of scope) in a row.
MAX_PAGES = 20_000
MAX_EMPTY_PAGES = 200
# Connections are opened on demand, one per request in flight, so the pool's cap is only a backstop:
# the pacer (--parallelism, --max-parallelism up to 256) bounds requests in flight. A smaller cap
# queued the rest inside the pool: at 32, apply's 64 workers had 32 requests on the wire and the
# pacer saw the queueing as latency (the default apply of 200 tenants took 3.0 s instead of 2.5 s).
POOL_SIZE = 256

log = logging.getLogger(__name__)

# Secret-shaped tokens (API keys, webhook signing secrets) are scrubbed from anything we echo,
# also glued to a word by "_" (``bad_am_us_...``: no \b there, as "_" is a word character).
_SECRET_TOKEN = re.compile(r"(?<![A-Za-z0-9])(?:am|whsec)_[A-Za-z0-9_\-+/=]{16,}")  # base64 too (whsec_)
# A server that says it did not process the request needs no "may have been applied" hint.
_SAYS_NOT_PROCESSED = re.compile(r"\bnot\s+(?:been\s+)?(?:processed|applied|executed)\b", re.IGNORECASE)
_ERROR_CLASSES: dict[int, type[ApiError]] = {
    400: InvalidRequest,
    422: InvalidRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
}
AMBIGUOUS_HINT = "the request may have been applied; check before retrying"
_ENCODED_HEADERS = (b"content-encoding", b"content-length")  # they describe the body before decoding
_SAY_NO_BODY = ("POST", "PUT", "PATCH")  # an empty body httpx.Request announces (Content-Length: 0)

Expect = Literal["json", "object", "object_or_empty", "text", "nothing"]


def quote_segment(segment: str) -> str:
    """Percent-encode one path segment; ``@`` and ``+`` stay literal (inbox ids are addresses)."""
    return urllib.parse.quote(str(segment), safe="@+")


MIN_HIDDEN = 4  # characters: a shorter value (a tenant's "eu") would blank out ordinary words


class _Redactor:
    """Scrubs the client's own key, the values it was told to hide (webhook header values: the
    API may echo a request's body in its error) and any secret-shaped token out of text we are
    about to echo."""

    def __init__(self, api_key: str) -> None:
        self._key = api_key
        self._hidden: list[str] = []  # longest first: one value inside another is blanked whole
        self._lock = threading.Lock()

    def hide(self, values: Iterable[str]) -> None:
        with self._lock:
            found = {*self._hidden, *(v for v in values if len(v) >= MIN_HIDDEN)}
            self._hidden = sorted(found, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        if self._key:
            text = text.replace(self._key, REDACTED)
        for value in self._hidden:
            text = text.replace(value, REDACTED)
        return _SECRET_TOKEN.sub(REDACTED, text)


@contextmanager
def first_request_unless(stop: threading.Event) -> Iterator[None]:
    """Within, on this thread: until one request has gone out, none does once ``stop`` is set
    (NotStarted, also while it waits for its turn in the pace); after one has, the rest are sent
    whatever ``stop`` says. An apply runs each change so: after the first Ctrl-C no change starts,
    and those under way finish."""
    _STEP.stop = stop
    try:
        yield
    finally:
        _STEP.stop = None


class AgentMailClient:
    """A thread-safe client for the AgentMail REST API (one shared connection pool).

    Time limits (see README, "Timeouts and broken endpoints"):
    - ``timeout`` is a deadline for each attempt: connect, send, wait, and read the whole answer.
      A slow trickle cannot stretch it (the deadline is checked at every socket operation).
    - An attempt that ran out of time is not retried: the server hangs, and retrying would only
      multiply the wait.
    - A connection that could not be opened (refused, no route, unknown host) is retried twice
      after short waits, so a closed port is reported in about a second.
    - Other transient failures (429, 5xx, dropped connections) are retried with backoff, at most
      ``max_retries`` times and only while the request has taken less than its retry budget
      (``max(60 s, 2 x timeout)``); the last attempt can add one ``timeout`` to that.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 6,
        backoff_base: float = 0.25,
        backoff_cap: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        pool_size: int = POOL_SIZE,
        pacer: Pacer | None = None,
    ) -> None:
        self._redact = _Redactor(api_key)
        self.base_url = _check_base_url(base_url, self._redact)
        _check_api_key(api_key)
        self.timeout = _check_timeout(timeout)
        self._max_retries = max(0, max_retries)
        self._backoff = Backoff(base=backoff_base, cap=backoff_cap)
        self._sleep = sleep
        self._clock = clock
        self._retry_budget = retry_budget(self.timeout)
        self.stats = RequestStats()
        # With a pacer (the CLI always sets one), 429s are paced and retried within the budget.
        self.pacer = pacer
        self._first_in_line = False  # see first_in_line
        # Requests go straight to the transport: httpx.Client's own layers (auth, redirects, event
        # hooks, and a cookie jar that parses every answer's headers into an email.Message) were a
        # quarter of mailctl's CPU per request, and mailctl needs none of them (a redirect is
        # answered, not followed; the key is a header; an API has no use for cookies). The default
        # transport also takes the request's parts as they are (see mailctl.api.transport).
        limits = httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
        self._transport = transport if transport is not None else DirectTransport(limits)
        self._origin = Origin(self.base_url)
        self._closed = threading.Event()  # shared with first_in_line's twin, as the transport is
        self._headers = httpx.Headers(
            {
                "Authorization": f"Bearer {api_key}",
                "User-Agent": f"mailctl/{__version__}",
                "Accept": "application/json",
                "Accept-Encoding": "gzip, deflate",  # what httpx decodes without optional packages
                "Connection": "keep-alive",
            }
        )
        self._raw_headers = [self._origin.host_header, *self._headers.raw]  # as httpx.Request adds Host
        timeouts = httpx.Timeout(self.timeout, connect=min(self.timeout, CONNECT_TIMEOUT_CAP))
        self._extensions = {"timeout": timeouts.as_dict()}

    def __repr__(self) -> str:
        return f"AgentMailClient(base_url={self.base_url!r})"

    def authenticates_with(self, prefix: str | None) -> bool:
        """Whether this client's key is the key whose displayable ``prefix`` (the API's) is given."""
        return bool(prefix) and self._redact._key.startswith(prefix or "")

    def first_in_line(self) -> AgentMailClient:
        """This client (its connections, pacer and stats) for requests that claim their turn in a
        known budget's pace at once, ahead of the requests waiting for theirs: the rounds of
        ``mailctl.api.siblings``, whose news may free budget for all of them. Not to be closed."""
        twin = copy.copy(self)
        twin._first_in_line = True
        return twin

    def hide(self, values: Iterable[str]) -> None:
        """Never echo any of ``values`` (webhook header values this run sends) in an error."""
        self._redact.hide(values)

    def redact(self, text: str) -> str:
        """``text`` (from the API) with this client's key and any secret-shaped token scrubbed."""
        return self._redact(text)

    __str__ = __repr__

    # -- the one request loop ----------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool | None = None,
        expect: Expect = "json",
    ) -> Any:
        """Send one API request with retries and return its body as ``expect`` says.

        ``json``: any JSON value, None for 204 or an empty body; ``object``: a JSON object
        (:class:`ApiObject`); ``object_or_empty``: the same, or an empty ApiObject for 204 or an
        empty body (so a needed field is reported missing); ``text``: the body as text;
        ``nothing``: None, the body is ignored. Any other success body is an UnexpectedResponse.
        """
        method = method.upper()
        repeatable = is_idempotent(method, idempotent)
        started: float | None = None
        attempt = 0
        failure: ApiError | None = None  # the last attempt's, once there was one
        while True:
            self.stats.record_request(method)
            ticket = self._acquire(started, method, path, failure)
            self._start_step(ticket)
            started = self._clock() if started is None else started  # queueing for a slot is not retrying
            try:
                response = self._paced_send(ticket, method, path, json, params)
            except httpx.TransportError as exc:
                ambiguous = transport_error_was_sent(exc) and not repeatable
                failure = self._transport_error(exc, method, path, ambiguous)
                wait = None if ambiguous or is_timeout(exc) else self._next_wait(attempt, None, exc)
                reason = type(exc).__name__
            else:
                if response.is_success:
                    return self._parse_success(response, method, path, expect)
                failure, wait = self._failed(response, method, path, repeatable, attempt)
                reason = f"HTTP {response.status_code} {failure.code}"
                if response.status_code == 429 and self.pacer is not None:
                    attempt -= 1  # paced refusals do not use up max_retries (the budget bounds them)
            pause = self.pacer.pause_left() if self.pacer is not None else 0.0
            if wait is None or self._clock() - started + wait + pause > self._retry_budget:
                if wait is not None and self._clock() - started + wait <= self._retry_budget:
                    raise self._pause_too_long(pause, method, path)  # the pause alone outlasts the budget
                raise failure from None  # from None: the httpx error's text is already in ours, redacted
            attempt += 1
            self.stats.record_retry()
            log.info(
                "retrying %s %s after %s (retry %d of %d, waiting %.2fs)",
                method,
                path,
                reason,
                attempt,
                self._max_retries,
                wait,
            )
            self._sleep(wait)

    def _start_step(self, ticket: Ticket | None) -> None:
        """This request goes out, and with it the thread's step (``first_request_unless``) is under
        way; or the run is stopping and the step had not started: nothing is sent (NotStarted)."""
        stop: threading.Event | None = getattr(_STEP, "stop", None)
        if stop is None:
            return
        if stop.is_set():
            if ticket is not None and self.pacer is not None:
                self.pacer.release(ticket, None)
            raise NotStarted
        _STEP.stop = None

    def _acquire(self, started: float | None, method: str, path: str, failure: ApiError | None) -> Ticket | None:
        """The pacer's slot for the next attempt; a pause the API asked for that outlasts the
        retry budget left fails the request at once instead of sleeping through it, and so does
        a retry whose turn in the pace comes after it (``failure``, the last attempt's, is then
        the request's: a first attempt may queue for its turn as long as it takes)."""
        if self.pacer is None:
            return None
        left = self._retry_budget - (self._clock() - started if started is not None else 0.0)
        try:
            return self.pacer.acquire(
                patience=left,
                turn_patience=left if failure is not None else math.inf,
                first=self._first_in_line,
                abandon=getattr(_STEP, "stop", None),
            )
        except PauseTooLong as exc:
            if exc.turn and failure is not None:
                raise failure from None
            raise self._pause_too_long(exc.seconds, method, path) from None

    def _pause_too_long(self, seconds: float, method: str, path: str) -> TransientError:
        return TransientError(
            429,
            "rate_limited",
            f"the API asked every request to wait {seconds:.0f}s (Retry-After), longer than the "
            f"{self._retry_budget:g}s retry budget: try again later",
            method,
            path,
        )

    def _paced_send(
        self, ticket: Ticket | None, method: str, path: str, json: Any, params: dict[str, Any] | None
    ) -> Reply:
        """One attempt; the pacer (if any) learns its status and any Retry-After."""
        if self.pacer is None or ticket is None:
            return self._send(method, path, json, params)
        status: int | None = None
        retry_after: float | None = None
        try:
            response = self._send(method, path, json, params)
            status = response.status_code
            if status == 429:
                retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
            return response
        finally:
            self.pacer.release(ticket, status, retry_after)

    def _send(self, method: str, path: str, json: Any, params: dict[str, Any] | None) -> Reply:
        """One attempt, whole answer read, within the deadline (also checked between chunks, for
        transports that do not go through the deadline-aware socket backend)."""
        if self._closed.is_set():
            raise RuntimeError("the AgentMail client is closed")  # a bug in mailctl, not the API's doing
        due = time.monotonic() + self.timeout
        with deadline(due):
            answer = self._start(method, path.lstrip("/"), json, params)
            if isinstance(answer, httpx.Response):  # in-memory transports hand over a read response
                return Reply.of(answer)
            try:
                body = bytearray()
                # Decoded as it arrives, so the cap holds for what a compressed answer inflates to
                # (a megabyte of gzip can hold gigabytes).
                for chunk in answer.chunks():
                    body += chunk
                    if time.monotonic() > due:
                        raise httpx.ReadTimeout("the request deadline passed")
                    if len(body) > MAX_BODY_BYTES:
                        raise UnexpectedResponse(
                            answer.status, f"an answer larger than {MAX_BODY_BYTES // 2**20} MiB", method, path
                        )
            finally:
                answer.close()
        headers = [(k, v) for k, v in answer.headers if k.lower() not in _ENCODED_HEADERS]
        return Reply(answer.status, headers, bytes(body))

    def _start(self, method: str, path: str, json: Any, params: dict[str, Any] | None) -> Answer | httpx.Response:
        """The answer to one request, its body still to be read (or read, as the transport gave it)."""
        if not isinstance(self._transport, DirectTransport):  # e.g. the in-process sandbox
            request = httpx.Request(
                method,
                self._origin.prefix + path,
                params=params,
                headers=self._headers,
                json=json,
                extensions=self._extensions,
            )
            response = self._transport.handle_request(request)
            try:
                response.content  # noqa: B018 - read already?
                return response
            except httpx.ResponseNotRead:
                return Answer.of_httpx(response)
        headers, content = self._raw_headers, None
        if json is not None:  # encoded as httpx.Request encodes it
            content = json_dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            headers = [*headers, (b"Content-Length", b"%d" % len(content)), (b"Content-Type", b"application/json")]
        elif method in _SAY_NO_BODY:
            headers = [*headers, (b"Content-Length", b"0")]
        url = self._origin.url(path, params)
        return self._transport.open(method.encode("ascii"), url, headers, content, self._extensions)

    def _failed(
        self, response: Reply, method: str, path: str, repeatable: bool, attempt: int
    ) -> tuple[ApiError, float | None]:
        """The error an error response means, and how long to wait before retrying (None: don't)."""
        code, message = error_code_and_message(response, self._redact)
        status = response.status_code
        wait = None
        if status == 429 and self.pacer is not None:
            # Never fails on its own: the pacer pauses every worker for Retry-After, then the
            # request goes again, for as long as the retry budget lasts.
            return self._api_error(status, code, message, method, path, False), 0.0
        if status_is_refusal(status, code) or (status in RETRYABLE_5XX and repeatable):
            retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
            wait = self._next_wait(attempt, retry_after)
            if retry_after is not None and retry_after > self._backoff.cap:
                message = (
                    f"{message} (the server asked to wait {retry_after:.0f}s, "
                    f"longer than the {self._backoff.cap:g}s backoff cap)"
                )
        ambiguous = status in RETRYABLE_5XX and not repeatable
        return self._api_error(status, code, message, method, path, ambiguous), wait

    def _next_wait(
        self, attempt: int, retry_after: float | None, exc: httpx.TransportError | None = None
    ) -> float | None:
        if attempt >= self._max_retries:
            return None
        if exc is not None and not transport_error_was_sent(exc):
            return quick_wait(attempt)  # nothing listens: ask again soon, give up soon
        return self._backoff.delay(attempt, retry_after)

    def _parse_success(self, response: Reply, method: str, path: str, expect: Expect) -> Any:
        if expect == "nothing":
            return None
        if expect == "text":
            return response.text  # e.g. a domain zone file
        empty = response.status_code == 204 or not response.content
        if expect == "json" and empty:
            return None
        if expect == "object_or_empty" and empty:
            return ApiObject({}, method, path, f"the answer (HTTP {response.status_code}, empty)")
        try:
            if expect == "json":
                return parse_json(response, method, path, self._redact)
            return parse_json_object(response, method, path, self._redact)
        except UnexpectedResponse as exc:
            raise UnexpectedResponse(exc.status, self._redact(exc.api_message), method, path) from None

    def _api_error(self, status: int, code: str, message: str, method: str, path: str, ambiguous: bool) -> ApiError:
        message = self._redact(message)
        if status == 429 or status >= 500 or status_is_refusal(status, code):
            if ambiguous and not _SAYS_NOT_PROCESSED.search(message):
                message = f"{message} ({AMBIGUOUS_HINT})"
            return TransientError(status, code, message, method, path, ambiguous=ambiguous)
        cls = _ERROR_CLASSES.get(status, ApiError)
        return cls(status, code, message, method, path)

    def _transport_error(self, exc: httpx.TransportError, method: str, path: str, ambiguous: bool) -> TransientError:
        where = _host_port(httpx.URL(self.base_url))
        if isinstance(exc, httpx.ConnectTimeout):
            message = f"cannot reach {where}: no connection within {min(self.timeout, CONNECT_TIMEOUT_CAP):g}s"
        elif isinstance(exc, httpx.PoolTimeout):
            message = f"no free connection to {where} within {self.timeout:g}s (--timeout)"
        elif is_timeout(exc):
            message = f"no complete answer from {where} within {self.timeout:g}s (--timeout)"
        else:
            message = f"cannot reach {where}: {connection_failure(exc) or self._detail(exc)}"
        if ambiguous:
            message = f"{message} ({AMBIGUOUS_HINT})"
        return TransientError(0, "connection_error", message, method, path, ambiguous=ambiguous)

    def _detail(self, exc: httpx.TransportError) -> str:
        return f"{type(exc).__name__}: {clip(self._redact(str(exc))) or 'no details'}"

    # -- verbs -------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> ApiObject:
        """GET a JSON object (anything else is an :class:`UnexpectedResponse`)."""
        result: ApiObject = self.request("GET", path, params=params, expect="object")
        return result

    def get_text(self, path: str) -> str:
        """GET a body that is text by contract (a zone file)."""
        result: str = self.request("GET", path, expect="text")
        return result

    def post(self, path: str, json: Any = None, *, idempotent: bool = False, require: Iterable[str] = ()) -> ApiObject:
        """POST; pass ``idempotent=True`` only when the body carries a ``client_id``.

        ``require``: fields the answer must hold (present, not null), else UnexpectedResponse.
        """
        return self._write("POST", path, json, idempotent, require)

    def patch(self, path: str, json: Any, *, require: Iterable[str] = ()) -> ApiObject:
        return self._write("PATCH", path, json, None, require)

    def delete(self, path: str) -> None:
        self.request("DELETE", path, expect="nothing")

    def _write(self, method: str, path: str, json: Any, idempotent: bool | None, require: Iterable[str]) -> ApiObject:
        body = self.request(method, path, json=json, idempotent=idempotent, expect="object_or_empty")
        return expect_fields(body, require, method, path)

    # -- lists -------------------------------------------------------------------------------

    def paginate(
        self, path: str, items_key: str, params: dict[str, Any] | None = None, page_size: int = 100
    ) -> Iterator[ApiObject]:
        """Every item of a list endpoint, following ``next_page_token`` until it is absent."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        query: dict[str, Any] = {**(params or {}), "limit": page_size}
        seen: set[str] = set()
        empty_in_a_row = 0
        for _ in range(MAX_PAGES):
            page = self.get(path, params=query)
            items = page.get(items_key)
            if not isinstance(items, list):
                found = "no" if items is None else describe_json(items) + " as its"
                raise UnexpectedResponse(200, f"the answer has {found} {items_key!r} array", "GET", path)
            for item in items:
                yield expect_object(item, "GET", path, f"an item of {items_key!r}")
            token = page.get("next_page_token")
            if not token:
                return
            token = str(token)
            empty_in_a_row = 0 if items else empty_in_a_row + 1
            if token in seen or empty_in_a_row >= MAX_EMPTY_PAGES:
                why = "repeated a next_page_token" if token in seen else f"sent {MAX_EMPTY_PAGES} empty pages in a row"
                raise _pagination_loop(f"the server {why} (each with a next_page_token); stopped, not looping", path)
            seen.add(token)
            query["page_token"] = token
        raise _pagination_loop(f"the list did not end after {MAX_PAGES} pages of {page_size}; stopped", path)

    def list_all(self, path: str, items_key: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item (each an :class:`ApiObject`: a missing field is an UnexpectedResponse)."""
        return list(self.paginate(path, items_key, params))

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self._closed.set()
        self._transport.close()

    def __enter__(self) -> AgentMailClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _pagination_loop(message: str, path: str) -> ApiError:
    return ApiError(200, "pagination_loop", message, "GET", path)


def _host_port(url: httpx.URL) -> str:
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{host}:{url.port or (443 if url.scheme == 'https' else 80)}"


def _check_base_url(base_url: str, redact: Callable[[str], str]) -> str:
    url: httpx.URL | None = None
    if isinstance(base_url, str) and not any(ch.isspace() for ch in base_url):
        try:
            url = httpx.URL(base_url)
        except httpx.InvalidURL:
            url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        shown = redact(repr(without_userinfo(base_url) if isinstance(base_url, str) else base_url))  # the key too
        raise UsageError(f"invalid AgentMail endpoint {shown}: expected http(s)://host[:port][/prefix]")
    return base_url


def _check_timeout(timeout: float) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not math.isfinite(timeout) or timeout <= 0:
        raise UsageError(f"invalid timeout {timeout!r}: expected a positive number of seconds")
    return float(timeout)


def _check_api_key(api_key: str) -> None:
    # Never echo the key: a bad one would otherwise surface in an httpx header error.
    if not isinstance(api_key, str) or not api_key.strip():
        raise UsageError("the AgentMail API key is empty")
    if not api_key.isascii() or any(not ch.isprintable() or ch.isspace() for ch in api_key):
        raise UsageError("the AgentMail API key contains spaces or characters that cannot be sent")
