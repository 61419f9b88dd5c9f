"""The ``/_sandbox/`` control API: reset, stats, knobs, test fixtures, all of the caller's own
organisation only. It needs an organisation-level key with full permissions (no
``permissions`` object); anything else is 403 ``forbidden``.

| Method | Path | Does |
|---|---|---|
| POST  | /_sandbox/reset | wipe the org's resources, reseed its Default Pod + bootstrap keys, zero its stats |
| GET   | /_sandbox/stats | request counts: total, by method, by "METHOD /route/pattern", by status, faults |
| GET   | /_sandbox/config | the knobs (``Settings``) |
| PATCH | /_sandbox/config | change any knob, e.g. ``{"fault_rate": 0.2, "seed": 7}`` |
| POST  | /_sandbox/organizations | a second org with an org-level key (cross-org tests) |
| POST  | /_sandbox/domains/{domain_id}/dns | manual-mode DNS fixture (see ``backend/domains.py``) |
| POST  | /_sandbox/faults | arm a scripted failure: ``{method, route, status, code, when?, times?}`` |
| DELETE | /_sandbox/faults | disarm every scripted failure |
| GET   | /_sandbox/deliveries | webhook deliveries, newest first: status, attempts, response code, event |
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from mailctl.sandbox.backend import api_keys, events, org
from mailctl.sandbox.backend.core import (
    Ctx,
    Reply,
    Settings,
    bad_request,
    new_secret,
    no_content,
    ok,
    require_control,
)
from mailctl.sandbox.knobs import ArmedFault

_ACTION = "use the sandbox control API"


def _config(settings: Settings) -> dict[str, Any]:
    return dataclasses.asdict(settings)


def reset(ctx: Ctx) -> Reply:
    require_control(ctx)
    ctx.sandbox.reset_org(ctx.tx, ctx.org)
    return ok({"reset": True, "organization_id": ctx.org})


def stats(ctx: Ctx) -> Reply:
    require_control(ctx)
    return ok(ctx.sandbox.orgs.get(ctx.org).stats.snapshot())


def get_config(ctx: Ctx) -> Reply:
    require_control(ctx)
    return ok(_config(ctx.settings))


def _number(name: str, value: Any, low: float, high: float | None, integer: bool) -> Any:
    kinds = (int,) if integer else (int, float)
    if (
        isinstance(value, bool)
        or not isinstance(value, kinds)
        or isinstance(value, float)
        and not math.isfinite(value)  # NaN passes every comparison below
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise bad_request(f"'{name}' must be {'an integer' if integer else 'a number'} {bound}", name)
    return value


# Each knob's rule: a number range (low, high, whole) or the words it accepts. One table, so a new
# knob is one line here, not another branch.
_NUMBERS: dict[str, tuple[float, float | None, bool]] = {
    "page_size": (1, 100, True),
    "latency_ms": (0, 60_000, True),
    "latency_jitter_ms": (0, 60_000, True),
    "rate_limit": (0.001, 1_000_000, False),  # 0 or null: no limit
    "fault_rate": (0, 1, False),
    "seed": (-(2**63), 2**63, True),  # null: random
    "webhook_retry_ms": (1, 3_600_000, True),
}
_NULLABLE = {"rate_limit", "seed"}
_WORDS: dict[str, tuple[str, ...]] = {
    "fault_mode": ("before", "after", "both"),
    "domain_verification": ("auto", "manual"),
    "rate_limit_scope": ("org", "key"),
    "open_tracking": ("enabled", "disabled"),
    "webhook_deliveries": ("enabled", "disabled"),
}


def validate_config(changes: dict[str, Any], current: Settings) -> Settings:
    """A new ``Settings`` with ``changes`` applied, or 400 naming the first bad knob."""
    known = {f.name for f in dataclasses.fields(Settings)}
    updated = dataclasses.asdict(current)
    for name, value in changes.items():
        if name not in known:
            raise bad_request(f"Unknown setting '{name}'; known: {', '.join(sorted(known))}", name)
        updated[name] = _knob_value(name, value)
    return Settings(**updated)


def _knob_value(name: str, value: Any) -> Any:
    if name in _NULLABLE and (value is None or (name == "rate_limit" and value == 0)):
        return None
    if name in _NUMBERS:
        low, high, whole = _NUMBERS[name]
        return _number(name, value, low, high, whole)
    words = _WORDS.get(name)
    if words is not None and value not in words:
        raise bad_request(f"'{name}' must be {', '.join(words[:-1])} or {words[-1]}", name)
    return value


def patch_config(ctx: Ctx) -> Reply:
    require_control(ctx)
    new = validate_config(ctx.body.data, ctx.settings)
    ctx.sandbox.orgs.get(ctx.org).apply(new)
    return ok(_config(new))


def create_organization(ctx: Ctx) -> Reply:
    require_control(ctx)
    org_id = org.new_org(ctx.tx)
    secret = new_secret()
    key = api_keys.insert_key(ctx.tx, org_id, secret, name=api_keys.BOOTSTRAP_KEY_NAME, bootstrap=True)
    return ok({"organization_id": org_id, "api_key_id": key.id, "api_key": secret})


def arm_fault(ctx: Ctx) -> Reply:
    """Make the next ``times`` calls of one route fail with ``status``/``code`` (before or after
    the handler runs). ``route`` is a pattern from the route table, e.g. ``/v0/inboxes/{inbox_id}``."""
    require_control(ctx)
    body = ctx.body
    method = (body.string("method", required=True) or "").upper()
    route = body.string("route", required=True, max_len=300) or ""
    if (method, route) not in {(r.method, r.pattern) for r in ctx.sandbox.router.routes}:
        raise bad_request(f"No route {method} {route} in the route table", "route")
    status = body.integer("status", required=True) or 0
    if not 400 <= status <= 599:
        raise bad_request("'status' must be 400-599", "status")
    when = body.string("when") or "before"
    if when not in ("before", "after"):
        raise bad_request("'when' must be before or after", "when")
    times = body.integer("times") or 1
    if not 1 <= times <= 1000:
        raise bad_request("'times' must be 1-1000", "times")
    fault = ArmedFault(method, route, status, body.string("code", required=True) or "", when, times)  # type: ignore[arg-type]
    ctx.sandbox.orgs.get(ctx.org).faults.arm(fault)
    return ok({"method": method, "route": route, "status": status, "code": fault.code, "when": when, "times": times})


def deliveries(ctx: Ctx) -> Reply:
    """The organisation's webhook deliveries, newest first; ``?webhook_id=`` / ``?status=`` filter."""
    require_control(ctx)
    webhook_id, status = ctx.query.string("webhook_id"), ctx.query.string("status")
    rows = [
        row
        for row in reversed(ctx.tx.find(events.WEBHOOK_DELIVERY, org=ctx.org))
        if (webhook_id is None or row.body["webhook_id"] == webhook_id)
        and (status is None or row.body["status"] == status)
    ]
    return ok({"count": len(rows), "deliveries": [events.render(row) for row in rows]})


def disarm_faults(ctx: Ctx) -> Reply:
    require_control(ctx)
    ctx.sandbox.orgs.get(ctx.org).faults.disarm()
    return no_content()
