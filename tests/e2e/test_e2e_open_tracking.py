"""Issue 10, point 8: against an organisation without open tracking (`mailctl sandbox serve
--open-tracking disabled`), applying a domain with `tracking_enabled: true` fails clearly: the
apply names the domain and the API's reason, exits 1, and the rest of the config is applied."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_harness import ORG_KEY, SandboxProcess, watched_sandbox


@pytest.fixture(scope="module")
def no_tracking(secret_watch) -> Iterator[SandboxProcess]:
    with watched_sandbox(secret_watch, "open tracking disabled", ORG_KEY, "--open-tracking", "disabled") as process:
        yield process


def test_tracking_enabled_against_an_org_without_open_tracking_is_reported(mailctl, write_config, no_tracking):
    mailctl.sandbox = no_tracking
    config = write_config(
        {"version": 1, "domains": {"tracked.example.com": {"tracking_enabled": True}, "plain.example.com": {}}}
    )
    run = mailctl("apply", "-f", config, "--auto-approve")
    assert run.exit_code == 1
    assert "domain/tracked.example.com" in run.output and "Open tracking is not enabled" in run.output
    assert "Traceback" not in run.output
    domains = {d.domain for d in no_tracking.sdk().domains.list().domains}
    assert domains == {"plain.example.com"}
