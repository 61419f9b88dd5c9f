"""`--changed-since REF` over HTTP: real git repositories in tmp dirs, plans against the sandbox.

The config is a template stamped out for three tenants, plus organisation-level resources; the
tests commit it, apply it, edit the working tree, and check that plan/apply/drift select exactly
what the edit touched, and that a missing or unloadable REF is a clear error (exit 1, no plan).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e_harness import actions

TEMPLATE = {
    "version": 1,
    "kind": "template",
    "name": "tenant",
    "parameters": {"company": {"type": "string", "required": True}},
    "pod": {
        "client_id": "cs-${tenant}",
        "name": "${company}",
        "inboxes": {"${tenant}-support@agentmail.to": {"display_name": "${company} Support"}},
    },
}
TENANTS = {"t1": {"company": "One"}, "t2": {"company": "Two"}, "t3": {"company": "Three"}}
PLATFORM = {
    "version": 1,
    "manage": {"pods": {"client_id_prefix": "cs-"}},
    "domains": {"platform.example.com": {"feedback_enabled": False}},
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def write(repo: Path, template: Any = TEMPLATE, tenants: Any = TENANTS, platform: Any = PLATFORM) -> Path:
    config = repo / "mailctl"
    config.mkdir(parents=True, exist_ok=True)
    (config / "template.yaml").write_text(yaml.safe_dump(template, sort_keys=False))
    (config / "tenants.yaml").write_text(yaml.safe_dump({"version": 1, "template": "tenant", "tenants": tenants}))
    (config / "platform.yaml").write_text(yaml.safe_dump(platform, sort_keys=False))
    return config


def edited(data: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    copy: dict[str, Any] = yaml.safe_load(yaml.safe_dump(data))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose main branch holds the config (one commit)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write(repo)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "config")
    return repo


@pytest.fixture
def applied(repo: Path, mailctl: Any) -> Path:
    """``repo``'s config, applied: a full plan shows no change."""
    mailctl.apply(repo / "mailctl")
    return repo / "mailctl"


def selected(stderr: str) -> list[str]:
    return re.findall(r"^  (\S+): ", stderr, re.M)


def test_one_tenants_edit_plans_that_tenant_only(applied: Path, mailctl: Any):
    write(applied.parent, tenants={**TENANTS, "t2": {"company": "Two Ltd"}})
    run = mailctl("plan", "-f", applied, "--changed-since", "main", "--json")
    assert run.exit_code == 0, run.output
    assert selected(run.stderr) == ["pod/cs-t2"]
    assert "pod/cs-t2: changed: name (and 1 under it)" in run.stderr
    assert actions(run.json()) == {"pod/cs-t2": "replace", "pod/cs-t2/inbox/t2-support@agentmail.to": "replace"}


@pytest.mark.parametrize("command", ["plan", "apply", "drift"])
def test_the_working_tree_is_loaded_once_and_the_state_diffed_is_the_state_planned(
    applied: Path, mailctl: Any, monkeypatch: pytest.MonkeyPatch, command: str
):
    import mailctl.config as config

    loads: list[list[str]] = []
    real = config.load

    def counted(files: list[str], *args: Any, **kwargs: Any) -> Any:
        loads.append(files)
        return real(files, *args, **kwargs)

    monkeypatch.setattr(config, "load", counted)
    write(applied.parent, tenants={**TENANTS, "t2": {"company": "Two Ltd"}})
    extra = ["--auto-approve"] if command == "apply" else []
    run = mailctl(command, "-f", applied, "--changed-since", "main", *extra)
    assert run.exit_code in (0, 2), run.output
    assert selected(run.stderr) == ["pod/cs-t2"]
    assert len(loads) == 1, loads  # not once for the diff and again for the plan


def test_a_template_edit_targets_every_tenant_it_stamps_out(applied: Path, mailctl: Any):
    template = edited(TEMPLATE, ("pod", "inboxes", "${tenant}-support@agentmail.to", "display_name"), "${company} Desk")
    write(applied.parent, template=template)
    run = mailctl("plan", "-f", applied, "--changed-since", "main", "--json")
    assert run.exit_code == 0, run.output
    inboxes = [f"pod/cs-{t}/inbox/{t}-support@agentmail.to" for t in TENANTS]
    assert selected(run.stderr) == inboxes
    assert actions(run.json()) == dict.fromkeys(inboxes, "update")


