"""Threads and drafts: the fields a thread summarises from its messages, what relabelling and
deleting a thread does, the draft fields a reply or forward derives, scheduling, and the
permission each route needs (SDK ``inboxes.threads`` / ``inboxes.drafts``, spec §3.2). Each
test pins a line of ``sandbox/backend/threads.py`` or ``drafts.py`` that the mutation sweep
(``.ci/mutate.py --sweep``) found no other test depending on."""

from __future__ import annotations

from typing import Any

import pytest
from agentmail.core.api_error import ApiError
from agentmail.errors import NotFoundError, ValidationError
from agentmail.inboxes import CreateInboxRequest
from agentmail.messages.types import Message
from contract_harness import ORG_KEY, Sandbox, auth, raises_api_error
from mail_helpers import OUTSIDE, key_lacking, only_received, read_message, received, tick


def _inbox(sandbox: Sandbox, username: str) -> str:
    inbox = sandbox.client.inboxes.create(request=CreateInboxRequest(username=f"tdsweep-{username}"))
    return str(inbox.inbox_id)


def _raw(sandbox: Sandbox, path: str) -> dict[str, Any]:
    response = sandbox.http.get(f"/v0/{path}", headers=auth(ORG_KEY))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _conversation(sandbox: Sandbox) -> tuple[str, str, str, list[Message]]:
    """Alice writes bob (copying ``OUTSIDE``), bob answers: (alice, bob, thread id, alice's two
    messages oldest first, read in full)."""
    alice, bob = _inbox(sandbox, "alice"), _inbox(sandbox, "bob")
    messages = sandbox.client.inboxes.messages
    first = messages.send(alice, to=[bob], cc=[OUTSIDE], subject="Plans", text="Shall we meet?")
    tick()
    messages.reply(bob, only_received(sandbox, bob).message_id, text="Yes, at noon")
    mail = [read_message(sandbox, alice, first.message_id), only_received(sandbox, alice)]
    return alice, bob, first.thread_id, mail


# ---------------------------------------------------------------------------------------------
# A thread's fields, computed from its messages (``threads.summarize``)


def test_a_thread_summarises_its_messages(sandbox: Sandbox) -> None:
    """Without the last-sent / last-received stamp, the unique senders and recipients, the last
    message's preview, the summed size or the latest ``updated_at``, a thread lost those fields
    (or listed a sender twice)."""
    alice, bob, thread_id, (sent, received) = _conversation(sandbox)
    thread = sandbox.client.inboxes.threads.get(alice, thread_id)
    assert thread.sent_timestamp == sent.timestamp
    assert thread.received_timestamp == received.timestamp
    assert thread.timestamp == received.timestamp
    assert thread.senders == [alice, bob]
    assert sorted(thread.recipients) == sorted([bob, OUTSIDE, alice])
    assert thread.preview == "Yes, at noon"
    assert thread.last_message_id == received.message_id
    assert thread.message_count == 2
    assert thread.size == sent.size + received.size
    assert thread.updated_at == max(sent.updated_at, received.updated_at)
    assert set(thread.labels) == set(sent.labels) | set(received.labels)
    (item,) = sandbox.client.inboxes.threads.list(alice).threads
    assert (item.sent_timestamp, item.received_timestamp, item.size) == (
        thread.sent_timestamp,
        thread.received_timestamp,
        thread.size,
    )


def test_a_thread_of_mail_only_sent_has_no_received_timestamp(sandbox: Sandbox) -> None:
    """With the "any stamp?" test negated the thread carried ``received_timestamp: null`` (unset
    fields are omitted, spec §9.2) or lost its ``sent_timestamp``."""
    alice = _inbox(sandbox, "alice")
    sent = sandbox.client.inboxes.messages.send(alice, to=[OUTSIDE], subject="Out", text="x")
    raw = _raw(sandbox, f"inboxes/{alice}/threads/{sent.thread_id}")
    assert "received_timestamp" not in raw
    assert raw["sent_timestamp"] == raw["timestamp"]


def test_a_thread_without_subject_or_text_omits_them(sandbox: Sandbox) -> None:
    """With the subject or preview test negated the thread carried ``subject: null`` /
    ``preview: null`` (or failed)."""
    alice = _inbox(sandbox, "alice")
    sent = sandbox.client.inboxes.messages.send(alice, to=[OUTSIDE], html="<p></p>")
    raw = _raw(sandbox, f"inboxes/{alice}/threads/{sent.thread_id}")
    assert "subject" not in raw and "preview" not in raw
    (item,) = _raw(sandbox, f"inboxes/{alice}/threads")["threads"]
    assert "subject" not in item and "preview" not in item


# ---------------------------------------------------------------------------------------------
# Label permissions (spec §3.2): mail a key may not read is left out of the thread


def _trashed_reply(sandbox: Sandbox) -> tuple[str, str, Message, Message]:
    """Alice's conversation with bob, bob's reply moved to trash in alice's inbox: (alice,
    thread id, alice's first message, the trashed reply)."""
    alice, bob, thread_id, (sent, received) = _conversation(sandbox)
    sandbox.client.inboxes.messages.update(alice, received.message_id, add_labels=["trash"])
    return alice, thread_id, sent, received


