"""Domain verification states with the sandbox's manual DNS fixture (spec §7.3, §11 Q8):
nothing published -> PENDING (records MISSING), a wrong record -> INVALID, all right -> VERIFIED."""

from __future__ import annotations

from agentmail import Domain
from contract_harness import Sandbox


def manual_domain(sandbox: Sandbox, name: str) -> Domain:
    sandbox.configure(domain_verification="manual")
    return sandbox.client.domains.create(domain=name)


def verify_and_read(sandbox: Sandbox, name: str) -> Domain:
    sandbox.client.domains.verify(name)
    return sandbox.client.domains.get(name)


def test_verify_with_nothing_published_stays_pending(sandbox: Sandbox) -> None:
    manual_domain(sandbox, "unpublished.example")
    domain = verify_and_read(sandbox, "unpublished.example")
    assert (domain.status, domain.reason) == ("PENDING", "dns_records_missing")
    assert {r.status for r in domain.records} == {"MISSING"}


def test_a_wrong_record_makes_the_domain_invalid(sandbox: Sandbox) -> None:
    created = manual_domain(sandbox, "wrong.example")
    dmarc = next(r for r in created.records if r.name.startswith("_dmarc."))
    sandbox.control(
        "POST",
        "domains/wrong.example/dns",
        json={"published": True, "records": [{"type": dmarc.type, "name": dmarc.name, "status": "INVALID"}]},
    )
    domain = verify_and_read(sandbox, "wrong.example")
    assert (domain.status, domain.reason) == ("INVALID", "dns_records_invalid")
    statuses = {r.name: r.status for r in domain.records if r.type == "TXT"}
    assert statuses.pop(dmarc.name) == "INVALID" and set(statuses.values()) == {"VALID"}


def test_partially_published_records_show_per_record_status(sandbox: Sandbox) -> None:
    created = manual_domain(sandbox, "partial.example")
    mx = next(r for r in created.records if r.type == "MX")
    sandbox.control(
        "POST", "domains/partial.example/dns", json={"records": [{"type": "MX", "name": mx.name, "status": "VALID"}]}
    )
    domain = verify_and_read(sandbox, "partial.example")
    assert domain.status == "PENDING"
    assert {(r.type, r.status) for r in domain.records if r.name == mx.name} >= {("MX", "VALID")}
    assert "MISSING" in {r.status for r in domain.records}


def test_publishing_everything_verifies(sandbox: Sandbox) -> None:
    manual_domain(sandbox, "fixed.example")
    assert verify_and_read(sandbox, "fixed.example").status == "PENDING"
    sandbox.control("POST", "domains/fixed.example/dns", json={"published": True})
    domain = verify_and_read(sandbox, "fixed.example")
    assert domain.status == "VERIFIED" and domain.reason is None
    assert {r.status for r in domain.records} == {"VALID"}


def test_status_does_not_change_without_a_verify(sandbox: Sandbox) -> None:
    manual_domain(sandbox, "idle.example")
    sandbox.control("POST", "domains/idle.example/dns", json={"published": True})
    domain = sandbox.client.domains.get("idle.example")
    assert domain.status == "PENDING" and {r.status for r in domain.records} == {"MISSING"}