def test_a_pull_request_already_applied_plans_no_changes_without_a_note_per_address(applied: Path, mailctl: Any):
    """Re-planned after its apply, every changed address has nothing left to do: one line says so,
    not one note per address (a template edit in a fleet changes thousands)."""
    template = edited(TEMPLATE, ("pod", "inboxes", "${tenant}-support@agentmail.to", "display_name"), "${company} Desk")
    write(applied.parent, template=template)
    done = mailctl("apply", "-f", applied, "--changed-since", "main", "--auto-approve")
    assert done.exit_code == 0, done.output
    again = mailctl("plan", "-f", applied, "--changed-since", "main", "--json")
    assert again.exit_code == 0, again.output
    assert actions(again.json()) == {}
    assert [n for n in again.json()["notes"] if "matches no pending change" in n] == []
    text = mailctl("plan", "-f", applied, "--changed-since", "main")
    assert "matches no pending change" not in text.output
    assert "No changes. Within --changed-since main, the actual state" in text.stdout
    narrowed = mailctl("plan", "-f", applied, "--changed-since", "main", "--target", "pod/cs-t1")
    assert "No changes. Within --changed-since main --target pod/cs-t1, the actual" in narrowed.stdout


def test_a_removed_tenant_is_targeted_for_deletion(applied: Path, mailctl: Any):
    write(applied.parent, tenants={k: v for k, v in TENANTS.items() if k != "t3"})
    run = mailctl("plan", "-f", applied, "--changed-since", "main", "--json")
    assert run.exit_code == 0, run.output
    assert "pod/cs-t3: removed: deleted if it is managed (and 1 under it)" in run.stderr
    assert actions(run.json()) == {"pod/cs-t3": "delete", "pod/cs-t3/inbox/t3-support@agentmail.to": "delete"}


def test_drift_after_a_removal_was_applied_warns_of_no_target_of_its_own(applied: Path, mailctl: Any):
    """The removed tenant's address is still selected once its deletion is applied: it matches
    nothing declared or existing, which for a target typed by hand is the typo warning
    (test_e2e_drift), but not for one --changed-since derived."""
    write(applied.parent, tenants={k: v for k, v in TENANTS.items() if k != "t3"})
    assert mailctl.apply(applied, "--changed-since", "main").exit_code == 0
    run = mailctl("drift", "-f", applied, "--changed-since", "main")
    assert run.exit_code == 0, run.output
    assert "pod/cs-t3: removed" in run.stderr
    assert "matches nothing" not in run.stderr


def test_an_organisation_level_edit_targets_the_organisation_level(applied: Path, mailctl: Any):
    write(applied.parent, platform=edited(PLATFORM, ("domains", "platform.example.com", "feedback_enabled"), True))
    run = mailctl("plan", "-f", applied, "--changed-since", "main", "--json")
    assert run.exit_code == 0, run.output
    assert selected(run.stderr) == ["domain/platform.example.com"]
    assert actions(run.json()) == {"domain/platform.example.com": "update"}


def test_no_difference_says_so_and_exits_0_without_planning(applied: Path, mailctl: Any):
    for command in ("plan", "drift"):
        run = mailctl(command, "-f", applied, "--changed-since", "main")
        assert run.exit_code == 0, run.output
        assert "no declared resource differs; nothing to plan" in run.stderr
        assert run.stdout == ""


def test_no_difference_with_an_unwritable_step_summary_is_an_annotated_error(
    applied: Path, mailctl: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The 'nothing to plan' summary was written outside the annotated part: a failure there was
    only a line on stderr, with no ::error on the run's page (as plan's and drift's own were)."""
    unwritable = tmp_path / "a directory"
    unwritable.mkdir()
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(unwritable))
    run = mailctl("plan", "-f", applied, "--format", "github", "--changed-since", "main")
    assert run.exit_code == 1
    assert run.stdout.splitlines()[-1] == f"::error::cannot write {unwritable}: Is a directory"


def test_apply_changed_since_applies_only_what_changed(applied: Path, mailctl: Any):
    write(applied.parent, tenants={**TENANTS, "t4": {"company": "Four"}})
    run = mailctl.apply(applied, "--changed-since", "main")
    assert selected(run.stderr) == ["pod/cs-t4"]
    assert "2 done, 0 failed" in run.stdout
    assert mailctl("plan", "-f", applied, "--detailed-exitcode").exit_code == 0  # the full plan agrees


def test_drift_changed_since_reports_the_changed_addresses_only(applied: Path, mailctl: Any):
    write(applied.parent, tenants={**TENANTS, "t1": {"company": "Uno"}})
    run = mailctl("drift", "-f", applied, "--changed-since", "main", "--format", "json")
    assert run.exit_code == 2, run.output
    report = run.json()
    assert {c["address"] for state in ("changed", "missing", "undeclared") for c in report[state]} == {
        "pod/cs-t1",
        "pod/cs-t1/inbox/t1-support@agentmail.to",
    }
    assert report["selection"] == [{"flag": "--changed-since", "value": "main"}]  # not the fleet's all-clear
    plan = mailctl("plan", "-f", applied, "--changed-since", "main", "--format", "json")
    assert plan.json()["selection"] == [{"flag": "--changed-since", "value": "main"}], plan.output


