"""The organisation's reset (``POST /_sandbox/reset``): bootstrap keys reseeded, their use
forgotten. Each test pins a line of ``sandbox/backend/org.py`` that the mutation sweep
(``.ci/mutate.py --sweep``) found no other test depending on. (The sweep of ``pods.py`` left only
its permission checks, which ``test_contract_permissions.py`` already pins.)"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from agentmail import ApiKey, Identity, ListApiKeysResponse
from contract_harness import ORG_KEY, WSGI_BASE, Sandbox, SandboxServer, auth, raises_api_error
from mail_helpers import tick

SECOND_KEY = "am_test_contract_second_key_5d0e27b4"  # a second bootstrap key of the same organisation


@pytest.fixture(params=["http", "wsgi"])
def two_keys(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A sandbox of its own served with two bootstrap keys, ``ORG_KEY`` and ``SECOND_KEY``."""
    server: SandboxServer | None = None
    if request.param == "http":
        server = SandboxServer(extra_args=("--api-key", SECOND_KEY))
        box = Sandbox("http", server.url, httpx.HTTPTransport())
    else:
        from mailctl.sandbox.app import create_app

        app = create_app(db=":memory:", api_keys=(ORG_KEY, SECOND_KEY))
        box = Sandbox("wsgi", WSGI_BASE, httpx.WSGITransport(app=app))
    try:
        yield box
        problems = box.problems()
        assert not problems, "\n".join(str(p) for p in problems[:40])
    finally:
        box.close()
        if server is not None:
            server.stop()


def _bootstrap_key(sandbox: Sandbox) -> ApiKey:
    """The root key's own ``ApiKey`` record, as the key list shows it (read with that key)."""
    me = sandbox.client.auth.me().api_key_id
    raw = sandbox.http.get("/v0/api-keys", params={"limit": 100}, headers=auth(ORG_KEY)).json()
    (mine,) = [k for k in ListApiKeysResponse.model_validate(raw).api_keys if k.api_key_id == me]
    return mine


# ---------------------------------------------------------------------------------------------
# org.py: reset


def test_a_reset_forgets_when_the_bootstrap_key_was_last_used(sandbox: Sandbox) -> None:
    """Pins ``row.body.pop("used_at", None)`` and its ``tx.update(row)`` in ``reset``: without
    either, the bootstrap key kept the ``used_at`` of before the reset (written at most once a
    minute), so a reset organisation still showed its earlier use."""
    before = _bootstrap_key(sandbox)
    assert before.used_at is not None
    tick()
    sandbox.reset()
    tick()
    after = _bootstrap_key(sandbox)
    assert after.api_key_id == before.api_key_id
    assert after.used_at is not None and after.used_at > before.used_at


def test_a_reset_reseeds_a_bootstrap_key_deleted_through_the_api(two_keys: Sandbox) -> None:
    """Pins ``api_keys.ensure_bootstrap_key`` at the end of ``reset``: without it a bootstrap key
    deleted through ``DELETE /v0/api-keys/{id}`` stayed deleted (401) after ``POST /_sandbox/reset``,
    though the reset reseeds the organisation's bootstrap keys."""
    second = two_keys.sdk(SECOND_KEY)
    second_id = second.auth.me().api_key_id
    assert second_id is not None
    two_keys.client.api_keys.delete(second_id)
    with raises_api_error(401, "unknown_api_key"):
        second.auth.me()
    two_keys.reset()
    me = Identity.model_validate(two_keys.http.get("/v0/auth/me", headers=auth(SECOND_KEY)).json())
    assert me.scope_type == "organization"
    assert me.organization_id == two_keys.client.auth.me().organization_id
