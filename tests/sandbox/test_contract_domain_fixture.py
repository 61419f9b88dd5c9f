"""The sandbox's DNS fixture for domains, `POST /_sandbox/domains/{domain_id}/dns` (§11 Q8): what
tests use to publish, unpublish or break records and to force a status. A malformed fixture
request is a 400 that changes nothing, so no state the real API cannot have reaches a client."""

from __future__ import annotations

import time
from typing import Any

import pytest
from agentmail import Domain
from contract_harness import ORG_KEY, Sandbox, auth


def manual_domain(sandbox: Sandbox, name: str) -> Domain:
    sandbox.configure(domain_verification="manual")
    return sandbox.client.domains.create(domain=name)


def fixture_post(sandbox: Sandbox, name: str, body: Any) -> Any:
    return sandbox.http.post(f"/_sandbox/domains/{name}/dns", json=body, headers=auth(ORG_KEY))


def test_unpublishing_removes_the_records_a_later_verify_sees(sandbox: Sandbox) -> None:
    """Deleting the reset of the fixture on `published: false` left every record published, so
    the verify after it still verified the domain."""
    manual_domain(sandbox, "withdrawn.example")
    sandbox.control("POST", "domains/withdrawn.example/dns", json={"published": True})
    sandbox.control("POST", "domains/withdrawn.example/dns", json={"published": False})
    sandbox.client.domains.verify("withdrawn.example")
    domain = sandbox.client.domains.get("withdrawn.example")
    assert (domain.status, domain.reason) == ("PENDING", "dns_records_missing")
    assert {r.status for r in domain.records} == {"MISSING"}


def test_publishing_records_leaves_the_domain_untouched_until_a_verify(sandbox: Sandbox) -> None:
    """DNS lives outside AgentMail: records published at the DNS provider change nothing in the
    domain resource until a verify reads them. The fixture used to stamp `updated_at` on every
    call, so a domain looked modified although only its DNS had changed."""
    created = manual_domain(sandbox, "outside.example")
    time.sleep(0.01)  # timestamps have millisecond precision
    sandbox.control("POST", "domains/outside.example/dns", json={"published": True})
    sandbox.control(
        "POST",
        "domains/outside.example/dns",
        json={"records": [{"type": "MX", "name": "outside.example", "status": "INVALID"}]},
    )
    domain = sandbox.client.domains.get("outside.example")
    assert (domain.status, domain.updated_at) == ("PENDING", created.updated_at)
    assert {r.status for r in domain.records} == {"MISSING"}


def test_forcing_verified_shows_every_record_valid(sandbox: Sandbox) -> None:
    """Negating `if status == "VERIFIED"` forced `VERIFIED` with every record still `MISSING` (a
    state the real API never shows) and published the records of any other forced status."""
    manual_domain(sandbox, "forced-ok.example")
    sandbox.control("POST", "domains/forced-ok.example/dns", json={"status": "VERIFIED"})
    domain = sandbox.client.domains.get("forced-ok.example")
    assert (domain.status, domain.reason) == ("VERIFIED", None)
    assert {r.status for r in domain.records} == {"VALID"}
    manual_domain(sandbox, "forced-failed.example")
    sandbox.control("POST", "domains/forced-failed.example/dns", json={"status": "FAILED", "reason": "ses_dkim_failed"})
    failed = sandbox.client.domains.get("forced-failed.example")
    assert (failed.status, failed.reason) == ("FAILED", "ses_dkim_failed")
    assert {r.status for r in failed.records} == {"MISSING"}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"records": 5}, id="records-not-a-list"),
        pytest.param({"records": [{"type": "MX", "name": "bad.example", "status": "BOGUS"}]}, id="record-bad-status"),
        pytest.param({"records": ["MX bad.example"]}, id="record-not-an-object"),
        pytest.param({"status": "DONE"}, id="unknown-domain-status"),
    ],
)
def test_a_malformed_fixture_request_is_400_and_changes_nothing(sandbox: Sandbox, body: Any) -> None:
    """Deleting the checks on `records` and `status` let a number through as `records` (a 500), a
    record status outside MISSING/INVALID/VALID or a domain status outside the API's enum into the
    domain, which the SDK then failed to parse."""
    before = manual_domain(sandbox, "bad.example")
    response = fixture_post(sandbox, "bad.example", body)
    assert response.status_code == 400 and response.json()["code"] == "validation_error"
    unchanged = sandbox.client.domains.get("bad.example")
    assert (unchanged.status, unchanged.reason, unchanged.updated_at) == (
        before.status,
        before.reason,
        before.updated_at,
    )
    sandbox.client.domains.verify("bad.example")  # a bad record would show once checked
    checked = sandbox.client.domains.get("bad.example")
    assert (checked.status, checked.records) == ("PENDING", before.records)
