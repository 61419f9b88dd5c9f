"""Issue 10: one bad string must not poison an organisation. `{"name": "\\ud800"}` (a lone
surrogate, valid JSON that UTF-8 cannot carry) used to answer 500 *and* store the pod, after which
every `GET /v0/pods` answered 500. Now it is a 400 at write time and the SDK's listings keep
working. (`tests/unit/sandbox/test_sandbox_hostile_text.py` covers every write route.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
from contract_harness import ORG_KEY, Sandbox, auth


def _post(sandbox: Sandbox, path: str, body: dict[str, Any]) -> Any:
    headers = {**auth(ORG_KEY), "Content-Type": "application/json"}
    return sandbox.http.post(path, content=json.dumps(body).encode(), headers=headers)  # "\ud800" escaped


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v0/pods", {"name": "\ud800", "client_id": "p"}),
        ("/v0/inboxes", {"username": "ok", "display_name": "bad \udfff"}),
        ("/v0/api-keys", {"name": "\ud83d"}),
        ("/v0/inboxes", {"username": "meta", "metadata": {"\ud800": "key"}}),
    ],
)
def test_a_lone_surrogate_is_400_and_nothing_is_stored(sandbox: Sandbox, path: str, body: dict[str, Any]) -> None:
    response = _post(sandbox, path, body)
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert [p.name for p in sandbox.client.pods.list().pods] == ["Default Pod"]
    assert sandbox.client.inboxes.list().inboxes == []
    assert len(sandbox.client.api_keys.list().api_keys) == 1


def test_nul_control_rtl_and_emoji_text_is_stored_and_read_back(sandbox: Sandbox) -> None:
    name = "nul\x00 esc\x1b rtl\u202e emoji😀"
    assert _post(sandbox, "/v0/pods", {"name": name}).status_code == 200
    assert name in [p.name for p in sandbox.client.pods.list().pods]