def test_a_thread_read_without_label_trash_read_leaves_trashed_mail_out(sandbox: Sandbox) -> None:
    """Without the ``readable`` filter on GET /threads/{id} a key without ``label_trash_read``
    saw the trashed message in the summary and in the page of messages."""
    alice, thread_id, sent, trashed = _trashed_reply(sandbox)
    key = sandbox.sdk(key_lacking(sandbox, "label_trash_read"))
    thread = key.inboxes.threads.get(alice, thread_id)
    assert [m.message_id for m in thread.messages] == [sent.message_id]
    assert (thread.message_count, thread.last_message_id) == (1, sent.message_id)
    full = sandbox.client.inboxes.threads.get(alice, thread_id)
    assert [m.message_id for m in full.messages] == [sent.message_id, trashed.message_id]


def test_a_thread_whose_every_message_is_hidden_is_404(sandbox: Sandbox) -> None:
    """Without the "no readable message" test a key without ``label_trash_read`` read a thread
    of trashed mail (an empty thread, or a 5xx)."""
    alice = _inbox(sandbox, "alice")
    sent = sandbox.client.inboxes.messages.send(alice, to=[OUTSIDE], subject="Bin it", text="x")
    sandbox.client.inboxes.messages.update(alice, sent.message_id, add_labels=["trash"])
    key = sandbox.sdk(key_lacking(sandbox, "label_trash_read"))
    with raises_api_error(404, "not_found", NotFoundError):
        key.inboxes.threads.get(alice, sent.thread_id)
    with raises_api_error(404, "not_found", NotFoundError):
        key.inboxes.threads.delete(alice, sent.thread_id)
    assert sandbox.client.inboxes.threads.get(alice, sent.thread_id).message_count == 1


def test_a_thread_of_trashed_mail_is_listed_only_with_include_trash(sandbox: Sandbox) -> None:
    """Without the "any listed message" test a thread of trashed mail was listed without
    ``include_trash`` (or its summary failed on no messages)."""
    alice = _inbox(sandbox, "alice")
    kept = sandbox.client.inboxes.messages.send(alice, to=[OUTSIDE], subject="Kept", text="x")
    binned = sandbox.client.inboxes.messages.send(alice, to=[OUTSIDE], subject="Binned", text="x")
    sandbox.client.inboxes.messages.update(alice, binned.message_id, add_labels=["trash"])
    threads = sandbox.client.inboxes.threads
    assert [t.thread_id for t in threads.list(alice).threads] == [kept.thread_id]
    assert {t.thread_id for t in threads.list(alice, include_trash=True).threads} == {
        kept.thread_id,
        binned.thread_id,
    }


# ---------------------------------------------------------------------------------------------
# List filters on threads: senders / recipients / subject (SDK ``threads.list``)


def test_thread_substring_filters_keep_only_matching_threads(sandbox: Sandbox) -> None:
    """SDK ``threads.list``: "Filter to threads whose senders / recipients / subject contain this
    value (substring match)". Without the thread's haystacks the filters matched nothing (or
    everything)."""
    alice, bob = _inbox(sandbox, "alice"), _inbox(sandbox, "bob")
    messages = sandbox.client.inboxes.messages
    invoice = messages.send(alice, to=[bob], subject="Invoice 42", text="x")
    lunch = messages.send(alice, to=[OUTSIDE], subject="Lunch", text="x")
    threads = sandbox.client.inboxes.threads

    def ids(**filters: list[str]) -> list[str]:
        return [t.thread_id for t in threads.list(alice, **filters).threads]

    assert ids(subject=["INVOICE"]) == [invoice.thread_id]
    assert ids(recipients=["partner.example"]) == [lunch.thread_id]
    assert ids(senders=["tdsweep-alice"]) == [lunch.thread_id, invoice.thread_id]
    assert ids(senders=["tdsweep-bob"]) == []


# ---------------------------------------------------------------------------------------------
# PATCH /threads/{id}: labels on every message


def test_relabelling_a_thread_relabels_each_of_its_messages(sandbox: Sandbox) -> None:
    """Without the relabel of each message, its store update or the answer's labels, PATCH on a
    thread changed nothing that a later read sees (or answered the old labels)."""
    alice, bob, thread_id, (sent, received) = _conversation(sandbox)
    tick()
    answer = sandbox.client.inboxes.threads.update(alice, thread_id, add_labels=["project"], remove_labels=["unread"])
    assert answer.thread_id == thread_id
    assert "project" in answer.labels and "unread" not in answer.labels
    for before in (sent, received):
        after = read_message(sandbox, alice, before.message_id)
        assert "project" in after.labels and "unread" not in after.labels
        assert after.updated_at > before.updated_at
    assert sandbox.client.inboxes.threads.get(alice, thread_id).labels == answer.labels


