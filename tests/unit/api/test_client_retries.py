"""Which failures the client retries, how long it waits, and what it raises when it gives up."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest
from client_harness import error, replies

from mailctl.errors import ApiError, TransientError

OK = httpx.Response(200, json={"ok": True})


def test_429_is_retried_and_waits_at_least_retry_after(harness):
    client = harness.client(
        replies(
            error(429, "rate_limit_exceeded", **{"Retry-After": "3"}),
            error(429, "rate_limit_exceeded", **{"Retry-After": "1"}),
            OK,
        )
    )
    assert client.get("/v0/pods") == {"ok": True}
    assert len(harness.sleeps) == 2
    assert harness.sleeps[0] >= 3.0 and harness.sleeps[1] >= 1.0
    assert all(s <= 20.0 for s in harness.sleeps)
    assert client.stats.total == 3 and client.stats.retries == 2


def test_429_with_http_date_retry_after_is_honoured(harness):
    when = email.utils.formatdate(time.time() + 8, usegmt=True)
    client = harness.client(replies(error(429, "rate_limit_exceeded", **{"Retry-After": when}), OK))
    client.get("/v0/pods")
    assert 6.0 <= harness.sleeps[0] <= 9.0


def test_429_is_retried_even_for_a_plain_post(harness):
    client = harness.client(replies(error(429, "rate_limit_exceeded"), OK))
    assert client.post("/v0/pods", json={"name": "a"}) == {"ok": True}
    assert len(harness.requests) == 2


def test_retry_after_beyond_the_cap_gives_up_without_waiting(harness):
    client = harness.client(replies(error(429, "rate_limit_exceeded", **{"Retry-After": "120"})), backoff_cap=5)
    with pytest.raises(TransientError) as caught:
        client.get("/v0/pods")
    assert harness.sleeps == []
    assert "120s" in str(caught.value) and not caught.value.ambiguous


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried_for_get(harness, status):
    client = harness.client(replies(error(status, "internal_error"), OK))
    assert client.get("/v0/pods/p1") == {"ok": True}
    assert len(harness.requests) == 2


def test_5xx_is_retried_for_an_idempotent_post(harness):
    client = harness.client(replies(error(503, "service_unavailable"), error(500, "internal_error"), OK))
    assert client.post("/v0/pods", json={"client_id": "c1"}, idempotent=True) == {"ok": True}
    assert len(harness.requests) == 3
    assert client.stats.by_method == {"POST": 3}


def test_5xx_on_a_plain_post_is_not_retried_and_is_ambiguous(harness):
    client = harness.client(replies(error(502, "bad_gateway"), OK))
    with pytest.raises(TransientError) as caught:
        client.post("/v0/api-keys", json={"name": "k"})
    assert caught.value.ambiguous is True
    assert caught.value.status == 502
    assert "may have been applied" in str(caught.value)
    assert len(harness.requests) == 1 and harness.sleeps == []


def test_501_is_not_retried(harness):
    client = harness.client(replies(error(501, "not_implemented"), OK))
    with pytest.raises(TransientError):
        client.get("/v0/pods")
    assert len(harness.requests) == 1


def test_409_race_condition_is_retried_other_409s_are_not(harness):
    client = harness.client(replies(error(409, "race_condition"), OK, error(409, "conflict")))
    assert client.patch("/v0/inboxes/a@x.com", {"display_name": "A"}) == {"ok": True}
    with pytest.raises(ApiError) as caught:
        client.patch("/v0/inboxes/a@x.com", {"display_name": "A"})
    assert type(caught.value) is ApiError and caught.value.code == "conflict"
    assert len(harness.requests) == 3


def test_retries_are_exhausted_into_a_transient_error(harness):
    client = harness.client(lambda request: error(503, "service_unavailable", "down for maintenance"), max_retries=3)
    with pytest.raises(TransientError) as caught:
        client.delete("/v0/pods/p1")
    err = caught.value
    assert (err.status, err.code, err.method, err.path) == (503, "service_unavailable", "DELETE", "/v0/pods/p1")
    assert "down for maintenance" in str(err) and not err.ambiguous
    assert len(harness.requests) == 4 and len(harness.sleeps) == 3
    assert client.stats.total == 4 and client.stats.retries == 3


def test_backoff_grows_exponentially_and_respects_the_cap(harness):
    client = harness.client(
        lambda request: error(500, "internal_error"), max_retries=6, backoff_base=1.0, backoff_cap=4.0
    )
    with pytest.raises(TransientError):
        client.get("/v0/pods")
    ceilings = [1, 2, 4, 4, 4, 4]
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(harness.sleeps, ceilings, strict=True))


def test_connection_refused_is_retried_then_mapped(harness):
    def refuse(request):
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client = harness.client(refuse, max_retries=2)
    with pytest.raises(TransientError) as caught:
        client.get("/v0/pods")
    err = caught.value
    assert (err.status, err.code, err.ambiguous) == (0, "connection_error", False)
    assert "cannot reach api.test:80: connection refused" in str(err)  # host AND port
    assert len(harness.requests) == 3


def test_a_connection_that_never_opened_is_retried_even_for_a_plain_post(harness):
    client = harness.client(replies(httpx.ConnectError("refused"), OK))
    assert client.post("/v0/api-keys", json={"name": "k"}) == {"ok": True}


def test_a_timed_out_attempt_is_not_retried_even_for_get(harness):
    # The attempt already used the whole --timeout: retrying would multiply it (issue 8).
    client = harness.client(replies(httpx.ReadTimeout("timed out"), OK), timeout=7)
    with pytest.raises(TransientError) as caught:
        client.get("/v0/pods")
    assert "no complete answer from api.test:80 within 7s (--timeout)" in str(caught.value)
    assert not caught.value.ambiguous and len(harness.requests) == 1


def test_read_timeout_on_a_plain_post_is_ambiguous(harness):
    client = harness.client(replies(httpx.ReadTimeout("timed out"), OK))
    with pytest.raises(TransientError) as caught:
        client.post("/v0/api-keys", json={"name": "k"})
    assert caught.value.ambiguous and caught.value.code == "connection_error"
    assert len(harness.requests) == 1


def test_max_retries_zero_sends_once(harness):
    client = harness.client(replies(error(429, "rate_limit_exceeded"), OK), max_retries=0)
    with pytest.raises(TransientError):
        client.get("/v0/pods")
    assert len(harness.requests) == 1
