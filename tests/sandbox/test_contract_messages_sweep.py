"""Messages of one inbox: the body fields a read returns, relabelling, deleting, reply and
forward addressing, and the permission each route needs (SDK ``inboxes.messages``, spec §3.2).
Each test pins a line of ``sandbox/backend/messages.py`` (or ``mailbox.py``) that the mutation
sweep (``.ci/mutate.py --sweep``) found no other test depending on."""

from __future__ import annotations

from typing import Any

import pytest
from agentmail.errors import NotFoundError, ValidationError
from agentmail.inboxes import CreateInboxRequest
from agentmail.messages.types import Message
from contract_harness import ORG_KEY, Sandbox, auth, raises_api_error
from mail_helpers import OUTSIDE, key_lacking, only_received, read_message, received, tick


def _inbox(sandbox: Sandbox, username: str) -> str:
    inbox = sandbox.client.inboxes.create(request=CreateInboxRequest(username=f"msweep-{username}"))
    return str(inbox.inbox_id)


def _alice_to_bob(sandbox: Sandbox, **send: Any) -> tuple[str, str, Message]:
    """Inboxes alice and bob, and the message alice sent bob (``send``: the send's fields), as bob
    received it."""
    alice, bob = _inbox(sandbox, "alice"), _inbox(sandbox, "bob")
    sandbox.client.inboxes.messages.send(alice, to=[bob], **send)
    return alice, bob, only_received(sandbox, bob)


# ---------------------------------------------------------------------------------------------
# GET /messages/{id}: the body and its extracted forms


def test_a_read_message_carries_its_text_as_extracted_text(sandbox: Sandbox) -> None:
    """Without the ``extracted_text`` line a message read in full had none (nothing is quoted in
    a first message, so the extracted text is the whole text)."""
    alice, bob = _inbox(sandbox, "alice"), _inbox(sandbox, "bob")
    sandbox.client.inboxes.messages.send(alice, to=[bob], subject="Plain", text="Just the text")
    assert only_received(sandbox, bob).extracted_text == "Just the text"


def test_a_read_message_carries_its_html_as_extracted_html_and_no_extracted_text(sandbox: Sandbox) -> None:
    """Without the ``extracted_html`` line an HTML message had none; with the ``text`` test negated
    an HTML-only message got ``extracted_text: null`` (unset fields are omitted, spec §9.2)."""
    alice, bob, delivered = _alice_to_bob(sandbox, subject="Rich", html="<p>Only HTML</p>")
    message_id = delivered.message_id
    raw = sandbox.http.get(f"/v0/inboxes/{bob}/messages/{message_id}", headers=auth(ORG_KEY)).json()
    assert raw["extracted_html"] == "<p>Only HTML</p>"
    assert "text" not in raw and "extracted_text" not in raw


# ---------------------------------------------------------------------------------------------
# PATCH /messages/{id}: labels


def test_relabelling_a_message_adds_and_removes_labels_and_keeps_them(sandbox: Sandbox) -> None:
    """Without the relabel, its store update or its answer, PATCH returned the old labels, kept
    none of the change, or failed."""
    alice, bob, before = _alice_to_bob(sandbox, subject="Label me", text="x")
    assert "unread" in before.labels
    tick()
    answer = sandbox.client.inboxes.messages.update(
        bob, before.message_id, add_labels=["important"], remove_labels="unread"
    )
    assert answer.message_id == before.message_id
    assert "important" in answer.labels and "unread" not in answer.labels
    after = sandbox.client.inboxes.messages.get(bob, before.message_id)
    assert after.labels == answer.labels
    assert after.updated_at > before.updated_at


def test_relabelling_an_unknown_message_is_404(sandbox: Sandbox) -> None:
    """Without loading the message first, PATCH on a message that does not exist failed with a 5xx."""
    bob = _inbox(sandbox, "bob")
    with raises_api_error(404, "not_found", NotFoundError):
        sandbox.client.inboxes.messages.update(bob, "<nothing@agentmail.to>", add_labels=["x"])


