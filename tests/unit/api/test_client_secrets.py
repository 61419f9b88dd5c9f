"""A planted canary key (and a secret in a response body) never shows up in errors, reprs or logs."""

from __future__ import annotations

import logging

import httpx
import pytest
from client_harness import CANARY_KEY, replies

from mailctl.api.client import AgentMailClient
from mailctl.errors import ApiError

BODY_SECRET = "am_us_BODYSECRETbodysecret0123456789xyz"
WEBHOOK_SECRET = "whsec_WEBHOOKsecret0123456789abcdefgh"


def leaks(text: str) -> bool:
    return any(secret in text for secret in (CANARY_KEY, BODY_SECRET, WEBHOOK_SECRET))


def secret_error_body(status: int) -> httpx.Response:
    return httpx.Response(
        status,
        json={
            "name": "Error",
            "code": "boom",
            "api_key": BODY_SECRET,
            "message": f"key {CANARY_KEY} rejected; other {BODY_SECRET}; hook {WEBHOOK_SECRET}",
            "errors": [{"path": "api_key", "message": f"bad value {BODY_SECRET}"}],
        },
    )


def raise_connect(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError(f"refused while sending {CANARY_KEY}", request=request)


def raise_read_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout(f"timeout with {BODY_SECRET}", request=request)


ERROR_PATHS = {
    **{
        f"json_{status}": (lambda status=status: secret_error_body(status))
        for status in (400, 401, 403, 404, 409, 422, 429, 500, 503)
    },
    "html_502": lambda: httpx.Response(
        502, text=f"<html><body>debug: Authorization: Bearer {CANARY_KEY} response {BODY_SECRET}</body></html>"
    ),
    "titled_html": lambda: httpx.Response(500, text=f"<title>oops {CANARY_KEY}</title>"),
    "plain_text": lambda: httpx.Response(500, text=f"api_key={BODY_SECRET}"),
    "secret_as_code": lambda: httpx.Response(403, json={"name": "Error", "code": CANARY_KEY, "message": "denied"}),
    "secret_glued_to_a_word": lambda: httpx.Response(
        400, json={"name": "Error", "code": f"bad_{BODY_SECRET}", "message": f"hook:{WEBHOOK_SECRET}x{BODY_SECRET}"}
    ),
    "invalid_json_ok": lambda: httpx.Response(
        200, content=f'{{"api_key": "{BODY_SECRET}"'.encode(), headers={"Content-Type": "application/json"}
    ),
}


def texts_of(err: BaseException) -> list[str]:
    out = [str(err), repr(err), *map(str, err.args)]
    if isinstance(err, ApiError):
        out += [err.api_message, err.code, err.path]
    if err.__cause__ is not None:
        out += [str(err.__cause__), repr(err.__cause__)]
    return out


@pytest.mark.parametrize("name", sorted(ERROR_PATHS))
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_no_error_path_leaks_a_secret(harness, caplog, name, method):
    make = ERROR_PATHS[name]
    client = harness.client(lambda request: make(), max_retries=1)
    with caplog.at_level(logging.DEBUG), pytest.raises(ApiError) as caught:
        client.request(method, "/v0/api-keys", json={"name": "k"} if method == "POST" else None)
    assert not any(leaks(t) for t in texts_of(caught.value))
    assert not leaks(caplog.text)


@pytest.mark.parametrize("handler", [raise_connect, raise_read_timeout])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_transport_errors_do_not_leak_secrets(harness, caplog, handler, method):
    client = harness.client(handler, max_retries=2)
    with caplog.at_level(logging.DEBUG), pytest.raises(ApiError) as caught:
        client.request(method, "/v0/pods")
    assert not any(leaks(t) for t in texts_of(caught.value))
    assert not leaks(caplog.text)


def test_client_repr_and_stats_do_not_show_the_key(harness):
    client = harness.client(replies(httpx.Response(200, json={"api_key": BODY_SECRET})))
    assert client.post("/v0/api-keys", json={"name": "k"})["api_key"] == BODY_SECRET  # callers get it
    for text in (str(client), repr(client), repr(client.stats), repr(vars(client).get("_redact"))):
        assert not leaks(text)


def test_redaction_keeps_the_useful_part_of_the_message(harness):
    client = harness.client(replies(secret_error_body(403)))
    with pytest.raises(ApiError) as caught:
        client.get("/v0/api-keys")
    assert caught.value.api_message.startswith("key [REDACTED] rejected; other [REDACTED]")


UNSHAPED_KEY = "org-key-UNSHAPED-7f3a9c"  # not am_...: the secret-token pattern alone would miss it


def test_the_clients_own_key_is_scrubbed_whatever_its_shape():
    """A key in a format the secret-token pattern does not know (an older or newer key format, a
    proxy's own token) is still never echoed: the client scrubs its own key by value."""
    echo = httpx.Response(401, json={"name": "Error", "code": "bad_key", "message": f"key {UNSHAPED_KEY} is revoked"})
    client = AgentMailClient("http://api.test", UNSHAPED_KEY, transport=httpx.MockTransport(lambda r: echo))
    try:
        with pytest.raises(ApiError) as caught:
            client.get("/v0/pods")
        assert not any(UNSHAPED_KEY in text for text in texts_of(caught.value))
        assert "key [REDACTED] is revoked" in str(caught.value)
        assert client.redact(f"Bearer {UNSHAPED_KEY}; {BODY_SECRET}") == "Bearer [REDACTED]; [REDACTED]"
    finally:
        client.close()


SHORT_KEY = "am_my_local_key"  # the README's sandbox key: neither long nor secret-shaped
TAIL = "-and-more-text-after-the-key"  # the text runs past the clip limit


def _echoing(mode: str) -> httpx.Response:
    """An answer that places the key so that clipping (before scrubbing) kept all but its last character."""
    shown = len(SHORT_KEY) - 1
    if mode == "message":  # clipped at 200
        return httpx.Response(400, json={"message": "x" * (197 - shown) + SHORT_KEY + TAIL})
    if mode == "errors":
        return httpx.Response(400, json={"message": "bad", "errors": [{"path": "p", "message": "y" * 190 + SHORT_KEY}]})
    if mode == "code":  # clipped at 80
        return httpx.Response(400, json={"code": "c" * (77 - shown) + SHORT_KEY + TAIL, "message": "no"})
    if mode == "redirect":
        return httpx.Response(
            302, headers={"Location": "https://e.example/" + "p" * (197 - shown - 18) + SHORT_KEY + TAIL}
        )
    if mode == "html":  # an HTML page's title, clipped at 80
        return httpx.Response(500, text=f"<html><title>{'t' * (77 - shown)}{SHORT_KEY}{TAIL}</title></html>")
    return httpx.Response(500, text="y" * (197 - shown) + SHORT_KEY + TAIL)


@pytest.mark.parametrize("mode", ["message", "errors", "code", "redirect", "html", "text"])
def test_text_from_the_server_is_scrubbed_before_it_is_clipped(mode: str):
    """Clipped first, the key lost its last character, so it matched neither itself nor the
    secret-token pattern: all but one character of it was printed."""
    client = AgentMailClient("http://api.test", SHORT_KEY, transport=httpx.MockTransport(lambda r: _echoing(mode)))
    try:
        with pytest.raises(ApiError) as caught:
            client.get("/v0/pods")
        assert not any(SHORT_KEY[:-1] in text for text in texts_of(caught.value)), str(caught.value)
    finally:
        client.close()


@pytest.mark.parametrize("secret", ["whsec_ab/9Gk2Lq+7xYzPp0aQwErTyUiOpAsDf", "whsec_Q/eB0zo6+MDeBbKl3w4eq8Qw=="])
def test_a_webhook_secret_in_base64_is_scrubbed_whole(harness, secret: str):
    """The sandbox's whsec_ secrets are base64: + and / cut the secret-token pattern short."""
    client = harness.client(replies(httpx.Response(400, json={"message": f"bad secret {secret} here"})))
    with pytest.raises(ApiError) as caught:
        client.get("/v0/webhooks")
    assert "bad secret [REDACTED] here" in str(caught.value)
    assert client.redact(secret) == "[REDACTED]"


def test_values_the_client_is_told_to_hide_never_come_back_in_an_error(harness):
    """A webhook header value echoed by the API's validation error (the request body quoted)."""
    body = {"message": "invalid value", "errors": [{"path": "headers", "message": '{"X-Token":"tok-123456"}'}]}
    client = harness.client(replies(httpx.Response(400, json=body)))
    client.hide(["tok-123456", "ab"])  # too short to be worth hiding: never replaced
    with pytest.raises(ApiError) as caught:
        client.post("/v0/webhooks", {"url": "https://h.example", "headers": {"X-Token": "tok-123456"}})
    assert "tok-123456" not in str(caught.value) and '"X-Token":"[REDACTED]"' in str(caught.value)
    assert "invalid value" in str(caught.value)


def test_a_key_given_as_the_endpoint_is_not_quoted_in_the_error():
    from mailctl.errors import UsageError

    key = "am_us_0123456789abcdef0123456789abcdef"
    with pytest.raises(UsageError) as caught:
        AgentMailClient(key, key)
    assert key not in str(caught.value) and "invalid AgentMail endpoint" in str(caught.value)


def test_an_html_success_page_is_scrubbed_before_its_title_is_clipped():
    shown = len(SHORT_KEY) - 1
    page = httpx.Response(200, text=f"<html><title>{'t' * (77 - shown)}{SHORT_KEY}{TAIL}</title></html>")
    client = AgentMailClient("http://api.test", SHORT_KEY, transport=httpx.MockTransport(lambda r: page))
    try:
        with pytest.raises(ApiError) as caught:
            client.get("/v0/pods")
        assert SHORT_KEY[:-1] not in str(caught.value), str(caught.value)
    finally:
        client.close()
