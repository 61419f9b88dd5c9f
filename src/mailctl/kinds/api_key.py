"""Bearer API keys, at any scope. Creating one is two-phase (the writer: its secret is recorded
before the key takes its declared name); reading groups keys mid-rotation (below)."""

from __future__ import annotations

import re
from typing import Any

from mailctl import limits
from mailctl.kinds.base import Attribute, KindSpec, Owners, name_before_replacement
from mailctl.kinds.fields import FLAGS, SEGMENT, TEXT, TIMESTAMP, required
from mailctl.resources import (
    Kind,
    Observed,
    Resource,
    api_key_address,
    normalize_permissions,
    normalize_timestamp,
)
from mailctl.secrets import declared_name_of
from mailctl.text import hides, shown

# The API's permission flags (the exact names: config may set each true or false).
PERMISSIONS = (
    "inbox_read",
    "inbox_create",
    "inbox_update",
    "inbox_delete",
    "message_read",
    "message_send",
    "message_reply",
    "message_update",
    "message_delete",
    "label_spam_read",
    "label_blocked_read",
    "label_unauthenticated_read",
    "label_trash_read",
    "draft_read",
    "draft_create",
    "draft_update",
    "draft_delete",
    "draft_send",
    "webhook_read",
    "webhook_create",
    "webhook_update",
    "webhook_delete",
    "domain_read",
    "domain_create",
    "domain_update",
    "domain_delete",
    "list_entry_read",
    "list_entry_create",
    "list_entry_delete",
    "metrics_read",
    "api_key_read",
    "api_key_create",
    "api_key_update",
    "api_key_delete",
    "pod_read",
    "pod_create",
    "pod_update",
    "pod_delete",
    "calendar_read",
    "calendar_update",
    "calendar_event_read",
    "calendar_event_create",
    "calendar_event_update",
    "calendar_event_delete",
    "file_read",
    "file_create",
    "file_update",
    "file_delete",
    "app_connect",
    "app_share_owner",
    "account_update",
    "agent_armor_release",
)


def _expiry(value: Any) -> str:
    """``normalize_timestamp``, with a moment that leaves years 1-9999 in UTC a ValueError too."""
    try:
        return normalize_timestamp(value)
    except OverflowError:
        raise ValueError(f"out of range: {value!r}") from None


def _sign_in_credentials(rows: list[dict[str, Any]], owners: Owners) -> dict[str, list[str]]:
    """Public-key (AgentID) credentials by the pod or inbox that holds them: mailctl never plans
    them, and deleting their scope would delete them too."""
    held: dict[str, list[str]] = {}
    for row in rows:
        owner = owners.of(row) if row.get("type", "bearer") != "bearer" else None
        scope = owners.parent(*owner) if owner is not None else None
        if scope is not None:
            name = row.get("name") or row["api_key_id"]
            held.setdefault(scope, []).append(f"public-key credential {name}")
    return held


def _read(rows: list[dict[str, Any]], owners: Owners) -> list[Resource]:
    """Bearer keys by (scope, name). Several keys of one name exist mid-rotation: the newest
    keeps the name, the older ones are marked superseded (``name#api_key_id``) and left alone
    until ``mailctl rotate --retire-old``.

    A key still under its pending name (``mailctl.secrets.pending_name``) may have lost its secret:
    it is marked ``unrecorded``. A key under its replaced name (``base.replaced_name``) is the old
    half of a create-first replacement that did not finish: it is marked ``replaced``. Either takes
    its declared address only when no key holds that name (so the plan replaces it), else it is
    ``name#api_key_id`` (so the plan deletes it)."""
    out: list[Resource] = []
    seen: set[str] = set()
    newest_first = sorted(rows, key=lambda r: (r.get("created_at") or "", r["api_key_id"]), reverse=True)
    # Keys under their declared names first, then old keys of an unfinished replacement (still in
    # use), then pending ones: a key nobody may hold the secret of never displaces one in use.
    for row in sorted(newest_first, key=lambda r: _rank(r.get("name") or "")):
        if row.get("type", "bearer") != "bearer":
            continue  # public-key (sign-in) credentials are not managed by mailctl
        owner = owners.of(row)
        if owner is None:
            continue
        pod, inbox = owner
        raw_name = _raw_name(row)
        name = _marked_name(raw_name) or raw_name
        unrecorded = declared_name_of(raw_name) is not None
        replaced = name != raw_name and not unrecorded
        address = declared = api_key_address(name, pod=pod, inbox=inbox)
        taken = address in seen
        if taken:
            address = api_key_address(f"{name}#{row['api_key_id']}", pod=pod, inbox=inbox)
        seen.add(address)
        out.append(
            Resource(
                Kind.API_KEY,
                address,
                API_KEY_SPEC.row_attrs(row),
                parent=owners.parent(pod, inbox),
                remote_id=row["api_key_id"],
                observed=Observed(
                    prefix=row.get("prefix"),
                    used_at=row.get("used_at"),
                    superseded=taken and name == raw_name,
                    created_at=row.get("created_at"),
                    unrecorded=unrecorded,
                    replaced=replaced,
                    declared_address=declared,
                ),
            )
        )
    return out


