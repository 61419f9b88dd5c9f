"""Safety rails, end to end: each refusal happens before anything changes, and says why."""

from __future__ import annotations

from e2e_harness import Inventory, actions, load_fixture


def _big_pod(inboxes: int) -> dict:
    return {
        "version": 1,
        "pods": {"e2e-big": {"name": "Big", "inboxes": {f"agent-{i:02d}@agentmail.to": {} for i in range(inboxes)}}},
    }


def test_large_delete_is_refused_above_the_threshold_and_force_lets_it_through(
    mailctl, sandbox, baseline, write_config
):
    mailctl.apply(write_config(_big_pod(12)))  # 13 managed resources
    smaller = write_config(_big_pod(7))  # 5 of 13 deleted: 38% > 30%

    planned = mailctl("plan", "-f", smaller)
    assert planned.exit_code == 0
    # on stdout, at the end of the plan: a text plan redirected to a file or a PR never looks clean
    last = planned.stdout.rstrip().splitlines()[-1]
    assert last.startswith("Warning: apply would refuse: the plan would delete 5 of 13"), planned.stdout

    refused = mailctl("apply", "-f", smaller, "--auto-approve")
    assert refused.exit_code == 1
    assert "the plan would delete 5 of 13 existing managed resources (38%), above the 30% threshold" in refused.stderr
    assert "--force" in refused.stderr
    assert len(Inventory.read(sandbox.sdk()).without(baseline).inboxes) == 12

    forced = mailctl("apply", "-f", smaller, "--auto-approve", "--force")
    assert forced.exit_code == 0, forced.output
    assert len(Inventory.read(sandbox.sdk()).without(baseline).inboxes) == 7


def test_prevent_destroy_blocks_a_replacement_even_with_force_and_names_the_resource(mailctl, write_config):
    data = load_fixture("tenants.yaml")
    data["pods"]["e2e-globex"]["api_keys"]["globex-ci"]["prevent_destroy"] = True
    mailctl.apply(write_config(data))

    data["pods"]["e2e-globex"]["api_keys"]["globex-ci"]["expires_at"] = "2033-01-01T00:00:00Z"
    run = mailctl("apply", "-f", write_config(data), "--auto-approve", "--force", "--secrets-out", "s.json")
    assert run.exit_code == 1
    assert (
        f"pod/e2e-globex/api_key/globex-ci has prevent_destroy (declared at {mailctl.workdir / 'mailctl.yaml'}:"
    ) in run.stderr
    assert "but the plan would replace it: expires_at forces replacement" in run.stderr
    assert actions(mailctl.plan_json(write_config(data))) == {"pod/e2e-globex/api_key/globex-ci": "replace"}

    # Removing the guard is what lets the replacement through.
    del data["pods"]["e2e-globex"]["api_keys"]["globex-ci"]["prevent_destroy"]
    mailctl.apply(write_config(data))
    assert mailctl("plan", "-f", write_config(data), "--detailed-exitcode").exit_code == 0


def test_prevent_destroy_blocks_a_pod_replacement_that_would_take_a_guarded_inbox(mailctl, sandbox, write_config):
    data = load_fixture("tenants.yaml")
    data["pods"]["e2e-initech"]["inboxes"]["initech-ops@agentmail.to"]["prevent_destroy"] = True
    mailctl.apply(write_config(data))

    data["pods"]["e2e-initech"]["name"] = "Initech Renamed"
    run = mailctl("apply", "-f", write_config(data), "--auto-approve", "--force")
    assert run.exit_code == 1
    assert (
        "pod/e2e-initech/inbox/initech-ops@agentmail.to has prevent_destroy" in run.stderr
        and "would replace it: pod/e2e-initech is replaced" in run.stderr
    )
    assert ("e2e-initech", "Initech") in Inventory.read(sandbox.sdk()).pods


def test_target_and_exclude_limit_a_run_to_the_matching_changes(mailctl, sandbox, baseline, write_config):
    config = write_config(load_fixture("tenants.yaml"))
    run = mailctl("apply", "-f", config, "--auto-approve", "--target", "pod/e2e-initech")
    assert run.exit_code == 0, run.output  # no key in that pod: no --secrets-out needed
    made = Inventory.read(sandbox.sdk()).without(baseline)
    assert [p for p, _ in made.pods] == ["e2e-initech"]
    assert made.inboxes == [("e2e-initech", "initech-ops@agentmail.to")]

    excluded = mailctl.plan_json(config, "--exclude", "pod/e2e-acme", "--exclude", "api_key/*")
    assert set(actions(excluded)) == {
        "pod/e2e-globex",
        "pod/e2e-globex/api_key/globex-ci",
        "pod/e2e-globex/inbox/globex-bot@agentmail.to",
        "pod/e2e-globex/inbox/hello@shared.e2e-mail.test",
        "domain/shared.e2e-mail.test",
    }
    mailctl.apply(config, "--exclude", "pod/e2e-acme*")
    left = mailctl.plan_json(config)
    assert set(actions(left)) == {a for a in actions(left) if a.startswith("pod/e2e-acme")}
    assert len(left["changes"]) == 6


def test_apply_creating_keys_without_secrets_out_refuses_before_changing_anything(
    mailctl, sandbox, baseline, write_config
):
    run = mailctl("apply", "-f", write_config(load_fixture("tenants.yaml")), "--auto-approve")
    assert run.exit_code == 1
    assert "pass --secrets-out FILE to store them (nothing was changed)" in run.stderr
    assert Inventory.read(sandbox.sdk()) == baseline  # nothing was created


def test_apply_without_a_terminal_or_auto_approve_refuses_before_changing_anything(
    mailctl, sandbox, baseline, write_config
):
    config = write_config(load_fixture("tenants.yaml"))
    for run in (
        mailctl.subprocess("apply", "-f", config, "--secrets-out", "s.json"),
        mailctl("apply", "-f", config, "--secrets-out", "s.json"),
    ):
        assert run.exit_code == 1
        assert "no terminal to confirm on: pass --auto-approve" in run.stderr
    assert Inventory.read(sandbox.sdk()) == baseline  # nothing was created


def test_a_held_lock_refuses_apply_and_unlock_clears_it(mailctl, sandbox, baseline, write_config):
    config = write_config(load_fixture("tenants.yaml"))
    sandbox.sdk().pods.create(client_id="mailctl.lock", name="mailctl lock ci@runner pid 42")

    assert mailctl("plan", "-f", config).exit_code == 0  # reading is fine; the lock pod is not shown
    held = mailctl("apply", "-f", config, "--auto-approve", "--secrets-out", "s.json")
    assert held.exit_code == 1
    assert "another apply holds the organisation lock (mailctl lock ci@runner pid 42)" in held.stderr
    assert "mailctl unlock" in held.stderr
    assert Inventory.read(sandbox.sdk()).without(baseline).inboxes == []

    unlocked = mailctl("unlock")
    assert unlocked.exit_code == 0
    assert "Released the apply lock held by: mailctl lock ci@runner pid 42" in unlocked.stdout
    assert mailctl("unlock").stdout.strip() == "No apply lock is held."
    mailctl.apply(config)
    assert "mailctl.lock" not in {p for p, _ in Inventory.read(sandbox.sdk()).pods}  # released after apply
