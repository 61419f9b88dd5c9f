"""Adopting a hand-built account: export writes config that plans with zero changes; import
prints the declaration that adopts one resource."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from agentmail import ApiKeyPermissions, CreateBearerApiKeyRequest
from agentmail.inboxes import CreateInboxRequest


def _build_by_hand(sdk) -> None:
    ops = sdk.pods.create(name="Ops (made by hand)")  # no client_id: adopted under its pod_id
    tenant = sdk.pods.create(name="Hand Tenant", client_id="hand-tenant")
    sdk.pods.domains.create(tenant.pod_id, domain="mail.hand.test", feedback_enabled=False)
    sdk.pods.inboxes.create(
        tenant.pod_id, username="desk", display_name="Front Desk", metadata={"tier": "gold", "seats": 3}
    )
    sdk.pods.inboxes.create(ops.pod_id, username="oncall")
    sdk.pods.api_keys.create(
        tenant.pod_id,
        request=CreateBearerApiKeyRequest(
            name="Backend key (prod)", permissions=ApiKeyPermissions(inbox_read=True, message_send=True)
        ),
    )
    sdk.inboxes.api_keys.create("desk@agentmail.to", request=CreateBearerApiKeyRequest(name="desk-agent"))
    sdk.pods.webhooks.create(tenant.pod_id, url="https://hooks.hand.test/in", event_types=["message.received"])
    sdk.pods.lists.create(tenant.pod_id, "receive", "block", entry="spam.example", reason="spam")
    sdk.inboxes.create(request=CreateInboxRequest(username="org-level-bot"))
    sdk.api_keys.create(
        request=CreateBearerApiKeyRequest(name="hand-org-reader", permissions=ApiKeyPermissions(pod_read=True))
    )


def test_export_of_a_hand_built_account_replans_with_zero_changes(mailctl, sandbox, tmp_path: Path):
    _build_by_hand(sandbox.sdk())
    out = tmp_path / "adopted"
    run = mailctl("export", "-o", out, "--endpoint", sandbox.url, endpoint=False)
    assert run.exit_code == 0, run.output
    files = sorted(p.name for p in out.iterdir())
    assert "_organization.yaml" in files and "hand-tenant.yaml" in files and len(files) >= 4

    tenant = yaml.safe_load((out / "hand-tenant.yaml").read_text())["pods"]["hand-tenant"]
    assert tenant["name"] == "Hand Tenant"
    assert tenant["inboxes"]["desk@agentmail.to"]["metadata"] == {"tier": "gold", "seats": 3}
    assert "Backend key (prod)" in tenant["api_keys"]
    assert tenant["lists"] == {"receive": {"block": {"spam.example": {"reason": "spam"}}}}

    replan = mailctl("plan", "-f", out, "--detailed-exitcode")
    assert replan.exit_code == 0, replan.output
    assert "No changes." in replan.stdout
    drift = mailctl("drift", "-f", out)
    assert drift.exit_code == 0, drift.output


def test_export_of_selected_pods_only(mailctl, sandbox, tmp_path: Path):
    _build_by_hand(sandbox.sdk())
    run = mailctl("export", "--pod", "hand-*", "--endpoint", sandbox.url, endpoint=False)
    assert run.exit_code == 0, run.output
    config = yaml.safe_load(run.stdout)
    assert list(config["pods"]) == ["hand-tenant"] and "api_keys" not in config
    path = tmp_path / "one.yaml"
    path.write_text(run.stdout)
    assert mailctl("plan", "-f", path, "--detailed-exitcode").exit_code == 0


def test_import_prints_the_declaration_that_adopts_an_inbox(mailctl, sandbox, tmp_path: Path):
    _build_by_hand(sandbox.sdk())
    run = mailctl("import", "pod/hand-tenant/inbox/desk@agentmail.to", "--endpoint", sandbox.url, endpoint=False)
    assert run.exit_code == 0, run.output
    snippet = yaml.safe_load(run.stdout)
    desk = snippet["pods"]["hand-tenant"]["inboxes"]["desk@agentmail.to"]
    assert desk["display_name"] == "Front Desk" and "desk-agent" in desk["api_keys"]

    # Declaring it is adopting it: with the pod's other children declared too, no changes.
    full = yaml.safe_load(mailctl("export", "--pod", "hand-tenant", "--endpoint", sandbox.url, endpoint=False).stdout)
    full["pods"]["hand-tenant"]["inboxes"]["desk@agentmail.to"] = desk
    path = tmp_path / "adopt.yaml"
    path.write_text(yaml.safe_dump(full))
    assert mailctl("plan", "-f", path, "--detailed-exitcode").exit_code == 0


def test_import_of_nothing_is_a_clear_error(mailctl, sandbox):
    run = mailctl("import", "pod/nope/inbox/*", "--endpoint", sandbox.url, endpoint=False)
    assert run.exit_code == 1 and "nothing exists at pod/nope/inbox/*" in run.stderr


def test_import_of_an_address_that_exists_beside_one_that_does_not_names_the_missing_one(mailctl, sandbox):
    """It printed the one that exists, exit 0, and said nothing of the typo beside it."""
    _build_by_hand(sandbox.sdk())
    run = mailctl("import", "pod/hand-tenant", "pod/nope", "--endpoint", sandbox.url, endpoint=False)
    assert run.exit_code == 1 and "nothing exists at pod/nope (" in run.stderr and run.stdout == ""
    fine = mailctl("import", "pod/hand-tenant/inbox/DESK@agentmail.to", "--endpoint", sandbox.url, endpoint=False)
    assert fine.exit_code == 0, fine.output  # an address in any case is one that exists


# --- import: whatever is selected, the printed config plans with zero changes ------------------


def _build_richer(sdk) -> None:
    """The hand-built account, plus siblings everywhere a partial import could delete them."""
    _build_by_hand(sdk)
    tenant = next(p for p in sdk.pods.list().pods if p.client_id == "hand-tenant")
    sdk.pods.inboxes.create(tenant.pod_id, username="sales", display_name="Sales")
    sdk.pods.lists.create(tenant.pod_id, "send", "allow", entry="partner.example")
    sdk.domains.create(domain="org.hand.test", feedback_enabled=True)
    sdk.domains.create(domain="other.hand.test", feedback_enabled=False)
    sdk.lists.create("receive", "block", entry="bad.example", reason="abuse")
    sdk.lists.create("receive", "block", entry="worse.example")


@pytest.mark.parametrize(
    "selection",
    [
        ["pod/hand-tenant/inbox/desk@agentmail.to"],
        ["pod/hand-tenant/inbox/desk@agentmail.to/api_key/desk-agent"],
        ["pod/hand-tenant/list/receive/block/spam.example"],
        ["domain/org.hand.test"],
        ["list/receive/block/bad.example"],
        ["api_key/hand-org-reader"],
        ["pod/hand-*/inbox/s*"],
        ["pod/*/webhook/*", "domain/*"],
    ],
)
def test_import_of_any_selection_plans_with_zero_changes(mailctl, sandbox, tmp_path: Path, selection):
    _build_richer(sandbox.sdk())
    run = mailctl("import", *selection)
    assert run.exit_code == 0, run.output
    assert "plans with no changes" in run.stdout
    path = tmp_path / "imported.yaml"
    path.write_text(run.stdout)
    plan = mailctl("plan", "-f", path, "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output


def test_import_of_one_inbox_emits_its_whole_pod_and_says_so(mailctl, sandbox):
    _build_richer(sandbox.sdk())
    run = mailctl("import", "pod/hand-tenant/inbox/desk@agentmail.to")
    assert run.exit_code == 0, run.output
    tenant = yaml.safe_load(run.stdout)["pods"]["hand-tenant"]
    assert set(tenant["inboxes"]) == {"desk@agentmail.to", "sales@agentmail.to"}
    assert "Backend key (prod)" in tenant["api_keys"] and "mail.hand.test" in tenant["domains"]
    assert "# pod/hand-tenant is imported whole" in run.stdout


# --- export mid-rotation and with --pod ---------------------------------------------------------


def test_export_works_in_the_middle_of_a_rotation(mailctl, sandbox, tmp_path: Path):
    sdk = sandbox.sdk()
    _build_by_hand(sdk)
    tenant = next(p for p in sdk.pods.list().pods if p.client_id == "hand-tenant")
    # `rotate` leaves two keys of one name side by side until --retire-old
    sdk.pods.api_keys.create(
        tenant.pod_id,
        request=CreateBearerApiKeyRequest(
            name="Backend key (prod)", permissions=ApiKeyPermissions(inbox_read=True, message_send=True)
        ),
    )
    sdk.api_keys.create(
        request=CreateBearerApiKeyRequest(name="hand-org-reader", permissions=ApiKeyPermissions(pod_read=True))
    )
    out = tmp_path / "adopted"
    run = mailctl("export", "-o", out)
    assert run.exit_code == 0, run.output
    assert "superseded" in (out / "hand-tenant.yaml").read_text()  # the header says what was left out
    replan = mailctl("plan", "-f", out, "--detailed-exitcode")
    assert replan.exit_code == 0, replan.output
    stdout = mailctl("export")
    assert stdout.exit_code == 0, stdout.output


def test_export_of_a_pod_whose_inbox_uses_an_organisation_domain(mailctl, sandbox, tmp_path: Path):
    sdk = sandbox.sdk()
    _build_by_hand(sdk)
    domain = sdk.domains.create(domain="org.hand.test", feedback_enabled=True)
    sdk.domains.verify(domain.domain_id)  # inboxes need a verified domain
    tenant = next(p for p in sdk.pods.list().pods if p.client_id == "hand-tenant")
    sdk.pods.inboxes.create(tenant.pod_id, username="team", domain="org.hand.test")
    run = mailctl("export", "--pod", "hand-tenant")
    assert run.exit_code == 0, run.output
    config = yaml.safe_load(run.stdout)
    assert "org.hand.test" in config["domains"] and "team@org.hand.test" in config["pods"]["hand-tenant"]["inboxes"]
    path = tmp_path / "one.yaml"
    path.write_text(run.stdout)
    assert mailctl("plan", "-f", path, "--detailed-exitcode").exit_code == 0
    out = tmp_path / "split"
    assert mailctl("export", "--pod", "hand-tenant", "-o", out).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["_organization.yaml", "hand-tenant.yaml"]
    assert mailctl("plan", "-f", out, "--detailed-exitcode").exit_code == 0


def test_keys_whose_names_config_cannot_declare_are_exported_by_their_id(mailctl, sandbox, tmp_path: Path):
    """The API takes any key name up to 256 characters; config declares 1-128 without '/', '#',
    control characters or spaces at either end. One such key made by hand failed the whole export."""
    sdk = sandbox.sdk()
    tenant = sdk.pods.create(name="Odd Keys", client_id="odd-keys")
    odd = ["Backend key (prod) ", "k" * 200, "key: value #x", " lead"]
    ids = [sdk.pods.api_keys.create(tenant.pod_id, request=CreateBearerApiKeyRequest(name=n)).api_key_id for n in odd]
    out = tmp_path / "adopted"
    run = mailctl("export", "-o", out, "--endpoint", sandbox.url, endpoint=False)
    assert run.exit_code == 0, run.output
    keys = yaml.safe_load((out / "odd-keys.yaml").read_text())["pods"]["odd-keys"]["api_keys"]
    assert set(ids) <= set(keys)
    replan = mailctl("plan", "-f", out, "--detailed-exitcode")
    assert replan.exit_code == 0 and "No changes." in replan.stdout, replan.output


# --- export -f: what manage.ignore leaves alone stays left alone in the written config ------------


RUNTIME_RULES = 'version: 1\nmanage:\n  ignore: ["pod/*/inbox/conv-*"]\n  protect: ["pod/t-1"]\n'


def test_export_with_manage_ignore_writes_config_that_plans_clean_on_its_own(mailctl, sandbox, tmp_path: Path):
    """The header said "plans with no changes" and the hint said `plan -f DIR`, but the check
    planned without the ignored inbox and the rules were not written: `plan -f DIR` deleted it."""
    sdk = sandbox.sdk()
    pod = sdk.pods.create(name="T1", client_id="t-1")
    sdk.pods.inboxes.create(pod.pod_id, username="conv-1")  # made at runtime by the application
    sdk.pods.inboxes.create(pod.pod_id, username="desk")
    rules = tmp_path / "rules.yaml"
    rules.write_text(RUNTIME_RULES)
    conv = "pod/t-1/inbox/conv-1@agentmail.to"

    out = tmp_path / "adopted"
    run = mailctl("export", "-f", rules, "-o", out)
    assert run.exit_code == 0, run.output
    assert f"Check with: mailctl plan -f {out} " in run.stdout and "warning" not in run.stderr
    written = yaml.safe_load((out / "_organization.yaml").read_text())
    assert written["manage"] == {"ignore": ["pod/*/inbox/conv-*"], "protect": ["pod/t-1"]}
    tenant = (out / "t-1.yaml").read_text()
    assert "plans with no changes" in tenant and f"#   {conv}\n" in tenant
    assert "conv-1" not in yaml.safe_load(tenant)["pods"]["t-1"]["inboxes"]
    replan = mailctl("plan", "-f", out, "--detailed-exitcode")  # exactly what the hint says
    assert replan.exit_code == 0 and "No changes." in replan.stdout, replan.output
    assert mailctl("drift", "-f", out).exit_code == 0

    single = mailctl("export", "-f", rules)
    assert single.exit_code == 0 and "plans with no changes" in single.stdout, single.output
    assert yaml.safe_load(single.stdout)["manage"] == written["manage"]
    path = tmp_path / "one.yaml"
    path.write_text(single.stdout)
    assert mailctl("plan", "-f", path, "--detailed-exitcode").exit_code == 0

    imported = mailctl("import", "-f", rules, "pod/t-1/inbox/desk@agentmail.to")
    assert imported.exit_code == 0 and "plans with no changes" in imported.stdout, imported.output
    assert yaml.safe_load(imported.stdout)["manage"] == written["manage"]
    path.write_text(imported.stdout)
    assert mailctl("plan", "-f", path, "--detailed-exitcode").exit_code == 0


STRICT_SETTINGS = "version: 1\nsettings:\n  safety:\n    max_delete_fraction: 0\n    min_existing: 1\n"


def test_export_carries_the_safety_settings_so_the_written_config_keeps_its_rails(mailctl, sandbox, tmp_path: Path):
    """`export -f` copied the manage rules but not `settings`: an apply of the written config ran
    with the default thresholds, so a deletion the -f config's rails refuse went through."""
    sdk = sandbox.sdk()
    pod = sdk.pods.create(name="T1", client_id="t-1")
    for username in ("desk", "spare"):
        sdk.pods.inboxes.create(pod.pod_id, username=username)
    rules = tmp_path / "rules.yaml"
    rules.write_text(STRICT_SETTINGS)
    out = tmp_path / "adopted"
    run = mailctl("export", "-f", rules, "-o", out)
    assert run.exit_code == 0, run.output
    organization = (out / "_organization.yaml").read_text()
    assert yaml.safe_load(organization)["settings"] == {"safety": {"max_delete_fraction": 0, "min_existing": 1}}
    assert "settings copied from the -f config" in organization
    assert mailctl("plan", "-f", out, "--detailed-exitcode").exit_code == 0

    tenant = yaml.safe_load((out / "t-1.yaml").read_text())
    del tenant["pods"]["t-1"]["inboxes"]["spare@agentmail.to"]  # the written config now deletes it
    (out / "t-1.yaml").write_text(yaml.safe_dump(tenant))
    refused = mailctl("apply", "-f", out, "--auto-approve")
    assert refused.exit_code == 1, refused.output
    assert sorted(i.inbox_id for i in sdk.pods.inboxes.list(pod.pod_id).inboxes) == [
        "desk@agentmail.to",
        "spare@agentmail.to",
    ]

    single = mailctl("export", "-f", rules)
    assert yaml.safe_load(single.stdout)["settings"] == {"safety": {"max_delete_fraction": 0, "min_existing": 1}}


