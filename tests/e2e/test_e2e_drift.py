"""Changes made out of band with the official SDK show up in plan and drift; apply repairs them."""

from __future__ import annotations

import json

from agentmail.api_keys import ApiKeyPermissions
from e2e_harness import Inventory, actions, changes_by_address, load_fixture

DRIFTED = {
    "api_key/org-reader": "update",
    "pod/e2e-acme/inbox/acme-bot@agentmail.to": "update",
    "pod/e2e-globex/inbox/globex-bot@agentmail.to": "create",
    "pod/e2e-initech/inbox/intruder@agentmail.to": "delete",
}


def _drift_out_of_band(sdk, pod_ids: dict[str, str]) -> None:
    sdk.inboxes.update("acme-bot@agentmail.to", display_name="Changed by hand")
    sdk.pods.inboxes.create(pod_ids["e2e-initech"], username="intruder", domain="agentmail.to")
    sdk.inboxes.delete("globex-bot@agentmail.to")
    key = next(k for k in sdk.api_keys.list(limit=100).api_keys if k.name == "org-reader")
    sdk.api_keys.update(
        key.api_key_id, permissions=ApiKeyPermissions(inbox_read=True, pod_read=True, message_delete=True)
    )


def test_out_of_band_changes_show_in_plan_and_drift_and_apply_repairs_them(mailctl, sandbox, baseline, write_config):
    config = write_config(load_fixture("tenants.yaml"))
    mailctl.apply(config)
    sdk = sandbox.sdk()
    applied = Inventory.read(sdk).without(baseline)
    _drift_out_of_band(sdk, applied.pod_ids)

    plan = mailctl.plan_json(config)
    assert actions(plan) == DRIFTED
    by = changes_by_address(plan)
    assert [(d["path"], d["before"], d["after"]) for d in by["api_key/org-reader"]["diff"]] == [
        ("permissions.message_delete", True, None)
    ]
    assert [(d["path"], d["before"], d["after"]) for d in by["pod/e2e-acme/inbox/acme-bot@agentmail.to"]["diff"]] == [
        ("display_name", "Changed by hand", "Acme Bot")
    ]

    text = mailctl("drift", "-f", config)
    assert text.exit_code == 2, text.output
    assert "Drift: 4 resource(s) differ from the configuration — 2 changed, 1 missing, 1 undeclared" in text.stdout
    assert 'display_name: "Changed by hand" (actual) != "Acme Bot" (declared)' in text.stdout
    for address in DRIFTED:
        assert f"  {address}\n" in text.stdout

    as_json = mailctl("drift", "-f", config, "--format", "json")
    assert as_json.exit_code == 2
    report = as_json.json()
    assert report["drift"] is True
    assert {k: report["summary"][k] for k in ("changed", "missing", "undeclared", "total")} == {
        "changed": 2,
        "missing": 1,
        "undeclared": 1,
        "total": 4,
    }
    assert [c["address"] for c in report["missing"]] == ["pod/e2e-globex/inbox/globex-bot@agentmail.to"]
    assert [c["address"] for c in report["undeclared"]] == ["pod/e2e-initech/inbox/intruder@agentmail.to"]

    markdown = mailctl("drift", "-f", config, "--format", "markdown", "--out", "drift.md")
    assert markdown.exit_code == 2 and markdown.stdout == ""
    document = (mailctl.workdir / "drift.md").read_text()
    assert document.startswith("### mailctl drift report")
    assert "| `pod/e2e-initech/inbox/intruder@agentmail.to` | undeclared |" in document
    assert "| `api_key/org-reader` | changed | `permissions.message_delete`: `true` → `null` |" in document

    mailctl.apply(config)
    clean = mailctl("drift", "-f", config, "--format", "json")
    assert clean.exit_code == 0, clean.output
    assert clean.json()["drift"] is False
    assert mailctl("drift", "-f", config).stdout.strip().startswith("Unmanaged")  # only unmanaged listed
    assert Inventory.read(sdk).without(baseline).inboxes == applied.inboxes
    assert sdk.inboxes.get("acme-bot@agentmail.to").display_name == "Acme Bot"
    key = next(k for k in sdk.api_keys.list(limit=100).api_keys if k.name == "org-reader")
    assert json.loads(key.permissions.json(exclude_none=True)) == {"inbox_read": True, "pod_read": True}


