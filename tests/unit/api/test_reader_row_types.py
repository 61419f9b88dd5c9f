"""API rows whose fields have the wrong JSON type (valid JSON, not the API's) are an
UnexpectedResponse naming the row, the field and the request: never an AttributeError, a
TypeError or a RecursionError deep in the reader. The types are the SDK's (``agentmail`` models).

A pod's client_id is 1-256 characters from A-Z a-z 0-9 - . _ ~ (the API refuses any other with a
400): one with a ``/`` cannot come from the API, and would be misread as another address
(``pod/tenant-a/domain/z``), so it is refused too.
"""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from mailctl.api.client import AgentMailClient
from mailctl.api.pod_reads import PodsRead
from mailctl.api.reader import StateReader
from mailctl.errors import ApiError, InvalidRequest, UnexpectedResponse
from mailctl.resources import DesiredState

T = "2026-01-01T00:00:00Z"
POD = {"pod_id": "p1", "name": "A", "client_id": "tenant-a", "created_at": T, "updated_at": T}
INBOX = {"pod_id": "p1", "inbox_id": "x@agentmail.to", "email": "x@agentmail.to", "created_at": T, "updated_at": T}
DOMAIN = {
    "domain_id": "d1",
    "domain": "mail.a.test",
    "pod_id": "p1",
    "feedback_enabled": True,
    "subdomains_enabled": False,
    "tracking_enabled": False,
    "created_at": T,
    "updated_at": T,
}
KEY = {"type": "bearer", "api_key_id": "k1", "prefix": "am_1", "name": "agent", "created_at": T, "updated_at": T}
HOOK = {
    "webhook_id": "w1",
    "url": "https://h.example/x",
    "event_types": ["message.received"],
    "pod_id": "p1",
    "secret": "whsec_x",
    "enabled": True,
    "created_at": T,
    "updated_at": T,
}
ENTRY = {"entry": "spam.example", "organization_id": "o", "direction": "receive", "list_type": "block"}
ROWS: dict[str, Any] = {
    "/v0/pods": {"pods": [POD]},
    "/v0/inboxes": {"inboxes": [INBOX]},
    "/v0/domains": {"domains": [DOMAIN]},
    "/v0/api-keys": {"api_keys": [KEY]},
    "/v0/webhooks": {"webhooks": [HOOK]},
}
DEEP = b'{"pods": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


