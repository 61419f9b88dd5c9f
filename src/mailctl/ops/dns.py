"""The dns workflow: the records each declared domain needs, and its verification status."""

from __future__ import annotations

from typing import Any

from mailctl.api.client import AgentMailClient
from mailctl.api.paths import item_path
from mailctl.api.rows import checked_value
from mailctl.errors import UsageError
from mailctl.kinds import spec_of
from mailctl.kinds.fields import RECORDS, TEXT
from mailctl.ops.planning import read_addresses
from mailctl.resources import ActualState, DesiredState, Resource

NOT_CREATED = "NOT_CREATED"  # declared, exists nowhere: apply creates it
EXISTS_ELSEWHERE = "EXISTS_ELSEWHERE"  # declared, exists at another address (``exists_as``)


def declared_domains(desired: DesiredState, names: tuple[str, ...] = ()) -> dict[str, Resource]:
    """The declared resources that must be verified (domains), all or those named; every name
    must match one (case-insensitively), else a UsageError names those that do not."""
    verified = {a: r for a, r in desired.resources.items() if spec_of(r.kind).verified}
    if not names:
        if not verified:
            raise UsageError("no declared domain matches")
        return verified
    wanted = {n.lower() for n in names}
    found = {a: r for a, r in verified.items() if r.name in wanted}
    unmatched = [n for n in names if n.lower() not in {r.name for r in found.values()}]
    if unmatched:
        raise UsageError(f"no declared domain matches {', '.join(unmatched)}")
    return found


def dns_report(
    client: AgentMailClient, desired: DesiredState, declared: dict[str, Resource], zone_files: bool = False
) -> list[dict[str, Any]]:
    """Per declared domain: address, domain, status, records, zone. The status is the API's, or
    NOT_CREATED before apply, or EXISTS_ELSEWHERE (with ``exists_as``, its address) for a domain
    that exists in another scope (the domains are read organisation-wide: a name is unique there),
    which plan moves or refuses: no record is shown for it."""
    actual = read_addresses(client, desired, declared)
    ids = {a: r.remote_id for a, r in actual.resources.items() if r.remote_id}
    report: list[dict[str, Any]] = []
    for address, resource in sorted(declared.items()):
        existing = actual.resources.get(address)
        if existing is None:
            entry: dict[str, Any] = {"address": address, "domain": resource.name, "status": NOT_CREATED, "records": []}
            elsewhere = _existing_elsewhere(actual, resource)
            if elsewhere is not None:
                entry.update(status=EXISTS_ELSEWHERE, exists_as=elsewhere)
            report.append(entry)
            continue
        body = client.get(item_path(existing, ids))
        zone = client.get_text(item_path(existing, ids) + "/zone-file") if zone_files else None
        report.append(
            {
                "address": address,
                "domain": resource.name,
                "status": checked_value(body, "status", TEXT),
                "reason": checked_value(body, "reason", TEXT),  # why it FAILED or is INVALID, if said
                "records": checked_value(body, "records", RECORDS) or [],
                "zone": zone,
            }
        )
    return report


def _existing_elsewhere(actual: ActualState, declared: Resource) -> str | None:
    """The address of the existing resource of ``declared``'s kind and name, at another address."""
    name = declared.name.lower()
    found = (a for a, r in actual.resources.items() if r.kind == declared.kind and r.name.lower() == name)
    return next(found, None)
