"""The Python API (``from mailctl import Project``), over HTTP against the sandbox, as a signup
handler would use it: the same workflows, rails and lock as the CLI (issue 20 point 3)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mailctl import Project, SecretRecord
from mailctl.api import lock
from mailctl.api.client import AgentMailClient
from mailctl.errors import ConfigError, UnsafePlan, UsageError


def tenant_config(*tenants: str) -> dict[str, Any]:
    return {
        "version": 1,
        "manage": {"pods": {"client_id_prefix": "py-"}},
        "pods": {
            f"py-{t}": {
                "name": t.title(),
                "inboxes": {f"py-{t}-support@agentmail.to": {"display_name": f"{t.title()} Support"}},
                "api_keys": {"backend": {}},
            }
            for t in tenants
        },
    }


def onboard(project: Project, tenant: str) -> tuple[list[SecretRecord], Any]:
    """What a signup handler does: plan the new tenant, apply it, keep the secrets."""
    records: list[SecretRecord] = []
    plan = project.plan(target=f"pod/py-{tenant}")
    return records, project.apply(plan, secrets=records.append)


def test_onboarding_a_tenant_from_application_code_then_a_replan_shows_no_changes(sandbox, secret_watch):
    project = Project(config=tenant_config("acme"), endpoint=sandbox.url, api_key=sandbox.api_key)
    plan = project.plan(target="pod/py-acme")
    assert [(c.address, c.action) for c in plan.changes] == [
        ("pod/py-acme", "create"),
        ("pod/py-acme/api_key/backend", "create"),
        ("pod/py-acme/inbox/py-acme-support@agentmail.to", "create"),
    ]
    assert plan.refusals == () and plan.to_dict()["refusals"] == []
    records: list[SecretRecord] = []
    report = project.apply(plan, secrets=records.append)
    assert report.ok and len(report.done) == 3 and not report.failed
    assert [r.address for r in records] == ["pod/py-acme/api_key/backend"]
    assert records[0].secret and records[0].secret not in repr(records[0])
    secret_watch.output("python api repr", repr(report) + repr(records))
    again = project.plan()
    assert again.changes == () and not again.has_changes
    assert not project.drift().has_drift


def test_the_plan_document_is_the_cli_json_plan(sandbox, mailctl, write_config):
    config = tenant_config("json")
    cli = mailctl("plan", "-f", write_config(config), "--format", "json")
    assert cli.exit_code == 0, cli.output
    api = Project(config=config, endpoint=sandbox.url, api_key=sandbox.api_key).plan()
    assert api.to_dict() == cli.json()
    assert json.loads(json.dumps(api.to_dict())) == api.to_dict()


def test_apply_runs_exactly_the_plan_it_is_given_and_refuses_a_stale_one(sandbox):
    project = Project(config=tenant_config("stale"), endpoint=sandbox.url, api_key=sandbox.api_key)
    plan = project.plan()
    Project(config=tenant_config("stale"), endpoint=sandbox.url, api_key=sandbox.api_key).apply(
        project.plan(), secrets=lambda record: None
    )
    with pytest.raises(UnsafePlan, match="stale"):
        project.apply(plan, secrets=lambda record: None)


def test_keys_need_somewhere_for_their_secrets_and_nothing_changes_without_it(sandbox):
    project = Project(config=tenant_config("nosink"), endpoint=sandbox.url, api_key=sandbox.api_key)
    with pytest.raises(UsageError, match="secrets"):
        project.apply(project.plan())
    assert [c.action for c in project.plan().changes] == ["create"] * 3  # nothing was made


def test_a_failing_secrets_callback_keeps_no_key_and_reports_the_failure(sandbox):
    project = Project(config=tenant_config("cbfail"), endpoint=sandbox.url, api_key=sandbox.api_key)

    def vault_down(record: SecretRecord) -> None:
        raise ConnectionError("vault unreachable")

    report = project.apply(project.plan(), secrets=vault_down)
    assert not report.ok and [r.address for r in report.failed] == ["pod/py-cbfail/api_key/backend"]
    assert "secrets callback failed" in report.failed[0].message
    assert [c.address for c in project.plan().changes] == ["pod/py-cbfail/api_key/backend"]


def test_a_bad_config_raises_config_error_with_the_field_path(sandbox):
    config = tenant_config("bad")
    config["pods"]["py-bad"]["inboxes"]["py-bad-support@agentmail.to"]["dispaly_name"] = "typo"
    with pytest.raises(ConfigError) as caught:
        Project(config=config, endpoint=sandbox.url, api_key=sandbox.api_key).plan()
    [problem] = caught.value.problems
    assert problem.path == "pods.py-bad.inboxes.py-bad-support@agentmail.to.dispaly_name"
    assert problem.file == "<config>" and problem.line > 0


def test_apply_takes_the_lock_like_the_cli(sandbox):
    project = Project(config=tenant_config("locked"), endpoint=sandbox.url, api_key=sandbox.api_key)
    plan = project.plan()
    with AgentMailClient(sandbox.url, sandbox.api_key) as api, lock.ApplyLock(api):
        with pytest.raises(UnsafePlan, match="holds"):
            project.apply(plan, secrets=lambda record: None)
    assert len(project.plan().changes) == 3  # nothing was made


def test_removing_a_tenant_whose_inbox_holds_mail_is_refused_unless_data_loss_is_allowed(sandbox):
    project = Project(config=tenant_config("keep", "gone"), endpoint=sandbox.url, api_key=sandbox.api_key)
    project.apply(project.plan(), secrets=lambda record: None)
    sandbox.sdk().inboxes.messages.send("py-gone-support@agentmail.to", to=["x@example.com"], subject="hi", text="t")
    shrunk = Project(config=tenant_config("keep"), endpoint=sandbox.url, api_key=sandbox.api_key)
    plan = shrunk.plan()
    assert [r.rule for r in plan.refusals] == ["data_loss"]
    with pytest.raises(UnsafePlan, match="--allow-data-loss"):
        shrunk.apply(plan, force=True)
    assert shrunk.plan().has_changes  # nothing was deleted
    report = shrunk.apply(shrunk.plan(), allow_data_loss=True)
    assert report.ok and not shrunk.plan().has_changes


def test_an_embedded_sandbox_file_works_like_the_cli_sandbox_flag(tmp_path):
    project = Project(config=tenant_config("local"), sandbox=tmp_path / "sandbox.db")
    assert project.apply(project.plan(), secrets=tmp_path / "secrets.json").ok
    assert json.loads((tmp_path / "secrets.json").read_text())[0]["address"] == "pod/py-local/api_key/backend"
    assert not project.plan().has_changes


def test_project_needs_one_config_and_one_place():
    with pytest.raises(UsageError):
        Project()
    with pytest.raises(UsageError):
        Project(config={"version": 1}, sandbox=":memory:", endpoint="http://x")


def _tenants_of_two_shards() -> dict[str, Any]:
    """A config whose tenants fall in both shards of two."""
    from mailctl.plan.shards import shard_of

    names = [f"sh{i}" for i in range(12)]
    config = tenant_config(*names)
    assert {shard_of(pod, 2) for pod in config["pods"]} == {1, 2}
    return config


def test_sharded_plans_made_together_each_apply_while_the_other_shard_changes_its_part(sandbox):
    """As `apply --shard K/N` started together: shard 1's approved plan is not stale because shard
    2 created its own pods in between (they are not shard 1's part)."""
    config = _tenants_of_two_shards()
    first = Project(config=config, endpoint=sandbox.url, api_key=sandbox.api_key)
    second = Project(config=config, endpoint=sandbox.url, api_key=sandbox.api_key)
    plan_1, plan_2 = first.plan(shard="1/2"), second.plan(shard="2/2")
    assert second.apply(plan_2, secrets=lambda record: None).ok
    assert first.apply(plan_1, secrets=lambda record: None).ok
    assert not Project(config=config, endpoint=sandbox.url, api_key=sandbox.api_key).plan().changes


def test_a_sharded_plan_is_still_stale_when_its_own_part_changed(sandbox):
    config = _tenants_of_two_shards()
    project = Project(config=config, endpoint=sandbox.url, api_key=sandbox.api_key)
    plan = project.plan(shard="1/2")
    other = Project(config=config, endpoint=sandbox.url, api_key=sandbox.api_key)
    other.apply(other.plan(shard="1/2"), secrets=lambda record: None)
    with pytest.raises(UnsafePlan, match="stale"):
        project.apply(plan, secrets=lambda record: None)


def test_concurrent_signups_each_apply_their_targeted_plan(sandbox):
    """Two signup handlers plan their own tenant, then apply one after the other: the second plan
    is not stale because the first tenant's pod appeared (it reads and changes nothing of it)."""
    first = Project(config=tenant_config("acme"), endpoint=sandbox.url, api_key=sandbox.api_key)
    second = Project(config=tenant_config("globex"), endpoint=sandbox.url, api_key=sandbox.api_key)
    plan_a, plan_b = first.plan(target="pod/py-acme"), second.plan(target="pod/py-globex")
    assert first.apply(plan_a, secrets=lambda record: None).ok
    assert second.apply(plan_b, secrets=lambda record: None, lock_timeout=5).ok
    both = Project(config=tenant_config("acme", "globex"), endpoint=sandbox.url, api_key=sandbox.api_key)
    assert not both.plan().has_changes


def test_a_targeted_plan_is_stale_when_its_own_pod_changed(sandbox):
    """What the targeted pod holds is still digested: an undeclared attribute of an inbox in it
    changed meanwhile (no change of the plan shows it) and the plan is refused."""
    project = Project(config=tenant_config("own"), endpoint=sandbox.url, api_key=sandbox.api_key)
    project.apply(project.plan(), secrets=lambda record: None)
    grown = tenant_config("own")
    grown["pods"]["py-own"]["inboxes"]["py-own-sales@agentmail.to"] = {}
    grown_project = Project(config=grown, endpoint=sandbox.url, api_key=sandbox.api_key)
    plan = grown_project.plan(target="pod/py-own")
    sandbox.sdk().inboxes.update("py-own-support@agentmail.to", metadata={"edited": "meanwhile"})
    with pytest.raises(UnsafePlan, match=r"~ pod/py-own/inbox/py-own-support@agentmail.to \(changed\)"):
        grown_project.apply(plan, secrets=lambda record: None)


def test_a_lock_left_held_after_the_changes_is_in_the_report_and_not_ok(sandbox):
    """The Python API's side of the lock release that fails after the changes: the report still
    says what was done, and says the lock may still be held (ok is False: the next apply is refused)."""
    fault = {"method": "DELETE", "route": "/v0/pods/{pod_id}", "status": 400, "code": "refused", "times": 1}
    sandbox.control("POST", "faults", {**fault, "when": "before"})
    project = Project(
        config={"version": 1, "pods": {"lockleft": {"name": "L"}}}, endpoint=sandbox.url, api_key=sandbox.api_key
    )
    report = project.apply(project.plan())
    assert [r.address for r in report.done] == ["pod/lockleft"]
    assert report.lock_left is not None and "may still be held" in report.lock_left
    assert not report.ok


def test_drift_narrows_like_plan(sandbox):
    config = tenant_config("da", "db")
    project = Project(config=config, endpoint=sandbox.url, api_key=sandbox.api_key)
    assert project.apply(project.plan(), secrets=lambda record: None).ok
    sandbox.sdk().inboxes.update("py-da-support@agentmail.to", display_name="By hand")
    assert project.drift().has_drift
    assert [c.address for c in project.drift(target="pod/py-da").changed] == [
        "pod/py-da/inbox/py-da-support@agentmail.to"
    ]
    assert not project.drift(target="pod/py-db").has_drift
    assert not project.drift(exclude=["pod/py-da"]).has_drift
    with pytest.raises(UsageError):
        project.drift(target=None)  # type: ignore[arg-type]