def test_relabelling_a_thread_leaves_messages_it_does_not_change_untouched(sandbox: Sandbox) -> None:
    """With the "labels changed?" test negated a message the PATCH did not change got a new
    ``updated_at``."""
    alice, bob, thread_id, (sent, received) = _conversation(sandbox)
    assert "unread" not in sent.labels and "unread" in received.labels
    tick()
    sandbox.client.inboxes.threads.update(alice, thread_id, remove_labels=["unread"])
    assert read_message(sandbox, alice, sent.message_id).updated_at == sent.updated_at
    assert read_message(sandbox, alice, received.message_id).updated_at > received.updated_at


def test_relabelling_a_thread_leaves_mail_the_key_cannot_read_alone(sandbox: Sandbox) -> None:
    """Without limiting the PATCH to readable messages a key without ``label_trash_read``
    relabelled trashed mail it may not see."""
    alice, thread_id, sent, trashed = _trashed_reply(sandbox)
    key = sandbox.sdk(key_lacking(sandbox, "label_trash_read"))
    key.inboxes.threads.update(alice, thread_id, add_labels=["seen-by-key"])
    assert "seen-by-key" in read_message(sandbox, alice, sent.message_id).labels
    assert "seen-by-key" not in read_message(sandbox, alice, trashed.message_id).labels


def test_relabelling_an_unknown_thread_is_404(sandbox: Sandbox) -> None:
    """Without loading the thread first, PATCH on a thread that does not exist failed with a 5xx."""
    alice = _inbox(sandbox, "alice")
    with raises_api_error(404, "not_found", NotFoundError):
        sandbox.client.inboxes.threads.update(alice, "no-such-thread", add_labels=["x"])


def test_a_thread_label_that_is_not_a_string_is_400_and_changes_nothing(sandbox: Sandbox) -> None:
    """Without reading ``add_labels`` through the label check a number was stored as a label."""
    alice, bob, thread_id, (sent, received) = _conversation(sandbox)
    response = sandbox.http.patch(
        f"/v0/inboxes/{alice}/threads/{thread_id}", json={"remove_labels": [5]}, headers=auth(ORG_KEY)
    )
    body = response.json()
    assert (response.status_code, body["code"], body["errors"][0]["path"]) == (400, "validation_error", "remove_labels")
    assert read_message(sandbox, alice, sent.message_id).labels == sent.labels


def test_a_label_both_added_and_removed_on_a_thread_is_removed(sandbox: Sandbox) -> None:
    """SDK ``threads.update``, ``remove_labels``: "Takes priority over `add_labels` (in the event
    of duplicate labels passed in)". The sandbox answered 400 (``mailbox.relabel``)."""
    alice, bob, thread_id, _ = _conversation(sandbox)
    answer = sandbox.client.inboxes.threads.update(alice, thread_id, add_labels=["x", "y"], remove_labels=["x"])
    assert "y" in answer.labels and "x" not in answer.labels


@pytest.mark.parametrize("change", [{"add_labels": ["bounced"]}, {"remove_labels": ["sent"]}])
def test_system_labels_cannot_be_changed_on_a_thread(sandbox: Sandbox, change: dict[str, list[str]]) -> None:
    """SDK ``threads.update``: "Cannot add or remove system labels (sent, received, bounced,
    etc.)". The sandbox applied them. The status is not documented: any 4xx is accepted."""
    alice, bob, thread_id, (sent, received) = _conversation(sandbox)
    with pytest.raises(ApiError) as info:
        sandbox.client.inboxes.threads.update(alice, thread_id, **change)
    assert 400 <= (info.value.status_code or 0) < 500
    assert read_message(sandbox, alice, sent.message_id).labels == sent.labels


# ---------------------------------------------------------------------------------------------
# DELETE /threads/{id}: the thread and all of its messages


def test_deleting_a_thread_deletes_it_and_its_messages(sandbox: Sandbox) -> None:
    """SDK ``threads.delete``: "Permanently deletes a thread and all of its messages". Without
    deleting the messages (or the thread row) they stayed readable."""
    alice, bob, thread_id, (sent, answer) = _conversation(sandbox)
    sandbox.client.inboxes.threads.delete(alice, thread_id)
    with raises_api_error(404, "not_found", NotFoundError):
        sandbox.client.inboxes.threads.get(alice, thread_id)
    for message in (sent, answer):
        with raises_api_error(404, "not_found", NotFoundError):
            sandbox.client.inboxes.messages.get(alice, message.message_id)
    assert sandbox.client.inboxes.messages.list(alice).messages == []
    assert sandbox.client.inboxes.threads.list(alice).threads == []
    assert len(received(sandbox, bob)) == 1  # bob's copy is bob's own thread


def test_a_deleted_thread_leaves_no_empty_thread_in_the_listing(sandbox: Sandbox) -> None:
    """Without deleting the thread row (only its messages) the emptied thread stayed behind
    unseen: a one-per-page listing then answered an empty first page (with a token) before the
    thread that is still there."""
    alice = _inbox(sandbox, "alice")
    messages = sandbox.client.inboxes.messages
    kept = messages.send(alice, to=[OUTSIDE], subject="Kept", text="x")
    gone = messages.send(alice, to=[OUTSIDE], subject="Gone", text="x")
    sandbox.client.inboxes.threads.delete(alice, gone.thread_id)
    page = sandbox.client.inboxes.threads.list(alice, limit=1)
    assert [t.thread_id for t in page.threads] == [kept.thread_id]
    assert page.next_page_token is None