def test_with_target_only_changes_both_select_are_planned(applied: Path, mailctl: Any):
    write(applied.parent, tenants={"t1": {"company": "Uno"}, "t2": {"company": "Dos"}, "t3": TENANTS["t3"]})
    run = mailctl("plan", "-f", applied, "--changed-since", "main", "--target", "pod/cs-t1", "--json")
    assert run.exit_code == 0, run.output
    assert selected(run.stderr) == ["pod/cs-t1"]
    assert set(actions(run.json())) == {"pod/cs-t1", "pod/cs-t1/inbox/t1-support@agentmail.to"}
    outside = mailctl("plan", "-f", applied, "--changed-since", "main", "--target", "pod/cs-t3")
    assert outside.exit_code == 0 and "no declared resource differs within --target pod/cs-t3" in outside.stderr


def test_an_unknown_ref_is_an_error_naming_the_fetch_to_run(repo: Path, mailctl: Any, sandbox: Any):
    run = mailctl("plan", "-f", repo / "mailctl", "--changed-since", "no-such-branch")
    assert run.exit_code == 1 and run.stdout == ""
    assert "git knows no commit no-such-branch" in run.stderr
    fetch = "git fetch origin +refs/heads/no-such-branch:refs/remotes/origin/no-such-branch"
    assert fetch in run.stderr and "--changed-since origin/no-such-branch" in run.stderr
    assert "--depth" not in run.stderr  # a full clone is never made shallow
    assert not [r for r in sandbox.stats()["by_route"] if not r.split()[1].startswith("/_sandbox/")]  # no request


def test_a_repository_without_commits_is_an_error(tmp_path: Path, mailctl: Any):
    repo = tmp_path / "fresh"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    config = write(repo)
    run = mailctl("plan", "-f", config, "--changed-since", "main")
    assert run.exit_code == 1 and run.stdout == ""
    assert "has no commits yet" in run.stderr


def test_a_config_outside_any_repository_is_an_error(tmp_path: Path, mailctl: Any):
    config = write(tmp_path / "loose")
    run = mailctl("plan", "-f", config, "--changed-since", "main")
    assert run.exit_code == 1 and "is not inside a git repository" in run.stderr


def test_a_config_that_does_not_load_at_ref_is_an_error_naming_ref(repo: Path, mailctl: Any):
    (repo / "mailctl" / "tenants.yaml").write_text("version: 1\ntemplate: tenant\ntenants: {t1: {}}\n")
    git(repo, "commit", "-q", "-am", "broken")
    write(repo)
    run = mailctl("plan", "-f", repo / "mailctl", "--changed-since", "HEAD")
    assert run.exit_code == 1 and run.stdout == ""
    assert "the config at HEAD does not load" in run.stderr
    assert "HEAD:mailctl/tenants.yaml:3:" in run.stderr
    assert "mailctl-changed-since-" not in run.stderr  # the private copy's path is never shown


def test_a_file_added_since_ref_selects_what_it_declares(repo: Path, mailctl: Any):
    extra = {"version": 1, "pods": {"cs-extra": {"name": "Extra"}}}
    (repo / "mailctl" / "extra.yaml").write_text(yaml.safe_dump(extra))
    run = mailctl("plan", "-f", repo / "mailctl", "--changed-since", "main", "--json")
    assert run.exit_code == 0, run.output
    assert selected(run.stderr) == ["pod/cs-extra"]


def test_a_shallow_clone_needs_ref_fetched_then_works(repo: Path, tmp_path: Path, mailctl: Any):
    mailctl.apply(repo / "mailctl")
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, tenants={**TENANTS, "t2": {"company": "Two Ltd"}})
    git(repo, "commit", "-q", "-am", "t2 renamed")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth=1", "--branch", "feature", "--single-branch", f"file://{repo}", str(clone))

    missing = mailctl("plan", "-f", clone / "mailctl", "--changed-since", "origin/main")
    assert missing.exit_code == 1 and missing.stdout == ""
    fetch = "git fetch --depth=1 origin +refs/heads/main:refs/remotes/origin/main"
    assert fetch in missing.stderr

    git(clone, *fetch.split()[1:])  # the command the error names, as printed
    run = mailctl("plan", "-f", clone / "mailctl", "--changed-since", "origin/main", "--json")
    assert run.exit_code == 0, run.output
    assert selected(run.stderr) == ["pod/cs-t2"]


def test_the_action_fetches_the_base_branch_of_a_shallow_clone_and_plans_what_changed(repo: Path, tmp_path: Path):
    run = _action_plan_of_a_feature_clone(repo, tmp_path, "--depth=1")
    assert run.code == 0, run.stdout
    assert "pod/cs-t4: added (and 1 under it)" in run.stdout
    assert run.outputs["exit-code"] == "2" and run.outputs["changes"] == "2"  # t4's pod and inbox only