def test_a_lone_replaced_key_is_exported_under_its_name_and_renamed_back_in_place(mailctl, sandbox, tmp_path: Path):
    """The old half of a create-first replacement whose create failed (`NAME#mailctl-replaced`,
    no key under NAME) is the declared key: export left it out ("shares its name with another
    key", untrue) and the plan of the export deleted it from its pod."""
    sdk = sandbox.sdk()
    pod = sdk.pods.create(name="T1", client_id="t-1")
    kept = sdk.pods.api_keys.create(pod.pod_id, request=CreateBearerApiKeyRequest(name="old#mailctl-replaced"))
    sdk.api_keys.create(request=CreateBearerApiKeyRequest(name="orgrep#mailctl-replaced"))
    out = tmp_path / "adopted"
    run = mailctl("export", "-o", out)
    assert run.exit_code == 0, run.output
    assert "old" in yaml.safe_load((out / "t-1.yaml").read_text())["pods"]["t-1"]["api_keys"]
    assert "orgrep" in yaml.safe_load((out / "_organization.yaml").read_text())["api_keys"]
    assert "shares its name" not in run.output + (out / "t-1.yaml").read_text()
    plan = mailctl.plan_json(out)
    assert {c["address"]: c["action"] for c in plan["changes"]} == {
        "pod/t-1/api_key/old": "update",
        "api_key/orgrep": "update",
    }
    assert mailctl.apply(out).exit_code == 0
    assert mailctl("plan", "-f", out, "--detailed-exitcode").exit_code == 0
    keys = {k.name: k.api_key_id for k in sdk.pods.api_keys.list(pod.pod_id).api_keys}
    assert keys == {"old": kept.api_key_id}  # the same key, renamed back


