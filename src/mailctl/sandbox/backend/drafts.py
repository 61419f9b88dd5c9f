"""Drafts: create / get / update / delete / send in an inbox; list and get at pod and org routes.

A draft may reply to (``in_reply_to``) or forward (``forward_of``) a message of its inbox: the
recipients (for replies), subject and threading are derived from that message. Sending a draft
goes through the same rules as any send (``delivery.send``) and deletes the draft.
"""

from __future__ import annotations

from typing import Any

from mailctl.sandbox.backend.core import (
    Ctx,
    Reply,
    Row,
    bad_request,
    load_inbox,
    new_id,
    no_content,
    not_found,
    now,
    ok,
    paginate,
    parse_time,
    replay_client_id,
)
from mailctl.sandbox.backend.delivery import Outgoing, reject_attachments, send
from mailctl.sandbox.backend.mailbox import (
    DRAFT,
    MESSAGE,
    filter_variant,
    label_list,
    list_filter,
    load_scoped,
    parse_addresses,
    preview_of,
    relabel,
    route_filters,
)
from mailctl.sandbox.backend.messages import prefixed, reply_recipients, reply_to_row

_ADDRESS_FIELDS = ("reply_to", "to", "cc", "bcc")
_TEXT_FIELDS = ("subject", "text", "html")
_ITEM_FIELDS = ("to", "cc", "bcc", "subject", "preview", "in_reply_to", "forward_of", "send_status", "send_at")


def render_item(row: Row) -> dict[str, Any]:
    """``DraftItem`` (list rows)."""
    body = row.body
    out: dict[str, Any] = {"inbox_id": row.inbox, "draft_id": row.id, "labels": list(body["labels"])}
    for name in _ITEM_FIELDS:
        if body.get(name):
            out[name] = body[name]
    out["updated_at"] = body["updated_at"]
    return out


def render(row: Row) -> dict[str, Any]:
    """``Draft``."""
    out = render_item(row)
    if row.client_id:
        out["client_id"] = row.client_id
    for name in ("reply_to", "text", "html", "references"):
        if row.body.get(name):
            out[name] = row.body[name]
    out["created_at"] = row.created_at
    return out


def _send_at(ctx: Ctx) -> str | None:
    value = ctx.body.string("send_at", max_len=64)
    return parse_time(value, "send_at").isoformat().replace("+00:00", "Z") if value else None


def _source(ctx: Ctx, inbox: Row, field: str) -> Row | None:
    message_id = ctx.body.string(field, max_len=998)
    if message_id is None:
        return None
    ctx.caller.require("message_read")  # reading the referenced message needs message_read
    row = ctx.tx.get(MESSAGE, f"{inbox.id}|{message_id}")
    if row is None:
        raise bad_request(f"'{field}' names no message of inbox {inbox.id}", field)
    return row


def _draft_fields(ctx: Ctx) -> dict[str, Any]:
    """The address and text fields present in the body (``null`` clears, ``[]`` clears lists)."""
    fields: dict[str, Any] = {}
    for name in _ADDRESS_FIELDS:
        if ctx.body.has(name):
            fields[name] = parse_addresses(ctx.body.raw(name), name)
    for name in _TEXT_FIELDS:
        if ctx.body.has(name):
            fields[name] = ctx.body.string(name, max_len=10_000_000, min_len=0)
    return fields


def _refresh(body: dict[str, Any]) -> None:
    body["preview"] = preview_of(body.get("text"), body.get("html"))
    body["send_status"] = "scheduled" if body.get("send_at") else None
    body["updated_at"] = now()


# ---------------------------------------------------------------------------------------------
# Handlers


def list_drafts(ctx: Ctx) -> Reply:
    ctx.caller.require("draft_read")
    filters = route_filters(ctx)
    keep = list_filter(ctx, {})
    return ok(
        paginate(
            ctx,
            DRAFT,
            "drafts",
            render_item,
            visible=lambda r: keep(render_item(r)),
            org=ctx.org,
            variant=filter_variant(ctx),
            **filters,
        )
    )


def get_draft(ctx: Ctx) -> Reply:
    ctx.caller.require("draft_read")
    return ok(render(load_scoped(ctx, DRAFT, ctx.params["draft_id"], "Draft")))