def test_a_label_both_added_and_removed_is_400_and_changes_nothing(sandbox: Sandbox) -> None:
    """Without reading ``add_labels`` / ``remove_labels`` the contradiction went unnoticed."""
    alice, bob, before = _alice_to_bob(sandbox, subject="Both", text="x")
    with raises_api_error(400, "validation_error", ValidationError):
        sandbox.client.inboxes.messages.update(bob, before.message_id, add_labels=["x"], remove_labels=["x"])
    assert sandbox.client.inboxes.messages.get(bob, before.message_id).labels == before.labels


# ---------------------------------------------------------------------------------------------
# DELETE /messages/{id}: the thread goes only with its last message


def test_deleting_one_message_of_a_thread_keeps_the_thread_with_the_rest(sandbox: Sandbox) -> None:
    """With the "last message?" test negated, deleting any message deleted its whole thread."""
    alice, bob = _inbox(sandbox, "alice"), _inbox(sandbox, "bob")
    messages = sandbox.client.inboxes.messages
    first = messages.send(alice, to=[bob], subject="Two", text="one")
    second = messages.reply(alice, first.message_id, text="two")
    messages.delete(alice, first.message_id)
    thread = sandbox.client.inboxes.threads.get(alice, first.thread_id)
    assert thread.message_count == 1 and [m.message_id for m in thread.messages] == [second.message_id]


def test_deleting_a_threads_last_message_leaves_no_empty_thread_in_the_listing(sandbox: Sandbox) -> None:
    """Without deleting the emptied thread it stayed behind unseen: a one-per-page listing then
    answered an empty first page (with a token) before the thread that is still there."""
    alice = _inbox(sandbox, "alice")
    messages = sandbox.client.inboxes.messages
    kept = messages.send(alice, to=[OUTSIDE], subject="Kept", text="x")
    gone = messages.send(alice, to=[OUTSIDE], subject="Gone", text="x")
    messages.delete(alice, gone.message_id)
    page = sandbox.client.inboxes.threads.list(alice, limit=1)
    assert [t.thread_id for t in page.threads] == [kept.thread_id]
    assert page.next_page_token is None


# ---------------------------------------------------------------------------------------------
# Permissions (spec §3.2): each message route refuses a key lacking its flag, and changes nothing


def test_reading_a_message_needs_message_read(sandbox: Sandbox) -> None:
    """Without the check on GET /messages/{id}, a key without ``message_read`` could read mail
    (only the list route was checked)."""
    alice, bob, delivered = _alice_to_bob(sandbox, subject="Secret", text="x")
    message_id = delivered.message_id
    key = sandbox.sdk(key_lacking(sandbox, "message_read"))
    with raises_api_error(403, "missing_permission"):
        key.inboxes.messages.get(bob, message_id)


def test_relabelling_a_message_needs_message_update(sandbox: Sandbox) -> None:
    """Without the check a key without ``message_update`` could change labels."""
    alice, bob, before = _alice_to_bob(sandbox, subject="Keep", text="x")
    key = sandbox.sdk(key_lacking(sandbox, "message_update"))
    with raises_api_error(403, "missing_permission"):
        key.inboxes.messages.update(bob, before.message_id, add_labels=["flagged"])
    assert sandbox.client.inboxes.messages.get(bob, before.message_id).labels == before.labels


def test_deleting_a_message_needs_message_delete(sandbox: Sandbox) -> None:
    """Without the check a key without ``message_delete`` could delete mail."""
    alice, bob, delivered = _alice_to_bob(sandbox, subject="Stay", text="x")
    message_id = delivered.message_id
    key = sandbox.sdk(key_lacking(sandbox, "message_delete"))
    with raises_api_error(403, "missing_permission"):
        key.inboxes.messages.delete(bob, message_id)
    assert sandbox.client.inboxes.messages.get(bob, message_id).message_id == message_id


