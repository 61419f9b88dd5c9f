"""Webhook `headers` end to end over HTTP against `mailctl sandbox serve` (issue 20 point 1).

Values reach the sandbox (a handler written in the tests of deliveries receives them), only names
are diffed, a changed name set updates the same webhook, values never appear in any output or
plan file, `rotate webhook/...` pushes new values under the apply lock, and a config without
headers costs no extra request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_harness import SandboxProcess
from test_e2e_sandbox_webhooks import Handler

from mailctl.api import lock
from mailctl.api.client import AgentMailClient

TOKEN = "hdr-token-value-91c2e7"
NEW_TOKEN = "hdr-token-value-rotated-3d08aa"
LITERAL = "hdr-literal-value-5f1b44"
SENDER = "hdr-sender@agentmail.to"
HOOK = "pod/hdr-a/webhook/events"
HEADERS_ROUTE = "/v0/pods/{pod_id}/webhooks/{webhook_id}/headers"


def _config(url: str, headers: dict[str, Any] | None, **more_hooks: Any) -> dict[str, Any]:
    hook: dict[str, Any] = {"url": url, "event_types": ["message.sent"]}
    if headers is not None:
        hook["headers"] = headers
    return {
        "version": 1,
        "pods": {"hdr-a": {"inboxes": {SENDER: {}}, "webhooks": {"events": hook, **more_hooks}}},
    }


@pytest.fixture
def handler(sandbox: SandboxProcess) -> Iterator[Handler]:
    endpoint = Handler()
    yield endpoint
    endpoint.stop()


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HDR_TOKEN", TOKEN)


def _webhook(sandbox: SandboxProcess) -> tuple[str, str]:
    """(pod_id, webhook_id) of the one webhook in pod hdr-a."""
    client = sandbox.sdk()
    pod = next(p for p in client.pods.list().pods if p.client_id == "hdr-a")
    [hook] = client.pods.webhooks.list(pod.pod_id).webhooks
    return pod.pod_id, hook.webhook_id


def _header_names(sandbox: SandboxProcess) -> list[str]:
    pod_id, webhook_id = _webhook(sandbox)
    names: list[str] = sandbox.http.get(f"/v0/pods/{pod_id}/webhooks/{webhook_id}/headers").json()["header_names"]
    return names


def _delivered_headers(sandbox: SandboxProcess, handler: Handler) -> dict[str, str]:
    """The headers of the delivery a send from the declared inbox causes."""
    sandbox.sdk().inboxes.messages.send(SENDER, to="someone@outside.example", text="ping")
    return handler.next().headers


def _requests(sandbox: SandboxProcess) -> dict[str, int]:
    return {route: n for route, n in sandbox.stats()["by_route"].items() if " /v0/" in route}


def _new_requests(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {route: n - before.get(route, 0) for route, n in after.items() if n != before.get(route, 0)}


def _outputs(mailctl: Any) -> str:
    return "\n".join(text for _, text in mailctl.watch.outputs)


def test_a_created_webhook_delivers_its_declared_values(mailctl, sandbox, handler, write_config):
    config = write_config(_config(handler.url, {"X-Hook-Token": {"env": "HDR_TOKEN"}, "X-Tenant": LITERAL}))
    mailctl.apply(config)
    assert _header_names(sandbox) == ["X-Hook-Token", "X-Tenant"]
    delivered = _delivered_headers(sandbox, handler)
    assert (delivered["x-hook-token"], delivered["x-tenant"]) == (TOKEN, LITERAL)
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0
    assert TOKEN not in _outputs(mailctl) and LITERAL not in _outputs(mailctl)


def test_a_header_name_added_or_removed_updates_the_same_webhook(mailctl, sandbox, handler, write_config, monkeypatch):
    monkeypatch.setenv("HDR_OTHER", LITERAL)
    config = write_config(_config(handler.url, {"X-Hook-Token": {"env": "HDR_TOKEN"}}))
    mailctl.apply(config)
    _, webhook_id = _webhook(sandbox)
    config = write_config(_config(handler.url, {"x-hook-token": {"env": "HDR_TOKEN"}}))  # another case: no change
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0
    config = write_config(_config(handler.url, {"X-Other": {"env": "HDR_OTHER"}}))
    [change] = mailctl.plan_json(config)["changes"]
    assert (change["address"], change["action"]) == (HOOK, "update")
    assert change["diff"] == [
        {"path": "headers", "before": ["x-hook-token"], "after": ["x-other"], "forces_replacement": False}
    ]
    mailctl.apply(config)
    assert _webhook(sandbox)[1] == webhook_id and _header_names(sandbox) == ["X-Other"]
    delivered = _delivered_headers(sandbox, handler)
    assert delivered["x-other"] == LITERAL and "x-hook-token" not in delivered
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0


def test_a_missing_header_variable_is_a_located_error_naming_it_and_nothing_is_made(
    mailctl, sandbox, write_config, monkeypatch
):
    monkeypatch.delenv("HDR_TOKEN")
    config = write_config(_config("https://hooks.example/h", {"X-Hook-Token": {"env": "HDR_TOKEN"}}))
    located = (
        f"{config}:13:18: pods.hdr-a.webhooks.events.headers.X-Hook-Token.env: environment variable "
        "`HDR_TOKEN` is not set (header `X-Hook-Token` takes its value from it)"
    )
    for command in ("validate", "plan", "apply"):
        run = mailctl(command, "-f", config, *(["--auto-approve"] if command == "apply" else []))
        assert run.exit_code == 1 and located in run.stderr, run.output
    assert not [p for p in sandbox.sdk().pods.list().pods if p.client_id == "hdr-a"]  # apply made nothing


def test_values_never_appear_in_plans_plan_files_or_errors(mailctl, sandbox, write_config, tmp_path):
    config = write_config(
        _config("https://hooks.example/h", {"X-Hook-Token": {"env": "HDR_TOKEN"}, "X-Tenant": LITERAL})
    )
    for form in ("text", "json", "markdown", "github"):
        assert mailctl("plan", "-f", config, "--format", form).exit_code == 0
    planned = mailctl("plan", "-f", config, "--out", tmp_path / "literal.plan")
    assert planned.exit_code == 0, planned.output
    # said when the plan is saved, not only when it is applied: in the plan itself, every format
    literal = f"{HOOK}: headers `X-Tenant` has a literal value"
    assert "Warning: apply would refuse: " in planned.stdout and literal in planned.stdout
    for form in ("json", "markdown", "github"):
        saved = mailctl("plan", "-f", config, "--out", tmp_path / "literal.plan", "--format", form)
        assert saved.exit_code == 0 and literal in saved.stdout, saved.output
        if form == "json":
            refusals = json.loads(saved.stdout)["refusals"]
            assert [r["rule"] for r in refusals] == ["unsaved_value"] and refusals[0]["addresses"] == [HOOK]
        if form == "markdown":
            assert "> [!CAUTION]" in saved.stdout
        if form == "github":
            assert "::error::apply will refuse this plan (unsaved_value)" in saved.stdout
    assert json.loads((tmp_path / "literal.plan").read_text())["plan"]["refusals"][0]["rule"] == "unsaved_value"
    plan_file = (tmp_path / "literal.plan").read_text()
    assert TOKEN not in plan_file and LITERAL not in plan_file and '"env": "HDR_TOKEN"' in plan_file
    refused = mailctl("apply", tmp_path / "literal.plan")
    assert refused.exit_code == 1
    assert f"{HOOK}: headers `X-Tenant` has a literal value in the config" in refused.stderr
    assert "Nothing was changed" in refused.stderr
    assert not [p for p in sandbox.sdk().pods.list().pods if p.client_id == "hdr-a"]  # before any change
    config = write_config(_config("https://hooks.example/h", {"X-Hook-Token": {"env": "HDR_TOKEN"}}))
    assert mailctl("plan", "-f", config, "--out", tmp_path / "env.plan").exit_code == 0
    applied = mailctl("apply", tmp_path / "env.plan")  # the variable is read again: accepted
    assert applied.exit_code == 0, applied.output
    assert _header_names(sandbox) == ["X-Hook-Token"]
    assert mailctl("drift", "-f", config).exit_code == 0
    assert TOKEN not in _outputs(mailctl) and LITERAL not in _outputs(mailctl)


def test_rotate_pushes_the_current_values_under_the_apply_lock(mailctl, sandbox, handler, write_config, monkeypatch):
    config = write_config(_config(handler.url, {"X-Hook-Token": {"env": "HDR_TOKEN"}}))
    mailctl.apply(config)
    monkeypatch.setenv("HDR_TOKEN", NEW_TOKEN)
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0  # no plan sees a value
    patch_route = f"PATCH {HEADERS_ROUTE}"
    with AgentMailClient(sandbox.url, sandbox.api_key) as api, lock.ApplyLock(api):
        held = mailctl("rotate", HOOK, "-f", config)
        assert held.exit_code == 1 and "lock" in held.stderr, held.output
        assert _requests(sandbox).get(patch_route, 0) == 0  # nothing was pushed
    assert _delivered_headers(sandbox, handler)["x-hook-token"] == TOKEN
    pushed = mailctl("rotate", HOOK, "-f", config, "--lock-timeout", "5")
    assert pushed.exit_code == 0, pushed.output
    assert "X-Hook-Token" in pushed.stdout and _requests(sandbox)[patch_route] == 1
    assert _delivered_headers(sandbox, handler)["x-hook-token"] == NEW_TOKEN
    assert mailctl("rotate", HOOK, "-f", config, "--secrets-out", "x.json").exit_code == 1  # a key's flag
    with AgentMailClient(sandbox.url, sandbox.api_key) as api:
        assert lock.find_all(api) == []
    assert TOKEN not in _outputs(mailctl) and NEW_TOKEN not in _outputs(mailctl)


def test_header_names_are_read_only_for_webhooks_that_declare_headers(mailctl, sandbox, write_config):
    plain = {"url": "https://hooks.example/plain", "event_types": ["message.sent"]}
    config = write_config(_config("https://hooks.example/h", None, plain=plain))
    mailctl.apply(config)
    before = _requests(sandbox)
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0
    assert not [r for r in _new_requests(before, _requests(sandbox)) if r.endswith("/headers")]
    config = write_config(_config("https://hooks.example/h", {"X-Hook-Token": {"env": "HDR_TOKEN"}}, plain=plain))
    mailctl.apply(config)
    before = _requests(sandbox)
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0
    assert _new_requests(before, _requests(sandbox)).get(f"GET {HEADERS_ROUTE}") == 1  # one webhook declares them


def test_rotate_of_a_webhook_without_headers_is_refused(mailctl, write_config):
    config = write_config(_config("https://hooks.example/h", None))
    run = mailctl("rotate", HOOK, "-f", config)
    assert run.exit_code == 1 and "declares no headers" in run.stderr