def test_import_of_an_organisation_webhook_brings_the_pods_and_inboxes_it_filters_on(mailctl, sandbox, tmp_path: Path):
    """Its `pods`/`inboxes` must be declared: every such import failed ("the exported config does
    not validate ... pod t-1 is not declared")."""
    sdk = sandbox.sdk()
    pods = {cid: sdk.pods.create(name=cid, client_id=cid).pod_id for cid in ("t-1", "t-2", "t-3")}
    sdk.pods.inboxes.create(pods["t-1"], username="one")
    sdk.pods.inboxes.create(pods["t-2"], username="two")
    sdk.pods.inboxes.create(pods["t-2"], username="sibling")
    sdk.webhooks.create(
        url="https://hooks.hand.test/org",
        event_types=["message.received"],
        pod_ids=[pods["t-1"]],
        inbox_ids=["two@agentmail.to"],
    )
    hook = next(w.webhook_id for w in sdk.webhooks.list().webhooks)
    run = mailctl("import", f"webhook/{hook}")
    assert run.exit_code == 0, run.output
    assert "plans with no changes" in run.stdout
    config = yaml.safe_load(run.stdout)
    assert sorted(config["pods"]) == ["t-1", "t-2"]  # t-2 whole: its other inbox too
    assert set(config["pods"]["t-2"]["inboxes"]) == {"two@agentmail.to", "sibling@agentmail.to"}
    assert "# pod/t-1 is imported whole: a selected webhook filters on it" in run.stdout
    path = tmp_path / "hook.yaml"
    path.write_text(run.stdout)
    assert mailctl("plan", "-f", path, "--detailed-exitcode").exit_code == 0


