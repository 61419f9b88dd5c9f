"""The messages / threads / drafts subset: sandbox-to-sandbox sends, per-inbox and per-pod
listings, and the inbox-delete cascade (spec §7.2 "Delete cascades", §8, §11 Q11)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from agentmail import CreateBearerApiKeyRequest
from agentmail.errors import NotFoundError
from contract_harness import Sandbox, raises_api_error


@dataclass
class Mailboxes:
    sender: str
    sender_pod: str
    recipient: str
    recipient_pod: str


@pytest.fixture
def mailboxes(sandbox: Sandbox) -> Mailboxes:
    pods = sandbox.client.pods
    pod_a, pod_b = pods.create(name="senders").pod_id, pods.create(name="recipients").pod_id
    sender = pods.inboxes.create(pod_a, username="alice").inbox_id
    recipient = pods.inboxes.create(pod_b, username="bob").inbox_id
    return Mailboxes(sender, pod_a, recipient, pod_b)


def test_send_across_pods_delivers_to_the_sandbox_recipient(sandbox: Sandbox, mailboxes: Mailboxes) -> None:
    messages = sandbox.client.inboxes.messages
    sent = messages.send(mailboxes.sender, to=[mailboxes.recipient], subject="Hello Bob", text="Hi there")
    outbox = messages.list(mailboxes.sender).messages
    assert [(m.message_id, m.thread_id) for m in outbox] == [(sent.message_id, sent.thread_id)]
    assert "sent" in outbox[0].labels
    (received,) = messages.list(mailboxes.recipient).messages
    assert received.subject == "Hello Bob" and "received" in received.labels
    assert mailboxes.sender in received.from_ and received.to == [mailboxes.recipient]
    full = messages.get(mailboxes.recipient, received.message_id)
    assert full.text == "Hi there" and full.inbox_id == mailboxes.recipient


def test_label_filters_arrive_as_json_array_query_strings(sandbox: Sandbox, mailboxes: Mailboxes) -> None:
    messages = sandbox.client.inboxes.messages
    messages.send(mailboxes.sender, to=[mailboxes.recipient], subject="Filter me", text="x")
    assert [m.subject for m in messages.list(mailboxes.recipient, labels=["received"]).messages] == ["Filter me"]
    assert messages.list(mailboxes.recipient, labels=["sent"]).messages == []


def test_threads_are_listed_per_inbox_and_per_pod(sandbox: Sandbox, mailboxes: Mailboxes) -> None:
    sent = sandbox.client.inboxes.messages.send(
        mailboxes.sender, to=[mailboxes.recipient], subject="Threaded", text="1"
    )
    (sender_thread,) = sandbox.client.inboxes.threads.list(mailboxes.sender).threads
    assert sender_thread.thread_id == sent.thread_id and sender_thread.message_count == 1
    (recipient_thread,) = sandbox.client.inboxes.threads.list(mailboxes.recipient).threads
    assert recipient_thread.subject == "Threaded"
    assert [t.thread_id for t in sandbox.client.pods.threads.list(mailboxes.recipient_pod).threads] == [
        recipient_thread.thread_id
    ]
    assert [t.thread_id for t in sandbox.client.pods.threads.list(mailboxes.sender_pod).threads] == [sent.thread_id]
    thread = sandbox.client.inboxes.threads.get(mailboxes.recipient, recipient_thread.thread_id)
    assert [m.subject for m in thread.messages] == ["Threaded"]
    assert sandbox.client.threads.get(sent.thread_id).thread_id == sent.thread_id


def test_reply_stays_in_the_thread(sandbox: Sandbox, mailboxes: Mailboxes) -> None:
    messages = sandbox.client.inboxes.messages
    messages.send(mailboxes.sender, to=[mailboxes.recipient], subject="Question", text="?")
    (received,) = messages.list(mailboxes.recipient).messages
    messages.reply(mailboxes.recipient, received.message_id, text="Answer")
    (thread,) = sandbox.client.inboxes.threads.list(mailboxes.sender).threads
    assert thread.message_count == 2


def test_drafts_are_listed_per_inbox_and_per_pod(sandbox: Sandbox, mailboxes: Mailboxes) -> None:
    drafts = sandbox.client.inboxes.drafts
    draft = drafts.create(mailboxes.sender, to=[mailboxes.recipient], subject="Later", text="draft body")
    assert draft.inbox_id == mailboxes.sender and draft.subject == "Later"
    assert drafts.get(mailboxes.sender, draft.draft_id).text == "draft body"
    assert [d.draft_id for d in drafts.list(mailboxes.sender).drafts] == [draft.draft_id]
    assert [d.draft_id for d in sandbox.client.pods.drafts.list(mailboxes.sender_pod).drafts] == [draft.draft_id]
    assert sandbox.client.pods.drafts.list(mailboxes.recipient_pod).drafts == []
    assert sandbox.client.drafts.get(draft.draft_id).draft_id == draft.draft_id


def test_sending_a_draft_delivers_it(sandbox: Sandbox, mailboxes: Mailboxes) -> None:
    draft = sandbox.client.inboxes.drafts.create(mailboxes.sender, to=[mailboxes.recipient], subject="Queued", text="x")
    sent = sandbox.client.inboxes.drafts.send(mailboxes.sender, draft.draft_id)
    assert sent.message_id and sandbox.client.inboxes.drafts.list(mailboxes.sender).drafts == []
    assert [m.subject for m in sandbox.client.inboxes.messages.list(mailboxes.recipient).messages] == ["Queued"]


def test_send_from_a_paused_inbox_is_403(sandbox: Sandbox, mailboxes: Mailboxes) -> None:
    sandbox.client.inboxes.update(mailboxes.sender, status="paused")
    with raises_api_error(403, "inbox_paused"):
        sandbox.client.inboxes.messages.send(mailboxes.sender, to=[mailboxes.recipient], subject="x", text="x")


def test_deleting_an_inbox_deletes_its_mail_drafts_and_keys(sandbox: Sandbox, mailboxes: Mailboxes) -> None:
    client = sandbox.client
    sent = client.inboxes.messages.send(mailboxes.sender, to=[mailboxes.recipient], subject="Bye", text="x")
    draft = client.inboxes.drafts.create(mailboxes.sender, subject="Unsent")
    key = client.inboxes.api_keys.create(mailboxes.sender, request=CreateBearerApiKeyRequest(name="k"))
    client.inboxes.delete(mailboxes.sender)
    with raises_api_error(404, "not_found", NotFoundError):
        client.inboxes.messages.get(mailboxes.sender, sent.message_id)
    with raises_api_error(404, "not_found"):
        client.inboxes.threads.list(mailboxes.sender)
    with raises_api_error(404, "not_found", NotFoundError):
        client.threads.get(sent.thread_id)
    with raises_api_error(404, "not_found", NotFoundError):
        client.drafts.get(draft.draft_id)
    assert client.pods.threads.list(mailboxes.sender_pod).threads == []
    assert client.pods.drafts.list(mailboxes.sender_pod).drafts == []
    with raises_api_error(404, "not_found", NotFoundError):
        client.api_keys.get(key.api_key_id)
    with raises_api_error(401, "unknown_api_key"):
        sandbox.sdk(key.api_key).auth.me()
    assert [m.subject for m in client.inboxes.messages.list(mailboxes.recipient).messages] == ["Bye"]
