"""Mail between sandbox inboxes: send rules, list evaluation, threading, labels, scope, drafts."""

from __future__ import annotations

import pytest
from agentmail.drafts.types import Draft, ListDraftsResponse
from agentmail.messages.types import ListMessagesResponse, Message
from agentmail.threads.types import ListThreadsResponse, Thread
from mail_rig import Rig


@pytest.fixture
def rig() -> Rig:
    return Rig()


def _inboxes(rig: Rig) -> tuple[str, str]:
    return rig.inbox("alice"), rig.inbox("bob", rig.pod("other"))


def _messages(rig: Rig, inbox: str, **params: str) -> list[dict]:  # type: ignore[type-arg]
    page = rig.ok("GET", f"/v0/inboxes/{inbox}/messages", **params)
    ListMessagesResponse.model_validate(page)
    return list(page["messages"])


def test_send_block_entry_rejects_and_sends_nothing(rig: Rig) -> None:
    alice, bob = _inboxes(rig)
    rig.ok("POST", "/v0/lists/send/block", {"entry": "agentmail.to"})
    rig.error(rig.send(alice, to=[bob]), 403, "message_rejected")
    assert _messages(rig, alice) == [] and _messages(rig, bob) == []


def test_most_specific_list_wins_and_allow_lists_restrict(rig: Rig) -> None:
    alice, bob = _inboxes(rig)
    rig.ok("POST", "/v0/lists/send/block", {"entry": bob})
    rig.ok("POST", f"/v0/inboxes/{alice}/lists/send/allow", {"entry": bob})
    assert rig.send(alice, to=bob).status_code == 200  # inbox allow beats org block
    rig.error(rig.send(alice, to="carol@partner.example"), 403, "message_rejected")  # allow list active


def test_receive_block_labels_the_copy_and_hides_it(rig: Rig) -> None:
    alice, bob = _inboxes(rig)
    rig.ok("POST", f"/v0/inboxes/{bob}/lists/receive/block", {"entry": alice})
    rig.ok("POST", f"/v0/inboxes/{alice}/messages/send", {"to": bob, "text": "x"})
    assert _messages(rig, bob) == []
    hidden = _messages(rig, bob, include_blocked="true")
    assert "blocked" in hidden[0]["labels"]
    no_label_key = rig.key(f"/inboxes/{bob}", {"message_read": True})
    rig.error(
        rig.call("GET", f"/v0/inboxes/{bob}/messages/{hidden[0]['message_id']}", key=no_label_key), 404, "not_found"
    )


def test_paused_recipient_drops_mail_and_paused_sender_is_403(rig: Rig) -> None:
    alice, bob = _inboxes(rig)
    rig.ok("PATCH", f"/v0/inboxes/{bob}", {"status": "paused"})
    assert rig.send(alice, to=bob).status_code == 200
    assert _messages(rig, bob) == []
    rig.error(rig.send(bob, to=alice), 403, "inbox_paused")


def test_replies_join_the_thread_on_both_sides(rig: Rig) -> None:
    alice, bob = _inboxes(rig)
    sent = rig.send(alice, to=bob).json()
    received = _messages(rig, bob)[0]
    reply = rig.ok("POST", f"/v0/inboxes/{bob}/messages/{received['message_id']}/reply", {"text": "back"})
    assert reply["thread_id"] == received["thread_id"]
    thread = rig.ok("GET", f"/v0/inboxes/{alice}/threads/{sent['thread_id']}")
    Thread.model_validate(thread)
    assert thread["message_count"] == 2 and [m["from"] for m in thread["messages"]] == [alice, bob]
    got = rig.ok("GET", f"/v0/inboxes/{alice}/messages/{reply['message_id']}")
    Message.model_validate(got)
    assert (got["subject"], got["in_reply_to"]) == ("Re: hi", sent["message_id"])


