"""Domains on the org and pod routes (spec §7.3, §11 Q3, Q8, Q9, Q10, Q17)."""

from __future__ import annotations

import time

from agentmail import Domain
from agentmail.errors import NotFoundError, UnprocessableError
from agentmail.inboxes import CreateInboxRequest
from contract_harness import Sandbox, raises_api_error

DOMAIN_REASONS = {
    "dns_records_missing",
    "dns_records_invalid",
    "ses_dkim_pending",
    "ses_mail_from_pending",
    "ses_dkim_temporary_failure",
    "ses_mail_from_temporary_failure",
    "ses_dkim_failed",
    "ses_mail_from_failed",
    "ses_dkim_not_started",
    "ses_mail_from_not_started",
    "ses_not_verified_for_sending",
}


def records_by_kind(domain: Domain) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for record in domain.records:
        out.setdefault(record.type, []).append((record.name, record.value))
    return out


def verified(sandbox: Sandbox, domain_id: str, pod_id: str | None = None) -> Domain:
    if pod_id is None:
        sandbox.client.domains.verify(domain_id)
        return sandbox.client.domains.get(domain_id)
    sandbox.client.pods.domains.verify(pod_id, domain_id)
    return sandbox.client.pods.domains.get(pod_id, domain_id)


def test_new_domain_is_pending_with_every_record_missing(sandbox: Sandbox) -> None:
    domain = sandbox.client.domains.create(domain="Example.COM")
    assert (domain.domain_id, domain.domain, domain.pod_id) == ("example.com", "example.com", None)
    assert domain.status == "PENDING" and domain.reason in DOMAIN_REASONS
    assert domain.records and {r.status for r in domain.records} == {"MISSING"}
    assert domain.feedback_enabled is True and domain.subdomains_enabled is False


def test_domain_records_cover_spf_dkim_dmarc_and_apex_mx(sandbox: Sandbox) -> None:
    domain = sandbox.client.domains.create(domain="mail.example")
    kinds = records_by_kind(domain)
    txt = kinds["TXT"]
    assert any(name == "mail.example" and "include:spf.agentmail.to" in value for name, value in txt)
    assert any(name == "_dmarc.mail.example" and "p=reject" in value for name, value in txt)
    assert any("._domainkey.mail.example" in name for name, _ in txt + kinds.get("CNAME", []))
    mx = [r for r in domain.records if r.type == "MX"]
    assert [r.name for r in mx] == ["mail.example"] and all(isinstance(r.priority, int) for r in mx)


def test_optional_records_follow_the_domain_flags(sandbox: Sandbox) -> None:
    domain = sandbox.client.domains.create(
        domain="flags.example", inbound_enabled=False, subdomains_enabled=True, tracking_enabled=True
    )
    names = {(r.type, r.name) for r in domain.records}
    assert ("MX", "flags.example") not in names
    assert ("MX", "*.flags.example") in names and ("CNAME", "link.flags.example") in names
    assert (domain.inbound_enabled, domain.subdomains_enabled, domain.tracking_enabled) == (False, True, True)


def test_verify_moves_a_published_domain_to_verified(sandbox: Sandbox) -> None:
    sandbox.client.domains.create(domain="verify.example")
    domain = verified(sandbox, "verify.example")
    assert domain.status == "VERIFIED" and domain.reason is None
    assert {r.status for r in domain.records} == {"VALID"}


def test_verify_on_a_verified_domain_is_a_no_op(sandbox: Sandbox) -> None:
    sandbox.client.domains.create(domain="again.example")
    first = verified(sandbox, "again.example")
    assert verified(sandbox, "again.example").status == first.status == "VERIFIED"


def test_verify_while_verifying_is_204_and_changes_nothing(sandbox: Sandbox) -> None:
    """Issue 10: the docs describe verify as "starts verification" (204); a 409 here would be
    retried twice by the SDK before it raised."""
    sandbox.client.domains.create(domain="twice.example")
    sandbox.client.domains.verify("twice.example")
    before = len(sandbox.exchanges)
    assert sandbox.client.domains.verify("twice.example") is None
    assert [e.status for e in sandbox.exchanges[before:]] == [204]  # one call: nothing retried
    assert verified(sandbox, "twice.example").status == "VERIFIED"


def test_enabling_subdomains_on_a_verified_domain_returns_it_to_pending(sandbox: Sandbox) -> None:
    sandbox.client.domains.create(domain="grow.example")
    verified(sandbox, "grow.example")
    domain = sandbox.client.domains.update("grow.example", subdomains_enabled=True)
    assert domain.status == "PENDING" and domain.subdomains_enabled is True
    assert any(r.name == "*.grow.example" and r.type == "MX" for r in domain.records)


def test_domain_update_changes_flags_and_empty_update_is_400(sandbox: Sandbox) -> None:
    sandbox.client.domains.create(domain="patch.example")
    assert sandbox.client.domains.update("patch.example", feedback_enabled=False).feedback_enabled is False
    with raises_api_error(400, "validation_error"):
        sandbox.client.domains.update("patch.example")


