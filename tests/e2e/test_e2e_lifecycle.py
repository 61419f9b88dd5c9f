"""Apply from nothing, change things, tear a tenant down: the whole life of a config, over HTTP."""

from __future__ import annotations

from e2e_harness import Inventory, actions, changes_by_address, load_fixture

DECLARED = Inventory(
    pods=[("e2e-acme", "Acme Corp"), ("e2e-globex", "Globex"), ("e2e-initech", "Initech")],
    inboxes=[
        ("e2e-acme", "acme-bot@agentmail.to"),
        ("e2e-acme", "support@mail.acme.test"),
        ("e2e-globex", "globex-bot@agentmail.to"),
        ("e2e-globex", "hello@shared.e2e-mail.test"),
        ("e2e-initech", "initech-ops@agentmail.to"),
    ],
    domains=[("", "shared.e2e-mail.test"), ("e2e-acme", "mail.acme.test")],
    keys=[
        ("", "", "org-reader"),
        ("e2e-acme", "", "acme-backend"),
        ("e2e-acme", "support@mail.acme.test", "support-agent"),
        ("e2e-globex", "", "globex-ci"),
    ],
)


def _same(actual: Inventory, expected: Inventory) -> None:
    assert actual.pods == expected.pods
    assert actual.inboxes == expected.inboxes
    assert actual.domains == expected.domains
    assert actual.keys == expected.keys


def test_multi_tenant_config_applies_from_nothing_and_replans_clean(mailctl, sandbox, baseline, write_config):
    config = write_config(load_fixture("tenants.yaml"))

    run = mailctl.subprocess("apply", "-f", config, "--auto-approve", "--secrets-out", "secrets.json")
    assert run.exit_code == 0, run.output
    assert "Apply complete! 14 done, 0 failed" in run.stdout

    sdk = sandbox.sdk()
    _same(Inventory.read(sdk).without(baseline), DECLARED)
    support = sdk.inboxes.get("support@mail.acme.test")
    assert (support.display_name, support.metadata) == ("Acme Support", {"tier": "gold"})
    keys = {k.name: k for k in sdk.api_keys.list(limit=100).api_keys}
    assert keys["globex-ci"].expires_at.year == 2031
    assert keys["org-reader"].permissions.inbox_read is True
    assert len(mailctl.watch.secrets_file(mailctl.workdir / "secrets.json")) == 4

    replan = mailctl.subprocess("plan", "-f", config, "--detailed-exitcode")
    assert replan.exit_code == 0, replan.output
    assert "No changes." in replan.stdout


def test_edits_plan_exactly_the_expected_changes(mailctl, sandbox, write_config):
    data = load_fixture("tenants.yaml")
    mailctl.apply(write_config(data))

    acme, globex = data["pods"]["e2e-acme"], data["pods"]["e2e-globex"]
    acme["inboxes"]["support@mail.acme.test"]["display_name"] = "Acme Help"
    acme["inboxes"]["support@mail.acme.test"]["metadata"] = {"tier": "silver"}
    acme["inboxes"]["new-agent@agentmail.to"] = {}
    acme["api_keys"] = {"acme-service": acme["api_keys"].pop("acme-backend")}  # a rename: delete + create
    del globex["inboxes"]["globex-bot@agentmail.to"]
    globex["api_keys"]["globex-ci"]["expires_at"] = "2032-06-30T00:00:00Z"
    data["api_keys"]["org-reader"]["permissions"]["message_read"] = True
    data["pods"]["e2e-initech"]["name"] = "Initech Inc"  # pods cannot be renamed: replaced
    plan = mailctl.plan_json(write_config(data))

    assert actions(plan) == {
        "api_key/org-reader": "update",
        "pod/e2e-acme/api_key/acme-backend": "delete",
        "pod/e2e-acme/api_key/acme-service": "create",
        "pod/e2e-acme/inbox/new-agent@agentmail.to": "create",
        "pod/e2e-acme/inbox/support@mail.acme.test": "update",
        "pod/e2e-globex/api_key/globex-ci": "replace",
        "pod/e2e-globex/inbox/globex-bot@agentmail.to": "delete",
        "pod/e2e-initech": "replace",
        "pod/e2e-initech/inbox/initech-ops@agentmail.to": "replace",
    }
    assert plan["summary"] == {"create": 2, "update": 2, "replace": 3, "delete": 2}
    by = changes_by_address(plan)
    assert [(d["path"], d["before"], d["after"]) for d in by["pod/e2e-acme/inbox/support@mail.acme.test"]["diff"]] == [
        ("display_name", "Acme Support", "Acme Help"),
        ("metadata.tier", "gold", "silver"),
    ]
    assert [d["path"] for d in by["api_key/org-reader"]["diff"]] == ["permissions.message_read"]
    assert by["api_key/org-reader"]["forces_replacement"] == []
    assert by["pod/e2e-initech"]["forces_replacement"] == ["name"]
    assert by["pod/e2e-globex/api_key/globex-ci"]["forces_replacement"] == ["expires_at"]
    assert by["pod/e2e-initech/inbox/initech-ops@agentmail.to"]["reason"] == "pod/e2e-initech is replaced"

    mailctl.apply(write_config(data), "--force")  # 5 of 14 updated: above the 30% threshold
    assert mailctl.plan_json(write_config(data))["changes"] == []
    keys = [(pod, inbox, name) for pod, inbox, name in Inventory.read(sandbox.sdk()).keys if pod == "e2e-acme"]
    assert keys == [("e2e-acme", "", "acme-service"), ("e2e-acme", "support@mail.acme.test", "support-agent")]


