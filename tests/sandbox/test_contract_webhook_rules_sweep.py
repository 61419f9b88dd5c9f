"""Webhook body rules: which label permission each label event needs (spec §3.2, §7.5: the spam,
blocked and unauthenticated events are never implied and need the matching ``label_*_read``) and
which delivery header names are valid HTTP tokens. Each test pins a line of
``sandbox/backend/webhook_rules.py`` that a hand-made mutation (beyond ``.ci/mutate.py --sweep``,
which found only an equivalent survivor) showed no other test needed."""

from __future__ import annotations

import pytest
from agentmail.webhooks import Webhook
from contract_harness import ORG_KEY, Sandbox, auth
from mail_helpers import key_lacking

URL = "https://hooks.example/labels"
LABEL_EVENTS = {
    "message.received.spam": "label_spam_read",
    "message.received.blocked": "label_blocked_read",
    "message.received.unauthenticated": "label_unauthenticated_read",
}


@pytest.mark.parametrize(("event", "flag"), list(LABEL_EVENTS.items()))
def test_each_label_event_needs_its_own_label_permission(sandbox: Sandbox, event: str, flag: str) -> None:
    """Pins the ``LABEL_EVENTS`` mapping: with ``message.received.blocked`` (or ``.unauthenticated``)
    mapped to ``label_spam_read``, a key holding the spam flag but not ``label_blocked_read`` (or
    ``label_unauthenticated_read``) could subscribe to blocked (unauthenticated) mail. A key lacking
    only ``flag`` is refused exactly the event that needs it, and may subscribe to the other two."""
    key = key_lacking(sandbox, flag)
    refused = sandbox.http.post("/v0/webhooks", json={"url": URL, "event_types": [event]}, headers=auth(key))
    body = refused.json()
    assert (refused.status_code, body["code"]) == (403, "missing_permission"), body
    assert flag in body["message"]
    others = [e for e in LABEL_EVENTS if e != event]
    created = sandbox.http.post("/v0/webhooks", json={"url": URL, "event_types": others}, headers=auth(key))
    assert created.status_code == 200, created.text
    assert Webhook.model_validate(created.json()).event_types == others


@pytest.mark.parametrize("name", ["X-Bad:Name", "X(Paren)", "X-Bad/Slash", "X-Émoji", "X@Host", 'X-"Quoted"'])
def test_a_header_name_outside_the_http_token_characters_is_400(sandbox: Sandbox, name: str) -> None:
    """Pins the token character class of ``_HEADER_NAME`` (RFC 9110 ``tchar``): a separator such
    as ``:`` in a name would split the delivered header into another name and value. Any
    character added to the class let that name through (the corpus only tries a space)."""
    body = {"url": URL, "event_types": ["message.received"], "headers": {name: "v"}}
    refused = sandbox.http.post("/v0/webhooks", json=body, headers=auth(ORG_KEY))
    answer = refused.json()
    assert (refused.status_code, answer["code"]) == (400, "validation_error"), answer
    assert answer["errors"][0]["path"] == f"headers.{name}"
    assert sandbox.client.webhooks.list().webhooks == []


def test_an_id_added_twice_in_one_update_is_subscribed_once(sandbox: Sandbox) -> None:
    """Pins ``dict.fromkeys(add or [])`` in ``apply_id_changes``: without it an id listed twice in
    one ``add_pod_ids`` / ``add_inbox_ids`` was stored twice (subscriptions are a set, spec §7.5)."""
    first, second = (sandbox.client.pods.create(name=f"wsweep-{n}").pod_id for n in ("first", "second"))
    inbox = sandbox.client.pods.inboxes.create(first, username="wsweep-inbox").inbox_id
    hook = sandbox.client.webhooks.create(url=URL, event_types=["message.received"], pod_ids=[first])
    body = {"add_pod_ids": [second, second], "add_inbox_ids": [inbox, inbox]}
    answer = sandbox.http.patch(f"/v0/webhooks/{hook.webhook_id}", json=body, headers=auth(ORG_KEY))
    assert answer.status_code == 200, answer.text
    updated = Webhook.model_validate(answer.json())
    assert (updated.pod_ids, updated.inbox_ids) == ([first, second], [inbox])
    assert sandbox.client.webhooks.get(hook.webhook_id) == updated