RENAMED_POD = {
    "version": 1,
    "pods": {
        "drift-acme": {
            "name": "Acme",
            "inboxes": {"drift-support@agentmail.to": {"display_name": "Support"}},
            "api_keys": {"backend": {}},
        },
        "drift-keys": {"name": "Keys", "api_keys": {"worker": {}}},
    },
}


def test_children_replaced_only_with_their_pod_are_not_counted_as_drift(mailctl, sandbox, write_config):
    """Renaming a pod replaces it and everything in it; of the children nothing differs, so drift
    counts the pod alone and lists its children apart. A key left under its pending name is
    drift of its own, and says why."""
    config = write_config(RENAMED_POD)
    mailctl.apply(config)
    pods = {p.client_id: p.pod_id for p in sandbox.sdk().pods.list(limit=100).pods}
    for key in sandbox.http.get(f"/v0/pods/{pods['drift-keys']}/api-keys").json()["api_keys"]:
        sandbox.http.delete(f"/v0/pods/{pods['drift-keys']}/api-keys/{key['api_key_id']}")
    sandbox.http.post(f"/v0/pods/{pods['drift-keys']}/api-keys", json={"name": "worker#mailctl-pending"})
    renamed = {**RENAMED_POD, "pods": {**RENAMED_POD["pods"], "drift-acme": {**RENAMED_POD["pods"]["drift-acme"]}}}
    renamed["pods"]["drift-acme"]["name"] = "Acme Corp"
    config = write_config(renamed)
    children = ["pod/drift-acme/api_key/backend", "pod/drift-acme/inbox/drift-support@agentmail.to"]

    report = mailctl("drift", "-f", config, "--format", "json")
    assert report.exit_code == 2, report.output
    document = report.json()
    assert [c["address"] for c in document["changed"]] == ["pod/drift-acme", "pod/drift-keys/api_key/worker"]
    assert document["summary"]["changed"] == 2 and document["summary"]["total"] == 2
    assert [c["address"] for c in document["replaced_with_pod"]] == children
    assert document["summary"]["replaced_with_pod"] == 2
    assert {c["reason"] for c in document["replaced_with_pod"]} == {"pod/drift-acme is replaced"}

    metrics = mailctl("drift", "-f", config, "--format", "openmetrics").stdout
    assert 'mailctl_drift_resources{state="changed"} 2\n' in metrics
    assert 'mailctl_drift_resources_by_kind{state="changed",kind="inbox"} 0\n' in metrics

    text = mailctl("drift", "-f", config).stdout
    assert "  pod/drift-keys/api_key/worker\n      # secret never recorded\n" in text
    assert "— 2 changed, 0 missing, 0 undeclared" in text
    replaced = text.split("Replaced with their pod")[1].split("\n\n")[0]
    assert all(f"  {address}\n" in replaced for address in children)
    changed = text.split("Changed:")[1].split("\n\n")[0]
    assert not any(address in changed for address in children)

    markdown = mailctl("drift", "-f", config, "--format", "markdown").stdout
    assert "| `pod/drift-keys/api_key/worker` | changed | secret never recorded |" in markdown
    assert f"| `{children[0]}` | replaced with pod | pod/drift-acme is replaced |" in markdown
    assert "| — |" not in markdown


