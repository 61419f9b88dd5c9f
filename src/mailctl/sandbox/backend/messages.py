"""Messages of one inbox: list, get, label update, delete, and send / reply / reply-all / forward.

The send rules and delivery live in ``delivery.py``; the shared vocabulary in ``mailbox.py``.
"""

from __future__ import annotations

from typing import Any

from mailctl.sandbox.backend.core import Ctx, Reply, Row, Tx, load_inbox, no_content, not_found, now, ok, paginate
from mailctl.sandbox.backend.delivery import Outgoing, outgoing_from_body, send
from mailctl.sandbox.backend.mailbox import (
    MESSAGE,
    THREAD,
    bare,
    filter_variant,
    label_list,
    list_filter,
    listable,
    readable,
    relabel,
)

_ITEM_FIELDS = ("cc", "bcc", "subject", "preview", "in_reply_to", "references", "headers")
_FULL_ONLY = ("reply_to", "text", "html")


def render_item(row: Row) -> dict[str, Any]:
    """``MessageItem``: no body text (list rows)."""
    body = row.body
    out: dict[str, Any] = {
        "inbox_id": row.inbox,
        "thread_id": body["thread_id"],
        "message_id": body["message_id"],
        "labels": list(body["labels"]),
        "timestamp": body["timestamp"],
        "from": body["from"],
        "to": list(body["to"]),
    }
    for name in _ITEM_FIELDS:
        if body.get(name):  # optional fields are omitted when unset or empty
            out[name] = body[name]
    out.update(size=body["size"], updated_at=body["updated_at"], created_at=row.created_at)
    return out


def render(row: Row) -> dict[str, Any]:
    """``Message``: the item plus reply-to and the body (``extracted_*`` mirror it: no quoting here)."""
    out = render_item(row)
    for name in _FULL_ONLY:
        if row.body.get(name):
            out[name] = row.body[name]
    if row.body.get("text"):
        out["extracted_text"] = row.body["text"]
    if row.body.get("html"):
        out["extracted_html"] = row.body["html"]
    return out


def load_message(ctx: Ctx, inbox: Row) -> Row:
    """The route's message in ``inbox``; 404 when absent or hidden by label permissions."""
    row = ctx.tx.get(MESSAGE, f"{inbox.id}|{ctx.params['message_id']}")
    if row is None or not readable(ctx.caller, row.body["labels"]):
        raise not_found("Message")
    return row


def delete_message_row(tx: Tx, row: Row) -> None:
    """Delete a message; a thread left without messages goes with it."""
    tx.delete(MESSAGE, row.id)
    if row.ref and not tx.count(MESSAGE, ref=row.ref):
        tx.delete(THREAD, row.ref)


# ---------------------------------------------------------------------------------------------
# Read, relabel, delete


def list_messages(ctx: Ctx) -> Reply:
    ctx.caller.require("message_read")
    inbox = load_inbox(ctx, ctx.params["inbox_id"])
    keep = list_filter(
        ctx,
        {
            "from": lambda m: [m["from"]],
            "to": lambda m: m["to"] + m.get("cc", []) + m.get("bcc", []),  # the SDK: "to, cc, or bcc"
            "subject": lambda m: [m.get("subject") or ""],
        },
    )
    visible = lambda row: listable(ctx, row.body["labels"]) and keep(render_item(row))  # noqa: E731
    return ok(
        paginate(
            ctx,
            MESSAGE,
            "messages",
            render_item,
            visible=visible,
            org=ctx.org,
            inbox=inbox.id,
            variant=filter_variant(ctx),
        )
    )


def get_message(ctx: Ctx) -> Reply:
    ctx.caller.require("message_read")
    return ok(render(load_message(ctx, load_inbox(ctx, ctx.params["inbox_id"]))))