def test_removed_pod_is_torn_down_children_first_and_unmanaged_pods_are_untouched(
    mailctl, sandbox, baseline, write_config
):
    sdk = sandbox.sdk()
    other = sdk.pods.create(client_id="other-team", name="Other team")
    sdk.pods.inboxes.create(other.pod_id, username="theirs", domain="agentmail.to")
    data = load_fixture("tenants.yaml")
    mailctl.apply(write_config(data))
    stale = sdk.pods.create(client_id="e2e-stale", name="Stale tenant")  # undeclared, matches manage
    sdk.pods.inboxes.create(stale.pod_id, username="stale-bot", domain="agentmail.to")

    del data["pods"]["e2e-acme"]
    plan = mailctl.plan_json(write_config(data))
    assert actions(plan) == {
        "pod/e2e-acme": "delete",
        "pod/e2e-acme/api_key/acme-backend": "delete",
        "pod/e2e-acme/domain/mail.acme.test": "delete",
        "pod/e2e-acme/inbox/acme-bot@agentmail.to": "delete",
        "pod/e2e-acme/inbox/support@mail.acme.test": "delete",
        "pod/e2e-acme/inbox/support@mail.acme.test/api_key/support-agent": "delete",
        "pod/e2e-stale": "delete",
        "pod/e2e-stale/inbox/stale-bot@agentmail.to": "delete",
    }
    by = changes_by_address(plan)
    assert by["pod/e2e-stale"]["reason"] == "not declared; matches manage.pods"
    assert "pod/other-team" in plan["unmanaged"]
    run = mailctl.apply(write_config(data), "--force")  # 8 of 16 deleted: above the threshold
    lines = run.stdout.splitlines()
    pod_done = lines.index("pod/e2e-acme: destroyed")
    children = [i for i, line in enumerate(lines) if line.startswith("pod/e2e-acme/") and "destroyed" in line]
    assert len(children) == 5 and max(children) < pod_done
    assert lines.index("pod/e2e-stale/inbox/stale-bot@agentmail.to: destroyed") < lines.index(
        "pod/e2e-stale: destroyed"
    )
    assert "cannot_delete" not in run.output

    now = Inventory.read(sdk).without(baseline)
    assert ("other-team", "Other team") in now.pods
    assert ("other-team", "theirs@agentmail.to") in now.inboxes
    assert {p for p, _ in now.pods} == {"other-team", "e2e-globex", "e2e-initech"}
    assert not any(p in ("e2e-acme", "e2e-stale") for p, _ in now.inboxes)
    assert not any(d == "mail.acme.test" for _, d in now.domains)
