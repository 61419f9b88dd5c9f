"""Custom domains (spec §7.3): per pod or org-wide, verification, DNS records, zone file.

Verification (§11 Q8): create gives ``PENDING`` with every record ``MISSING``; ``verify`` gives 204
and ``VERIFYING`` (a no-op 204 if already ``VERIFYING`` or ``VERIFIED``: the docs call it "starts
verification", and a 409 would be retried by the SDK); the next read resolves it against the DNS
fixture in ``dns.py``: ``VERIFIED``, ``INVALID`` or ``PENDING``.

Open tracking is a per-organisation feature (knob ``open_tracking``): when it is disabled,
``tracking_enabled: true`` on create or update is 403 ``forbidden``, as AgentMail answers.
"""

from __future__ import annotations

import re
from typing import Any

from mailctl import limits
from mailctl.sandbox.backend import dns, events
from mailctl.sandbox.backend.core import (
    DOMAIN,
    Ctx,
    Reply,
    Row,
    bad_request,
    delete_cascading,
    forbidden,
    load_pod,
    no_content,
    not_found,
    now,
    ok,
    paginate,
    replay_client_id,
    require_control,
    require_scope,
    unprocessable,
)

# The top label is letters, or an internationalised TLD in punycode (example.xn--p1ai).
HOSTNAME_RE = re.compile(
    r"^(?=.{4,253}\Z)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})\Z"
)
RESERVED = "agentmail.to"
FLAGS = ("feedback_enabled", "inbound_enabled", "subdomains_enabled", "tracking_enabled")
FLAG_DEFAULTS = {
    "feedback_enabled": True,
    "inbound_enabled": True,
    "subdomains_enabled": False,
    "tracking_enabled": False,
}
DOMAIN_STATUSES = ("NOT_STARTED", "PENDING", "INVALID", "FAILED", "VERIFYING", "VERIFIED")


def render_item(row: Row) -> dict[str, Any]:
    # §11 Q9: domain_id is the lower-cased domain name (paths accept any case)
    out: dict[str, Any] = {"domain_id": row.id, "domain": row.id}
    if row.pod:
        out["pod_id"] = row.pod
    out.update({flag: row.body[flag] for flag in FLAGS})
    if row.client_id:
        out["client_id"] = row.client_id
    out["created_at"] = row.created_at
    out["updated_at"] = row.body["updated_at"]
    return out


def render(row: Row) -> dict[str, Any]:
    out = render_item(row)
    out["status"] = row.body["status"]
    if row.body.get("reason") and row.body["status"] != "VERIFIED":
        out["reason"] = row.body["reason"]
    out["records"] = dns.records_with_status(row.id, row.body)
    return out


def _set_status(row: Row, status: str, reason: str | None) -> None:
    row.body["status"] = status
    row.body.pop("reason", None)
    if reason:
        row.body["reason"] = reason
    row.body["updated_at"] = now()


def advance(ctx: Ctx, row: Row) -> Row:
    """Resolve a ``VERIFYING`` domain against the DNS fixture (the "next read" of §11 Q8)."""
    if row.body["status"] == "VERIFYING":
        _set_status(row, *dns.evaluate(row.id, row.body))
        ctx.tx.update(row)
        if row.body["status"] == "VERIFIED":
            events.domain_verified(ctx.tx, row, render(row))
    return row


def _in_pod(row: Row, pod_id: str | None) -> bool:
    return row.pod is None or row.pod == pod_id


def require_usable_for_inbox(ctx: Ctx, domain: str, pod_id: str) -> None:
    """§11 Q17: an inbox domain must be in scope and VERIFIED (or a subdomain of such a domain
    with ``subdomains_enabled``), else 422 naming the domain."""
    labels = domain.split(".")
    for depth in range(len(labels) - 1):
        row = ctx.tx.get(DOMAIN, ".".join(labels[depth:]))
        if row is None or row.org != ctx.org or not _in_pod(row, pod_id):
            continue
        if depth > 0 and not row.body["subdomains_enabled"]:
            raise unprocessable(
                f"Domain {row.id} does not have subdomains_enabled, so {domain} cannot be used",
                fix=f"PATCH the domain {row.id} with subdomains_enabled: true.",
            )
        if advance(ctx, row).body["status"] != "VERIFIED":
            raise unprocessable(
                f"Domain {row.id} is not verified (status {row.body['status']})",
                fix="Publish its DNS records and verify it.",
            )
        return
    raise unprocessable(
        f"Domain {domain} is not a verified domain available to this pod",
        fix="Create and verify the domain first (POST /v0/domains).",
    )