def test_a_shard_without_drift_vouches_only_for_itself(mailctl, sandbox, write_config):
    pods = {f"drift-s{i}": {"name": f"S{i}", "inboxes": {f"drift-s{i}@agentmail.to": {}}} for i in range(3)}
    config = write_config({"version": 1, "pods": pods})
    mailctl.apply(config)
    sandbox.sdk().inboxes.update("drift-s0@agentmail.to", display_name="By hand")
    pods["drift-s0"]["inboxes"]["drift-s0@agentmail.to"] = {"display_name": "Declared"}
    config = write_config({"version": 1, "pods": pods})
    assert mailctl("drift", "-f", config).exit_code == 2

    runs = {k: mailctl("drift", "-f", config, "--shard", f"{k}/3") for k in (1, 2, 3)}
    assert sorted(run.exit_code for run in runs.values()) == [0, 0, 2]
    for k, run in runs.items():
        headline = run.stdout.rstrip("\n").rsplit("\n", 1)[-1]
        if run.exit_code == 0:
            assert headline.startswith(f"No drift. Within --shard {k}/3, the actual state matches"), headline
        else:
            assert headline.startswith(f"Drift within --shard {k}/3: 1 resource(s) differ"), headline
        markdown = mailctl("drift", "-f", config, "--shard", f"{k}/3", "--format", "markdown").stdout
        assert f"Within --shard `{k}/3`" in markdown or f"Drift within --shard `{k}/3`" in markdown


def _route_count(stats: dict, route: str) -> int:
    return int(stats["by_route"].get(route, 0))


def test_drift_of_one_tenant_with_target_reads_and_reports_that_tenant_only(mailctl, sandbox, write_config):
    """plan and apply take --target; drift took only --shard and --changed-since, so checking one
    tenant meant reading (and reporting) the whole fleet."""
    pods = {f"drift-t{i}": {"name": f"T{i}", "inboxes": {f"drift-t{i}@agentmail.to": {}}} for i in range(4)}
    config = write_config({"version": 1, "pods": pods})
    mailctl.apply(config)
    sdk = sandbox.sdk()
    sdk.inboxes.update("drift-t0@agentmail.to", display_name="By hand")
    sdk.inboxes.update("drift-t3@agentmail.to", display_name="By hand")
    for i in (0, 3):
        pods[f"drift-t{i}"]["inboxes"][f"drift-t{i}@agentmail.to"] = {"display_name": "Declared"}
    config = write_config({"version": 1, "pods": pods})

    before = sandbox.stats()
    one = mailctl("drift", "-f", config, "--target", "pod/drift-t0", "--format", "json")
    after = sandbox.stats()
    assert one.exit_code == 2, one.output
    report = one.json()
    assert [c["address"] for c in report["changed"]] == ["pod/drift-t0/inbox/drift-t0@agentmail.to"]
    assert report["selection"] == [{"flag": "--target", "value": "pod/drift-t0"}]
    pod_inbox_lists = sum(
        _route_count(after, r) - _route_count(before, r) for r in after["by_route"] if r.endswith("/inboxes")
    )
    assert pod_inbox_lists == 1, after["by_route"]  # the targeted pod's inboxes, not every pod's

    clean = mailctl("drift", "-f", config, "--target", "pod/drift-t1", "--target", "pod/drift-t2")
    assert clean.exit_code == 0, clean.output
    assert "No drift. Within --target pod/drift-t1 --target pod/drift-t2, the actual state matches" in clean.stdout

    rest = mailctl("drift", "-f", config, "--exclude", "pod/drift-t0", "--format", "json")
    assert rest.exit_code == 2 and [c["address"] for c in rest.json()["changed"]] == [
        "pod/drift-t3/inbox/drift-t3@agentmail.to"
    ]


def test_drift_warns_when_a_target_matches_nothing_declared_or_existing(mailctl, write_config):
    """A typo in a cron job's --target would report "No drift" for ever: say it checked nothing."""
    config = write_config({"version": 1, "pods": {"drift-w": {"name": "W"}}})
    mailctl.apply(config)
    typo = mailctl("drift", "-f", config, "--target", "pod/drift-ww", "--target", "pod/drift-w*")
    assert typo.exit_code == 0, typo.output
    assert "Warning: --target pod/drift-ww matches nothing declared or existing" in typo.stderr
    assert "pod/drift-w*" not in typo.stderr
    fine = mailctl("drift", "-f", config, "--target", "pod/drift-w", "--format", "json")
    assert fine.exit_code == 0 and "Warning" not in fine.stderr, fine.output
