"""Sending mail between sandbox inboxes: the send rules (paused inbox, send lists) and delivery
into every recipient inbox that exists in the sandbox (receive / reply lists, threading).

- A paused sender gets 403 ``inbox_paused``; a recipient hit by a send block entry (or missing
  from an active send allow list) gets 403 ``message_rejected`` and nothing is sent (spec §7.6).
- Each recipient inbox in the sandbox (any pod, any org) receives a copy, threaded with the
  message it replies to when it holds it. A paused recipient silently drops it (spec §7.2).
  A receive / reply list block labels the copy ``blocked`` (hidden unless asked for, §3.2).
- A recipient on a sandbox-hosted domain (``agentmail.to`` or a registered domain) with no inbox
  bounces: the address joins the sender org's send block list as a ``read_only`` suppression,
  so later sends to it are rejected (spec §7.6, ``read_only``).
- Each send records its webhook events (``events.py``): ``message.sent``, ``message.delivered``
  and ``message.bounced`` for the sender, ``message.received`` (``.blocked``) per recipient copy.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from mailctl.sandbox.backend import events
from mailctl.sandbox.backend.core import DOMAIN, INBOX, Ctx, Row, Tx, bad_request, forbidden, new_id, now
from mailctl.sandbox.backend.lists import ListScope, insert_entry, verdict
from mailctl.sandbox.backend.mailbox import (
    MESSAGE,
    THREAD,
    bare,
    label_list,
    parse_addresses,
    preview_of,
    sender_address,
)
from mailctl.sandbox.backend.webhook_rules import check_headers

HOSTED_DOMAIN = "agentmail.to"
BOUNCE_REASON = "bounced"


@dataclass
class Outgoing:
    """A message about to be sent (``thread_id`` set for replies: the sender's thread)."""

    to: list[str]
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    reply_to: list[str] = field(default_factory=list)
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    labels: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    thread_id: str | None = None


def reject_attachments(ctx: Ctx, name: str = "attachments") -> None:
    if ctx.body.raw(name):
        raise bad_request(
            "Attachments are not emulated by the sandbox", name, fix="Send the message without attachments."
        )


def outgoing_from_body(ctx: Ctx, *, subject: bool = True) -> Outgoing:
    """The fields every send-like body shares (SendMessageRequest, ReplyToMessageRequest, ...)."""
    body = ctx.body
    reject_attachments(ctx)
    return Outgoing(
        to=parse_addresses(body.raw("to"), "to"),
        cc=parse_addresses(body.raw("cc"), "cc"),
        bcc=parse_addresses(body.raw("bcc"), "bcc"),
        reply_to=parse_addresses(body.raw("reply_to"), "reply_to"),
        subject=body.string("subject", max_len=998, min_len=0) if subject else None,
        text=body.string("text", max_len=10_000_000, min_len=0),
        html=body.string("html", max_len=10_000_000, min_len=0),
        labels=label_list(body.raw("labels"), "labels"),
        headers=check_headers(body.mapping("headers")) or {},
    )


def _size(fields: dict[str, Any]) -> int:
    parts = [fields.get("subject") or "", fields.get("text") or "", fields.get("html") or ""]
    return sum(len(p.encode()) for p in parts) + sum(len(k) + len(v) + 4 for k, v in fields["headers"].items())


def new_thread(tx: Tx, inbox: Row, subject: str | None) -> str:
    thread_id, stamp = new_id(), now()
    tx.insert(
        THREAD, thread_id, org=inbox.org, pod=inbox.pod, inbox=inbox.id, body={"subject": subject}, created_at=stamp
    )
    return thread_id


def insert_message(tx: Tx, inbox: Row, thread_id: str, fields: dict[str, Any], labels: list[str]) -> Row:
    body = {**fields, "thread_id": thread_id, "labels": labels}
    return tx.insert(
        MESSAGE,
        f"{inbox.id}|{fields['message_id']}",
        org=inbox.org,
        pod=inbox.pod,
        inbox=inbox.id,
        ref=thread_id,
        body=body,
        created_at=fields["timestamp"],
    )


def send(tx: Tx, sender: Row, out: Outgoing) -> Row:
    """Send ``out`` from ``sender``: the sent message row (deliveries happen in the same tx)."""
    if sender.body.get("status") == "paused":
        raise forbidden(
            "inbox_paused", f"Inbox {sender.id} is paused and cannot send", fix="Set the inbox status to active first."
        )
    recipients = list(dict.fromkeys(bare(a) for a in out.to + out.cc + out.bcc))
    if not recipients:
        raise bad_request("At least one recipient (to, cc or bcc) is required", "to")
    for address in recipients:
        if verdict(tx, sender.org, sender, "send", address) == "block":
            raise forbidden(
                "message_rejected",
                f"Sending to {address} is blocked by a send list",
                fix="Remove the entry from the send block list or add the address to the send allow list.",
            )
    stamp = now()
    fields: dict[str, Any] = {
        "message_id": f"<{uuid.uuid4().hex}@{sender.id.rpartition('@')[2]}>",
        "timestamp": stamp,
        "from": sender_address(sender),
        "to": out.to,
        "cc": out.cc,
        "bcc": out.bcc,
        "reply_to": out.reply_to,
        "subject": out.subject,
        "text": out.text,
        "html": out.html,
        "preview": preview_of(out.text, out.html),
        "in_reply_to": out.in_reply_to,
        "references": out.references,
        "headers": out.headers,
        "updated_at": stamp,
    }
    fields["size"] = _size(fields)
    thread_id = out.thread_id or new_thread(tx, sender, out.subject)
    sent = insert_message(tx, sender, thread_id, fields, ["sent", *out.labels])
    outcomes = {address: _deliver(tx, sender, address, {**fields, "bcc": []}) for address in recipients}
    events.message_sent(tx, sent, recipients)
    events.message_delivered(tx, sent, [a for a, outcome in outcomes.items() if outcome == "delivered"])
    events.message_bounced(tx, sent, [a for a, outcome in outcomes.items() if outcome == "bounced"])
    return sent


def _hosted(tx: Tx, domain: str) -> bool:
    return domain == HOSTED_DOMAIN or tx.get(DOMAIN, domain) is not None


def _find_thread(tx: Tx, inbox: Row, fields: dict[str, Any]) -> str | None:
    for message_id in [fields.get("in_reply_to"), *reversed(fields.get("references") or [])]:
        if message_id:
            known = tx.get(MESSAGE, f"{inbox.id}|{message_id}")
            if known is not None:
                return str(known.body["thread_id"])
    return None


def _deliver(tx: Tx, sender: Row, address: str, fields: dict[str, Any]) -> str | None:
    """``delivered`` into a sandbox inbox, ``bounced`` off a sandbox-hosted domain, else None
    (an address outside the sandbox, or a paused inbox)."""
    inbox = tx.get(INBOX, address)
    if inbox is None:
        if _hosted(tx, address.rpartition("@")[2]):  # bounce -> read-only suppression entry
            insert_entry(tx, sender.org, ListScope.of(), "send", "block", address, BOUNCE_REASON, read_only=True)
            return "bounced"
        return None
    if inbox.body.get("status") == "paused":  # neither delivered nor bounced (spec §7.2)
        return None
    received = ["received", "unread"]
    if inbox.id == sender.id:  # sent to itself: one message carrying both sides' labels
        own = tx.get(MESSAGE, f"{inbox.id}|{fields['message_id']}")
        if own is not None:
            own.body["labels"] = list(dict.fromkeys(own.body["labels"] + received))
            tx.update(own)
        return "delivered"
    replied = tx.get(MESSAGE, f"{inbox.id}|{fields['in_reply_to']}") if fields.get("in_reply_to") else None
    direction = "reply" if replied is not None and "sent" in replied.body["labels"] else "receive"
    if verdict(tx, inbox.org, inbox, direction, bare(fields["from"])) == "block":
        received.append("blocked")
    thread_id = _find_thread(tx, inbox, fields) or new_thread(tx, inbox, fields.get("subject"))
    copy = insert_message(tx, inbox, thread_id, fields, received)
    events.message_received(tx, copy, blocked="blocked" in received)
    return "delivered"