# ---------------------------------------------------------------------------------------------
# Permissions (spec §3.2) and other organisations


@pytest.mark.parametrize("route", ["list", "get"])
def test_reading_threads_needs_message_read(sandbox: Sandbox, route: str) -> None:
    """Without the check on GET /threads (or /threads/{id}) a key without ``message_read`` could
    read mail."""
    alice, bob, thread_id, _ = _conversation(sandbox)
    key = sandbox.sdk(key_lacking(sandbox, "message_read"))
    args = (alice,) if route == "list" else (alice, thread_id)
    with raises_api_error(403, "missing_permission"):
        getattr(key.inboxes.threads, route)(*args)


def test_relabelling_a_thread_needs_message_update(sandbox: Sandbox) -> None:
    """Without the check a key without ``message_update`` could change a thread's labels."""
    alice, bob, thread_id, (sent, _) = _conversation(sandbox)
    key = sandbox.sdk(key_lacking(sandbox, "message_update"))
    with raises_api_error(403, "missing_permission"):
        key.inboxes.threads.update(alice, thread_id, add_labels=["flagged"])
    assert read_message(sandbox, alice, sent.message_id).labels == sent.labels


def test_deleting_a_thread_needs_message_delete(sandbox: Sandbox) -> None:
    """Without the check a key without ``message_delete`` could delete a thread."""
    alice, bob, thread_id, _ = _conversation(sandbox)
    key = sandbox.sdk(key_lacking(sandbox, "message_delete"))
    with raises_api_error(403, "missing_permission"):
        key.inboxes.threads.delete(alice, thread_id)
    assert sandbox.client.inboxes.threads.get(alice, thread_id).message_count == 2


def test_another_organisations_thread_is_404_on_every_route(sandbox: Sandbox) -> None:
    """Without scoping the thread to the caller's organisation, another organisation's key read,
    relabelled or deleted it through the organisation routes."""
    alice, bob, thread_id, _ = _conversation(sandbox)
    other = sandbox.sdk(sandbox.new_organization())
    for call in (
        lambda: other.threads.get(thread_id),
        lambda: other.threads.update(thread_id, add_labels=["x"]),
        lambda: other.threads.delete(thread_id),
    ):
        with raises_api_error(404, "not_found", NotFoundError):
            call()
    assert other.threads.list().threads == []
    assert sandbox.client.threads.get(thread_id).message_count == 2


# ---------------------------------------------------------------------------------------------
# Drafts: the fields a draft and a draft item carry (``drafts.render`` / ``render_item``)


def test_a_draft_carries_every_field_it_was_given(sandbox: Sandbox) -> None:
    """Without the item fields, ``client_id``, ``reply_to`` / ``text`` / ``html`` or
    ``created_at``, a draft read back lost them; a list item carries the item fields only."""
    alice = _inbox(sandbox, "alice")
    drafts = sandbox.client.inboxes.drafts
    draft = drafts.create(
        alice,
        to=[OUTSIDE],
        cc=["carol@partner.example"],
        bcc=["eve@partner.example"],
        reply_to=["replies@partner.example"],
        subject="Everything",
        text="The text",
        html="<p>The html</p>",
        labels=["outbox"],
        client_id="tdsweep-every-field",
    )
    got = drafts.get(alice, draft.draft_id)
    assert got == draft
    assert (got.to, got.cc, got.bcc, got.reply_to) == (
        [OUTSIDE],
        ["carol@partner.example"],
        ["eve@partner.example"],
        ["replies@partner.example"],
    )
    assert (got.subject, got.text, got.html, got.preview) == ("Everything", "The text", "<p>The html</p>", "The text")
    assert (got.client_id, got.labels) == ("tdsweep-every-field", ["draft", "outbox"])
    assert got.created_at == got.updated_at
    (item,) = _raw(sandbox, f"inboxes/{alice}/drafts")["drafts"]
    assert (item["to"], item["cc"], item["bcc"], item["subject"], item["preview"]) == (
        [OUTSIDE],
        ["carol@partner.example"],
        ["eve@partner.example"],
        "Everything",
        "The text",
    )
    assert not {"text", "html", "reply_to", "client_id", "created_at"} & set(item)


def test_an_empty_draft_omits_every_unset_field(sandbox: Sandbox) -> None:
    """With a "field set?" test negated a draft carried ``null`` fields (unset fields are omitted,
    spec §9.2)."""
    alice = _inbox(sandbox, "alice")
    draft = sandbox.client.inboxes.drafts.create(alice)
    raw = _raw(sandbox, f"inboxes/{alice}/drafts/{draft.draft_id}")
    assert set(raw) == {"inbox_id", "draft_id", "labels", "updated_at", "created_at"}
    assert raw["labels"] == ["draft"]