def test_forwarding_a_message_needs_message_send(sandbox: Sandbox) -> None:
    """Without the check a key without ``message_send`` could forward mail."""
    alice, bob, delivered = _alice_to_bob(sandbox, subject="Pass on", text="x")
    message_id = delivered.message_id
    key = sandbox.sdk(key_lacking(sandbox, "message_send"))
    with raises_api_error(403, "missing_permission"):
        key.inboxes.messages.forward(bob, message_id, to=[OUTSIDE])
    assert sandbox.client.inboxes.messages.list(bob, labels=["sent"]).messages == []


@pytest.mark.parametrize("route", ["reply", "reply_all"])
def test_replying_needs_a_send_permission(sandbox: Sandbox, route: str) -> None:
    """Without the check on reply / reply-all a key with neither ``message_send`` nor
    ``message_reply`` could reply (a bearer key needs ``message_send``: see the tests below)."""
    alice, bob, delivered = _alice_to_bob(sandbox, subject="Answer me", text="x")
    message_id = delivered.message_id
    key = sandbox.sdk(key_lacking(sandbox, "message_send", "message_reply"))
    with raises_api_error(403, "missing_permission"):
        getattr(key.inboxes.messages, route)(bob, message_id, text="no")
    assert received(sandbox, alice) == []


@pytest.mark.parametrize("route", ["reply", "reply_all"])
def test_a_bearer_key_replies_with_message_send(sandbox: Sandbox, route: str) -> None:
    """SDK ``ApiKeyPermissions.message_reply``: "Reply and reply-all when the request is signed
    with a registered public key. Bearer keys reply with `message_send`"."""
    alice, bob, delivered = _alice_to_bob(sandbox, subject="Answer me", text="x")
    message_id = delivered.message_id
    key = sandbox.sdk(key_lacking(sandbox, "message_reply"))
    getattr(key.inboxes.messages, route)(bob, message_id, text="yes")
    assert [m.text for m in received(sandbox, alice)] == ["yes"]


@pytest.mark.parametrize("route", ["reply", "reply_all"])
def test_a_bearer_key_without_message_send_cannot_reply(sandbox: Sandbox, route: str) -> None:
    """The other half: ``message_reply`` alone is for signed requests, not for a bearer key (the
    sandbox asked bearer keys for ``message_reply``)."""
    alice, bob, delivered = _alice_to_bob(sandbox, subject="Answer me", text="x")
    message_id = delivered.message_id
    key = sandbox.sdk(key_lacking(sandbox, "message_send"))
    with raises_api_error(403, "missing_permission"):
        getattr(key.inboxes.messages, route)(bob, message_id, text="no")


# ---------------------------------------------------------------------------------------------
# Reply addressing and threading headers


def test_a_reply_to_a_message_without_subject_gets_a_re_subject(sandbox: Sandbox) -> None:
    """Without defaulting the missing subject to "", prefixing it failed with a 5xx."""
    alice, bob, original = _alice_to_bob(sandbox, text="no subject")
    assert original.subject is None
    sandbox.client.inboxes.messages.reply(bob, original.message_id, text="answer")
    reply = only_received(sandbox, alice)
    assert (reply.subject or "").lower().startswith("re:")
    assert reply.thread_id == sandbox.client.inboxes.messages.list(alice, labels=["sent"]).messages[0].thread_id


def test_a_reply_to_a_message_the_inbox_sent_goes_to_its_recipients(sandbox: Sandbox) -> None:
    """Without the sent-message branch's ``to`` (or ``cc``) a reply to one's own sent mail failed
    with a 5xx; it must go to the original recipients, not back to the sender."""
    alice, bob = _inbox(sandbox, "alice"), _inbox(sandbox, "bob")
    sent = sandbox.client.inboxes.messages.send(alice, to=[bob], subject="Follow-up", text="first")
    reply = sandbox.client.inboxes.messages.reply(alice, sent.message_id, text="second")
    assert read_message(sandbox, alice, reply.message_id).to == [bob]
    assert [m.text for m in received(sandbox, bob)] == ["first", "second"]