def _client(rows: dict[str, Any], raw: dict[str, httpx.Response] | None = None) -> AgentMailClient:
    """A client over ``rows`` (path -> JSON body; list paths not in it answer an empty list)."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if raw and path in raw:
            return raw[path]
        if path in rows:
            return httpx.Response(200, json=rows[path])
        key = path.rstrip("/").rsplit("/", 1)[-1].replace("-", "_")
        return httpx.Response(200, json={"entries" if key in ("allow", "block") else key: []})

    return AgentMailClient(
        "http://api.test", "am_test_key_for_row_types", transport=httpx.MockTransport(handler), max_retries=0
    )


def _with(path: str, items_key: str, **changes: Any) -> dict[str, Any]:
    """ROWS with the first row of ``path`` changed."""
    rows = copy.deepcopy(ROWS)
    rows[path][items_key][0].update(changes)
    return rows


def _read_fails(rows: dict[str, Any]) -> str:
    with pytest.raises(UnexpectedResponse) as caught:
        StateReader(_client(rows)).read(DesiredState())
    return str(caught.value)


def test_valid_rows_read():
    state = StateReader(_client(ROWS)).read(DesiredState())
    assert {"pod/tenant-a", "pod/tenant-a/inbox/x@agentmail.to", "pod/tenant-a/domain/mail.a.test"} <= set(
        state.resources
    )


# -- the rows of the QA pass -------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, items_key, changes, expected",
    [
        (
            "/v0/pods",
            "pods",
            {"client_id": 5},
            "an item of 'pods' (pod_id 'p1') has a 'client_id' that is a JSON number, not 1-256 characters "
            "from A-Z a-z 0-9 - . _ ~ (GET /v0/pods)",
        ),
        (
            "/v0/inboxes",
            "inboxes",
            {"inbox_id": 7},
            "an item of 'inboxes' has a 'inbox_id' that is a JSON number, not text without '/' (GET /v0/inboxes)",
        ),
        (
            "/v0/domains",
            "domains",
            {"domain": 2},
            "an item of 'domains' (domain_id 'd1') has a 'domain' that is a JSON number, not text without '/' "
            "(GET /v0/domains)",
        ),
        (
            "/v0/api-keys",
            "api_keys",
            {"name": 12},
            "an item of 'api_keys' (api_key_id 'k1') has a 'name' that is a JSON number, not text (GET /v0/api-keys)",
        ),
        (
            "/v0/api-keys",
            "api_keys",
            {"permissions": "all"},
            "an item of 'api_keys' (api_key_id 'k1') has a 'permissions' that is a JSON string, not an object "
            "of true/false flags (GET /v0/api-keys)",
        ),
        (
            "/v0/webhooks",
            "webhooks",
            {"event_types": [{"a": 1}]},
            "an item of 'webhooks' (webhook_id 'w1') has a 'event_types' that is a JSON array of 1 item(s), "
            "not a list of text (GET /v0/webhooks)",
        ),
    ],
)
def test_a_field_of_the_wrong_type_is_an_unexpected_response(path, items_key, changes, expected):
    assert _read_fails(_with(path, items_key, **changes)) == f"unexpected response from the API: {expected}"


@pytest.mark.parametrize(
    "path, items_key, changes, field",
    [
        ("/v0/pods", "pods", {"pod_id": {"a": 1}}, "'pod_id'"),
        ("/v0/pods", "pods", {"name": ["A"]}, "'name'"),
        ("/v0/inboxes", "inboxes", {"metadata": {"k": {"nested": 1}}}, "'metadata'"),
        ("/v0/inboxes", "inboxes", {"metadata": "gold"}, "'metadata'"),
        ("/v0/inboxes", "inboxes", {"display_name": 3}, "'display_name'"),
        ("/v0/inboxes", "inboxes", {"pod_id": ["p1"]}, "'pod_id'"),
        ("/v0/domains", "domains", {"feedback_enabled": "yes"}, "'feedback_enabled'"),
        ("/v0/api-keys", "api_keys", {"created_at": 5}, "'created_at'"),
        ("/v0/api-keys", "api_keys", {"expires_at": "soon"}, "'expires_at'"),
        ("/v0/api-keys", "api_keys", {"permissions": {"inbox_read": "yes"}}, "'permissions'"),
        ("/v0/api-keys", "api_keys", {"inbox_id": 1}, "'inbox_id'"),
        ("/v0/webhooks", "webhooks", {"client_id": 5}, "'client_id'"),
        ("/v0/webhooks", "webhooks", {"pod_ids": "p1"}, "'pod_ids'"),
        ("/v0/webhooks", "webhooks", {"inbox_ids": [1]}, "'inbox_ids'"),
        ("/v0/webhooks", "webhooks", {"enabled": "true"}, "'enabled'"),
    ],
)
def test_every_field_the_reader_relies_on_is_checked(path, items_key, changes, field):
    message = _read_fails(_with(path, items_key, **changes))
    assert f"has a {field} that is " in message and f"(GET {path})" in message


def test_a_row_without_its_id_is_named_by_where_it_is():
    message = _read_fails(_with("/v0/domains", "domains", domain=None))
    assert message == "unexpected response from the API: an item of 'domains' (domain_id 'd1') has no 'domain' " + (
        "(GET /v0/domains)"
    )


def test_the_id_in_the_message_is_clipped_and_escaped():
    message = _read_fails(_with("/v0/pods", "pods", pod_id="p\x1b[31m" + "x" * 500, client_id=5))
    assert "\x1b" not in message and "\\x1b" in message and len(message) < 300


# -- client_id: what the API allows, never misread as another address -----------------------------


@pytest.mark.parametrize("client_id", ["a/b", "x/../y", "tenant-a/domain/z", "tenant a", "t@a"])
def test_a_pod_client_id_the_api_cannot_make_is_refused(client_id):
    message = _read_fails(_with("/v0/pods", "pods", client_id=client_id))
    assert "an item of 'pods' (pod_id 'p1') has a 'client_id'" in message
    assert "not 1-256 characters from A-Z a-z 0-9 - . _ ~ (GET /v0/pods)" in message


def test_a_pod_without_client_id_is_addressed_by_a_pod_id_without_slash():
    message = _read_fails(_with("/v0/pods", "pods", client_id=None, pod_id="p/domain/x"))
    assert "has a 'pod_id' that is text ('p/domain/x'), not text without '/'" in message


def test_a_key_whose_name_holds_a_slash_is_addressed_by_its_id():
    """Key names are free text in the API: a key made elsewhere named ``a/domain/b`` is no error,
    but its name cannot be an address segment: it is addressed by its id, as a nameless key."""
    state = StateReader(_client(_with("/v0/api-keys", "api_keys", name="a/domain/b"))).read(DesiredState())
    assert "api_key/k1" in state.resources
    assert not any("domain/b" in address for address in state.resources)


@pytest.mark.parametrize("name", ["backend\U000e0041", "back\u3164end"])
def test_a_key_whose_name_holds_a_character_that_prints_as_nothing_is_addressed_by_its_id(name: str):
    """Config refuses such a name (it prints like another), so a key made elsewhere with one is
    addressed by its id: an export of it declares what config accepts."""
    state = StateReader(_client(_with("/v0/api-keys", "api_keys", name=name))).read(DesiredState())
    assert "api_key/k1" in state.resources and f"api_key/{name}" not in state.resources


def test_the_pods_handed_over_by_the_lock_are_checked_too():
    with pytest.raises(UnexpectedResponse, match=r"'client_id' .* \(GET /v0/pods\)"):
        StateReader(_client(ROWS), pods=[{**POD, "client_id": "a/b"}]).read(DesiredState())


# -- narrowed reads, lists and sub-routes go through the same checks -----------------------------


def test_a_narrowed_read_checks_the_rows_of_each_pod():
    rows = {**ROWS, "/v0/pods/p1/inboxes": {"inboxes": [{**INBOX, "inbox_id": 7}]}}
    narrowed = PodsRead(takes_pod=lambda name: True)
    with pytest.raises(UnexpectedResponse, match=r"'inbox_id' that is a JSON number.*\(GET /v0/pods/p1/inboxes\)"):
        StateReader(_client(rows)).read(DesiredState(), narrowed)


def test_a_list_entry_of_the_wrong_type_is_unexpected():
    rows = {**ROWS, "/v0/lists/receive/block": {"entries": [{**ENTRY, "entry": ["spam.example"]}]}}
    reader = StateReader(_client(rows))
    state = reader.read(DesiredState())
    with pytest.raises(
        UnexpectedResponse, match=r"has a 'entry' that is a JSON array .*\(GET /v0/lists/receive/block\)"
    ):
        reader.read_lists(state, {None})


def test_a_list_entry_with_a_slash_is_not_misread():
    rows = {**ROWS, "/v0/lists/receive/block": {"entries": [{**ENTRY, "entry": "a/b"}]}}
    reader = StateReader(_client(rows))
    state = reader.read(DesiredState())
    with pytest.raises(UnexpectedResponse, match=r"'entry' that is text \('a/b'\), not text without '/'"):
        reader.read_lists(state, {None})


# -- bodies nested too deeply to read ----------------------------------------------------------


def test_a_success_nested_too_deeply_is_unexpected_not_a_recursion_error():
    client = _client(ROWS, raw={"/v0/pods": httpx.Response(200, content=DEEP)})
    with pytest.raises(UnexpectedResponse) as caught:
        StateReader(client).read(DesiredState())
    assert str(caught.value) == (
        "unexpected response from the API: HTTP 200 with JSON nested too deeply to read (GET /v0/pods)"
    )


def test_an_error_body_nested_too_deeply_is_still_a_clean_error():
    client = _client(ROWS, raw={"/v0/pods": httpx.Response(400, content=DEEP)})
    with pytest.raises(InvalidRequest) as caught:
        client.get("/v0/pods")
    assert caught.value.code == "validation_error" and "(GET /v0/pods)" in str(caught.value)
    assert len(str(caught.value)) < 400


@pytest.mark.parametrize("nested", ["message", "errors", "code"])
def test_an_error_body_with_deep_but_readable_values_is_a_clean_error(nested):
    deep = "[" * 900 + "]" * 900
    body = {"code": "bad", "message": "boom"}
    content = httpx.Response(400, json=body).content.replace(f'"{body.get(nested, "x")}"'.encode(), deep.encode())
    if nested == "errors":
        content = content[:-1] + b', "errors": ' + deep.encode() + b"}"
    client = _client(ROWS, raw={"/v0/pods": httpx.Response(400, content=content)})
    with pytest.raises(ApiError) as caught:
        client.get("/v0/pods")
    assert "(GET /v0/pods)" in str(caught.value) and len(str(caught.value)) < 1200
