"""Helpers the mail contract tests share: received mail read in full, and keys lacking a permission."""

from __future__ import annotations

import time

from agentmail import ApiKeyPermissions, CreateBearerApiKeyRequest
from agentmail.messages.types import Message
from contract_harness import Sandbox

OPT_IN = {"agent_armor_release", "app_connect"}  # §3.2: never held unless granted
OUTSIDE = "dave@partner.example"  # not a sandbox domain: accepted, delivered nowhere


def received(sandbox: Sandbox, inbox: str) -> list[Message]:
    """Every message ``inbox`` received, oldest first, read in full."""
    items = sandbox.client.inboxes.messages.list(inbox, labels=["received"], ascending=True).messages
    return [sandbox.client.inboxes.messages.get(inbox, m.message_id) for m in items]


def only_received(sandbox: Sandbox, inbox: str) -> Message:
    (message,) = received(sandbox, inbox)
    return message


def read_message(sandbox: Sandbox, inbox: str, message_id: str) -> Message:
    """One message of ``inbox``, read in full."""
    read: Message = sandbox.client.inboxes.messages.get(inbox, message_id)
    return read


def key_lacking(sandbox: Sandbox, *flags: str) -> str:
    """An organisation key holding every permission but ``flags`` (and the opt-in ones), so a
    refusal can only come from the check for one of ``flags``."""
    granted = {f: True for f in ApiKeyPermissions.model_fields if f not in OPT_IN and f not in flags}
    request = CreateBearerApiKeyRequest(name=f"lacks-{'-'.join(flags)}", permissions=ApiKeyPermissions(**granted))
    return str(sandbox.client.api_keys.create(request=request).api_key)


def tick() -> None:
    """Timestamps have millisecond precision: let one pass so a bumped ``updated_at`` differs."""
    time.sleep(0.005)
