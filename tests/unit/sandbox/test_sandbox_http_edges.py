"""The WSGI layer: bad input is always a 4xx JSON error in the §2.1 shape and changes nothing."""

from __future__ import annotations

import httpx
import pytest

from mailctl.sandbox.app import MAX_BODY_BYTES, SandboxApp, create_app

KEY = "am_unit_test_key_0123456789"


@pytest.fixture
def app() -> SandboxApp:
    return create_app(api_keys=(KEY,))


@pytest.fixture
def client(app: SandboxApp) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="http://sandbox", headers={"Authorization": f"Bearer {KEY}"}
    )


def _pod_count(client: httpx.Client) -> int:
    return int(client.get("/v0/pods").json()["count"])


def _assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["code"], isinstance(body["name"], str), isinstance(body["message"], str)) == (code, True, True)
    if status == 400:
        assert isinstance(body["errors"], list)


@pytest.mark.parametrize(
    ("request_kwargs", "status", "code"),
    [
        ({"content": b"{not json"}, 400, "validation_error"),
        ({"content": b"[1, 2]"}, 400, "validation_error"),
        ({"content": b"\xff\xfe"}, 400, "validation_error"),
        ({"json": {"name": 12}}, 400, "validation_error"),
        ({"json": {"client_id": "has space"}}, 400, "validation_error"),
        ({"json": {"client_id": "x@y"}}, 400, "validation_error"),
        ({"content": b" " * (MAX_BODY_BYTES + 1)}, 413, "payload_too_large"),
    ],
)
def test_bad_bodies_are_4xx_json_and_create_nothing(
    client: httpx.Client, request_kwargs: dict, status: int, code: str
) -> None:
    _assert_error(client.post("/v0/pods", **request_kwargs), status, code)
    assert _pod_count(client) == 1


def test_absent_body_is_an_empty_object(client: httpx.Client) -> None:
    assert client.post("/v0/inboxes").status_code == 200


@pytest.mark.parametrize(
    "path", ["/v0/pods/a%2Fb", "/v0/pods/a%00b", "/v0/pods/..%2F", "/v0/pods/a\\b", "/v0/nope", "/"]
)
def test_path_tricks_and_unknown_routes_are_4xx_json(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert 400 <= response.status_code < 500 and response.json()["code"] in ("validation_error", "not_found")


def test_wrong_method_is_405_with_allow_header(client: httpx.Client) -> None:
    response = client.put("/v0/pods")
    _assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET, HEAD, POST"


def test_literal_search_segment_beats_the_inbox_id_parameter(client: httpx.Client) -> None:
    assert "inboxes" in client.get("/v0/inboxes/search", params={"q": "zz"}).json()


def test_inbox_ids_accept_raw_at_plus_and_percent_encoding(client: httpx.Client) -> None:
    client.post("/v0/inboxes", json={"username": "a+b"})
    for path in ("/v0/inboxes/a+b@agentmail.to", "/v0/inboxes/a%2Bb%40agentmail.to", "/v0/inboxes/A+B@AgentMail.to"):
        assert client.get(path).json()["inbox_id"] == "a+b@agentmail.to"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "missing_authorization"),
        ("Basic abc", "missing_authorization"),
        ("Bearer ", "missing_authorization"),
        ("bearer " + KEY, "missing_authorization"),
        ("Bearer am_nope", "unknown_api_key"),
        ("Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "invalid_token_type"),
    ],
)
def test_bad_credentials_are_401_with_the_documented_code(header: str | None, code: str) -> None:
    app = create_app(api_keys=(KEY,))
    headers = {"Authorization": header} if header is not None else {}
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sandbox") as bare:
        _assert_error(bare.get("/v0/pods", headers=headers), 401, code)


def test_expired_key_is_401_api_key_expired(app: SandboxApp, client: httpx.Client) -> None:
    created = client.post("/v0/api-keys", json={"expires_at": "2099-01-01T00:00:00Z"}).json()
    with app.store.transaction() as tx:  # fast-forward: rewrite the stored expiry into the past
        row = tx.get("api_key", created["api_key_id"])
        assert row is not None
        row.body["expires_at"] = "2000-01-01T00:00:00.000Z"
        tx.update(row)
    response = client.get("/v0/pods", headers={"Authorization": f"Bearer {created['api_key']}"})
    _assert_error(response, 401, "api_key_expired")


def test_secret_is_returned_only_at_creation(client: httpx.Client) -> None:
    created = client.post("/v0/api-keys", json={"name": "ci"}).json()
    assert created["api_key"].startswith("am_")
    listed = client.get("/v0/api-keys").text + client.get(f"/v0/api-keys/{created['api_key_id']}").text
    assert created["api_key"] not in listed and created["prefix"] in listed


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_body_that_is_not_declared_json_is_415_and_creates_nothing(client: httpx.Client, content_type: str) -> None:
    response = client.post("/v0/pods", content=b'{"name": "plain"}', headers={"Content-Type": content_type})
    _assert_error(response, 415, "unsupported_media_type")
    assert "application/json" in response.json()["message"]
    assert _pod_count(client) == 1


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"])
def test_json_media_types_are_accepted(client: httpx.Client, content_type: str) -> None:
    response = client.post("/v0/pods", content=b'{"name": "typed"}', headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