def test_draft_labels_are_kept_once_each_with_draft_first(sandbox: Sandbox) -> None:
    """Without deduplicating, a draft created with ``draft`` or a repeated label carried it twice."""
    alice = _inbox(sandbox, "alice")
    draft = sandbox.client.inboxes.drafts.create(alice, labels=["x", "draft", "x"])
    assert draft.labels == ["draft", "x"]


# ---------------------------------------------------------------------------------------------
# Scheduling: send_at and send_status


def test_a_scheduled_draft_is_scheduled_in_utc(sandbox: Sandbox) -> None:
    """Without ``send_at`` (or its conversion to UTC) a scheduled draft lost its time or kept an
    offset; without ``send_status`` it did not say it was scheduled."""
    alice = _inbox(sandbox, "alice")
    draft = sandbox.client.inboxes.drafts.create(alice, subject="Later")
    path = f"/v0/inboxes/{alice}/drafts/{draft.draft_id}"
    response = sandbox.http.patch(path, json={"send_at": "2030-01-01T13:00:00+01:00"}, headers=auth(ORG_KEY))
    assert response.status_code == 200, response.text
    assert (response.json()["send_at"], response.json()["send_status"]) == ("2030-01-01T12:00:00Z", "scheduled")
    (item,) = _raw(sandbox, f"inboxes/{alice}/drafts")["drafts"]
    assert (item["send_at"], item["send_status"]) == ("2030-01-01T12:00:00Z", "scheduled")
    created = sandbox.http.post(
        f"/v0/inboxes/{alice}/drafts", json={"send_at": "2030-01-02T00:00:00Z"}, headers=auth(ORG_KEY)
    ).json()
    assert (created["send_at"], created["send_status"]) == ("2030-01-02T00:00:00Z", "scheduled")


def test_send_at_null_unschedules_and_leaving_it_out_keeps_the_schedule(sandbox: Sandbox) -> None:
    """SDK ``drafts.update``: "`send_at: null` un-schedules a scheduled draft". With the "send_at
    given?" test negated an edit of another field dropped the schedule (or null kept it)."""
    alice = _inbox(sandbox, "alice")
    drafts = sandbox.client.inboxes.drafts
    path = f"/v0/inboxes/{alice}/drafts"
    draft = sandbox.http.post(path, json={"send_at": "2030-01-02T00:00:00Z"}, headers=auth(ORG_KEY)).json()
    kept = drafts.update(alice, draft["draft_id"], subject="Still later")
    assert kept.send_status == "scheduled" and kept.send_at is not None
    cleared = sandbox.http.patch(f"{path}/{draft['draft_id']}", json={"send_at": None}, headers=auth(ORG_KEY))
    assert not {"send_at", "send_status"} & set(cleared.json())


def test_a_send_at_that_is_not_a_time_is_400(sandbox: Sandbox) -> None:
    """Without parsing ``send_at`` a draft stored any string as its schedule."""
    alice = _inbox(sandbox, "alice")
    response = sandbox.http.post(f"/v0/inboxes/{alice}/drafts", json={"send_at": "soon"}, headers=auth(ORG_KEY))
    body = response.json()
    assert (response.status_code, body["code"], body["errors"][0]["path"]) == (400, "validation_error", "send_at")
    assert sandbox.client.inboxes.drafts.list(alice).drafts == []


# ---------------------------------------------------------------------------------------------
# Reply and forward drafts (SDK ``drafts.create``: "recipients, subject, and threading are
# derived from the referenced message")


def _alice_to_bob(sandbox: Sandbox, **send: Any) -> tuple[str, str, Message]:
    alice, bob = _inbox(sandbox, "alice"), _inbox(sandbox, "bob")
    sandbox.client.inboxes.messages.send(alice, to=[bob], **send)
    return alice, bob, only_received(sandbox, bob)


def test_a_reply_draft_derives_threading_subject_and_recipients(sandbox: Sandbox) -> None:
    """Without ``in_reply_to`` / ``references`` on the draft, its ``Re:`` subject or its derived
    recipients, a reply draft lost them."""
    alice, bob, received = _alice_to_bob(sandbox, subject="Question", text="x")
    draft = sandbox.client.inboxes.drafts.create(bob, in_reply_to=received.message_id, text="Answer")
    assert draft.in_reply_to == received.message_id
    assert draft.references == [received.message_id]
    assert (draft.subject or "").lower().startswith("re:") and (draft.subject or "").endswith("Question")
    assert draft.to == [alice]


def test_a_reply_draft_keeps_a_given_subject_and_given_recipients(sandbox: Sandbox) -> None:
    """With the recipients test negated, a reply draft given ``to`` had it replaced by the
    derived sender; the given subject wins over ``Re:``."""
    alice, bob, received = _alice_to_bob(sandbox, subject="Question", text="x")
    drafts = sandbox.client.inboxes.drafts
    draft = drafts.create(bob, in_reply_to=received.message_id, to=[OUTSIDE], subject="Own subject")
    assert (draft.to, draft.subject) == ([OUTSIDE], "Own subject")


