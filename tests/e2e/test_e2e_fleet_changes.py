"""Changing a live fleet (issue 16), end to end over HTTP: a tenant removed or renamed while its
inbox holds mail, a protected tenant, runtime inboxes under ``manage.ignore``.

Every refusal is checked by its exit code and by reading the state back through the SDK: a rail
that refuses has changed nothing.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e_harness import Inventory, SandboxProcess, actions, mailctl_command

TEMPLATE = {
    "version": 1,
    "kind": "template",
    "name": "tenant",
    "parameters": {"company": {"type": "string", "required": True}},
    "pod": {
        "client_id": "tenant-${tenant}",
        "name": "${company}",
        "inboxes": {"${tenant}-support@agentmail.to": {"display_name": "Support"}},
    },
}
COMPANIES = {"acme": "Acme", "globex": "Globex", "initech": "Initech"}


def write_fleet(
    root: Path, tenants: dict[str, str], manage: dict[str, Any] | None = None, pod_extra: dict[str, Any] | None = None
) -> Path:
    """A config directory as a platform keeps one: platform.yaml (manage), template.yaml and
    tenants.yaml (one tenant per company). Returns the directory, for ``-f``."""
    root.mkdir(exist_ok=True)
    platform = {"version": 1, "manage": {"pods": {"client_id_prefix": "tenant-"}, **(manage or {})}}
    template = json.loads(json.dumps(TEMPLATE))
    template["pod"].update(pod_extra or {})
    tenants_file = {"version": 1, "template": "tenant", "tenants": {t: {"company": c} for t, c in tenants.items()}}
    for name, data in (("platform.yaml", platform), ("template.yaml", template), ("tenants.yaml", tenants_file)):
        (root / name).write_text(yaml.safe_dump(data, sort_keys=False))
    return root


def send_mail(sandbox: SandboxProcess, to: str, count: int) -> None:
    sdk = sandbox.sdk()
    for i in range(count):
        sdk.inboxes.messages.send("acme-support@agentmail.to", to=to, subject=f"Order {i}", text="hello")


def fleet_pods(sandbox: SandboxProcess) -> list[tuple[str, str]]:
    return [p for p in Inventory.read(sandbox.sdk()).pods if p[0].startswith("tenant-")]


def inboxes(sandbox: SandboxProcess) -> list[tuple[str, str]]:
    return [i for i in Inventory.read(sandbox.sdk()).inboxes if i[0].startswith("tenant-")]


GLOBEX_INBOX = "pod/tenant-globex/inbox/globex-support@agentmail.to"


@pytest.fixture
def globex_holds_mail(mailctl, sandbox, tmp_path) -> Path:
    """Three tenants applied, 2 messages in Globex's inbox, then Globex removed from tenants.yaml."""
    fleet = write_fleet(tmp_path / "fleet", COMPANIES)
    mailctl.apply(fleet)
    send_mail(sandbox, "globex-support@agentmail.to", 2)
    return write_fleet(fleet, {"acme": "Acme", "initech": "Initech"})


# ---------------------------------------------------------------------------------------------
# The data-loss gate