def _domain_scope(ctx: Ctx) -> Row | None:
    """The route's pod for /v0/pods/{pod_id}/domains routes, else None; inbox keys get 403 (§11 Q12)."""
    require_scope(ctx, "organization", "pod", action="manage domains")
    return load_pod(ctx, ctx.params["pod_id"]) if "pod_id" in ctx.params else None


def _visible(ctx: Ctx, row: Row, route_pod: Row | None) -> bool:
    """§11 Q10/Q12: pod routes and pod keys address only the pod's own domains."""
    if row.org != ctx.org:
        return False
    if route_pod is not None:
        return row.pod == route_pod.id
    return ctx.caller.pod_id is None or row.pod == ctx.caller.pod_id


def _load(ctx: Ctx, route_pod: Row | None) -> Row:
    row = ctx.tx.get(DOMAIN, ctx.params["domain_id"].lower())
    if row is None or not _visible(ctx, row, route_pod):
        raise not_found("Domain")
    return row


def _check_tracking(ctx: Ctx, wanted: bool | None) -> None:
    if wanted and ctx.settings.open_tracking == "disabled":
        raise forbidden(
            "forbidden",
            "Open tracking is not enabled for this organization, so tracking_enabled cannot be true",
            fix="Enable open tracking for the organization, or set tracking_enabled: false.",
        )


def list_domains(ctx: Ctx) -> Reply:
    pod = _domain_scope(ctx)
    ctx.caller.require("domain_read")
    pod_id = pod.id if pod else ctx.caller.pod_id
    filters: dict[str, Any] = {"pod": pod_id} if pod_id else {}
    return ok(paginate(ctx, DOMAIN, "domains", render_item, org=ctx.org, **filters))


def create_domain(ctx: Ctx) -> Reply:
    pod = _domain_scope(ctx)
    if pod is None:
        require_scope(ctx, "organization", action="create org-level domains")  # §11 Q12
    ctx.caller.require("domain_create")
    body = ctx.body
    client_id = body.client_id()
    existing = replay_client_id(ctx, DOMAIN, client_id, visible=lambda row: _visible(ctx, row, pod))
    if existing is not None:
        return ok(render(advance(ctx, existing)))
    name = (body.string("domain", required=True, limit=limits.DOMAIN_NAME) or "").strip().lower().rstrip(".")
    if not HOSTNAME_RE.match(name):
        raise bad_request(f"'{name}' is not a valid domain name", "domain")
    if name == RESERVED or name.endswith("." + RESERVED):
        raise bad_request(f"{RESERVED} is built in and cannot be registered", "domain")
    flags = {flag: body.boolean(flag) for flag in FLAGS}
    _check_tracking(ctx, flags.get("tracking_enabled"))
    body.boolean("allow_conflicting_provider")  # validated; the sandbox has no foreign MX to conflict with
    taken = ctx.tx.get(DOMAIN, name)
    if taken is not None:  # §11 Q3
        code = "already_exists" if taken.org == ctx.org else "resource_taken"
        raise forbidden(
            code, f"Domain {name} is already registered", fix="Use the existing domain, or pass its client_id."
        )
    stamp = now()
    row_body: dict[str, Any] = {f: FLAG_DEFAULTS[f] if v is None else v for f, v in flags.items()}
    row_body.update({"status": "PENDING", "reason": "dns_records_missing", "updated_at": stamp})
    row = ctx.tx.insert(
        DOMAIN, name, org=ctx.org, pod=pod.id if pod else None, client_id=client_id, body=row_body, created_at=stamp
    )
    return ok(render(row))