def test_domain_paths_accept_any_case(sandbox: Sandbox) -> None:
    sandbox.client.domains.create(domain="case.example")
    assert sandbox.client.domains.get("CASE.Example").domain_id == "case.example"


def test_zone_file_lists_every_record_as_bind_text(sandbox: Sandbox) -> None:
    domain = sandbox.client.domains.create(domain="zone.example", tracking_enabled=True)
    text = b"".join(sandbox.client.domains.get_zone_file("zone.example")).decode()
    for record in domain.records:
        assert record.type in text and record.name.split(".")[0] in text and record.value.strip('"') in text
    pod = sandbox.client.pods.create(name="zoned")
    sandbox.client.pods.domains.create(pod.pod_id, domain="podzone.example")
    assert b"podzone.example" in b"".join(sandbox.client.pods.domains.get_zone_file(pod.pod_id, "podzone.example"))


def test_zone_file_gives_each_record_its_own_type_and_value(sandbox: Sandbox) -> None:
    """Negating `elif type == "CNAME"` wrote every TXT record as a CNAME and the tracking CNAME as
    a TXT string; the zone file still named every type somewhere, so only a line-by-line check sees it."""
    domain = sandbox.client.domains.create(domain="lines.example", subdomains_enabled=True, tracking_enabled=True)
    text = b"".join(sandbox.client.domains.get_zone_file("lines.example")).decode()
    lines = {tuple(line.split(None, 3)) for line in text.splitlines() if line and line[0] not in "$;"}
    expected = set()
    for r in domain.records:
        rdata = {"MX": f"{r.priority} {r.value}.", "CNAME": f"{r.value}.", "TXT": f'"{r.value}"'}[r.type]
        expected.add((f"{r.name}.", "IN", r.type, rdata))
    assert lines == expected and {r.type for r in domain.records} == {"TXT", "MX", "CNAME"}


def test_setup_link_is_unsupported(sandbox: Sandbox) -> None:
    sandbox.client.domains.create(domain="link.example")
    assert sandbox.client.domains.get_setup_link("link.example").supported is False


def test_setup_link_of_an_unknown_domain_is_404(sandbox: Sandbox) -> None:
    """Deleting the domain lookup of the setup-link route answered 200 for any name at all."""
    with raises_api_error(404, "not_found", NotFoundError):
        sandbox.client.domains.get_setup_link("nowhere.example")


def test_registering_a_domain_twice_is_403_already_exists(sandbox: Sandbox) -> None:
    sandbox.client.domains.create(domain="dup.example")
    pod = sandbox.client.pods.create(name="dup")
    with raises_api_error(403, "already_exists"):
        sandbox.client.domains.create(domain="dup.example")
    with raises_api_error(403, "already_exists"):
        sandbox.client.pods.domains.create(pod.pod_id, domain="DUP.example")


def test_domain_delete_then_404(sandbox: Sandbox) -> None:
    sandbox.client.domains.create(domain="gone.example")
    sandbox.client.domains.delete("gone.example")
    with raises_api_error(404, "not_found", NotFoundError):
        sandbox.client.domains.get("gone.example")
    with raises_api_error(404, "not_found", NotFoundError):
        sandbox.client.domains.delete("gone.example")


def test_pod_domains_are_owned_by_their_pod(sandbox: Sandbox) -> None:
    pods = sandbox.client.pods
    mine, other = pods.create(name="mine"), pods.create(name="other")
    domain = pods.domains.create(mine.pod_id, domain="mine.example")
    sandbox.client.domains.create(domain="org.example")
    assert domain.pod_id == mine.pod_id
    assert [d.domain_id for d in pods.domains.list(mine.pod_id).domains] == ["mine.example"]
    assert pods.domains.list(other.pod_id).domains == []
    with raises_api_error(404, "not_found", NotFoundError):
        pods.domains.get(other.pod_id, "mine.example")
    with raises_api_error(404, "not_found", NotFoundError):
        pods.domains.get(mine.pod_id, "org.example")
    assert pods.domains.update(mine.pod_id, "mine.example", tracking_enabled=True).tracking_enabled is True
    assert verified(sandbox, "mine.example", mine.pod_id).status == "VERIFIED"
    pods.domains.delete(mine.pod_id, "mine.example")
    assert pods.domains.list(mine.pod_id).count == 0


def test_inbox_on_a_pending_domain_is_422_and_allowed_once_verified(sandbox: Sandbox) -> None:
    sandbox.client.domains.create(domain="acme.example")
    request = CreateInboxRequest(username="hello", domain="acme.example")
    with raises_api_error(422, "unprocessable", UnprocessableError):
        sandbox.client.inboxes.create(request=request)
    verified(sandbox, "acme.example")
    assert sandbox.client.inboxes.create(request=request).inbox_id == "hello@acme.example"


