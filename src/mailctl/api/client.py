"""The AgentMail HTTP client: auth, retries, pagination, and the one place HTTP errors get typed.

Every API call in mailctl goes through :class:`AgentMailClient`. It maps error responses and
transport failures into the exception tree of :mod:`mailctl.errors` and never lets the API key
(or a secret from a response body) into an exception message, a repr or a log line.
"""

from __future__ import annotations

import json as jsonlib
import logging
import re
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import httpx

from mailctl import __version__
from mailctl.api.retry import (
    RETRYABLE_5XX,
    Backoff,
    is_idempotent,
    parse_retry_after,
    status_is_refusal,
    transport_error_was_sent,
)
from mailctl.errors import (
    ApiError,
    Forbidden,
    InvalidRequest,
    NotFound,
    TransientError,
    Unauthorized,
    UsageError,
)

API_BASE_DEFAULT = "https://api.agentmail.to"
REDACTED = "[REDACTED]"
MESSAGE_LIMIT = 200

log = logging.getLogger(__name__)

# Secret-shaped tokens (API keys, webhook signing secrets) are scrubbed from anything we echo.
_SECRET_TOKEN = re.compile(r"\b(?:am|whsec)_[A-Za-z0-9_\-]{16,}")
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML_NOISE = re.compile(r"<(script|style)[^>]*>.*?</\1>", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"<[^>]*>")

_DEFAULT_CODES = {
    400: "validation_error", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    409: "conflict", 422: "unprocessable", 429: "rate_limit_exceeded",
    500: "internal_error", 503: "service_unavailable",
}
_ERROR_CLASSES: dict[int, type[ApiError]] = {
    400: InvalidRequest, 422: InvalidRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound,
}
AMBIGUOUS_HINT = "the request may have been applied; check before retrying"


def quote_segment(segment: str) -> str:
    """Percent-encode one path segment; ``@`` and ``+`` stay literal (inbox ids are addresses)."""
    return urllib.parse.quote(str(segment), safe="@+")


class RequestStats:
    """Thread-safe counters of what the client sent: every attempt counts, retries included."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0
        self._retries = 0
        self._by_method: Counter[str] = Counter()

    def record_request(self, method: str) -> None:
        with self._lock:
            self._total += 1
            self._by_method[method] += 1

    def record_retry(self) -> None:
        with self._lock:
            self._retries += 1

    @property
    def total(self) -> int:
        with self._lock:
            return self._total

    @property
    def retries(self) -> int:
        with self._lock:
            return self._retries

    @property
    def by_method(self) -> dict[str, int]:
        with self._lock:
            return dict(self._by_method)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"total": self._total, "retries": self._retries, "by_method": dict(self._by_method)}

    def __repr__(self) -> str:
        return f"RequestStats({self.snapshot()})"


class _Redactor:
    """Scrubs the client's own key and any secret-shaped token out of text we are about to echo."""

    def __init__(self, api_key: str) -> None:
        self._key = api_key

    def __call__(self, text: str) -> str:
        if self._key:
            text = text.replace(self._key, REDACTED)
        return _SECRET_TOKEN.sub(REDACTED, text)


def _clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _summarise_text(text: str) -> str:
    """A short, readable line from a non-JSON body: an HTML page's title, else its text."""
    title = _HTML_TITLE.search(text)
    if title:
        text = title.group(1)
    elif "<" in text:
        text = _HTML_TAG.sub(" ", _HTML_NOISE.sub(" ", text))
    return _clip(text)


def _format_validation_errors(errors: Any, limit: int = 5) -> str:
    """``[{path, message}, ...]`` (or pydantic's ``loc``/``msg``) as ``path: message; ...``."""
    if isinstance(errors, dict):
        errors = [{"path": k, "message": v} for k, v in errors.items()]
    if not isinstance(errors, list):
        return _clip(jsonlib.dumps(errors, separators=(",", ":"), default=str))
    parts = []
    for item in errors[:limit]:
        if isinstance(item, dict):
            where = item.get("path", item.get("loc", ""))
            if isinstance(where, list | tuple):
                where = ".".join(str(p) for p in where)
            what = item.get("message", item.get("msg", ""))
            if isinstance(what, list | tuple):
                what = ", ".join(str(m) for m in what)
            parts.append(f"{where}: {what}" if where not in ("", None) else str(what))
        else:
            parts.append(str(item))
    if len(errors) > limit:
        parts.append(f"and {len(errors) - limit} more")
    return _clip("; ".join(parts), 4 * MESSAGE_LIMIT)


def _error_code_and_message(response: httpx.Response) -> tuple[str, str]:
    """``code`` and a human message from an ``ErrorResponse`` / ``ValidationErrorResponse`` body."""
    status = response.status_code
    default_code = _DEFAULT_CODES.get(status, f"http_{status}")
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = _summarise_text(response.text) if response.content else ""
        return default_code, text or response.reason_phrase or "no error details"
    code = body.get("code")
    message = body.get("message") or body.get("name") or response.reason_phrase
    message = _clip(str(message))
    if body.get("errors") not in (None, [], {}):
        message = f"{message}: {_format_validation_errors(body['errors'])}"
    return (str(code) if code else default_code), message


