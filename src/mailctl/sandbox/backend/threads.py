"""Threads at inbox, pod and organization routes: list, get (with a page of messages), relabel,
delete. A thread's fields are computed from the messages the caller may read.
"""

from __future__ import annotations

from typing import Any

from mailctl.sandbox.backend import messages
from mailctl.sandbox.backend.core import (
    Ctx,
    Reply,
    Row,
    bad_request,
    no_content,
    not_found,
    now,
    ok,
    paginate,
    unprocessable,
)
from mailctl.sandbox.backend.mailbox import (
    MESSAGE,
    THREAD,
    filter_variant,
    label_list,
    list_filter,
    listable,
    load_scoped,
    readable,
    relabel,
    route_filters,
)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _last(rows: list[Row], label: str) -> str | None:
    stamps = [r.body["timestamp"] for r in rows if label in r.body["labels"]]
    return stamps[-1] if stamps else None


def summarize(thread: Row, rows: list[Row]) -> dict[str, Any]:
    """``ThreadItem`` from the thread's (non-empty, oldest-first) readable messages."""
    last = rows[-1].body
    out: dict[str, Any] = {
        "inbox_id": thread.inbox,
        "thread_id": thread.id,
        "labels": _unique([label for r in rows for label in r.body["labels"]]),
        "timestamp": last["timestamp"],
    }
    for key, label in (("received_timestamp", "received"), ("sent_timestamp", "sent")):
        stamp = _last(rows, label)
        if stamp:
            out[key] = stamp
    out["senders"] = _unique([r.body["from"] for r in rows])
    out["recipients"] = _unique([a for r in rows for a in r.body["to"] + (r.body.get("cc") or [])])
    if thread.body.get("subject"):
        out["subject"] = thread.body["subject"]
    if last.get("preview"):
        out["preview"] = last["preview"]
    out.update(
        last_message_id=last["message_id"],
        message_count=len(rows),
        size=sum(r.body["size"] for r in rows),
        updated_at=max(r.body["updated_at"] for r in rows),
        created_at=thread.created_at,
    )
    return out


def _readable_messages(ctx: Ctx, thread: Row) -> list[Row]:
    return [r for r in ctx.tx.find(MESSAGE, ref=thread.id) if readable(ctx.caller, r.body["labels"])]


def _load(ctx: Ctx) -> tuple[Row, list[Row]]:
    thread = load_scoped(ctx, THREAD, ctx.params["thread_id"], "Thread")
    rows = _readable_messages(ctx, thread)
    if not rows:  # every message is hidden from this key by label permissions
        raise not_found("Thread")
    return thread, rows


def list_threads(ctx: Ctx) -> Reply:
    ctx.caller.require("message_read")
    filters = route_filters(ctx)
    keep = list_filter(
        ctx,
        {
            "senders": lambda t: t["senders"],
            "recipients": lambda t: t["recipients"],
            "subject": lambda t: [t.get("subject") or ""],
        },
    )

    def listed(thread: Row) -> list[Row]:
        return [r for r in ctx.tx.find(MESSAGE, ref=thread.id) if listable(ctx, r.body["labels"])]

    def visible(thread: Row) -> bool:
        rows = listed(thread)
        return bool(rows) and keep(summarize(thread, rows))

    return ok(
        paginate(
            ctx,
            THREAD,
            "threads",
            lambda t: summarize(t, listed(t)),
            visible=visible,
            org=ctx.org,
            variant=filter_variant(ctx),
            **filters,
        )
    )


def get_thread(ctx: Ctx) -> Reply:
    """``Thread``: the summary plus one page of messages, newest page first, each page oldest-first."""
    ctx.caller.require("message_read")
    thread, rows = _load(ctx)
    page = paginate(
        ctx,
        MESSAGE,
        "messages",
        messages.render,
        allow_ascending=False,
        visible=lambda r: readable(ctx.caller, r.body["labels"]),
        ref=thread.id,
    )
    page["messages"].reverse()
    return ok({**summarize(thread, rows), **page})


# Labels mail gets from what happened to it: a thread's labels cannot add or remove them.
SYSTEM_LABELS = frozenset({"sent", "received", "bounced", "delivered", "blocked", "unauthenticated"})
MAX_RELABELLED = 100  # a thread of this many messages or more is refused (422)


def update_thread(ctx: Ctx) -> Reply:
    """SDK ``threads.update``: system labels cannot be added or removed, ``remove_labels`` takes
    priority over ``add_labels``, and a thread of 100 or more messages is refused with a 422."""
    ctx.caller.require("message_update")
    thread, rows = _load(ctx)
    add, remove = (
        label_list(ctx.body.raw("add_labels"), "add_labels"),
        label_list(ctx.body.raw("remove_labels"), "remove_labels"),
    )
    for field, labels in (("add_labels", add), ("remove_labels", remove)):
        system = sorted(SYSTEM_LABELS.intersection(labels))
        if system:
            raise bad_request(f"{system[0]!r} is a system label: a thread's labels cannot change it", field)
    if len(rows) >= MAX_RELABELLED:
        raise unprocessable(
            f"The thread has {len(rows)} messages: threads of {MAX_RELABELLED} or more cannot be relabelled",
            fix="Relabel its messages one by one.",
        )
    add = [label for label in add if label not in remove]  # remove_labels takes priority
    for row in rows:
        labels = relabel(row.body["labels"], add, remove)
        if labels != row.body["labels"]:
            row.body.update(labels=labels, updated_at=now())
            ctx.tx.update(row)
    return ok({"thread_id": thread.id, "labels": summarize(thread, rows)["labels"]})


def delete_thread(ctx: Ctx) -> Reply:
    """Permanently deletes the thread and all of its messages (SDK docstring)."""
    ctx.caller.require("message_delete")
    thread, _ = _load(ctx)
    ctx.tx.delete_where(MESSAGE, ref=thread.id)
    ctx.tx.delete(THREAD, thread.id)
    return no_content()