def test_a_ref_counted_back_from_a_shallow_clone_names_the_history_to_fetch(repo: Path, tmp_path: Path, mailctl: Any):
    """``HEAD~1`` cannot be fetched by name: a shallow clone needs more of its history instead."""
    write(repo, tenants={**TENANTS, "t2": {"company": "Two Ltd"}})
    git(repo, "commit", "-q", "-am", "t2 renamed")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth=1", f"file://{repo}", str(clone))

    missing = mailctl("plan", "-f", clone / "mailctl", "--changed-since", "HEAD~1")
    assert missing.exit_code == 1 and missing.stdout == ""
    assert "git fetch --depth=1 origin HEAD~1" not in missing.stderr  # not a command git accepts
    fetch = "git fetch --deepen=1 origin"
    assert fetch in missing.stderr

    git(clone, *fetch.split()[1:])  # the command the error names, as printed
    run = mailctl("plan", "-f", clone / "mailctl", "--changed-since", "HEAD~1", "--json")
    assert run.exit_code == 0, run.output
    assert selected(run.stderr) == ["pod/cs-t2"]


def test_a_ref_counted_back_past_the_first_commit_says_the_history_is_shorter(repo: Path, mailctl: Any):
    run = mailctl("plan", "-f", repo / "mailctl", "--changed-since", "HEAD~40")
    assert run.exit_code == 1 and run.stdout == ""
    assert "goes back further than the history" in run.stderr and "git fetch" not in run.stderr


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_with_the_github_format_a_config_broken_at_ref_or_now_is_annotated(repo: Path, mailctl: Any, command: str):
    tenants = repo / "mailctl" / "tenants.yaml"
    tenants.write_text(tenants.read_text().replace("company:", "compnay:", 1))
    run = mailctl(command, "-f", repo / "mailctl", "--format", "github", "--changed-since", "HEAD")
    assert run.exit_code == 1
    assert re.search(r"^::error file=[^,]*tenants\.yaml,line=\d+,col=\d+::", run.stdout, re.M), run.output

    unknown = mailctl(command, "-f", repo / "mailctl", "--format", "github", "--changed-since", "no-such-branch")
    assert unknown.exit_code == 1 and unknown.stdout.startswith("::error::--changed-since no-such-branch")


def test_the_action_reports_a_pull_request_that_changes_no_config_as_no_changes(repo: Path, tmp_path: Path):
    from test_e2e_ci_native import run_action

    run = run_action(
        tmp_path, command="plan", config="mailctl/", sandbox=":memory:", changed_since="HEAD", working_directory="repo"
    )
    assert run.code == 0, run.stdout
    assert run.outputs["exit-code"] == "0" and run.outputs["changes"] == "0"
    assert "failed" not in run.summary and "no declared resource differs" in run.summary


def test_the_action_fetches_the_base_branch_into_a_full_clone_without_making_it_shallow(repo: Path, tmp_path: Path):
    run = _action_plan_of_a_feature_clone(repo, tmp_path)
    clone = tmp_path / "clone"
    assert run.code == 0 and run.outputs["changes"] == "2", run.stdout
    assert git(clone, "rev-parse", "--is-shallow-repository").strip() == "false"
    assert len(git(clone, "log", "--format=%H").split()) == 2  # the whole history is still there


def _action_plan_of_a_feature_clone(repo: Path, tmp_path: Path, *clone_flags: str) -> Any:
    """The action's plan with changed-since origin/main, in a clone of a branch that adds tenant t4
    (the clone has the feature branch only: the action fetches main)."""
    from test_e2e_ci_native import run_action

    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, tenants={**TENANTS, "t4": {"company": "Four"}})
    git(repo, "commit", "-q", "-am", "t4 added")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", *clone_flags, "--branch", "feature", "--single-branch", f"file://{repo}", str(clone))
    return run_action(
        tmp_path,
        command="plan",
        config="mailctl/",
        sandbox=":memory:",
        changed_since="origin/main",
        working_directory="clone",
    )


def test_a_config_that_did_not_exist_at_ref_says_so_and_plans_everything(repo: Path, mailctl: Any):
    """The pull request adds the whole config (or -f reaches it through a link git does not
    track): it said "settings changed" and "the manage policy changed", true only in a way."""
    moved = repo / "infra"
    (repo / "mailctl").rename(moved)  # uncommitted: at main the config is under mailctl/
    run = mailctl("plan", "-f", moved, "--changed-since", "main", "--json")
    assert run.exit_code == 0, run.output
    assert "the config did not exist at main (none of its files are in that commit); planning everything" in (
        run.stderr
    )
    assert "settings changed" not in run.stderr and "manage policy" not in run.stderr
    assert {c["address"] for c in run.json()["changes"]} >= {"pod/cs-t1", "pod/cs-t2", "pod/cs-t3"}
