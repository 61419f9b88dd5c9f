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
