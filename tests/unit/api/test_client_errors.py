"""HTTP error responses become the typed errors of mailctl.errors, with short clean messages."""

from __future__ import annotations

import httpx
import pytest
from client_harness import error, replies

from mailctl.errors import (
    ApiError,
    Forbidden,
    InvalidRequest,
    NotFound,
    TransientError,
    Unauthorized,
    UnexpectedResponse,
)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "validation_error", InvalidRequest),
        (422, "unprocessable", InvalidRequest),
        (401, "unknown_api_key", Unauthorized),
        (403, "cannot_delete", Forbidden),
        (404, "not_found", NotFound),
        (409, "conflict", ApiError),
        (418, "teapot", ApiError),
        (429, "rate_limit_exceeded", TransientError),
        (500, "internal_error", TransientError),
    ],
)
def test_status_maps_to_typed_error(harness, status, code, expected):
    client = harness.client(lambda request: error(status, code, "the reason"), max_retries=0)
    with pytest.raises(ApiError) as caught:
        client.get("/v0/pods/p1")
    err = caught.value
    assert type(err) is expected
    assert (err.status, err.code, err.api_message) == (status, code, "the reason")
    assert (err.method, err.path) == ("GET", "/v0/pods/p1")
    assert str(err) == f"{status} {code}: the reason (GET /v0/pods/p1)"


def test_validation_errors_are_listed_compactly(harness):
    body = {
        "name": "ValidationError",
        "message": "Invalid request",
        "errors": [
            {"path": ["metadata", "k"], "message": "too long"},
            {"path": "username", "message": "invalid characters"},
        ],
    }
    client = harness.client(replies(httpx.Response(400, json=body)))
    with pytest.raises(InvalidRequest) as caught:
        client.post("/v0/inboxes", json={"username": "a b"})
    assert caught.value.code == "validation_error"  # absent code falls back to the status default
    assert caught.value.api_message == "Invalid request: metadata.k: too long; username: invalid characters"


def test_validation_error_without_message_uses_name_and_caps_the_list(harness):
    body = {"name": "ValidationError", "errors": [{"loc": ["body", f"f{i}"], "msg": "bad"} for i in range(8)]}
    client = harness.client(replies(httpx.Response(400, json=body)))
    with pytest.raises(InvalidRequest) as caught:
        client.post("/v0/pods", json={})
    message = caught.value.api_message
    assert message.startswith("ValidationError: body.f0: bad; ")
    assert "body.f4: bad; and 3 more" in message and "f5" not in message


def test_html_error_page_gives_its_title_not_the_page(harness):
    page = (
        "<html><head><title>502 Bad Gateway</title><style>body{}</style></head>"
        "<body><h1>502 Bad Gateway</h1>" + "<p>x</p>" * 500 + "</body></html>"
    )
    client = harness.client(
        lambda r: httpx.Response(502, text=page, headers={"Content-Type": "text/html"}), max_retries=0
    )
    with pytest.raises(TransientError) as caught:
        client.get("/v0/pods")
    assert caught.value.api_message == "502 Bad Gateway"
    assert caught.value.code == "http_502"


def test_untitled_html_is_stripped_and_clipped(harness):
    page = "<div><script>var x=1;</script>Service   overloaded" + " again" * 100 + "</div>"
    client = harness.client(lambda r: httpx.Response(503, text=page), max_retries=0)
    with pytest.raises(TransientError) as caught:
        client.get("/v0/pods")
    message = caught.value.api_message
    assert message.startswith("Service overloaded again") and len(message) <= 200
    assert "<" not in message and "var x" not in message


def test_empty_error_body_uses_reason_phrase(harness):
    client = harness.client(replies(httpx.Response(404)))
    with pytest.raises(NotFound) as caught:
        client.get("/v0/pods/x")
    assert str(caught.value) == "404 not_found: Not Found (GET /v0/pods/x)"


def test_bare_gateway_message_is_understood(harness):
    client = harness.client(replies(httpx.Response(403, json={"message": "Forbidden"})))
    with pytest.raises(Forbidden) as caught:
        client.get("/v0/pods")
    assert (caught.value.code, caught.value.api_message) == ("forbidden", "Forbidden")


def test_non_json_success_body_is_an_invalid_response(harness):
    client = harness.client(
        replies(httpx.Response(200, content=b"{not json", headers={"Content-Type": "application/json"}))
    )
    with pytest.raises(ApiError) as caught:
        client.get("/v0/pods")
    assert caught.value.code == "invalid_response" and "{not json" not in str(caught.value)


def test_a_text_body_is_returned_as_text_only_when_asked_for(harness):
    zone = httpx.Response(200, text="$ORIGIN example.com.\n", headers={"Content-Type": "text/plain; charset=utf-8"})
    client = harness.client(replies(zone, zone))
    assert client.get_text("/v0/domains/example.com/zone-file") == "$ORIGIN example.com.\n"
    with pytest.raises(UnexpectedResponse, match="where JSON was expected"):
        client.get("/v0/domains/example.com/zone-file")


def test_204_and_empty_bodies_are_none(harness):
    client = harness.client(replies(httpx.Response(204), httpx.Response(200)))
    assert client.delete("/v0/pods/p") is None
    assert client.request("POST", "/v0/domains/d/verify") is None


@pytest.mark.parametrize(
    ("raised", "says"),
    [
        (httpx.PoolTimeout("pool"), "no free connection to api.test:80 within 5s (--timeout)"),
        (httpx.ReadError("the peer went away"), "cannot reach api.test:80: ReadError: the peer went away"),
        (httpx.ReadError(""), "cannot reach api.test:80: ReadError: no details"),
    ],
)
def test_a_transport_failure_says_what_happened(harness, raised, says):
    client = harness.client(replies(raised), max_retries=0, timeout=5)
    with pytest.raises(TransientError) as caught:
        client.get("/v0/pods")
    assert caught.value.code == "connection_error" and says in str(caught.value)