def test_a_reply_all_draft_copies_everyone_else(sandbox: Sandbox) -> None:
    """Without reading ``reply_all`` the draft addressed the sender only."""
    alice, bob, carol = _inbox(sandbox, "alice"), _inbox(sandbox, "bob"), _inbox(sandbox, "carol")
    sandbox.client.inboxes.messages.send(carol, to=[alice, bob], subject="All", text="x")
    original = only_received(sandbox, alice)
    draft = sandbox.client.inboxes.drafts.create(alice, in_reply_to=original.message_id, reply_all=True)
    assert (draft.to, draft.cc) == ([carol], [bob])


def test_a_forward_draft_takes_the_subject_and_keeps_recipients_caller_supplied(sandbox: Sandbox) -> None:
    """Without ``forward_of`` on the draft or its ``Fwd:`` subject a forward draft lost them; its
    recipients are the caller's (SDK: "keeps recipients caller-supplied")."""
    alice, bob, received = _alice_to_bob(sandbox, subject="Pass on", text="x")
    drafts = sandbox.client.inboxes.drafts
    draft = drafts.create(bob, forward_of=received.message_id, to=[OUTSIDE])
    assert draft.forward_of == received.message_id
    assert (draft.subject or "").lower().startswith("fwd:") and (draft.subject or "").endswith("Pass on")
    assert draft.to == [OUTSIDE] and draft.in_reply_to is None
    (item,) = [d for d in drafts.list(bob).drafts if d.draft_id == draft.draft_id]
    assert item.forward_of == received.message_id
    assert drafts.create(bob, forward_of=received.message_id, subject="Mine").subject == "Mine"


@pytest.mark.parametrize("field", ["in_reply_to", "forward_of"])
def test_a_draft_naming_an_unknown_message_is_400(sandbox: Sandbox, field: str) -> None:
    """Without the "no such message" test a draft referring to nothing failed with a 5xx."""
    alice = _inbox(sandbox, "alice")
    response = sandbox.http.post(
        f"/v0/inboxes/{alice}/drafts", json={field: "<nothing@agentmail.to>"}, headers=auth(ORG_KEY)
    )
    body = response.json()
    assert (response.status_code, body["code"], body["errors"][0]["path"]) == (400, "validation_error", field)
    assert sandbox.client.inboxes.drafts.list(alice).drafts == []


def test_a_draft_with_attachments_is_400_and_creates_nothing(sandbox: Sandbox) -> None:
    """Attachments are not emulated: without the check on create the attachment was silently
    dropped and the draft created."""
    alice = _inbox(sandbox, "alice")
    response = sandbox.http.post(
        f"/v0/inboxes/{alice}/drafts",
        json={"subject": "With file", "attachments": [{"filename": "a.txt", "content": "eA=="}]},
        headers=auth(ORG_KEY),
    )
    body = response.json()
    assert (response.status_code, body["code"], body["errors"][0]["path"]) == (400, "validation_error", "attachments")
    assert sandbox.client.inboxes.drafts.list(alice).drafts == []


def test_a_draft_both_replying_and_forwarding_is_400(sandbox: Sandbox) -> None:
    """Without the exclusivity test a draft was both a reply and a forward."""
    alice, bob, received = _alice_to_bob(sandbox, subject="Both", text="x")
    with raises_api_error(400, "validation_error", ValidationError):
        sandbox.client.inboxes.drafts.create(bob, in_reply_to=received.message_id, forward_of=received.message_id)
    assert sandbox.client.inboxes.drafts.list(bob).drafts == []


@pytest.mark.parametrize("extra", [{}, {"to": [OUTSIDE]}])
def test_reply_all_needs_in_reply_to_and_no_recipients(sandbox: Sandbox, extra: dict[str, Any]) -> None:
    """Without the ``reply_all`` test a reply-all draft without a message to answer (or with its
    own recipients) was accepted."""
    alice = _inbox(sandbox, "alice")
    response = sandbox.http.post(
        f"/v0/inboxes/{alice}/drafts", json={"reply_all": True, **extra}, headers=auth(ORG_KEY)
    )
    body = response.json()
    assert (response.status_code, body["code"], body["errors"][0]["path"]) == (400, "validation_error", "reply_all")


def test_a_reply_draft_needs_message_read(sandbox: Sandbox) -> None:
    """Without the check, a key without ``message_read`` learnt a message's sender and subject by
    drafting a reply to it; a plain draft needs no ``message_read``."""
    alice, bob, received = _alice_to_bob(sandbox, subject="Private", text="x")
    key = sandbox.sdk(key_lacking(sandbox, "message_read"))
    with raises_api_error(403, "missing_permission"):
        key.inboxes.drafts.create(bob, in_reply_to=received.message_id)
    assert key.inboxes.drafts.create(bob, subject="Plain").subject == "Plain"


def test_a_client_id_of_another_inbox_is_403_already_exists(sandbox: Sandbox) -> None:
    """With the inbox test of the replay dropped, the same ``client_id`` on another inbox returned
    the first inbox's draft (spec §11 Q4: 403 ``already_exists`` outside the scope)."""
    alice, bob = _inbox(sandbox, "alice"), _inbox(sandbox, "bob")
    drafts = sandbox.client.inboxes.drafts
    first = drafts.create(alice, subject="One", client_id="tdsweep-shared")
    assert drafts.create(alice, subject="Two", client_id="tdsweep-shared") == first
    with raises_api_error(403, "already_exists"):
        drafts.create(bob, subject="Three", client_id="tdsweep-shared")
    assert drafts.list(bob).drafts == []