def test_removing_a_tenant_whose_inbox_holds_mail_is_refused_in_every_format_until_allow_data_loss(
    mailctl, sandbox, globex_holds_mail
):
    fleet = globex_holds_mail
    before = Inventory.read(sandbox.sdk())

    plan = mailctl.plan_json(fleet)
    assert set(actions(plan).values()) == {"delete"}
    [refusal] = plan["refusals"]
    assert refusal["rule"] == "data_loss" and refusal["addresses"] == [GLOBEX_INBOX]
    assert "2 threads, 2 messages, 0 drafts; pod/tenant-globex is removed" in refusal["message"]
    assert refusal["lifted_by"] == "--allow-data-loss"

    markdown = mailctl("plan", "-f", fleet, "--format", "markdown").stdout
    assert markdown.index("> [!CAUTION]") < markdown.index("**Plan:")  # the review sees it first
    assert "**`mailctl apply` will refuse this plan:**" in markdown and GLOBEX_INBOX in markdown
    github = mailctl("plan", "-f", fleet, "--format", "github")
    assert "::error::apply will refuse this plan (data_loss): the plan would permanently destroy mail" in github.stdout
    text = mailctl("plan", "-f", fleet)
    assert text.exit_code == 0 and "Warning: apply would refuse: the plan would permanently destroy mail" in text.stdout

    for flags in (("--auto-approve",), ("--auto-approve", "--force")):
        refused = mailctl("apply", "-f", fleet, *flags)
        assert refused.exit_code == 1, refused.output
        assert "refusing to apply (nothing was changed)" in refused.stderr
        assert f"{GLOBEX_INBOX} (2 threads, 2 messages, 0 drafts" in refused.stderr
        assert "Pass --allow-data-loss to apply anyway" in refused.stderr
        assert Inventory.read(sandbox.sdk()) == before

    allowed = mailctl("apply", "-f", fleet, "--allow-data-loss", "--auto-approve")
    assert allowed.exit_code == 0, allowed.output
    assert [p for p, _ in fleet_pods(sandbox)] == ["tenant-acme", "tenant-initech"]
    assert mailctl("plan", "-f", fleet, "--detailed-exitcode").exit_code == 0


def test_a_saved_plan_carries_the_data_loss_refusal_and_apply_planfile_needs_allow_data_loss(
    mailctl, sandbox, globex_holds_mail
):
    fleet = globex_holds_mail
    before = Inventory.read(sandbox.sdk())
    saved = mailctl("plan", "-f", fleet, "--out", "saved.plan")
    assert saved.exit_code == 0, saved.output
    recorded = json.loads((mailctl.workdir / "saved.plan").read_text())["plan"]["refusals"]
    assert [(r["rule"], r["addresses"]) for r in recorded] == [("data_loss", [GLOBEX_INBOX])]

    for flags in ((), ("--force",)):
        refused = mailctl("apply", "saved.plan", *flags)
        assert refused.exit_code == 1, refused.output
        assert "refusing to apply (nothing was changed)" in refused.stderr and "--allow-data-loss" in refused.stderr
        assert Inventory.read(sandbox.sdk()) == before

    allowed = mailctl("apply", "saved.plan", "--allow-data-loss")
    assert allowed.exit_code == 0, allowed.output
    assert "tenant-globex" not in {p for p, _ in fleet_pods(sandbox)}


def _apply_at_a_terminal(mailctl, fleet: Path, answer: str) -> tuple[int, str]:
    """`mailctl apply` with stdin on a pseudo-terminal; ``answer`` is typed once it asks."""
    primary, replica = pty.openpty()
    out = mailctl.workdir / "apply.out"
    env = {**os.environ, "AGENTMAIL_API_KEY": mailctl.sandbox.api_key}
    with out.open("w") as sink:
        proc = subprocess.Popen(
            [*mailctl_command(), "apply", "-f", str(fleet), "--endpoint", mailctl.sandbox.url],
            stdin=replica,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=mailctl.workdir,
        )
    os.close(replica)
    try:
        deadline = time.monotonic() + 60
        while "to apply: " not in out.read_text():  # typed only once it reads the terminal
            assert proc.poll() is None, f"apply exited before asking:\n{out.read_text()}"
            assert time.monotonic() < deadline, f"apply never asked:\n{out.read_text()}"
            time.sleep(0.02)
        os.write(primary, f"{answer}\n".encode())
        code = proc.wait(timeout=60)
    finally:
        os.close(primary)
    output = out.read_text()
    mailctl.watch.output(f"mailctl apply (typed {answer!r})", output)
    return code, output


