"""A scope that holds what ``manage.ignore`` leaves alone (an inbox an application made at
runtime) cannot be deleted or replaced: the plan refuses it (rule ``ignored_children``) before
anything changes, in every format, whatever the flags, and in narrowed plans too. Removing the
runtime objects (or keeping the scope) is what lets it go, and the next plan converges.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e_harness import Inventory, SandboxProcess, actions

from mailctl.plan.shards import shard_of

B_SUPPORT = "pod/tenant-b/inbox/b-support@agentmail.to"
CONV = "pod/tenant-b/inbox/conv-1@agentmail.to"
MANAGE = {"pods": {"client_id_prefix": "tenant-"}, "ignore": ["pod/*/inbox/conv-*"]}


def fleet(b: dict[str, Any] | None = None) -> dict[str, Any]:
    pods: dict[str, Any] = {"tenant-a": {"name": "A"}}
    if b is not None:
        pods["tenant-b"] = b
    return {"version": 1, "manage": MANAGE, "pods": pods}


TENANT_B = {"name": "B", "inboxes": {"b-support@agentmail.to": {}}}


def app_creates_inbox(sandbox: SandboxProcess, pod: str, username: str) -> None:
    """What the application does at runtime: an inbox per conversation."""
    sdk = sandbox.sdk()
    sdk.pods.inboxes.create(Inventory.read(sdk).pod_ids[pod], username=username, domain="agentmail.to")


def refusals(plan: dict[str, Any], rule: str = "ignored_children") -> list[dict[str, Any]]:
    return [r for r in plan["refusals"] if r["rule"] == rule]


@pytest.fixture
def holding(mailctl, sandbox, write_config) -> Inventory:
    """tenant-a and tenant-b applied, then the application made conv-1 in tenant-b."""
    mailctl.apply(write_config(fleet(TENANT_B)))
    app_creates_inbox(sandbox, "tenant-b", "conv-1")
    return Inventory.read(sandbox.sdk())


def test_offboarding_a_pod_holding_manage_ignore_inboxes_is_refused_in_every_format_and_changes_nothing(
    mailctl, sandbox, write_config, holding
):
    removed = write_config(fleet())
    plan = mailctl.plan_json(removed)
    assert actions(plan) == {"pod/tenant-b": "delete", B_SUPPORT: "delete"}
    assert CONV in plan["unmanaged"]
    [refusal] = refusals(plan)
    assert refusal["addresses"] == ["pod/tenant-b"] and refusal["lifted_by"] is None
    message = refusal["message"]
    assert "pod/tenant-b holds 1 resource(s) that manage.ignore leaves alone" in message
    assert CONV in message and "but the plan would delete it: not declared; matches manage.pods" in message
    assert "no flag lifts this" in message

    markdown = mailctl("plan", "-f", removed, "--format", "markdown").stdout
    assert markdown.index("> [!CAUTION]") < markdown.index("**Plan:")
    assert "**ignored_children**" in markdown and CONV in markdown
    github = mailctl("plan", "-f", removed, "--format", "github").stdout
    assert "::error::apply will refuse this plan (ignored_children): pod/tenant-b holds 1 resource(s)" in github
    text = mailctl("plan", "-f", removed)
    assert text.exit_code == 0
    assert "Warning: apply would refuse: pod/tenant-b holds 1 resource(s) that manage.ignore" in text.output

    saved = mailctl("plan", "-f", removed, "--out", "saved.plan")
    assert saved.exit_code == 0, saved.output
    recorded = json.loads((mailctl.workdir / "saved.plan").read_text())["plan"]["refusals"]
    assert [(r["rule"], r["addresses"]) for r in recorded] == [("ignored_children", ["pod/tenant-b"])]

    for run in (
        mailctl("apply", "-f", removed, "--auto-approve", "--force", "--allow-data-loss"),
        mailctl("apply", "saved.plan", "--force", "--allow-data-loss"),
    ):
        assert run.exit_code == 1, run.output
        assert "refusing to apply (nothing was changed)" in run.stderr and CONV in run.stderr
        assert Inventory.read(sandbox.sdk()) == holding  # b-support is still there

    # The application's inbox gone (it made it; it removes it): the pod goes, and that converges.
    sdk = sandbox.sdk()
    sdk.inboxes.delete("conv-1@agentmail.to")
    assert refusals(mailctl.plan_json(removed)) == []
    mailctl.apply(removed)
    assert "tenant-b" not in Inventory.read(sandbox.sdk()).pod_ids
    assert mailctl("plan", "-f", removed, "--detailed-exitcode").exit_code == 0


def test_renaming_a_pod_holding_manage_ignore_inboxes_is_refused_before_anything_is_replaced(
    mailctl, sandbox, write_config, holding
):
    renamed = write_config(fleet({**TENANT_B, "name": "B2"}))
    plan = mailctl.plan_json(renamed)
    assert actions(plan) == {"pod/tenant-b": "replace", B_SUPPORT: "replace"}
    [refusal] = refusals(plan)
    assert refusal["addresses"] == ["pod/tenant-b"]
    assert "but the plan would replace it: name forces replacement" in refusal["message"]

    run = mailctl("apply", "-f", renamed, "--auto-approve", "--force", "--allow-data-loss")
    assert run.exit_code == 1, run.output
    assert Inventory.read(sandbox.sdk()) == holding


def test_a_pod_holding_many_manage_ignore_inboxes_names_a_few_and_counts_the_rest(
    mailctl, sandbox, write_config, holding
):
    for n in range(2, 6):
        app_creates_inbox(sandbox, "tenant-b", f"conv-{n}")
    [refusal] = refusals(mailctl.plan_json(write_config(fleet())))
    message = refusal["message"]
    assert "pod/tenant-b holds 5 resource(s)" in message and "and 2 more" in message
    assert sum(f"pod/tenant-b/inbox/conv-{n}@agentmail.to" in message for n in range(1, 6)) == 3


def test_a_pod_without_manage_ignore_matches_is_offboarded_as_before(mailctl, sandbox, write_config, holding):
    app_creates_inbox(sandbox, "tenant-a", "conv-9")  # in a pod that stays: nothing to refuse
    with_c = fleet(TENANT_B)
    with_c["pods"]["tenant-c"] = {"name": "C"}
    mailctl.apply(write_config(with_c))
    plan = mailctl.plan_json(write_config(fleet(TENANT_B)))
    assert actions(plan) == {"pod/tenant-c": "delete"} and plan["refusals"] == []


# ---------------------------------------------------------------------------------------------
# Narrowed plans read the targeted pod whole: its ignored inboxes are seen, the rail trips.


def test_a_targeted_plan_of_a_pod_holding_manage_ignore_inboxes_is_refused_too(mailctl, write_config, holding):
    removed = write_config(fleet())
    for extra in (("--target", "pod/tenant-b"), ("--target", "pod/tenant-*"), ("--target", B_SUPPORT)):
        plan = mailctl.plan_json(removed, *extra)
        if extra[1] == B_SUPPORT:  # the inbox alone: the pod is not deleted, nothing to refuse
            assert actions(plan) == {B_SUPPORT: "delete"} and refusals(plan) == []
        else:
            assert actions(plan) == {"pod/tenant-b": "delete", B_SUPPORT: "delete"}
            assert [r["addresses"] for r in refusals(plan)] == [["pod/tenant-b"]], extra


def test_a_sharded_plan_of_a_pod_holding_manage_ignore_inboxes_is_refused_too(mailctl, write_config, holding):
    removed = write_config(fleet())
    count = 4
    mine = shard_of("tenant-b", count)
    plan = mailctl.plan_json(removed, "--shard", f"{mine}/{count}")
    assert actions(plan) == {"pod/tenant-b": "delete", B_SUPPORT: "delete"}
    assert [r["addresses"] for r in refusals(plan)] == [["pod/tenant-b"]]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )


def test_a_changed_since_plan_removing_a_pod_holding_manage_ignore_inboxes_is_refused_too(mailctl, sandbox, tmp_path):
    repo = tmp_path / "repo"
    (repo / "mailctl").mkdir(parents=True)
    config = repo / "mailctl" / "mailctl.yaml"
    config.write_text(yaml.safe_dump(fleet(TENANT_B), sort_keys=False))
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "config")
    mailctl.apply(config)
    app_creates_inbox(sandbox, "tenant-b", "conv-1")
    before = Inventory.read(sandbox.sdk())

    config.write_text(yaml.safe_dump(fleet(), sort_keys=False))
    plan = mailctl.plan_json(config, "--changed-since", "main")
    assert actions(plan) == {"pod/tenant-b": "delete", B_SUPPORT: "delete"}
    assert [r["addresses"] for r in refusals(plan)] == [["pod/tenant-b"]]
    run = mailctl("apply", "-f", config, "--changed-since", "main", "--auto-approve", "--force")
    assert run.exit_code == 1, run.output
    assert Inventory.read(sandbox.sdk()) == before


# A point on P-256: what an agent registers to sign in with AgentID.
JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY",
    "y": "T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU",
}


def test_a_pod_holding_public_key_credentials_is_not_deleted_with_them(mailctl, sandbox, write_config):
    """Found by QA: README promises public-key (AgentID) credentials are never planned for change or
    deletion, yet removing their tenant deleted the pod and, with it, them: nothing in the plan said so."""
    mailctl.apply(write_config(fleet(TENANT_B)))
    pod_id = Inventory.read(sandbox.sdk()).pod_ids["tenant-b"]
    made = sandbox.http.post(f"/v0/pods/{pod_id}/api-keys", json={"name": "agent-id", "public_key": JWK})
    assert made.status_code == 200, made.text
    removed = write_config(fleet())
    plan = mailctl.plan_json(removed)
    [refusal] = refusals(plan)
    assert refusal["addresses"] == ["pod/tenant-b"] and "agent-id" in refusal["message"]
    assert "public-key" in refusal["message"]
    [targeted] = refusals(mailctl.plan_json(removed, "--target", "pod/tenant-b"))  # a narrowed read sees them too
    assert targeted["addresses"] == ["pod/tenant-b"]
    for flags in ([], ["--force", "--allow-data-loss"]):
        run = mailctl("apply", "-f", removed, "--auto-approve", *flags)
        assert run.exit_code == 1 and "public-key" in run.stderr, run.output
    assert "tenant-b" in Inventory.read(sandbox.sdk()).pod_ids  # nothing was deleted
    keys = sandbox.http.get("/v0/api-keys", params={"type": "public_key"}).json()
    assert [k["name"] for k in keys["api_keys"]] == ["agent-id"]