def test_a_reply_all_to_a_message_the_inbox_sent_keeps_its_cc(sandbox: Sandbox) -> None:
    """Without the sent-message branch's ``cc`` the copied recipients were dropped (or the reply failed)."""
    alice, bob = _inbox(sandbox, "alice"), _inbox(sandbox, "bob")
    sent = sandbox.client.inboxes.messages.send(alice, to=[bob], cc=[OUTSIDE], subject="Team", text="x")
    reply = sandbox.client.inboxes.messages.reply_all(alice, sent.message_id, text="y")
    again = read_message(sandbox, alice, reply.message_id)
    assert (again.to, again.cc) == ([bob], [OUTSIDE])


def test_a_reply_to_mail_sent_to_oneself_does_not_address_oneself(sandbox: Sandbox) -> None:
    """Without dropping the replying inbox from ``to``, replying to a message one sent to oneself
    and others sent oneself another copy."""
    alice, bob = _inbox(sandbox, "alice"), _inbox(sandbox, "bob")
    sent = sandbox.client.inboxes.messages.send(alice, to=[alice, bob], subject="Note", text="x")
    reply = sandbox.client.inboxes.messages.reply(alice, sent.message_id, text="y")
    assert read_message(sandbox, alice, reply.message_id).to == [bob]
    assert [m.message_id for m in received(sandbox, alice)] == [sent.message_id]


def test_a_reply_all_copies_everyone_else_but_not_the_replying_inbox(sandbox: Sandbox) -> None:
    """Without filtering ``cc`` the replying inbox copied itself on its own reply-all."""
    alice, bob, carol = _inbox(sandbox, "alice"), _inbox(sandbox, "bob"), _inbox(sandbox, "carol")
    sandbox.client.inboxes.messages.send(carol, to=[alice, bob], cc=[OUTSIDE], subject="All", text="x")
    original = only_received(sandbox, alice)
    reply = sandbox.client.inboxes.messages.reply_all(alice, original.message_id, text="y")
    sent = read_message(sandbox, alice, reply.message_id)
    assert (sent.to, sorted(sent.cc or [])) == ([carol], sorted([bob, OUTSIDE]))
    assert [m.message_id for m in received(sandbox, alice)] == [original.message_id]


def test_reply_with_reply_all_true_copies_everyone(sandbox: Sandbox) -> None:
    """Without reading the body's ``reply_all`` flag, /reply with it answered the sender only."""
    alice, bob, carol = _inbox(sandbox, "alice"), _inbox(sandbox, "bob"), _inbox(sandbox, "carol")
    sandbox.client.inboxes.messages.send(carol, to=[alice, bob], subject="All", text="x")
    original = only_received(sandbox, alice)
    reply = sandbox.client.inboxes.messages.reply(alice, original.message_id, text="y", reply_all=True)
    sent = read_message(sandbox, alice, reply.message_id)
    assert (sent.to, sent.cc) == ([carol], [bob])
    assert [m.text for m in received(sandbox, bob)] == ["x", "y"]


def test_a_reply_references_every_message_before_it(sandbox: Sandbox) -> None:
    """Without ``references`` a reply named only the message it answers (``in_reply_to``), so a
    reply to a reply lost the thread's earlier messages (RFC 5322 §3.6.4)."""
    alice, bob = _inbox(sandbox, "alice"), _inbox(sandbox, "bob")
    messages = sandbox.client.inboxes.messages
    first = messages.send(alice, to=[bob], subject="Chain", text="1")
    second = messages.reply(bob, only_received(sandbox, bob).message_id, text="2")
    third = messages.reply(alice, second.message_id, text="3")
    assert read_message(sandbox, bob, second.message_id).references == [first.message_id]
    assert read_message(sandbox, alice, third.message_id).references == [first.message_id, second.message_id]