def update_message(ctx: Ctx) -> Reply:
    ctx.caller.require("message_update")
    row = load_message(ctx, load_inbox(ctx, ctx.params["inbox_id"]))
    add, remove = (
        label_list(ctx.body.raw("add_labels"), "add_labels"),
        label_list(ctx.body.raw("remove_labels"), "remove_labels"),
    )
    labels = relabel(row.body["labels"], add, remove)
    if labels != row.body["labels"]:
        row.body.update(labels=labels, updated_at=now())
        ctx.tx.update(row)
    return ok({"message_id": row.body["message_id"], "labels": labels})


def delete_message(ctx: Ctx) -> Reply:
    ctx.caller.require("message_delete")
    delete_message_row(ctx.tx, load_message(ctx, load_inbox(ctx, ctx.params["inbox_id"])))
    return no_content()


# ---------------------------------------------------------------------------------------------
# Send, reply, reply-all, forward -> SendMessageResponse


def _sent(row: Row) -> Reply:
    return ok({"message_id": row.body["message_id"], "thread_id": row.body["thread_id"]})


def send_message(ctx: Ctx) -> Reply:
    ctx.caller.require("message_send")
    inbox = load_inbox(ctx, ctx.params["inbox_id"])
    return _sent(send(ctx.tx, inbox, outgoing_from_body(ctx)))


def prefixed(prefix: str, subject: str | None) -> str:
    subject = subject or ""
    return subject if subject.lower().startswith(prefix.lower()) else f"{prefix} {subject}".strip()


def reply_recipients(original: Row, inbox: Row, reply_all: bool) -> tuple[list[str], list[str]]:
    """(to, cc) of a reply: the original's reply-to or sender (its recipients if we sent it);
    with ``reply_all`` also everyone else on it. The replying inbox never addresses itself."""
    body = original.body
    if "sent" in body["labels"] and bare(body["from"]) == inbox.id:
        to = list(body["to"])
        cc = list(body.get("cc") or []) if reply_all else []
    else:
        to = list(body.get("reply_to") or [body["from"]])
        cc = list(body["to"]) + list(body.get("cc") or []) if reply_all else []
    to = [a for a in dict.fromkeys(to) if bare(a) != inbox.id]
    cc = [a for a in dict.fromkeys(cc) if bare(a) != inbox.id and a not in to]
    return to, cc


def reply_to_row(original: Row, out: Outgoing) -> Outgoing:
    """Thread ``out`` as a reply to ``original`` (same thread, Re: subject, references)."""
    body = original.body
    out.subject = prefixed("Re:", body.get("subject"))
    out.in_reply_to = body["message_id"]
    out.references = [*(body.get("references") or []), body["message_id"]]
    out.thread_id = body["thread_id"]
    return out


def _reply(ctx: Ctx, reply_all: bool) -> Reply:
    # The SDK: `message_reply` covers replies signed with a registered public key (not emulated);
    # "Bearer keys reply with `message_send`".
    ctx.caller.require("message_send")
    inbox = load_inbox(ctx, ctx.params["inbox_id"])
    original = load_message(ctx, inbox)
    out = outgoing_from_body(ctx, subject=False)
    reply_all = reply_all or ctx.body.boolean("reply_all") is True
    if not (out.to or out.cc or out.bcc):  # explicit recipients win over the derived ones
        out.to, out.cc = reply_recipients(original, inbox, reply_all)
    return _sent(send(ctx.tx, inbox, reply_to_row(original, out)))


def reply_message(ctx: Ctx) -> Reply:
    return _reply(ctx, reply_all=False)


def reply_all_message(ctx: Ctx) -> Reply:
    return _reply(ctx, reply_all=True)


def forward_message(ctx: Ctx) -> Reply:
    ctx.caller.require("message_send")
    inbox = load_inbox(ctx, ctx.params["inbox_id"])
    original = load_message(ctx, inbox)
    out = outgoing_from_body(ctx)
    out.subject = out.subject or prefixed("Fwd:", original.body.get("subject"))
    quoted = (
        f"---------- Forwarded message ----------\nFrom: {original.body['from']}\n\n{original.body.get('text') or ''}"
    )
    out.text = f"{out.text}\n\n{quoted}" if out.text else quoted
    return _sent(send(ctx.tx, inbox, out))