def test_thread_messages_page_newest_first_each_page_oldest_first() -> None:
    rig = Rig(page_size=2)
    alice, bob = _inboxes(rig)
    first = rig.send(alice, to=bob).json()
    for text in ("two", "three"):
        rig.ok("POST", f"/v0/inboxes/{alice}/messages/{first['message_id']}/reply", {"to": bob, "text": text})
    page = rig.ok("GET", f"/v0/inboxes/{alice}/threads/{first['thread_id']}")
    assert [m["text"] for m in page["messages"]] == ["two", "three"] and page["message_count"] == 3
    older = rig.ok("GET", f"/v0/inboxes/{alice}/threads/{first['thread_id']}", page_token=page["next_page_token"])
    assert [m["text"] for m in older["messages"]] == ["hello"] and "next_page_token" not in older


def test_label_filters_accept_json_array_strings(rig: Rig) -> None:
    alice, bob = _inboxes(rig)
    rig.send(alice, to=bob, labels=["campaign"])
    threads = rig.ok("GET", "/v0/threads", labels='["sent", "campaign"]')
    ListThreadsResponse.model_validate(threads)
    assert [t["inbox_id"] for t in threads["threads"]] == [alice]


def test_inbox_key_sees_only_its_inbox_mail_and_needs_send_permission(rig: Rig) -> None:
    alice, bob = _inboxes(rig)
    rig.send(alice, to=bob)
    read_only = rig.key(f"/inboxes/{bob}", {"message_read": True})
    assert {t["inbox_id"] for t in rig.ok("GET", "/v0/threads", key=read_only)["threads"]} == {bob}
    rig.error(rig.call("GET", f"/v0/inboxes/{alice}/messages", key=read_only), 404, "not_found")
    rig.error(rig.send(bob, key=read_only, to=alice), 403, "missing_permission")


def test_reply_draft_derives_recipients_and_threads_on_send(rig: Rig) -> None:
    alice, bob = _inboxes(rig)
    sent = rig.send(alice, to=bob).json()
    received = _messages(rig, bob)[0]
    body = {"in_reply_to": received["message_id"], "text": "drafted", "client_id": "d-1"}
    draft = rig.ok("POST", f"/v0/inboxes/{bob}/drafts", body)
    Draft.model_validate(draft)
    assert (draft["to"], draft["subject"]) == ([alice], "Re: hi")
    assert rig.ok("POST", f"/v0/inboxes/{bob}/drafts", body) == draft  # client_id replay
    drafts = rig.ok("GET", "/v0/drafts")
    ListDraftsResponse.model_validate(drafts)
    assert [d["draft_id"] for d in drafts["drafts"]] == [draft["draft_id"]]
    result = rig.ok("POST", f"/v0/inboxes/{bob}/drafts/{draft['draft_id']}/send", {})
    assert result["thread_id"] == received["thread_id"]
    assert rig.ok("GET", f"/v0/inboxes/{alice}/threads/{sent['thread_id']}")["message_count"] == 2
    rig.error(rig.call("GET", f"/v0/inboxes/{bob}/drafts/{draft['draft_id']}"), 404, "not_found")


def test_draft_update_clears_with_null_and_schedules(rig: Rig) -> None:
    alice, bob = _inboxes(rig)
    draft = rig.ok("POST", f"/v0/inboxes/{alice}/drafts", {"to": [bob], "subject": "s", "text": "t"})
    updated = rig.ok(
        "PATCH",
        f"/v0/inboxes/{alice}/drafts/{draft['draft_id']}",
        {"subject": None, "send_at": "2031-01-01T00:00:00Z", "add_labels": ["later"]},
    )
    Draft.model_validate(updated)
    assert "subject" not in updated and updated["send_status"] == "scheduled" and "later" in updated["labels"]


def test_unsupported_and_malformed_sends_are_400(rig: Rig) -> None:
    alice, bob = _inboxes(rig)
    rig.error(rig.send(alice, to=bob, attachments=[{"filename": "a.txt", "content": "eA=="}]), 400, "validation_error")
    rig.error(rig.send(alice, to="not-an-address"), 400, "validation_error")
    rig.error(rig.send(alice), 400, "validation_error")


def test_deleting_the_last_message_deletes_its_thread(rig: Rig) -> None:
    alice, bob = _inboxes(rig)
    sent = rig.send(alice, to=bob).json()
    rig.ok("DELETE", f"/v0/inboxes/{alice}/messages/{sent['message_id']}")
    rig.error(rig.call("GET", f"/v0/threads/{sent['thread_id']}"), 404, "not_found")
