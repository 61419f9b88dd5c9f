"""Limits the API enforces, and the apply lock's reserved name, stop apply before any change
(issue 17 point 3): exit 1 naming the field, and the sandbox holds exactly what it held."""

from __future__ import annotations

import pytest
from e2e_harness import Inventory

from mailctl import limits


@pytest.mark.parametrize(
    ("pod", "body", "message"),
    [
        ("mailctl.lock.tenants", {"name": "Tenants"}, "pods.mailctl.lock.tenants: `mailctl.lock.tenants` is reserved"),
        ("tenant-b", {"name": "n" * (limits.POD_NAME.max + 1)}, "pods.tenant-b.name: must be at most 256 characters"),
    ],
)
def test_a_pod_the_api_or_the_lock_would_refuse_stops_apply_before_any_change(
    mailctl, write_config, sandbox, baseline, pod, body, message
):
    config = write_config({"version": 1, "pods": {"tenant-a": {"name": "A"}, pod: body}})
    run = mailctl("apply", "-f", config, "--auto-approve", "--secrets-out", mailctl.workdir / "secrets.json")
    assert run.exit_code == 1
    assert message in run.stderr
    assert Inventory.read(sandbox.sdk()) == baseline  # tenant-a was not created either
