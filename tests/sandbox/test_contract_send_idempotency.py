"""Issue 10: `Idempotency-Key` on every send route (send, reply, reply-all, forward, draft send),
through the SDK's own `idempotency_key` argument: the same key and request replays the
original response and sends nothing; the same key with another request is 409 `conflict`; an
empty or malformed key is 400."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from agentmail.errors import ConflictError
from contract_harness import NO_RETRY, ORG_KEY, Sandbox, auth, raises_api_error


@pytest.fixture
def inboxes(sandbox: Sandbox) -> tuple[str, str, str]:
    """(sender, recipient, id of a message the sender received from the recipient)."""
    create = sandbox.client.inboxes.create
    sender = create(request={"username": "sender"}).inbox_id  # type: ignore[arg-type]
    recipient = create(request={"username": "recipient"}).inbox_id  # type: ignore[arg-type]
    sandbox.client.inboxes.messages.send(recipient, to=[sender], subject="Hi", text="first")
    (received,) = sandbox.client.inboxes.messages.list(sender, labels=["received"]).messages
    return sender, recipient, received.message_id


Send = Callable[..., Any]


def _routes(sandbox: Sandbox, inboxes: tuple[str, str, str]) -> dict[str, Send]:
    sender, recipient, message_id = inboxes
    messages, drafts = sandbox.client.inboxes.messages, sandbox.client.inboxes.drafts

    made: dict[str, str] = {}  # text -> draft id: a retried draft send names the same (sent) draft

    def draft_send(text: str, **options: Any) -> Any:
        if text not in made:
            made[text] = drafts.create(sender, to=[recipient], subject="Draft", text=text).draft_id
        return drafts.send(sender, made[text], **options)

    return {
        "send": lambda text, **o: messages.send(sender, to=[recipient], subject="S", text=text, **o),
        "reply": lambda text, **o: messages.reply(sender, message_id, text=text, **o),
        "reply-all": lambda text, **o: messages.reply_all(sender, message_id, text=text, **o),
        "forward": lambda text, **o: messages.forward(sender, message_id, to=[recipient], text=text, **o),
        "draft send": draft_send,
    }


def _sent_count(sandbox: Sandbox, inbox: str) -> int:
    return sandbox.client.inboxes.messages.list(inbox, labels=["sent"]).count


ROUTES = ["send", "reply", "reply-all", "forward", "draft send"]


@pytest.mark.parametrize("route", ROUTES)
def test_the_same_key_and_request_replays_the_original_and_sends_nothing(
    sandbox: Sandbox, inboxes: tuple[str, str, str], route: str
) -> None:
    send = _routes(sandbox, inboxes)[route]
    first = send("once", idempotency_key=f"key-{route.replace(' ', '-')}")
    sent = _sent_count(sandbox, inboxes[0])
    again = send("once", idempotency_key=f"key-{route.replace(' ', '-')}")
    assert (again.message_id, again.thread_id) == (first.message_id, first.thread_id)
    assert _sent_count(sandbox, inboxes[0]) == sent


@pytest.mark.parametrize("route", ROUTES)
def test_the_same_key_with_another_request_is_409_conflict(
    sandbox: Sandbox, inboxes: tuple[str, str, str], route: str
) -> None:
    send = _routes(sandbox, inboxes)[route]
    send("one body", idempotency_key="shared-key")
    sent = _sent_count(sandbox, inboxes[0])
    with raises_api_error(409, "conflict", ConflictError):
        send("another body", idempotency_key="shared-key", request_options=NO_RETRY)
    assert _sent_count(sandbox, inboxes[0]) == sent


@pytest.mark.parametrize("bad", ["", "has space", "a/b:c", "x" * 257])
def test_an_empty_or_malformed_key_is_400(sandbox: Sandbox, inboxes: tuple[str, str, str], bad: str) -> None:
    sent = _sent_count(sandbox, inboxes[0])
    response = sandbox.http.post(
        f"/v0/inboxes/{inboxes[0]}/messages/send",
        headers={**auth(ORG_KEY), "Idempotency-Key": bad.encode()},
        json={"to": [inboxes[1]], "text": "x"},
    )
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert _sent_count(sandbox, inboxes[0]) == sent


def test_an_empty_key_through_the_sdk_is_400(sandbox: Sandbox, inboxes: tuple[str, str, str]) -> None:
    with raises_api_error(400, "validation_error"):
        _routes(sandbox, inboxes)["send"]("x", idempotency_key="")


def test_without_a_key_every_send_sends(sandbox: Sandbox, inboxes: tuple[str, str, str]) -> None:
    send = _routes(sandbox, inboxes)["send"]
    first, second = send("same"), send("same")
    assert first.message_id != second.message_id


def test_keys_are_per_organisation(sandbox: Sandbox, inboxes: tuple[str, str, str]) -> None:
    other = sandbox.sdk(sandbox.new_organization())
    theirs = other.inboxes.create(request={"username": "theirs"}).inbox_id  # type: ignore[arg-type]
    _routes(sandbox, inboxes)["send"]("ours", idempotency_key="common")
    sent = other.inboxes.messages.send(theirs, to=[inboxes[0]], text="theirs", idempotency_key="common")
    assert sent.message_id
