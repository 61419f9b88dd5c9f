"""One template stamped out for 100 tenants, over HTTP: apply, re-plan clean, change the template."""

from __future__ import annotations

from pathlib import Path

import yaml
from e2e_harness import actions, changes_by_address

TENANTS = 100

TEMPLATE = {
    "version": 1,
    "kind": "template",
    "name": "tenant",
    "parameters": {
        "company": {"type": "string", "required": True},
        "plan": {"type": "string", "enum": ["starter", "growth"], "default": "starter"},
    },
    "pod": {
        "client_id": "tpl-${tenant}",
        "name": "${company}",
        "inboxes": {
            "${tenant}-support@agentmail.to": {"display_name": "${company} Support", "metadata": {"plan": "${plan}"}},
            "${tenant}-billing@agentmail.to": {"when": {"plan": "growth"}, "display_name": "${company} Billing"},
        },
        "api_keys": {"backend": {"permissions": {"inbox_read": True, "message_send": True}}},
    },
}


def _write(directory: Path, template: dict) -> Path:
    (directory / "tenants").mkdir(parents=True, exist_ok=True)
    (directory / "platform.yaml").write_text(
        yaml.safe_dump({"version": 1, "manage": {"pods": {"client_id_prefix": "tpl-"}}})
    )
    (directory / "template.yaml").write_text(yaml.safe_dump(template, sort_keys=False))
    tenants = {
        f"t{n:03d}": {"company": f"Company {n}", **({"plan": "growth"} if n % 10 == 0 else {})} for n in range(TENANTS)
    }
    (directory / "tenants" / "all.yaml").write_text(
        yaml.safe_dump({"version": 1, "template": "tenant", "tenants": tenants})
    )
    return directory


def test_a_hundred_tenants_from_one_template_apply_and_replan_clean(mailctl, tmp_path: Path):
    config = _write(tmp_path / "cfg", TEMPLATE)
    run = mailctl(
        "apply", "-f", config, "--auto-approve", "--parallelism", "16", "--secrets-out", tmp_path / "secrets.json"
    )
    assert run.exit_code == 0, run.output[-2000:]
    # 100 pods + 100 support inboxes + 10 billing inboxes (growth tier) + 100 keys
    assert "Apply complete! 310 done, 0 failed" in run.stdout
    replan = mailctl("plan", "-f", config, "--detailed-exitcode")
    assert replan.exit_code == 0 and "No changes." in replan.stdout


def test_a_template_change_plans_the_right_update_for_every_tenant(mailctl, tmp_path: Path):
    config = _write(tmp_path / "cfg", TEMPLATE)
    assert (
        mailctl(
            "apply", "-f", config, "--auto-approve", "--parallelism", "16", "--secrets-out", tmp_path / "secrets.json"
        ).exit_code
        == 0
    )

    changed = yaml.safe_load(yaml.safe_dump(TEMPLATE))
    changed["pod"]["inboxes"]["${tenant}-support@agentmail.to"]["display_name"] = "${company} Helpdesk"
    _write(config, changed)
    plan = mailctl.plan_json(config)
    assert set(actions(plan).values()) == {"update"} and len(plan["changes"]) == TENANTS
    change = changes_by_address(plan)["pod/tpl-t042/inbox/t042-support@agentmail.to"]
    assert change["diff"] == [
        {
            "path": "display_name",
            "before": "Company 42 Support",
            "after": "Company 42 Helpdesk",
            "forces_replacement": False,
        }
    ]

    # 100 updates of 310 managed resources is over the 30% threshold: refused, then forced.
    refused = mailctl("apply", "-f", config, "--auto-approve")
    assert refused.exit_code == 1 and "above the 30% threshold" in refused.stderr
    forced = mailctl("apply", "-f", config, "--auto-approve", "--force", "--parallelism", "16")
    assert forced.exit_code == 0, forced.output[-2000:]
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0


def test_a_tenant_error_points_at_the_tenant_file_and_line(mailctl, tmp_path: Path):
    config = _write(tmp_path / "cfg", TEMPLATE)
    tenants = config / "tenants" / "all.yaml"
    tenants.write_text(tenants.read_text().replace("plan: growth", "plan: platinum", 1))
    run = mailctl("validate", "-f", config)
    assert run.exit_code == 1
    assert f"{tenants}:" in run.stderr and "platinum" in run.stderr