_DECLARABLE = re.compile(limits.DECLARABLE_KEY_NAME)


def _raw_name(row: dict[str, Any]) -> str:
    """Its name, or its id when it has none or one config cannot declare: key names are free text
    in the API, and a key made elsewhere named ``a/domain/b`` would read as another address, one
    named ``Backend (prod) `` could not be exported (nor adopted) under its name."""
    name: str = row.get("name") or ""
    return name if name and _declarable(_marked_name(name) or name) else str(row["api_key_id"])


def _declarable(name: str) -> bool:
    """The schema's pattern, and no character that prints as nothing (``text.hides``): the
    pattern, which editors read too, cannot name characters past the Basic Multilingual Plane
    (tag characters U+E0001...) nor lists the fillers that print blank (U+3164...)."""
    return _DECLARABLE.fullmatch(name) is not None and not hides(name)


def _refuse(name: str) -> str | None:
    if not hides(name):
        return None
    hidden = sorted({c for c in name if hides(c)})
    return (
        f"`{shown(name)}` holds {', '.join(shown(c) for c in hidden)}, which prints as nothing: "
        "two key names differing by it print alike; remove it"
    )


def _rank(raw_name: str) -> int:
    return 2 if declared_name_of(raw_name) else 1 if name_before_replacement(raw_name) else 0


def _marked_name(raw_name: str) -> str | None:
    """The declared name of a key under a pending or replaced-marker name (None: a plain name)."""
    return declared_name_of(raw_name) or name_before_replacement(raw_name)


API_KEY_SPEC = KindSpec(
    kind=Kind.API_KEY,
    rename=lambda name: {"name": name},  # PATCH /api-keys/{id} {name}: same id, same secret
    fixed_name="",
    create_before_destroy=True,
    shows_secret_once=True,  # consumers keep the old secret until the new one is recorded
    refuse=_refuse,
    section="api_keys",
    parents=frozenset({None, Kind.POD, Kind.INBOX}),
    attributes=(
        # Unrestricted (None) unless declared: a key's permissions are always managed.
        Attribute(
            "permissions",
            api_type=FLAGS,
            normalise=normalize_permissions,
            absent=None,
            declared_default=None,
            create_default=None,
            export_default=None,
            schema={
                "title": "Permissions",
                "type": ["object", "null"],
                "properties": {flag: {"type": "boolean"} for flag in PERMISSIONS},
                "additionalProperties": False,
            },
            description="A whitelist: only flags set to true are granted. Omit (or null) for an unrestricted key.",
        ),
        Attribute(
            "expires_at",
            api_type=TIMESTAMP,
            mutable=False,
            normalise=_expiry,
            invalid="`{value}` is not a timestamp: use ISO 8601, e.g. 2026-12-31T00:00:00Z",
            # x-utc-range: config/schema.py refuses a moment outside years 1-9999 once in UTC
            schema={"type": "string", "x-utc-range": True},
            description="ISO 8601 timestamp, e.g. 2026-12-31T00:00:00Z (no offset means UTC). Immutable: a change "
            "replaces the key.",
        ),
    ),
    route="/api-keys",
    list_key="api_keys",
    remote_id_field="api_key_id",
    row_fields={
        "api_key_id": required(SEGMENT),  # its address segment when its name cannot be (below)
        **dict.fromkeys(("name", "type", "pod_id", "inbox_id", "prefix", "used_at", "created_at"), TEXT),
    },
    client_id=None,  # the API has none for keys: the writer's two-phase create makes retries safe
    identity=lambda key: {"name": key.name},
    read_rows=_read,
    read_left_alone=_sign_in_credentials,
)
