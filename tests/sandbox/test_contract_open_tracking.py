"""Issue 10: the open-tracking gate (`--open-tracking enabled|disabled`, per organisation as
`open_tracking` in /_sandbox/config). Disabled: `tracking_enabled: true` on a domain create or
update is 403 `forbidden`, as AgentMail answers organisations without open tracking."""

from __future__ import annotations

from contract_harness import Sandbox, raises_api_error


def test_disabled_open_tracking_refuses_tracking_enabled(sandbox: Sandbox) -> None:
    sandbox.configure(open_tracking="disabled")
    with raises_api_error(403, "forbidden"):
        sandbox.client.domains.create(domain="tracked.example", tracking_enabled=True)
    assert sandbox.client.domains.list().domains == []
    domain = sandbox.client.domains.create(domain="plain.example", tracking_enabled=False)
    with raises_api_error(403, "forbidden"):
        sandbox.client.domains.update(domain.domain_id, tracking_enabled=True)
    assert sandbox.client.domains.update(domain.domain_id, feedback_enabled=False).tracking_enabled is False


def test_enabled_open_tracking_is_the_default(sandbox: Sandbox) -> None:
    assert sandbox.control("GET", "config").json()["open_tracking"] == "enabled"
    assert sandbox.client.domains.create(domain="tracked.example", tracking_enabled=True).tracking_enabled is True
