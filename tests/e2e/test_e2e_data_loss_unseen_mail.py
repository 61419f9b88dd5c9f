"""The data-loss gate with a key that cannot see all mail: a key whose permissions leave out the
`label_*_read` flags is not shown mail labelled trash, spam, blocked or unauthenticated, and the
API does not say so (agentmail-api.md §3.2). Counted with such a key, an inbox whose only mail is
in the trash read as empty, and apply deleted it, mail and all, without --allow-data-loss."""

from __future__ import annotations

from typing import Any

import pytest
from agentmail.api_keys import ApiKeyPermissions, CreateBearerApiKeyRequest

BOX = "spam-box@agentmail.to"
LABEL_READS = {f"label_{label}_read" for label in ("trash", "spam", "blocked", "unauthenticated")}


def restricted_key(sandbox: Any, without: set[str]) -> str:
    opt_in = {"agent_armor_release", "app_connect"}  # not held by an unrestricted key either
    every = {name: True for name in ApiKeyPermissions.model_fields if name not in without | opt_in}
    request = CreateBearerApiKeyRequest(name="restricted", permissions=ApiKeyPermissions(**every))
    return str(sandbox.sdk().api_keys.create(request=request).api_key)


@pytest.fixture
def trashed(mailctl: Any, sandbox: Any, write_config: Any) -> Any:
    """An inbox whose only mail is in the trash, and a config that no longer declares its pod."""
    config = {"version": 1, "manage": {"pods": {"client_id_prefix": "spam-"}}}
    mailctl.apply(write_config({**config, "pods": {"spam-t": {"name": "SpamT", "inboxes": {BOX: {}}}}}))
    sdk = sandbox.sdk()
    sent = sdk.inboxes.messages.send(BOX, to=BOX, subject="s", text="hello")
    sdk.inboxes.messages.update(BOX, sent.message_id, add_labels=["trash"])
    return write_config(config)


def test_a_key_that_cannot_see_trashed_mail_is_refused_the_inbox_delete(mailctl: Any, sandbox: Any, trashed: Any):
    key = restricted_key(sandbox, without=LABEL_READS)
    plan = mailctl("plan", "-f", trashed, "--json", key=key)
    assert plan.exit_code == 0, plan.output
    [refusal] = plan.json()["refusals"]
    assert refusal["rule"] == "data_loss" and refusal["lifted_by"] == "--allow-data-loss"
    assert f"pod/spam-t/inbox/{BOX}" in refusal["addresses"]
    assert "label_trash_read" in refusal["message"]
    run = mailctl("apply", "-f", trashed, "--auto-approve", key=key)
    assert run.exit_code == 1, run.output
    assert BOX in [i.inbox_id for i in sandbox.sdk().inboxes.list().inboxes]


def test_the_flag_lifts_it(mailctl: Any, sandbox: Any, trashed: Any):
    key = restricted_key(sandbox, without=LABEL_READS)
    run = mailctl("apply", "-f", trashed, "--auto-approve", "--allow-data-loss", key=key)
    assert run.exit_code == 0, run.output
    assert BOX not in [i.inbox_id for i in sandbox.sdk().inboxes.list().inboxes]


def test_a_key_that_sees_every_label_counts_the_trashed_mail(mailctl: Any, sandbox: Any, trashed: Any):
    key = restricted_key(sandbox, without=set())
    [refusal] = mailctl("plan", "-f", trashed, "--json", key=key).json()["refusals"]
    assert "1 threads, 1 messages" in refusal["message"] and "label_" not in refusal["message"]
