"""Domain verification states with the sandbox's manual DNS fixture (spec §7.3, §11 Q8):
nothing published -> PENDING (records MISSING), a wrong record -> INVALID, all right -> VERIFIED."""

from __future__ import annotations

import time

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


def test_a_resolved_verification_sticks_until_the_next_verify(sandbox: Sandbox) -> None:
    """Deleting the write of the resolved status left the domain `VERIFYING` in the store, so
    every later read re-checked the DNS: unpublishing the records flipped a verified domain back
    to `PENDING` without any verify."""
    manual_domain(sandbox, "settled.example")
    sandbox.control("POST", "domains/settled.example/dns", json={"published": True})
    assert verify_and_read(sandbox, "settled.example").status == "VERIFIED"
    sandbox.control("POST", "domains/settled.example/dns", json={"published": False})
    domain = sandbox.client.domains.get("settled.example")
    assert (domain.status, domain.reason) == ("VERIFIED", None)
    assert {r.status for r in domain.records} == {"VALID"}


def test_a_verification_that_changes_the_status_moves_updated_at(sandbox: Sandbox) -> None:
    """Deleting the `updated_at` stamp of a status change left `updated_at` at the creation time
    although the domain went from `PENDING` to `VERIFIED`."""
    created = sandbox.client.domains.create(domain="stamped.example")  # auto mode: verify publishes
    time.sleep(0.01)  # timestamps have millisecond precision
    verified = verify_and_read(sandbox, "stamped.example")
    assert verified.status == "VERIFIED" and verified.updated_at > created.updated_at
    assert verified.created_at == created.created_at


def test_forcing_a_status_without_a_reason_drops_the_old_reason(sandbox: Sandbox) -> None:
    """Deleting the removal of the previous `reason` on a status change kept a stale reason: a
    domain forced from `FAILED` (`ses_dkim_failed`) to `NOT_STARTED` still showed `ses_dkim_failed`."""
    manual_domain(sandbox, "forced.example")
    sandbox.control("POST", "domains/forced.example/dns", json={"status": "FAILED", "reason": "ses_dkim_failed"})
    assert sandbox.client.domains.get("forced.example").reason == "ses_dkim_failed"
    sandbox.control("POST", "domains/forced.example/dns", json={"status": "NOT_STARTED"})
    domain = sandbox.client.domains.get("forced.example")
    assert (domain.status, domain.reason) == ("NOT_STARTED", None)


def test_verify_on_a_verified_domain_does_not_recheck_the_records(sandbox: Sandbox) -> None:
    """§11 Q8: verify on a `VERIFIED` domain is a 204 no-op. Deleting that early return re-ran the
    check, so a verified domain whose records had since gone missing dropped back to `PENDING`."""
    manual_domain(sandbox, "kept.example")
    sandbox.control("POST", "domains/kept.example/dns", json={"published": True})
    assert verify_and_read(sandbox, "kept.example").status == "VERIFIED"
    sandbox.control("POST", "domains/kept.example/dns", json={"published": False})
    domain = verify_and_read(sandbox, "kept.example")
    assert (domain.status, domain.reason) == ("VERIFIED", None)


def test_only_an_invalid_record_carries_a_reason(sandbox: Sandbox) -> None:
    """Spec §7.3: a record's `reason` explains an `INVALID` status. Deleting it (or negating
    `if status == "INVALID"`) left the wrong record unexplained, or put `value_mismatch` on the
    valid and missing ones."""
    created = manual_domain(sandbox, "explained.example")
    spf = next(r for r in created.records if r.type == "TXT" and r.name == "explained.example")
    sandbox.control(
        "POST",
        "domains/explained.example/dns",
        json={"published": True, "records": [{"type": "TXT", "name": spf.name, "status": "INVALID"}]},
    )
    domain = verify_and_read(sandbox, "explained.example")
    reasons = {(r.type, r.name): (r.status, r.reason) for r in domain.records}
    assert reasons.pop(("TXT", spf.name)) == ("INVALID", "value_mismatch")
    assert set(reasons.values()) == {("VALID", None)}
    assert {r.reason for r in manual_domain(sandbox, "unexplained.example").records} == {None}