@pytest.mark.parametrize(("answer", "code"), [("yes", 1), ("3", 1), ("2", 0)], ids=["yes", "wrong-number", "right"])
def test_at_a_terminal_the_user_types_the_number_of_messages_destroyed(
    mailctl, sandbox, globex_holds_mail, answer, code
):
    before = Inventory.read(sandbox.sdk())
    returned, output = _apply_at_a_terminal(mailctl, globex_holds_mail, answer)
    assert returned == code, output
    assert "This destroys 2 message(s) permanently. Type 2 to apply:" in output
    assert "Traceback" not in output
    if code:
        assert f"apply cancelled: '{answer}' is not 2 (nothing was changed)" in output
        assert Inventory.read(sandbox.sdk()) == before
    else:
        assert "tenant-globex" not in {p for p, _ in fleet_pods(sandbox)}


def test_renaming_a_tenant_pod_that_holds_mail_is_refused_and_ignore_changes_leaves_the_name(
    mailctl, sandbox, tmp_path
):
    fleet = write_fleet(tmp_path / "fleet", COMPANIES)
    mailctl.apply(fleet)
    send_mail(sandbox, "initech-support@agentmail.to", 1)
    before = Inventory.read(sandbox.sdk())

    renamed = write_fleet(fleet, {**COMPANIES, "initech": "Initech Global"})
    plan = mailctl.plan_json(renamed)
    assert actions(plan) == {
        "pod/tenant-initech": "replace",
        "pod/tenant-initech/inbox/initech-support@agentmail.to": "replace",
    }
    assert [r["rule"] for r in plan["refusals"]] == ["data_loss"]
    refused = mailctl("apply", "-f", renamed, "--auto-approve", "--force")
    assert refused.exit_code == 1, refused.output
    assert "pod/tenant-initech is replaced" in refused.stderr and "--allow-data-loss" in refused.stderr
    assert Inventory.read(sandbox.sdk()) == before  # same pods, same names, same inboxes

    # The name is set at creation and left alone afterwards: no change, nothing to refuse.
    kept = write_fleet(fleet, {**COMPANIES, "initech": "Initech Global"}, pod_extra={"ignore_changes": ["name"]})
    assert mailctl("plan", "-f", kept, "--detailed-exitcode").exit_code == 0
    assert mailctl("apply", "-f", kept, "--auto-approve").exit_code == 0
    assert ("tenant-initech", "Initech") in Inventory.read(sandbox.sdk()).pods


# ---------------------------------------------------------------------------------------------
# manage.protect


def test_a_protected_tenant_removed_from_the_tenants_file_is_refused_whatever_the_flags(mailctl, sandbox, tmp_path):
    protect = {"protect": ["pod/tenant-vip"]}
    fleet = write_fleet(tmp_path / "fleet", {**COMPANIES, "vip": "VIP"}, manage=protect)
    mailctl.apply(fleet)
    before = Inventory.read(sandbox.sdk())

    removed = write_fleet(fleet, COMPANIES, manage=protect)
    plan = mailctl.plan_json(removed)
    protects = [r for r in plan["refusals"] if r["rule"] == "protect"]
    assert [r["addresses"] for r in protects] == [["pod/tenant-vip"], ["pod/tenant-vip/inbox/vip-support@agentmail.to"]]
    assert all(r["lifted_by"] is None for r in protects)
    assert "is protected by manage.protect `pod/tenant-vip`, but the plan would delete it" in protects[0]["message"]

    refused = mailctl("apply", "-f", removed, "--force", "--allow-data-loss", "--auto-approve")
    assert refused.exit_code == 1, refused.output
    assert "(no flag lifts this: edit the rule to allow it)" in refused.stderr
    assert Inventory.read(sandbox.sdk()) == before
    assert ("tenant-vip", "VIP") in fleet_pods(sandbox)

    # Editing the rule is what lets it go.
    mailctl.apply(write_fleet(fleet, COMPANIES))
    assert "tenant-vip" not in {p for p, _ in fleet_pods(sandbox)}


# ---------------------------------------------------------------------------------------------
# manage.ignore


