"""Retry decisions and backoff for the AgentMail client: pure functions, no I/O.

Which failures are retried depends on whether the request is idempotent:
- 429, and 409 ``race_condition``: the server refused the request, so it was not processed;
  always safe to retry.
- A connection that could not be opened: nothing was sent; always safe to retry.
- 5xx, or a transport error after the request went out (dropped connection): the write may
  have happened; retried only for idempotent requests.
- A timeout is never retried: the attempt already used the whole ``--timeout``, and a server
  that hangs once will likely hang again; retrying would multiply the wait.
- A connection that could not be opened is retried at most twice, after short waits
  (:data:`QUICK_WAITS`): a refused port is reported in about a second, not after a backoff.
"""

from __future__ import annotations

import email.utils
import random
import socket
from dataclasses import dataclass, field

import httpx

RETRYABLE_5XX = frozenset({500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
RACE_CONDITION = "race_condition"

# Transport errors raised before any byte of the request reached the server.
NOT_SENT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


# Waits before the retries of a connection that could not be opened (nothing was sent).
QUICK_WAITS = (0.2, 0.5)
RETRY_BUDGET_FLOOR = 60.0


def is_timeout(exc: httpx.TransportError) -> bool:
    """The attempt ran out of time (connect, pool, read/write, or the whole-answer deadline)."""
    return isinstance(exc, httpx.TimeoutException)


def quick_wait(attempt: int) -> float | None:
    """Wait before retry ``attempt`` of a connection that could not be opened; None: give up."""
    return QUICK_WAITS[attempt] if attempt < len(QUICK_WAITS) else None


def retry_budget(timeout: float) -> float:
    """No retry starts once a request has taken this long (each attempt is bounded by ``timeout``)."""
    return max(RETRY_BUDGET_FLOOR, 2.0 * timeout)


def connection_failure(exc: BaseException) -> str | None:
    """A plain-words reason a connection could not be opened ("connection refused"), if known."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:  # httpx -> httpcore -> OSError
        seen.add(id(cause))
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "cannot resolve the host name"
        cause = cause.__cause__ or cause.__context__
    text = str(exc).lower()
    if "connection refused" in text:
        return "connection refused"
    if "name or service not known" in text or "nodename nor servname" in text:
        return "cannot resolve the host name"
    return None


def is_idempotent(method: str, idempotent: bool | None) -> bool:
    """The caller's explicit word wins; otherwise decide by HTTP method (POST is not idempotent)."""
    if idempotent is not None:
        return idempotent
    return method.upper() in IDEMPOTENT_METHODS


def status_is_refusal(status: int, code: str) -> bool:
    """The server answered without processing the request (safe to repeat any method)."""
    return status == 429 or (status == 409 and code == RACE_CONDITION)


def transport_error_was_sent(exc: httpx.TransportError) -> bool:
    """False when the request certainly never left this machine."""
    return not isinstance(exc, NOT_SENT_ERRORS)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent/bad.

    ``now`` is the current epoch time, used only for the HTTP-date form.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive parse means the zone was omitted
            return None
        seconds = when.timestamp() - now
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / inf
        return None
    return max(0.0, seconds)


@dataclass
class Backoff:
    """Exponential backoff with full jitter: attempt n waits uniform(0, min(cap, base * 2**n))."""

    base: float = 0.25
    cap: float = 20.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float | None:
        """The wait before retry number ``attempt`` (0-based), or None to give up.

        A server-given ``retry_after`` is a floor: we never wait less. If it exceeds ``cap`` we
        give up instead of waiting longer than the caller allowed.
        """
        if retry_after is not None and retry_after > self.cap:
            return None
        ceiling = min(self.cap, self.base * (2 ** min(attempt, 62)))
        jittered = self.rng.uniform(0.0, ceiling) if ceiling > 0 else 0.0
        return max(jittered, retry_after or 0.0)
