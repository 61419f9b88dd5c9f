"""`plan --out` then `apply PLANFILE`: exactly that plan, and never one the world has moved past."""

from __future__ import annotations

from e2e_harness import load_fixture


def test_saved_plan_applies_exactly_what_was_planned(mailctl, sandbox, write_config):
    data = load_fixture("tenants.yaml")
    mailctl.apply(write_config(data))
    data["pods"]["e2e-globex"]["inboxes"]["globex-bot@agentmail.to"] = {"display_name": "Globex Bot"}
    planned = mailctl("plan", "-f", write_config(data), "--out", "change.plan")
    assert planned.exit_code == 0, planned.output
    assert "Saved the plan to change.plan" in planned.stdout

    run = mailctl.subprocess("apply", "change.plan")  # no terminal, no --auto-approve: the file is the approval
    assert run.exit_code == 0, run.output
    assert "pod/e2e-globex/inbox/globex-bot@agentmail.to: updated" in run.stdout
    assert sandbox.sdk().inboxes.get("globex-bot@agentmail.to").display_name == "Globex Bot"
    assert mailctl.plan_json(write_config(data))["changes"] == []


def test_saved_plan_made_stale_by_an_out_of_band_change_is_refused(mailctl, sandbox, write_config):
    data = load_fixture("tenants.yaml")
    mailctl.apply(write_config(data))
    data["pods"]["e2e-initech"]["inboxes"]["initech-ops@agentmail.to"]["display_name"] = "Ops"
    assert mailctl("plan", "-f", write_config(data), "--out", "change.plan").exit_code == 0

    sdk = sandbox.sdk()
    sdk.inboxes.update("globex-bot@agentmail.to", display_name="Edited meanwhile")
    run = mailctl("apply", "change.plan")
    assert run.exit_code == 1
    assert "saved plan change.plan is stale" in run.stderr
    assert "~ pod/e2e-globex/inbox/globex-bot@agentmail.to (changed)" in run.stderr
    assert sdk.inboxes.get("initech-ops@agentmail.to").display_name is None  # nothing applied


def test_saved_plan_refuses_a_config_or_targets_alongside(mailctl, write_config):
    config = write_config(load_fixture("tenants.yaml"))
    assert mailctl("plan", "-f", config, "--out", "change.plan").exit_code == 0
    run = mailctl("apply", "change.plan", "-f", config)
    assert run.exit_code == 1
    assert "a saved PLANFILE already fixes the config and targets" in run.stderr