# ---------------------------------------------------------------------------------------------
# Forward


def test_a_forward_without_subject_takes_the_original_subject_marked_fwd(sandbox: Sandbox) -> None:
    """Without the default subject a forward without one went out with none."""
    alice, bob, original = _alice_to_bob(sandbox, subject="Quarterly numbers", text="x")
    forwarded = sandbox.client.inboxes.messages.forward(bob, original.message_id, to=[OUTSIDE])
    subject = read_message(sandbox, bob, forwarded.message_id).subject or ""
    assert subject.lower().startswith("fwd:") and subject.endswith("Quarterly numbers")
    explicit = sandbox.client.inboxes.messages.forward(bob, original.message_id, to=[OUTSIDE], subject="See below")
    assert read_message(sandbox, bob, explicit.message_id).subject == "See below"


def test_a_forward_carries_the_original_text_after_the_given_text(sandbox: Sandbox) -> None:
    """Without appending the quoted original a forward carried only the forwarder's note (or no
    text at all)."""
    alice, bob, original = _alice_to_bob(sandbox, subject="Facts", text="The original body")
    noted = sandbox.client.inboxes.messages.forward(bob, original.message_id, to=[OUTSIDE], text="FYI")
    text = read_message(sandbox, bob, noted.message_id).text or ""
    assert text.startswith("FYI") and "The original body" in text
    bare = sandbox.client.inboxes.messages.forward(bob, original.message_id, to=[OUTSIDE])
    assert "The original body" in (read_message(sandbox, bob, bare.message_id).text or "")


# ---------------------------------------------------------------------------------------------
# Bodies refused before anything is sent (``mailbox.py``: addresses, labels)


def test_a_recipient_that_is_not_a_string_is_400_and_sends_nothing(sandbox: Sandbox) -> None:
    """Without the type check on ``Addresses`` a number among the recipients failed with a 5xx."""
    alice = _inbox(sandbox, "alice")
    for to in (42, [OUTSIDE, 7]):
        response = sandbox.http.post(
            f"/v0/inboxes/{alice}/messages/send", json={"to": to, "text": "x"}, headers=auth(ORG_KEY)
        )
        body = response.json()
        assert (response.status_code, body["code"], body["errors"][0]["path"]) == (400, "validation_error", "to")
    assert sandbox.client.inboxes.messages.list(alice).messages == []


def test_a_label_that_is_not_a_string_is_400_and_changes_nothing(sandbox: Sandbox) -> None:
    """Without the check on ``UpdateMessageLabels`` a number was stored as a label."""
    alice, bob, before = _alice_to_bob(sandbox, subject="Typed", text="x")
    path = f"/v0/inboxes/{bob}/messages/{before.message_id}"
    response = sandbox.http.patch(path, json={"add_labels": [5]}, headers=auth(ORG_KEY))
    body = response.json()
    assert (response.status_code, body["code"], body["errors"][0]["path"]) == (400, "validation_error", "add_labels")
    assert sandbox.client.inboxes.messages.get(bob, before.message_id).labels == before.labels


def test_a_message_item_previews_its_text(sandbox: Sandbox) -> None:
    """Without the preview's ``return`` no message carried a ``preview``."""
    alice, bob = _inbox(sandbox, "alice"), _inbox(sandbox, "bob")
    sandbox.client.inboxes.messages.send(alice, to=[bob], subject="Peek", text="A short note")
    (item,) = sandbox.client.inboxes.messages.list(bob).messages
    assert item.preview == "A short note"


# ---------------------------------------------------------------------------------------------
# List filters (``mailbox.list_filter``): before / after and the substring filters