# ---------------------------------------------------------------------------------------------
# PATCH / DELETE / send on a draft of another inbox, and edits


@pytest.mark.parametrize("route", ["update", "delete", "send"])
def test_a_draft_is_addressed_only_through_its_own_inbox(sandbox: Sandbox, route: str) -> None:
    """Without the draft's inbox test a draft of alice could be edited, deleted or sent through
    bob's route."""
    alice, bob = _inbox(sandbox, "alice"), _inbox(sandbox, "bob")
    drafts = sandbox.client.inboxes.drafts
    draft = drafts.create(alice, to=[OUTSIDE], subject="Mine", text="x")
    kwargs: dict[str, Any] = {"subject": "Hijacked"} if route == "update" else {}
    with raises_api_error(404, "not_found", NotFoundError):
        getattr(drafts, route)(bob, draft.draft_id, **kwargs)
    assert drafts.get(alice, draft.draft_id) == draft
    with raises_api_error(404, "not_found", NotFoundError):
        getattr(drafts, route)(alice, "no-such-draft", **kwargs)


def test_editing_a_draft_keeps_it_refreshes_its_preview_and_relabels_it(sandbox: Sandbox) -> None:
    """Without storing the edit, the new preview, the relabel or the new ``updated_at``, a read
    after PATCH showed the old draft."""
    alice = _inbox(sandbox, "alice")
    drafts = sandbox.client.inboxes.drafts
    draft = drafts.create(alice, to=[OUTSIDE], subject="Old", text="Old text", labels=["a"])
    tick()
    answer = drafts.update(alice, draft.draft_id, text="New text", add_labels=["b"], remove_labels="a")
    got = drafts.get(alice, draft.draft_id)
    assert got == answer
    assert (got.text, got.preview, got.subject, got.to) == ("New text", "New text", "Old", [OUTSIDE])
    assert got.labels == ["draft", "b"]
    assert got.updated_at > draft.updated_at and got.created_at == draft.created_at


@pytest.mark.parametrize("field", ["add_attachments", "remove_attachments"])
def test_attachment_edits_on_a_draft_are_400(sandbox: Sandbox, field: str) -> None:
    """Attachments are not emulated: without the checks an attachment edit was silently dropped."""
    alice = _inbox(sandbox, "alice")
    draft = sandbox.client.inboxes.drafts.create(alice, subject="Plain")
    value: list[Any] = [{"filename": "a.txt", "content": "eA=="}] if field == "add_attachments" else ["some-attachment"]
    response = sandbox.http.patch(
        f"/v0/inboxes/{alice}/drafts/{draft.draft_id}", json={field: value}, headers=auth(ORG_KEY)
    )
    body = response.json()
    assert (response.status_code, body["code"], body["errors"][0]["path"]) == (400, "validation_error", field)


def test_deleting_a_draft_deletes_it(sandbox: Sandbox) -> None:
    """Without the store delete, DELETE answered 204 and the draft stayed."""
    alice = _inbox(sandbox, "alice")
    drafts = sandbox.client.inboxes.drafts
    draft = drafts.create(alice, subject="Bin")
    drafts.delete(alice, draft.draft_id)
    with raises_api_error(404, "not_found", NotFoundError):
        drafts.get(alice, draft.draft_id)
    assert drafts.list(alice).drafts == []


# ---------------------------------------------------------------------------------------------
# POST /drafts/{id}/send


def test_a_sent_draft_carries_its_fields_and_labels_but_not_draft(sandbox: Sandbox) -> None:
    """Without dropping ``draft``, applying ``add_labels`` / ``remove_labels`` or carrying ``cc``,
    ``bcc``, ``reply_to`` and ``html``, the sent message differed from the draft; without the
    delete the sent draft stayed listed."""
    alice, bob = _inbox(sandbox, "alice"), _inbox(sandbox, "bob")
    drafts = sandbox.client.inboxes.drafts
    draft = drafts.create(
        alice,
        to=[bob],
        cc=[OUTSIDE],
        bcc=["eve@partner.example"],
        reply_to=["replies@partner.example"],
        subject="Drafted",
        text="t",
        html="<p>h</p>",
        labels=["keep", "drop"],
    )
    sent = drafts.send(alice, draft.draft_id, add_labels=["added"], remove_labels=["drop"])
    message = read_message(sandbox, alice, sent.message_id)
    assert "draft" not in message.labels and "drop" not in message.labels
    assert {"keep", "added", "sent"} <= set(message.labels)
    assert (message.cc, message.bcc, message.reply_to) == (
        [OUTSIDE],
        ["eve@partner.example"],
        ["replies@partner.example"],
    )
    assert (message.subject, message.text, message.html) == ("Drafted", "t", "<p>h</p>")
    assert only_received(sandbox, bob).html == "<p>h</p>"
    assert drafts.list(alice).drafts == []  # sending a draft deletes it


