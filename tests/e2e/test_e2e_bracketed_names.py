"""A key name with glob characters (`ops [prod]`, a valid key name) written as its exact address in
`manage.protect` or `--target`: it must match that key. Read as an fnmatch class only, the rule
matched nothing, so a protected key was deleted by a plain apply and `--target` said "No changes"
with a delete of that very address pending."""

from __future__ import annotations

from pathlib import Path
from typing import Any

NAME = "ops [prod]"
ADDRESS = f"pod/tenant-hooli/api_key/{NAME}"


def keys(sandbox: Any) -> list[str]:
    sdk = sandbox.sdk()
    pod = next(p for p in sdk.pods.list().pods if p.client_id == "tenant-hooli")
    return [k.name for k in sdk.pods.api_keys.list(pod.pod_id).api_keys]


def applied(mailctl: Any, write_config: Any) -> None:
    pod = {"name": "Hooli", "api_keys": {NAME: {"permissions": {"inbox_read": True}}}}
    mailctl.apply(write_config({"version": 1, "pods": {"tenant-hooli": pod}}, "first.yaml"))


def test_protect_by_the_exact_address_guards_a_key_whose_name_has_brackets(
    mailctl: Any, write_config: Any, sandbox: Any
):
    applied(mailctl, write_config)
    config = {"version": 1, "manage": {"protect": [ADDRESS]}, "pods": {"tenant-hooli": {"name": "Hooli"}}}
    path = write_config(config, "second.yaml")
    plan = mailctl("plan", "-f", path, "--json")
    assert plan.exit_code == 0, plan.output
    assert [r["rule"] for r in plan.json()["refusals"]] == ["protect"]
    run = mailctl("apply", "-f", path, "--auto-approve")
    assert run.exit_code == 1, run.output
    assert NAME in keys(sandbox)


def test_target_by_the_exact_address_selects_the_pending_delete_of_a_bracketed_key(
    mailctl: Any, write_config: Any, tmp_path: Path
):
    applied(mailctl, write_config)
    path = write_config({"version": 1, "pods": {"tenant-hooli": {"name": "Hooli"}}}, "third.yaml")
    run = mailctl("plan", "-f", path, "--target", ADDRESS, "--detailed-exitcode", "--json")
    assert run.exit_code == 2, run.output
    assert {c["address"]: c["action"] for c in run.json()["changes"]} == {ADDRESS: "delete"}