class AgentMailClient:
    """A thread-safe client for the AgentMail REST API (one shared connection pool)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        max_retries: int = 6,
        backoff_base: float = 0.25,
        backoff_cap: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
        pool_size: int = 32,
    ) -> None:
        self.base_url = _check_base_url(base_url)
        _check_api_key(api_key)
        self._redact = _Redactor(api_key)
        self._max_retries = max(0, max_retries)
        self._backoff = Backoff(base=backoff_base, cap=backoff_cap)
        self._sleep = sleep
        self.stats = RequestStats()
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size),
            headers={
                "Authorization": f"Bearer {api_key}",
                "User-Agent": f"mailctl/{__version__}",
                "Accept": "application/json",
            },
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"AgentMailClient(base_url={self.base_url!r})"

    __str__ = __repr__

    # -- the one request loop ----------------------------------------------------------------

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                idempotent: bool | None = None) -> Any:
        """Send one API request with retries; the parsed JSON body, or None for 204/empty."""
        method = method.upper()
        repeatable = is_idempotent(method, idempotent)
        attempt = 0
        while True:
            self.stats.record_request(method)
            try:
                response = self._http.request(method, path, json=json, params=params)
            except httpx.TransportError as exc:
                ambiguous = transport_error_was_sent(exc) and not repeatable
                wait = None if ambiguous else self._next_wait(attempt, None)
                if wait is None:
                    # from None: the httpx error's text is already in ours, redacted
                    raise self._transport_error(exc, method, path, ambiguous) from None
                reason = type(exc).__name__
            else:
                if response.is_success:
                    return self._parse_success(response, method, path)
                code, message = _error_code_and_message(response)
                status = response.status_code
                retryable = status_is_refusal(status, code) or (status in RETRYABLE_5XX and repeatable)
                wait = None
                if retryable:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
                    wait = self._next_wait(attempt, retry_after)
                    if retry_after is not None and retry_after > self._backoff.cap:
                        message = (f"{message} (the server asked to wait {retry_after:.0f}s, "
                                   f"longer than the {self._backoff.cap:g}s backoff cap)")
                if wait is None:
                    ambiguous = status in RETRYABLE_5XX and not repeatable
                    raise self._api_error(status, code, message, method, path, ambiguous)
                reason = f"HTTP {status} {code}"
            attempt += 1
            self.stats.record_retry()
            log.info("retrying %s %s after %s (retry %d of %d, waiting %.2fs)",
                     method, path, reason, attempt, self._max_retries, wait)
            self._sleep(wait)

    def _next_wait(self, attempt: int, retry_after: float | None) -> float | None:
        if attempt >= self._max_retries:
            return None
        return self._backoff.delay(attempt, retry_after)

    def _parse_success(self, response: httpx.Response, method: str, path: str) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        content_type = response.headers.get("Content-Type", "")
        if content_type.startswith("text/"):
            return response.text  # e.g. a domain zone file
        try:
            return response.json()
        except ValueError:
            raise ApiError(response.status_code, "invalid_response",
                           f"response is not valid JSON ({len(response.content)} bytes, "
                           f"content-type {content_type or 'unset'!r})", method, path) from None

    def _api_error(self, status: int, code: str, message: str, method: str, path: str,
                   ambiguous: bool) -> ApiError:
        message = self._redact(message)
        if status == 429 or status >= 500 or status_is_refusal(status, code):
            if ambiguous:
                message = f"{message} ({AMBIGUOUS_HINT})"
            return TransientError(status, code, message, method, path, ambiguous=ambiguous)
        cls = _ERROR_CLASSES.get(status, ApiError)
        return cls(status, code, message, method, path)

    def _transport_error(self, exc: httpx.TransportError, method: str, path: str,
                         ambiguous: bool) -> TransientError:
        host = httpx.URL(self.base_url).host
        detail = _clip(str(exc)) or "no details"
        message = self._redact(f"cannot reach {host}: {type(exc).__name__}: {detail}")
        if ambiguous:
            message = f"{message} ({AMBIGUOUS_HINT})"
        return TransientError(0, "connection_error", message, method, path, ambiguous=ambiguous)

    # -- verbs -------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any = None, *, idempotent: bool = False) -> Any:
        """POST; pass ``idempotent=True`` only when the body carries a ``client_id``."""
        return self.request("POST", path, json=json, idempotent=idempotent)

    def patch(self, path: str, json: Any) -> Any:
        return self.request("PATCH", path, json=json)

    def delete(self, path: str) -> None:
        self.request("DELETE", path)

    # -- lists -------------------------------------------------------------------------------

    def paginate(self, path: str, items_key: str, params: dict[str, Any] | None = None,
                 page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, following ``next_page_token`` until it is absent."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        query: dict[str, Any] = {**(params or {}), "limit": page_size}
        seen: set[str] = set()
        while True:
            page = self.get(path, params=query)
            items = page.get(items_key) if isinstance(page, dict) else None
            if not isinstance(items, list):
                raise ApiError(200, "invalid_response", f"list response has no {items_key!r} array",
                               "GET", path)
            yield from items
            token = page.get("next_page_token")
            if not token:
                return
            token = str(token)
            if token in seen:
                raise ApiError(200, "pagination_loop",
                               "the server repeated a next_page_token; stopped instead of looping",
                               "GET", path)
            seen.add(token)
            query["page_token"] = token

    def list_all(self, path: str, items_key: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return list(self.paginate(path, items_key, params))

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AgentMailClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _check_base_url(base_url: str) -> str:
    url: httpx.URL | None = None
    if isinstance(base_url, str) and not any(ch.isspace() for ch in base_url):
        try:
            url = httpx.URL(base_url)
        except httpx.InvalidURL:
            url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise UsageError(f"invalid AgentMail endpoint {base_url!r}: expected http(s)://host[:port][/prefix]")
    return base_url


def _check_api_key(api_key: str) -> None:
    # Never echo the key: a bad one would otherwise surface in an httpx header error.
    if not isinstance(api_key, str) or not api_key.strip():
        raise UsageError("the AgentMail API key is empty")
    if not api_key.isascii() or any(not ch.isprintable() or ch.isspace() for ch in api_key):
        raise UsageError("the AgentMail API key contains spaces or characters that cannot be sent")