def test_a_runtime_inbox_matching_manage_ignore_is_never_deleted_and_is_not_drift(mailctl, sandbox, tmp_path):
    ignore = {"ignore": ["pod/tenant-acme/inbox/conv-*"]}
    fleet = write_fleet(tmp_path / "fleet", COMPANIES, manage=ignore)
    mailctl.apply(fleet)
    sdk = sandbox.sdk()
    acme = Inventory.read(sdk).pod_ids["tenant-acme"]
    for runtime in ("conv-1001", "scratch"):  # the application makes inboxes as it runs
        sdk.pods.inboxes.create(acme, username=runtime, domain="agentmail.to")
    send_mail(sandbox, "conv-1001@agentmail.to", 1)

    plan = mailctl.plan_json(fleet)
    conv = "pod/tenant-acme/inbox/conv-1001@agentmail.to"
    assert conv in plan["unmanaged"]
    assert actions(plan) == {"pod/tenant-acme/inbox/scratch@agentmail.to": "delete"}  # not matched: deleted
    text = mailctl("plan", "-f", fleet).stdout
    assert f"  {conv}\n" in text.split("Unmanaged")[1]

    mailctl.apply(write_fleet(fleet, {**COMPANIES, "hooli": "Hooli"}, manage=ignore))
    left = inboxes(sandbox)
    assert ("tenant-acme", "conv-1001@agentmail.to") in left
    assert ("tenant-acme", "scratch@agentmail.to") not in left

    drift = mailctl("drift", "-f", fleet, "--format", "json")  # fleet/ now declares hooli too
    assert drift.exit_code == 0, drift.output
    report = drift.json()
    assert report["drift"] is False and conv in json.dumps(report)


def test_declaring_a_resource_that_manage_ignore_matches_is_a_located_error(mailctl, tmp_path):
    fleet = write_fleet(
        tmp_path / "fleet",
        COMPANIES,
        manage={"ignore": ["pod/*/inbox/*-support@*"]},
    )
    run = mailctl("validate", "-f", fleet)
    assert run.exit_code == 1
    tenants = fleet / "tenants.yaml"  # a template's resource is located at the tenant it renders
    assert (
        f"{tenants}:4:3: pods.tenant-acme.inboxes.acme-support@agentmail.to: pod/tenant-acme/inbox/"
        "acme-support@agentmail.to is declared, but manage.ignore `pod/*/inbox/*-support@*` says mailctl "
        "leaves it alone: remove the declaration or narrow the rule (via template `tenant` at "
        f"{fleet / 'template.yaml'}:12, rendering tenant `acme` at {tenants}:4)"
    ) in run.stderr.splitlines()


def test_manage_ignore_and_target_match_inbox_addresses_whatever_their_letter_case(mailctl, sandbox, tmp_path):
    """An inbox's address is case-insensitive (the API stores it lowercased): a rule written
    `Conv-*` must keep the inbox the application made as Conv-7, and a target naming CONV-7 targets it."""
    ignore = {"ignore": ["pod/*/inbox/Conv-*"]}
    fleet = write_fleet(tmp_path / "fleet", COMPANIES, manage=ignore)
    mailctl.apply(fleet)
    sdk = sandbox.sdk()
    sdk.pods.inboxes.create(Inventory.read(sdk).pod_ids["tenant-acme"], username="Conv-7", domain="agentmail.to")
    conv = "pod/tenant-acme/inbox/conv-7@agentmail.to"
    plan = mailctl.plan_json(fleet)
    assert conv in plan["unmanaged"] and actions(plan) == {}

    unignored = write_fleet(tmp_path / "unignored", COMPANIES)
    targeted = mailctl("plan", "-f", unignored, "--target", "pod/tenant-acme/inbox/CONV-7@AgentMail.to", "--json")
    assert targeted.exit_code == 0 and actions(targeted.json()) == {conv: "delete"}, targeted.output
    excluded = mailctl("plan", "-f", unignored, "--exclude", "pod/*/inbox/CONV-*", "--json")
    assert excluded.exit_code == 0 and actions(excluded.json()) == {}, excluded.output
