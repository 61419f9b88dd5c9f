"""The organization: seeding (org, Default Pod, bootstrap keys), ``/v0/auth/me``, ``/v0/organizations``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from mailctl.sandbox.backend import api_keys, pods
from mailctl.sandbox.backend.core import (
    API_KEY,
    DOMAIN,
    INBOX,
    ORG,
    Ctx,
    Reply,
    Tx,
    delete_cascading,
    forbidden,
    now,
    ok,
    scoped,
    secret_hash,
)

ORG_META_KEY = "org_id"


def new_org(tx: Tx) -> str:
    """Create an organization with its Default Pod; returns its id."""
    org_id, stamp = "org_" + uuid.uuid4().hex[:24], now()
    tx.insert(ORG, org_id, org=org_id, body={"updated_at": stamp}, created_at=stamp)
    pods.insert_pod(tx, org_id, pods.DEFAULT_POD_NAME, ref=pods.DEFAULT_POD_REF)
    return org_id


def seed(tx: Tx, bootstrap_keys: Sequence[str]) -> str:
    """Make sure the sandbox org exists and every bootstrap key is an org-level key of it. The
    bootstrap keys of an earlier start that this one was not given are revoked: a database once
    served with the well-known dev key must not keep accepting it once served with a private one.
    Keys made through the API, and other organisations' keys, are left alone."""
    org_id = tx.get_meta(ORG_META_KEY)
    if org_id is None:
        org_id = new_org(tx)
        tx.set_meta(ORG_META_KEY, org_id)
    given = {secret_hash(secret) for secret in bootstrap_keys}
    for row in tx.find(API_KEY, org=org_id):
        if row.body.get("bootstrap") and row.ref not in given:
            delete_cascading(tx, row)
    for secret in bootstrap_keys:
        api_keys.ensure_bootstrap_key(tx, org_id, secret)
    return org_id


def reset(tx: Tx, org_id: str, bootstrap_keys: Sequence[str]) -> None:
    """Delete everything of one organisation but the organisation itself and its bootstrap keys
    (those of ``serve --api-key``, or the key ``POST /_sandbox/organizations`` returned), then
    reseed its Default Pod. Other organisations are untouched."""
    hashes = {secret_hash(secret) for secret in bootstrap_keys}
    keep = [org_id] + [row.id for row in tx.find(API_KEY, org=org_id) if row.body.get("bootstrap") or row.ref in hashes]
    tx.delete_org(org_id, keep=keep)
    for row in tx.find(API_KEY, org=org_id):  # bootstrap keys are org-level: no pod to lose
        row.body.pop("used_at", None)
        tx.update(row)
    pods.insert_pod(tx, org_id, pods.DEFAULT_POD_NAME, ref=pods.DEFAULT_POD_REF)
    for secret in bootstrap_keys:
        api_keys.ensure_bootstrap_key(tx, org_id, secret)


def auth_me(ctx: Ctx) -> Reply:
    caller = ctx.caller
    scope_id = caller.inbox_id or caller.pod_id or caller.org_id
    body: dict[str, Any] = {"scope_type": caller.scope, "scope_id": scope_id, "organization_id": caller.org_id}
    if caller.pod_id:
        body["pod_id"] = caller.pod_id
    if caller.inbox_id:
        body["inbox_id"] = caller.inbox_id
    if caller.api_key_id:
        body["api_key_id"] = caller.api_key_id
    return ok(body)


def get_organization(ctx: Ctx) -> Reply:
    if ctx.caller.scope != "organization":  # spec §7.7: organization_read needs an org key
        # a flag no key can be given: the fix names the scope, which is what is missing
        raise forbidden(
            "missing_permission",
            f"Forbidden: {scoped(ctx.caller.scope)} cannot read the organization; only an organization-level key can",
            fix="Use an organization-level key.",
        )
    row = ctx.tx.get(ORG, ctx.org)
    assert row is not None, "the caller's org always exists"
    return ok(
        {
            "organization_id": row.id,
            "inbox_count": ctx.tx.count(INBOX, org=row.id),
            "domain_count": ctx.tx.count(DOMAIN, org=row.id),
            "created_at": row.created_at,
            "updated_at": row.body["updated_at"],
        }
    )