def create_draft(ctx: Ctx) -> Reply:
    ctx.caller.require("draft_create")
    inbox = load_inbox(ctx, ctx.params["inbox_id"])
    reject_attachments(ctx)
    client_id = ctx.body.client_id()
    existing = replay_client_id(ctx, DRAFT, client_id, visible=lambda row: row.inbox == inbox.id)
    if existing is not None:  # spec §5: a replay returns the original, unchanged
        return ok(render(existing))
    body: dict[str, Any] = {"labels": list(dict.fromkeys(["draft", *label_list(ctx.body.raw("labels"), "labels")]))}
    body.update(_draft_fields(ctx))
    replied, forwarded = _source(ctx, inbox, "in_reply_to"), _source(ctx, inbox, "forward_of")
    reply_all = ctx.body.boolean("reply_all") is True
    if replied and forwarded:
        raise bad_request("'in_reply_to' and 'forward_of' are mutually exclusive", "forward_of")
    if reply_all and (not replied or any(body.get(n) for n in ("to", "cc", "bcc"))):
        raise bad_request("'reply_all' needs 'in_reply_to' and no 'to', 'cc' or 'bcc'", "reply_all")
    if replied:
        threaded = reply_to_row(replied, Outgoing(to=[]))
        body.update(
            in_reply_to=threaded.in_reply_to,
            references=threaded.references,
            thread_id=threaded.thread_id,
            reply_all=reply_all,
        )
        body.setdefault("subject", threaded.subject)
        if not any(body.get(n) for n in ("to", "cc", "bcc")):
            body["to"], body["cc"] = reply_recipients(replied, inbox, reply_all)
    if forwarded:
        body["forward_of"] = forwarded.body["message_id"]
        body.setdefault("subject", prefixed("Fwd:", forwarded.body.get("subject")))
    body["send_at"] = _send_at(ctx)
    _refresh(body)
    row = ctx.tx.insert(
        DRAFT,
        new_id(),
        org=ctx.org,
        pod=inbox.pod,
        inbox=inbox.id,
        body=body,
        created_at=body["updated_at"],
        client_id=client_id,
    )
    return ok(render(row))


def _load_inbox_draft(ctx: Ctx) -> tuple[Row, Row]:
    inbox = load_inbox(ctx, ctx.params["inbox_id"])
    row = ctx.tx.get(DRAFT, ctx.params["draft_id"])
    if row is None or row.inbox != inbox.id:
        raise not_found("Draft")
    return inbox, row


def update_draft(ctx: Ctx) -> Reply:
    ctx.caller.require("draft_update")
    _, row = _load_inbox_draft(ctx)
    reject_attachments(ctx, "add_attachments")
    if ctx.body.raw("remove_attachments"):
        raise bad_request(
            "The draft has no attachment with that id (attachments are not emulated)", "remove_attachments"
        )
    row.body.update(_draft_fields(ctx))
    add, remove = (
        label_list(ctx.body.raw("add_labels"), "add_labels"),
        label_list(ctx.body.raw("remove_labels"), "remove_labels"),
    )
    row.body["labels"] = relabel(row.body["labels"], add, remove)
    if ctx.body.has("send_at"):  # null un-schedules
        row.body["send_at"] = _send_at(ctx)
    _refresh(row.body)
    ctx.tx.update(row)
    return ok(render(row))


def delete_draft(ctx: Ctx) -> Reply:
    ctx.caller.require("draft_delete")
    _, row = _load_inbox_draft(ctx)
    ctx.tx.delete(DRAFT, row.id)
    return no_content()


def send_draft(ctx: Ctx) -> Reply:
    ctx.caller.require("draft_send")
    inbox, row = _load_inbox_draft(ctx)
    body = row.body
    add, remove = (
        label_list(ctx.body.raw("add_labels"), "add_labels"),
        label_list(ctx.body.raw("remove_labels"), "remove_labels"),
    )
    labels = relabel([label for label in body["labels"] if label != "draft"], add, remove)
    out = Outgoing(
        to=body.get("to") or [],
        cc=body.get("cc") or [],
        bcc=body.get("bcc") or [],
        reply_to=body.get("reply_to") or [],
        subject=body.get("subject"),
        text=body.get("text"),
        html=body.get("html"),
        labels=labels,
        in_reply_to=body.get("in_reply_to"),
        references=body.get("references") or [],
        thread_id=body.get("thread_id"),
    )
    if out.thread_id and not ctx.tx.get(MESSAGE, f"{inbox.id}|{out.in_reply_to}"):
        out.thread_id = None  # the replied-to message is gone: start a new thread
    sent = send(ctx.tx, inbox, out)
    ctx.tx.delete(DRAFT, row.id)
    return ok({"message_id": sent.body["message_id"], "thread_id": sent.body["thread_id"]})