def test_inbox_on_another_pods_domain_is_422(sandbox: Sandbox) -> None:
    pods = sandbox.client.pods
    owner, stranger = pods.create(name="owner"), pods.create(name="stranger")
    pods.domains.create(owner.pod_id, domain="owned.example")
    verified(sandbox, "owned.example", owner.pod_id)
    with raises_api_error(422, "unprocessable", UnprocessableError):
        pods.inboxes.create(stranger.pod_id, username="sneak", domain="owned.example")
    assert pods.inboxes.create(owner.pod_id, username="ok", domain="owned.example").pod_id == owner.pod_id


def test_org_domain_is_usable_from_every_pod(sandbox: Sandbox) -> None:
    sandbox.client.domains.create(domain="shared.example")
    verified(sandbox, "shared.example")
    pod = sandbox.client.pods.create(name="any")
    assert (
        sandbox.client.pods.inboxes.create(pod.pod_id, username="a", domain="shared.example").email
        == "a@shared.example"
    )


def test_subdomain_inbox_needs_subdomains_enabled(sandbox: Sandbox) -> None:
    sandbox.client.domains.create(domain="parent.example")
    verified(sandbox, "parent.example")
    request = CreateInboxRequest(username="x", domain="team.parent.example")
    with raises_api_error(422, "unprocessable", UnprocessableError):
        sandbox.client.inboxes.create(request=request)
    sandbox.client.domains.update("parent.example", subdomains_enabled=True)
    verified(sandbox, "parent.example")
    assert sandbox.client.inboxes.create(request=request).email == "x@team.parent.example"
    assert [d.domain_id for d in sandbox.client.domains.list().domains] == ["parent.example"]


def test_deleting_a_domain_keeps_its_inboxes_readable(sandbox: Sandbox) -> None:
    sandbox.client.domains.create(domain="keep.example")
    verified(sandbox, "keep.example")
    inbox = sandbox.client.inboxes.create(request=CreateInboxRequest(username="kept", domain="keep.example"))
    sandbox.client.domains.delete("keep.example")
    assert sandbox.client.inboxes.get(inbox.inbox_id).inbox_id == "kept@keep.example"


def test_agentmail_to_and_its_subdomains_cannot_be_registered(sandbox: Sandbox) -> None:
    """Deleting the reserved-name 400 let an organisation register `agentmail.to` (or a name
    under it) as its own custom domain."""
    for name in ("agentmail.to", "AgentMail.TO.", "eu.agentmail.to"):
        with raises_api_error(400, "validation_error"):
            sandbox.client.domains.create(domain=name)
    assert sandbox.client.domains.list().domains == []


def test_allow_conflicting_provider_must_be_a_boolean(sandbox: Sandbox) -> None:
    """Deleting the validation of `allow_conflicting_provider` accepted a string there and created
    the domain."""
    options = {"additional_body_parameters": {"allow_conflicting_provider": "yes"}}
    with raises_api_error(400, "validation_error"):
        sandbox.client.domains.create(domain="conflict.example", request_options=options)
    assert sandbox.client.domains.list().domains == []
    assert sandbox.client.domains.create(domain="conflict.example", allow_conflicting_provider=True).domain_id


def test_domain_update_moves_updated_at_and_keeps_created_at(sandbox: Sandbox) -> None:
    """Deleting the `updated_at` stamp of a PATCH left `updated_at` at the creation time after a
    flag had changed."""
    created = sandbox.client.domains.create(domain="touched.example")
    time.sleep(0.01)  # timestamps have millisecond precision
    updated = sandbox.client.domains.update("touched.example", feedback_enabled=False)
    assert updated.updated_at > created.updated_at and updated.created_at == created.created_at
    assert sandbox.client.domains.get("touched.example").updated_at == updated.updated_at


def test_enabling_inbound_on_a_verified_domain_returns_it_to_pending(sandbox: Sandbox) -> None:
    """Spec §7.3: turning on `inbound_enabled` adds the apex MX, which must verify again."""
    sandbox.client.domains.create(domain="inbound.example", inbound_enabled=False)
    assert verified(sandbox, "inbound.example").status == "VERIFIED"
    domain = sandbox.client.domains.update("inbound.example", inbound_enabled=True)
    assert (domain.status, domain.reason) == ("PENDING", "dns_records_missing")
    assert any(r.type == "MX" and r.name == "inbound.example" for r in domain.records)


def test_resending_a_flag_already_on_keeps_a_verified_domain_verified(sandbox: Sandbox) -> None:
    """Only a flag that goes from off to on adds a record: re-sending `inbound_enabled: true` (the
    default) or `subdomains_enabled: true` when already on changes nothing about verification."""
    sandbox.client.domains.create(domain="steady.example", subdomains_enabled=True)
    assert verified(sandbox, "steady.example").status == "VERIFIED"
    domain = sandbox.client.domains.update("steady.example", inbound_enabled=True, subdomains_enabled=True)
    assert (domain.status, domain.reason) == ("VERIFIED", None)
    assert sandbox.client.domains.get("steady.example").status == "VERIFIED"