def test_a_reply_draft_sent_after_its_message_is_gone_starts_a_new_thread(sandbox: Sandbox) -> None:
    """Without the "replied-to message gone?" test the reply went into a thread that no longer
    exists (a 5xx, or a message in a thread that cannot be read)."""
    alice, bob, received = _alice_to_bob(sandbox, subject="Ask", text="x")
    drafts = sandbox.client.inboxes.drafts
    draft = drafts.create(bob, in_reply_to=received.message_id, text="late answer")
    sandbox.client.inboxes.messages.delete(bob, received.message_id)
    sent = drafts.send(bob, draft.draft_id)
    assert sent.thread_id != received.thread_id
    thread = sandbox.client.inboxes.threads.get(bob, sent.thread_id)
    assert [m.message_id for m in thread.messages] == [sent.message_id]


def test_a_reply_draft_sent_joins_the_thread_of_itsmessage(sandbox: Sandbox) -> None:
    """Without the draft's ``thread_id`` the sent reply started a thread of its own."""
    alice, bob, received = _alice_to_bob(sandbox, subject="Ask", text="x")
    draft = sandbox.client.inboxes.drafts.create(bob, in_reply_to=received.message_id, text="answer")
    sent = sandbox.client.inboxes.drafts.send(bob, draft.draft_id)
    assert sent.thread_id == received.thread_id
    assert sandbox.client.inboxes.threads.get(bob, received.thread_id).message_count == 2


# ---------------------------------------------------------------------------------------------
# Draft permissions (spec §3.2) and other organisations


@pytest.mark.parametrize(
    ("flag", "call"),
    [
        ("draft_read", lambda d, inbox, draft_id: d.list(inbox)),
        ("draft_read", lambda d, inbox, draft_id: d.get(inbox, draft_id)),
        ("draft_create", lambda d, inbox, draft_id: d.create(inbox, subject="New")),
        ("draft_update", lambda d, inbox, draft_id: d.update(inbox, draft_id, subject="Changed")),
        ("draft_delete", lambda d, inbox, draft_id: d.delete(inbox, draft_id)),
        ("draft_send", lambda d, inbox, draft_id: d.send(inbox, draft_id)),
    ],
    ids=["list", "get", "create", "update", "delete", "send"],
)
def test_each_draft_route_needs_its_permission(sandbox: Sandbox, flag: str, call: Any) -> None:
    """Without the check a key without ``flag`` could use the route; the draft is left as it was."""
    alice = _inbox(sandbox, "alice")
    drafts = sandbox.client.inboxes.drafts
    draft = drafts.create(alice, to=[OUTSIDE], subject="Guarded", text="x")
    key = sandbox.sdk(key_lacking(sandbox, flag))
    with raises_api_error(403, "missing_permission"):
        call(key.inboxes.drafts, alice, draft.draft_id)
    assert [d.draft_id for d in drafts.list(alice).drafts] == [draft.draft_id]
    assert drafts.get(alice, draft.draft_id) == draft


def test_another_organisations_draft_is_404(sandbox: Sandbox) -> None:
    """Without scoping the draft to the caller's organisation another organisation's key read it."""
    alice = _inbox(sandbox, "alice")
    draft = sandbox.client.inboxes.drafts.create(alice, subject="Ours")
    other = sandbox.sdk(sandbox.new_organization())
    with raises_api_error(404, "not_found", NotFoundError):
        other.drafts.get(draft.draft_id)
    assert other.drafts.list().drafts == []


def test_relabelling_a_thread_of_100_messages_is_422(sandbox: Sandbox) -> None:
    """SDK ``threads.update``: "Rejects requests with a `422` for threads with 100 or more
    messages". The sandbox relabelled every message."""
    alice = _inbox(sandbox, "alice")
    messages = sandbox.client.inboxes.messages
    first = messages.send(alice, to=[OUTSIDE], subject="Long", text="0")
    for n in range(1, 100):
        messages.reply(alice, first.message_id, text=str(n))
    assert sandbox.client.inboxes.threads.get(alice, first.thread_id, limit=1).message_count == 100
    with raises_api_error(422, "unprocessable"):
        sandbox.client.inboxes.threads.update(alice, first.thread_id, add_labels=["bulk"])


def test_drafts_are_listed_by_label_and_by_time(sandbox: Sandbox) -> None:
    """Without the list filter on drafts a ``labels`` / ``before`` / ``after`` filter listed
    every draft."""
    alice = _inbox(sandbox, "alice")
    drafts = sandbox.client.inboxes.drafts
    early = drafts.create(alice, subject="Early", labels=["urgent"])
    tick()
    late = drafts.create(alice, subject="Late")
    assert [d.draft_id for d in drafts.list(alice, labels=["urgent"]).drafts] == [early.draft_id]
    between = early.updated_at + (late.updated_at - early.updated_at) / 2
    assert [d.draft_id for d in drafts.list(alice, before=between).drafts] == [early.draft_id]
    assert [d.draft_id for d in drafts.list(alice, after=between).drafts] == [late.draft_id]
