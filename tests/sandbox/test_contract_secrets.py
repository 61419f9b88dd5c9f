"""API key secrets never appear in the sandbox's own output (team standard; spec §7.4)."""

from __future__ import annotations

import logging

import pytest
from agentmail import CreateBearerApiKeyRequest
from contract_harness import ORG_KEY, Sandbox, SandboxServer, auth, raises_api_error


def test_api_key_secrets_never_reach_the_logs(
    sandbox: Sandbox,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = sandbox.client.api_keys.create(request=CreateBearerApiKeyRequest(name="quiet")).api_key
    sandbox.sdk(secret).auth.me()
    with raises_api_error(401, "unknown_api_key"):
        sandbox.sdk(secret + "x").pods.list()
    sandbox.http.post("/v0/pods", content=b"{broken", headers={**auth(secret), "Content-Type": "application/json"})
    sandbox.http.get("/v0/no-such-route", headers=auth(secret))
    if sandbox.name == "http":
        server: SandboxServer = request.getfixturevalue("http_server")
        output = server.stderr_text()
    else:
        output = caplog.text + capfd.readouterr().err
    for leaked in (secret, ORG_KEY):
        assert leaked not in output, "an API key secret appeared in the sandbox output"
