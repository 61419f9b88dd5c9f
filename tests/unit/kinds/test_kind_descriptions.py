"""The kind descriptions say what the model always said: which attributes each kind has, which
change in place, how a create and an update are sent, and how a webhook's name survives the API."""

from __future__ import annotations

import pytest

from mailctl.kinds import CONFIG_ORDER, SPECS, spec_of
from mailctl.kinds.webhook import client_id, name_from_client_id
from mailctl.resources import (
    API_KEY,
    DOMAIN,
    INBOX,
    KINDS,
    LIST_ENTRY,
    POD,
    WEBHOOK,
    Kind,
    Resource,
)

MUTABLE = {
    POD: set(),
    DOMAIN: {"feedback_enabled", "inbound_enabled", "subdomains_enabled", "tracking_enabled"},
    INBOX: {"display_name", "metadata", "status"},
    API_KEY: {"permissions"},
    WEBHOOK: {"event_types", "enabled", "pods", "inboxes", "headers"},
    LIST_ENTRY: set(),
}
ALL = {
    **MUTABLE,
    POD: {"name"},
    API_KEY: {"permissions", "expires_at"},
    WEBHOOK: {"url", "event_types", "enabled", "pods", "inboxes", "headers"},
    LIST_ENTRY: {"reason"},
}


def test_every_kind_is_described_once_with_its_attributes():
    assert tuple(SPECS) == KINDS and len(CONFIG_ORDER) == len(KINDS)
    for kind in KINDS:
        assert set(spec_of(kind).mutable) == MUTABLE[kind]
        assert {a.name for a in spec_of(kind).attributes} == ALL[kind]


def test_sections_and_scopes():
    assert {s.kind: s.section for s in SPECS.values()} == {
        POD: "pods",
        DOMAIN: "domains",
        INBOX: "inboxes",
        API_KEY: "api_keys",
        WEBHOOK: "webhooks",
        LIST_ENTRY: "lists",
    }
    assert spec_of(DOMAIN).parents == {None, Kind.POD}
    assert spec_of(INBOX).parents == {Kind.POD}


def test_addresses_match_the_model():
    assert spec_of(INBOX).address("Support@X.Example", "pod/t") == "pod/t/inbox/support@x.example"
    assert spec_of(WEBHOOK).address("events", None) == "webhook/events"


@pytest.mark.parametrize("scope", [None, "pod/t", "pod/t/inbox/a@agentmail.to"])
def test_webhook_name_round_trips_through_its_client_id(scope):
    address = spec_of(WEBHOOK).address("audit-hook", scope)
    value = client_id(address)
    assert value.startswith("mailctl-webhook-") and len(value) <= 256
    assert name_from_client_id(value, scope) == "audit-hook"
    assert name_from_client_id(value, "pod/other") is None  # made for another scope
    assert name_from_client_id("someone-else", scope) is None


def test_create_body_sends_ids_and_leaves_api_defaults_out():
    hook = Resource(
        WEBHOOK,
        "webhook/w",
        {"url": "https://h/x", "event_types": ["a"], "enabled": False, "pods": ["t"], "inboxes": []},
    )
    body = spec_of(WEBHOOK).create_body(hook, lambda kind, name: f"{kind}-id-{name}")
    assert body == {
        "url": "https://h/x",
        "event_types": ["a"],
        "pod_ids": ["pod-id-t"],
        "client_id": client_id("webhook/w"),
    }
    assert spec_of(WEBHOOK).after_create(hook, {"enabled": True}) == {"enabled": False}
    inbox = Resource(INBOX, "pod/t/inbox/a@b.example", {"status": "active", "metadata": {}})
    assert spec_of(INBOX).create_body(inbox, lambda k, n: n) == {
        "username": "a",
        "domain": "b.example",
        "metadata": {},
        "client_id": spec_of(INBOX).client_id("pod/t/inbox/a@b.example"),
    }


def test_update_body_patches_sets_and_merges_maps():
    hook = spec_of(WEBHOOK)
    body = hook.update_body(
        ["pods", "inboxes"],
        {"pods": ["a", "b"], "inboxes": []},
        {"pods": ["b", "c"], "inboxes": ["x@y.z"]},
        lambda kind, name: name.upper(),
    )
    assert body == {"add_pod_ids": ["A"], "remove_pod_ids": ["C"], "remove_inbox_ids": ["X@Y.Z"]}
    inbox = spec_of(INBOX)
    assert inbox.update_body(["metadata"], {"metadata": {"a": 1}}, {"metadata": {"b": 2}}, str) == {
        "metadata": {"b": None, "a": 1}
    }
    assert inbox.update_body(["metadata"], {"metadata": {}}, {"metadata": {"b": 2}}, str) == {"metadata": None}


def test_export_declaration_leaves_defaults_out():
    key = Resource(API_KEY, "api_key/k", {"permissions": None})
    assert spec_of(API_KEY).declaration(key) == {}
    assert spec_of(API_KEY).declaration(Resource(API_KEY, "api_key/k", {"permissions": {}})) == {"permissions": {}}
    inbox = Resource(INBOX, "pod/t/inbox/a@b.c", {"metadata": {}, "status": "active", "display_name": "A"})
    assert spec_of(INBOX).declaration(inbox) == {"display_name": "A"}
    hook = Resource(WEBHOOK, "webhook/w", {"url": "u", "enabled": True, "pods": [], "inboxes": []})
    assert spec_of(WEBHOOK).declaration(hook) == {"url": "u", "enabled": True}


def test_config_values_are_normalised_and_bad_ones_reported():
    attrs, problems = spec_of(API_KEY).config_attrs({"expires_at": "tomorrow"})
    assert attrs == {"permissions": None}
    assert problems == [("expires_at", "`tomorrow` is not a timestamp: use ISO 8601, e.g. 2026-12-31T00:00:00Z")]
    attrs, _ = spec_of(WEBHOOK).config_attrs({"url": "u", "event_types": ["b", "a", "a"], "inboxes": ["X@Y.z"]})
    assert attrs == {"url": "u", "event_types": ["a", "b"], "inboxes": ["x@y.z"]}