def test_import_finds_an_inbox_whatever_the_case_of_its_address(mailctl, sandbox):
    sdk = sandbox.sdk()
    pod = sdk.pods.create(name="T1", client_id="t-1")
    sdk.pods.inboxes.create(pod.pod_id, username="md")
    run = mailctl("import", "pod/t-1/inbox/MD@AgentMail.to")
    assert run.exit_code == 0, run.output
    assert "md@agentmail.to" in yaml.safe_load(run.stdout)["pods"]["t-1"]["inboxes"]


def test_a_key_addressed_by_its_id_beside_a_key_named_that_id_is_not_called_mid_rotation(mailctl, sandbox, tmp_path):
    """A `bad/name` key is addressed by its api_key_id X; a key named X then holds that address and
    the first was left out as "superseded ... (mid-rotation)", which nothing was."""
    sdk = sandbox.sdk()
    pod = sdk.pods.create(name="T1", client_id="t-1")
    odd = sdk.pods.api_keys.create(pod.pod_id, request=CreateBearerApiKeyRequest(name="bad/name")).api_key_id
    sdk.pods.api_keys.create(pod.pod_id, request=CreateBearerApiKeyRequest(name=odd))
    out = tmp_path / "adopted"
    run = mailctl("export", "-o", out)
    assert run.exit_code == 0, run.output
    header = (out / "t-1.yaml").read_text()
    assert "mid-rotation" not in header
    assert (
        f"# pod/t-1/api_key/{odd}#{odd} is left out: it is addressed by its api_key_id (its name cannot be "
        f"declared), and a key named `{odd}` holds that address; mailctl leaves it alone (unmanaged) "
        f"until one of them is renamed (`mailctl rotate --retire-old` of pod/t-1/api_key/{odd} would delete "
        "it as an older key)\n"
    ) in header
    assert mailctl("plan", "-f", out, "--detailed-exitcode").exit_code == 0


def test_import_of_what_the_configs_manage_ignore_leaves_alone_says_so(mailctl, sandbox, tmp_path: Path):
    """It said "nothing exists at ..." of a resource that exists: the rule was not named."""
    sdk = sandbox.sdk()
    pod = sdk.pods.create(name="T1", client_id="t-1")
    sdk.pods.inboxes.create(pod.pod_id, username="conv-1")
    rules = tmp_path / "rules.yaml"
    rules.write_text(RUNTIME_RULES)
    conv = "pod/t-1/inbox/conv-1@agentmail.to"
    run = mailctl("import", "-f", rules, conv)
    assert run.exit_code == 1
    assert f"{conv} exists, but manage.ignore `pod/*/inbox/conv-*` leaves it alone" in run.stderr
    assert "nothing exists" not in run.stderr
