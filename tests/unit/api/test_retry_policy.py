"""Backoff and Retry-After parsing, as pure functions."""

from __future__ import annotations

import email.utils
import random

import httpx
import pytest

from mailctl.api.retry import (
    Backoff,
    is_idempotent,
    parse_retry_after,
    status_is_refusal,
    transport_error_was_sent,
)

NOW = 1_700_000_000.0


def test_retry_after_integer_seconds():
    assert parse_retry_after("7", NOW) == 7.0
    assert parse_retry_after(" 0 ", NOW) == 0.0


def test_retry_after_http_date_is_relative_to_now():
    header = email.utils.formatdate(NOW + 12, usegmt=True)
    assert parse_retry_after(header, NOW) == pytest.approx(12.0)


def test_retry_after_in_the_past_means_no_wait():
    assert parse_retry_after(email.utils.formatdate(NOW - 60, usegmt=True), NOW) == 0.0
    assert parse_retry_after("-5", NOW) == 0.0


@pytest.mark.parametrize("header", [None, "", "soon", "nan", "inf", "Mon, 99 Foo 2024"])
def test_unusable_retry_after_is_ignored(header):
    assert parse_retry_after(header, NOW) is None


def test_full_jitter_stays_under_the_exponential_ceiling():
    backoff = Backoff(base=0.5, cap=3.0, rng=random.Random(1))
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 3.0), (10, 3.0), (500, 3.0)]:
        waits = [backoff.delay(attempt) for _ in range(200)]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling / 2  # jitter spreads over the whole range


def test_retry_after_is_a_floor_and_beyond_the_cap_gives_up():
    backoff = Backoff(base=0.25, cap=20.0, rng=random.Random(2))
    assert all(backoff.delay(0, retry_after=5.0) >= 5.0 for _ in range(50))
    assert backoff.delay(0, retry_after=20.0) == 20.0
    assert backoff.delay(0, retry_after=21.0) is None


def test_post_is_idempotent_only_when_the_caller_says_so():
    assert not is_idempotent("POST", None)
    assert is_idempotent("POST", True)
    assert all(is_idempotent(m, None) for m in ("GET", "delete", "PATCH", "PUT"))
    assert not is_idempotent("GET", False)


def test_refusals_are_429_and_409_race_condition_only():
    assert status_is_refusal(429, "rate_limit_exceeded")
    assert status_is_refusal(409, "race_condition")
    assert not status_is_refusal(409, "conflict")
    assert not status_is_refusal(503, "service_unavailable")


def test_connect_failures_count_as_not_sent():
    request = httpx.Request("POST", "http://x")
    assert not transport_error_was_sent(httpx.ConnectError("refused", request=request))
    assert not transport_error_was_sent(httpx.ConnectTimeout("slow", request=request))
    assert transport_error_was_sent(httpx.ReadTimeout("slow", request=request))
    assert transport_error_was_sent(httpx.RemoteProtocolError("dropped", request=request))