def get_domain(ctx: Ctx) -> Reply:
    pod = _domain_scope(ctx)
    ctx.caller.require("domain_read")
    return ok(render(advance(ctx, _load(ctx, pod))))


def update_domain(ctx: Ctx) -> Reply:
    pod = _domain_scope(ctx)
    ctx.caller.require("domain_update")
    row = advance(ctx, _load(ctx, pod))
    if not any(ctx.body.has(flag) for flag in FLAGS):
        raise bad_request(f"Send at least one of {', '.join(FLAGS)}")
    ctx.body.reject_nulls(*FLAGS)  # §11 Q18
    changes = {flag: ctx.body.boolean(flag) for flag in FLAGS if ctx.body.has(flag)}
    _check_tracking(ctx, changes.get("tracking_enabled"))
    new_mx = any(changes.get(f) and not row.body[f] for f in ("inbound_enabled", "subdomains_enabled"))
    row.body.update(changes)
    if new_mx and row.body["status"] == "VERIFIED":  # spec §7.3: back to PENDING until the new MX verifies
        _set_status(row, "PENDING", "dns_records_missing")
    row.body["updated_at"] = now()
    ctx.tx.update(row)
    return ok(render(row))


def delete_domain(ctx: Ctx) -> Reply:
    pod = _domain_scope(ctx)
    ctx.caller.require("domain_delete")
    delete_cascading(ctx.tx, _load(ctx, pod))  # inboxes on it stay (spec §8)
    return no_content()


def verify_domain(ctx: Ctx) -> Reply:
    pod = _domain_scope(ctx)
    ctx.caller.require("domain_update")
    row = _load(ctx, pod)
    if row.body["status"] in ("VERIFYING", "VERIFIED"):  # §11 Q8: already started / done
        return no_content()
    if ctx.settings.domain_verification == "auto":
        dns.publish_all(row.id, row.body)
    _set_status(row, "VERIFYING", None)
    ctx.tx.update(row)
    return no_content()


def zone_file(ctx: Ctx) -> Reply:
    pod = _domain_scope(ctx)
    ctx.caller.require("domain_read")
    row = _load(ctx, pod)
    return Reply(200, dns.zone_file(row.id, row.body), content_type="text/plain; charset=utf-8")


def setup_link(ctx: Ctx) -> Reply:
    pod = _domain_scope(ctx)
    ctx.caller.require("domain_read")
    _load(ctx, pod)
    return ok({"supported": False})  # spec §7.3 [rec]: no Domain Connect in the sandbox


def control_dns(ctx: Ctx) -> Reply:
    """``POST /_sandbox/domains/{domain_id}/dns`` (manual mode fixture). Body, all optional:
    ``published`` (bool: every required record VALID / removed), ``records`` (list of
    ``{type, name, status}``), ``status`` + ``reason`` (force the domain status)."""
    require_control(ctx)
    row = _load(ctx, None)
    body = ctx.body
    published = body.boolean("published")
    if published is not None:
        if published:
            dns.publish_all(row.id, row.body)
        else:
            row.body["dns"] = {}
    records = body.raw("records") or []
    if not isinstance(records, list):
        raise bad_request("'records' must be a list", "records")
    for i, record in enumerate(records):
        if not isinstance(record, dict) or record.get("status") not in dns.RECORD_STATUSES:
            raise bad_request("each record needs type, name and a status of MISSING, INVALID or VALID", f"records.{i}")
        key = dns.record_key({"type": str(record.get("type", "")).upper(), "name": str(record.get("name", "")).lower()})
        row.body.setdefault("dns", {})[key] = record["status"]
    status = body.string("status")
    if status is not None:
        if status not in DOMAIN_STATUSES:
            raise bad_request(f"'status' must be one of {', '.join(DOMAIN_STATUSES)}", "status")
        if status == "VERIFIED":
            dns.publish_all(row.id, row.body)
            dns.evaluate(row.id, row.body)
        _set_status(row, status, body.string("reason"))  # stamps updated_at
    ctx.tx.update(row)  # DNS alone is not the domain resource: updated_at moves when a verify reads it
    return ok(render(row))
