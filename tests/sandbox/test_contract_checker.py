"""The contract checker itself: it must reject the faults the SDK's unvalidated models let through."""

from __future__ import annotations

import json
from typing import Any

import pytest
from contract_harness import Exchange, exchange_problems
from contract_models import model_for, validate_body, validate_error

GOOD_POD = {"pod_id": "p1", "name": "n", "created_at": "2024-01-15T09:30:00.123Z", "updated_at": "2024-01-15T09:30:00Z"}


def pod_problems(**changes: Any) -> list[str]:
    body = {**GOOD_POD, **changes}
    return [
        str(p) for p in validate_body(model_for("GET", "/v0/pods/p1"), {k: v for k, v in body.items() if v != "DROP"})
    ]


def test_a_valid_pod_passes() -> None:
    assert pod_problems() == []


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"name": "DROP"}, "name"),
        ({"pod_id": 7}, "pod_id"),
        ({"nmae": "typo"}, "unknown field 'nmae'"),
        ({"client_id": None}, "null sent"),
        ({"created_at": 1705311000}, "timestamp"),
        ({"updated_at": "2024-01-15T09:30:00+02:00"}, "timestamp"),
    ],
)
def test_faults_the_sdk_would_accept_are_reported(changes: dict[str, Any], fragment: str) -> None:
    assert any(fragment in problem for problem in pod_problems(**changes))


def test_enum_values_must_be_listed() -> None:
    inbox = {
        "pod_id": "p",
        "inbox_id": "a@agentmail.to",
        "email": "a@agentmail.to",
        "status": "sleeping",
        "created_at": "2024-01-15T09:30:00Z",
        "updated_at": "2024-01-15T09:30:00Z",
    }
    assert any("not one of" in str(p) for p in validate_body(model_for("GET", "/v0/inboxes/a@agentmail.to"), inbox))


def test_list_rows_must_not_carry_detail_fields() -> None:
    row = {
        "domain_id": "x.example",
        "domain": "x.example",
        "status": "PENDING",
        "feedback_enabled": True,
        "subdomains_enabled": False,
        "tracking_enabled": False,
        "created_at": "2024-01-15T09:30:00Z",
        "updated_at": "2024-01-15T09:30:00Z",
    }
    problems = validate_body(model_for("GET", "/v0/domains"), {"count": 1, "domains": [row]})
    assert [str(p) for p in problems] == ["$.domains[0]: unknown field 'status' for DomainItem"]


def test_literal_routes_win_over_id_routes() -> None:
    assert model_for("GET", "/v0/inboxes/search").__name__ == "SearchInboxesResponse"
    assert model_for("GET", "/v0/inboxes/x@y.example").__name__ == "Inbox"


@pytest.mark.parametrize(
    ("status", "body", "fragment"),
    [
        (404, {"message": "gone", "code": "not_found"}, "name"),
        (400, {"name": "ValidationError", "message": "bad", "code": "validation_error"}, "errors"),
        (403, {"name": "ForbiddenError", "message": "no"}, "missing error code"),
        (404, {"name": "NotFoundError", "message": "x", "code": "missing"}, "not a documented code"),
        (404, {"name": "Missing", "message": "x", "code": "not_found"}, "not the name for 404"),
        (404, {"name": "NotFoundError", "message": "x", "code": "not_found", "docs": "https://x"}, "docs"),
    ],
)
def test_error_bodies_follow_the_spec(status: int, body: dict[str, Any], fragment: str) -> None:
    assert any(fragment in str(p) for p in validate_error(status, body))


@pytest.mark.parametrize(
    ("exchange", "fragment"),
    [
        (Exchange("GET", "/v0/pods", 500, "application/json", b"{}"), "5xx"),
        (Exchange("DELETE", "/v0/pods/p", 200, "application/json", b"{}"), "expected 204"),
        (Exchange("PUT", "/v0/pods", 200, "application/json", b"{}"), "SDK does not have"),
        (Exchange("GET", "/v0/pods/p", 200, "text/html", json.dumps(GOOD_POD).encode()), "not application/json"),
        (Exchange("GET", "/v0/domains/d/zone-file", 200, "application/json", b"x"), "zone file"),
    ],
)
def test_exchange_level_faults_are_reported(exchange: Exchange, fragment: str) -> None:
    assert any(fragment in str(p) for p in exchange_problems(exchange))