def test_before_and_after_split_the_messages_at_a_moment_between_them(sandbox: Sandbox) -> None:
    """Without the timestamp read (or its ``return False``) a ``before`` / ``after`` filter failed
    with a 5xx or filtered nothing."""
    alice = _inbox(sandbox, "alice")
    messages = sandbox.client.inboxes.messages
    first = messages.send(alice, to=[OUTSIDE], subject="Early", text="x")
    tick()
    second = messages.send(alice, to=[OUTSIDE], subject="Late", text="x")
    early, late = (read_message(sandbox, alice, s.message_id).timestamp for s in (first, second))
    assert early < late
    between = early + (late - early) / 2
    assert [m.message_id for m in messages.list(alice, before=between).messages] == [first.message_id]
    assert [m.message_id for m in messages.list(alice, after=between).messages] == [second.message_id]


def test_substring_filters_keep_only_matching_messages_ignoring_case(sandbox: Sandbox) -> None:
    """Without the haystack (or the filter's ``return False``) a ``subject`` / ``from`` / ``to``
    filter failed with a 5xx or filtered nothing."""
    alice, bob, carol = _inbox(sandbox, "alice"), _inbox(sandbox, "bob"), _inbox(sandbox, "carol")
    messages = sandbox.client.inboxes.messages
    messages.send(alice, to=[carol], subject="Invoice 42", text="x")
    messages.send(bob, to=[OUTSIDE], cc=[carol], subject="Lunch", text="x")

    def subjects(**filters: list[str]) -> list[str | None]:
        return [m.subject for m in messages.list(carol, **filters).messages]

    assert subjects(subject=["INVOICE"]) == ["Invoice 42"]
    assert subjects(from_=["msweep-bob"]) == ["Lunch"]
    assert subjects(to=["partner.example"]) == ["Lunch"]  # cc counts as a recipient
    assert subjects(subject=["nothing like it"]) == []


def test_every_value_of_a_repeated_substring_filter_must_match(sandbox: Sandbox) -> None:
    """SDK ``messages.list`` (and ``threads.list``): "Repeatable; all values must match"."""
    alice = _inbox(sandbox, "alice")
    messages = sandbox.client.inboxes.messages
    for subject in ("alpha", "beta", "alpha beta"):
        messages.send(alice, to=[OUTSIDE], subject=subject, text="x")
    assert [m.subject for m in messages.list(alice, subject=["alpha", "beta"]).messages] == ["alpha beta"]


def test_the_to_filter_also_matches_bcc_recipients(sandbox: Sandbox) -> None:
    """SDK ``messages.list``: ``to`` filters on "recipients (to, cc, or bcc)"; the sender's copy
    of a message keeps its ``bcc``."""
    alice = _inbox(sandbox, "alice")
    sent = sandbox.client.inboxes.messages.send(alice, to=[OUTSIDE], bcc=["hidden@partner.example"], text="x")
    found = sandbox.client.inboxes.messages.list(alice, to=["hidden@"]).messages
    assert [m.message_id for m in found] == [sent.message_id]


def test_a_page_token_is_refused_under_other_filters(sandbox: Sandbox) -> None:
    """Without binding the token to the query's filters, a token issued for one filter paged
    another listing from the wrong place (spec §4: send it back with the same filters)."""
    alice = _inbox(sandbox, "alice")
    messages = sandbox.client.inboxes.messages
    for subject in ("one", "two", "three"):
        messages.send(alice, to=[OUTSIDE], subject=subject, text="x")
    token = messages.list(alice, labels=["sent"], limit=1).next_page_token
    assert token is not None
    with raises_api_error(400, "validation_error"):
        messages.list(alice, labels=["sent"], subject=["t"], limit=1, page_token=token)
    assert messages.list(alice, labels=["sent"], limit=1, page_token=token).count == 1


def test_message_search_is_not_emulated_and_answers_404(sandbox: Sandbox) -> None:
    """Without the ``raise`` the search and batch routes answered with a 5xx; the sandbox does not
    emulate them and says so with a 404 the SDK maps to ``NotFoundError``."""
    alice = _inbox(sandbox, "alice")
    with raises_api_error(404, "not_found", NotFoundError):
        sandbox.client.inboxes.messages.search(alice, q="anything")
