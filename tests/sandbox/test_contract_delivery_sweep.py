"""Delivery between sandbox inboxes: who gets a copy and what it carries, which list decides a
copy is ``blocked``, and which addresses bounce (SDK ``inboxes.messages``, spec §7.2, §7.6). Each
test pins a line of ``sandbox/backend/delivery.py`` that a hand-made expression mutation (beyond
``.ci/mutate.py --sweep``, which found only an equivalent survivor) showed no other test needed."""

from __future__ import annotations

from agentmail.inboxes import CreateInboxRequest
from agentmail.lists.types import ListEntry
from agentmail.messages.types import ListMessagesResponse
from contract_harness import ORG_KEY, Sandbox, auth
from mail_helpers import only_received


def _inbox(sandbox: Sandbox, username: str, display_name: str | None = None) -> str:
    request = CreateInboxRequest(username=f"dsweep-{username}", display_name=display_name)
    return str(sandbox.client.inboxes.create(request=request).inbox_id)


def _messages(sandbox: Sandbox, inbox: str, **params: str) -> ListMessagesResponse:
    """``GET /v0/inboxes/{inbox}/messages``, read raw and validated with the SDK model."""
    raw = sandbox.http.get(f"/v0/inboxes/{inbox}/messages", params=params, headers=auth(ORG_KEY)).json()
    return ListMessagesResponse.model_validate(raw)


def test_a_recipient_copy_never_shows_the_bcc_list(sandbox: Sandbox) -> None:
    """Pins ``{**fields, "bcc": []}`` in ``send``: without it every recipient's copy carried the
    sender's ``bcc`` list, so a To recipient learnt who was blind-copied (and the Bcc recipient
    saw itself listed), while the sender's own copy keeps it."""
    alice, bob, carol = _inbox(sandbox, "alice"), _inbox(sandbox, "bob"), _inbox(sandbox, "carol")
    sandbox.client.inboxes.messages.send(alice, to=[bob], bcc=[carol], subject="Quiet", text="x")
    for recipient in (bob, carol):
        assert not only_received(sandbox, recipient).bcc
    (sent,) = _messages(sandbox, alice, labels='["sent"]').messages
    assert sandbox.client.inboxes.messages.get(alice, sent.message_id).bcc == [carol]


def test_an_address_named_twice_gets_one_copy(sandbox: Sandbox) -> None:
    """Pins the de-duplication ``list(dict.fromkeys(...))`` of the recipients in ``send``: without
    it an address in both ``to`` and ``cc`` (in another case) was delivered to twice: the second
    copy of the same message into the same inbox broke the send."""
    alice, bob = _inbox(sandbox, "alice"), _inbox(sandbox, "bob")
    sandbox.client.inboxes.messages.send(alice, to=[bob], cc=[bob.upper()], subject="Once", text="x")
    assert only_received(sandbox, bob).subject == "Once"


def test_mail_to_a_registered_domain_without_the_inbox_bounces(sandbox: Sandbox) -> None:
    """Pins ``tx.get(DOMAIN, domain) is not None`` in ``_hosted``: without it only ``agentmail.to``
    was sandbox-hosted, so mail to a missing inbox on a domain registered in the sandbox was
    silently dropped instead of bouncing into a ``read_only`` send block entry (spec §7.6)."""
    sandbox.client.domains.create(domain="dsweep-hosted.example")
    alice = _inbox(sandbox, "alice")
    sandbox.client.inboxes.messages.send(alice, to=["nobody@dsweep-hosted.example"], text="x")
    raw = sandbox.http.get("/v0/lists/send/block/nobody@dsweep-hosted.example", headers=auth(ORG_KEY)).json()
    entry = ListEntry.model_validate(raw)
    assert (entry.entry, entry.read_only, entry.reason) == ("nobody@dsweep-hosted.example", True, "bounced")


def test_a_reply_to_mail_the_recipient_only_received_is_checked_against_receive_lists(sandbox: Sandbox) -> None:
    """Pins ``"sent" in replied.body["labels"]`` in ``_deliver``: a reply counts as one (reply
    lists) only for the inbox that *sent* the replied-to message (spec §7.6: "a reply to earlier
    outbound mail"). Without it a co-recipient, who only received the original, judged carol's
    reply-all by its (empty, allow-all) reply lists, so carol's receive block entry was ignored."""
    alice, bob, carol = _inbox(sandbox, "alice"), _inbox(sandbox, "bob"), _inbox(sandbox, "carol")
    sandbox.client.inboxes.lists.create(bob, "receive", "block", entry=carol)
    sandbox.client.inboxes.messages.send(alice, to=[bob, carol], subject="Plan", text="x")
    original = only_received(sandbox, carol)
    sandbox.client.inboxes.messages.reply_all(carol, original.message_id, text="agreed")
    (reply,) = _messages(sandbox, bob, labels='["blocked"]', include_blocked="true").messages
    assert reply.from_ == carol and "blocked" in reply.labels
    assert "blocked" not in only_received(sandbox, alice).labels  # alice sent it: reply lists


def test_a_sender_with_a_display_name_is_matched_by_its_bare_address(sandbox: Sandbox) -> None:
    """Pins ``bare(fields["from"])`` in ``_deliver``: without it the list lookup got the whole
    ``"Alice <alice@...>"`` of a sender with a display name, so a receive block entry for the
    address never matched and the copy was delivered unblocked."""
    alice, bob = _inbox(sandbox, "alice", display_name="Alice Example"), _inbox(sandbox, "bob")
    sandbox.client.inboxes.lists.create(bob, "receive", "block", entry=alice)
    sandbox.client.inboxes.messages.send(alice, to=[bob], subject="Hi", text="x")
    (copy,) = _messages(sandbox, bob, include_blocked="true").messages
    assert "blocked" in copy.labels
