"""The GitHub Action (action.yml), its example workflows and the pre-commit hook.

The action's metadata must parse with the documented inputs and outputs; its main step is then run
as the runner would (inputs passed through ``env``, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files)
against an embedded sandbox, for validate, plan, apply and drift."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BASIC = ROOT / "examples" / "basic"
INPUTS = {
    "command",
    "config",
    "endpoint",
    "sandbox",
    "shard",
    "changed-since",
    "args",
    "api-key",
    "working-directory",
    "python-version",
    "install",
}
OUTPUTS = {"exit-code", "changes", "report"}


def _action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return loaded


def test_action_metadata_parses_with_the_documented_inputs_and_outputs() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == INPUTS
    assert all(spec.get("description") for spec in action["inputs"].values())
    assert action["inputs"]["command"]["required"] is True
    assert set(action["outputs"]) == OUTPUTS
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
    assert all(step.get("shell") == "bash" for step in action["runs"]["steps"] if "run" in step)


class ActionRun:
    def __init__(self, code: int, stdout: str, outputs: dict[str, str], summary: str):
        self.code, self.stdout, self.outputs, self.summary = code, stdout, outputs, summary


def run_action(tmp_path: Path, **inputs: str) -> ActionRun:
    """The action's `run` step, with ${{ inputs.x }} resolved as the runner resolves them."""
    action = _action()
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values.update({k.replace("_", "-"): v for k, v in inputs.items()})
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "run")
    resolve = lambda text: re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: values[m.group(1)], text)  # noqa: E731
    output_file, summary_file = tmp_path / "gh-output", tmp_path / "gh-summary"
    output_file.write_text("")
    summary_file.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "AGENTMAIL_"))}
    env.update({name: resolve(str(value)) for name, value in step["env"].items()})
    env.update(
        GITHUB_OUTPUT=str(output_file),
        GITHUB_STEP_SUMMARY=str(summary_file),
        RUNNER_TEMP=str(tmp_path),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    cwd = tmp_path / resolve(step["working-directory"])
    proc = subprocess.run(
        ["bash", "-c", step["run"]], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    outputs = dict(line.split("=", 1) for line in output_file.read_text().splitlines())
    return ActionRun(proc.returncode, proc.stdout + proc.stderr, outputs, summary_file.read_text())


def test_action_runs_plan_apply_drift_with_outputs_and_summary(tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")
    plan = run_action(tmp_path, command="plan", config=str(BASIC), sandbox=db)
    assert plan.code == 0, plan.stdout  # 2 (changes pending) is an answer, not a failure
    assert plan.outputs["exit-code"] == "2" and plan.outputs["changes"] == "8"
    report = Path(plan.outputs["report"])
    assert report.read_text().startswith("### mailctl plan\n")
    assert "**Plan: 8 to add" in plan.summary and report.read_text() in plan.summary
    assert "::warning::" in plan.stdout  # the new domain defers its inboxes

    keys = tmp_path / "new keys.json"  # a space: args are split like a shell would
    apply = run_action(
        tmp_path, command="apply", config=str(BASIC), sandbox=db, args=f"--auto-approve --secrets-out '{keys}'"
    )
    assert apply.code == 0, apply.stdout
    assert apply.outputs["exit-code"] == "0" and apply.outputs["changes"] == "8"
    assert keys.exists()
    assert Path(apply.outputs["report"]).read_text().startswith("### mailctl apply\n")
    assert "Apply complete!" in apply.summary

    drift = run_action(tmp_path, command="drift", config=str(BASIC), sandbox=db)
    assert drift.code == 0, drift.stdout
    assert drift.outputs == {"exit-code": "0", "changes": "0", "report": drift.outputs["report"]}
    assert "No drift" in drift.summary


def test_action_validate_annotates_problems_and_fails_the_step(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "bad.yaml").write_text("version: 1\npods:\n  a:\n    nme: x\n")
    run = run_action(tmp_path, command="validate", config="conf/")
    assert run.code == 1
    assert "::error file=conf/bad.yaml,line=4,col=5::pods.a.nme: unknown field `nme`" in run.stdout
    assert run.outputs["exit-code"] == "1"
    assert "::error" not in Path(run.outputs["report"]).read_text()  # the report is for people


def test_action_refuses_an_unknown_command_and_passes_shard_only_when_given(tmp_path: Path) -> None:
    bad = run_action(tmp_path, command="destroy")
    assert bad.code == 1 and "command must be validate, plan, apply or drift" in bad.stdout
    assert run_action(tmp_path, command="validate", config=str(BASIC), shard="1/2").code == 0  # not passed
    shards = [
        run_action(tmp_path, command="plan", config=str(BASIC), sandbox=":memory:", shard=f"{k}/2") for k in (1, 2)
    ]
    assert all(run.code == 0 and run.outputs["exit-code"] in ("0", "2") for run in shards)
    # tenant-acme hashes to shard 1, with the organisation's resources: shard 2 has nothing to do
    assert [run.outputs["changes"] for run in shards] == ["8", "0"]


def test_example_workflows_parse_use_the_action_and_never_pip_install_mailctl_from_pypi() -> None:
    workflows = sorted((ROOT / "examples" / "ci").glob("*.yml"))
    assert workflows
    used = []
    for path in workflows:
        text = path.read_text()
        workflow = yaml.safe_load(text)
        assert workflow["jobs"], path
        assert not re.search(r"pip install (--\S+ )*mailctl\b", text), path
        used += [
            step["uses"]
            for job in workflow["jobs"].values()
            for step in job["steps"]
            if "mailctl" in step.get("uses", "")
        ]
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                if step.get("uses", "").endswith("mailctl@main"):
                    assert step["with"]["command"] in ("validate", "plan", "apply", "drift")
                    assert set(step["with"]) <= INPUTS
    assert used, "no example uses the action"


def test_pre_commit_hook_is_offline_validate_only() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "mailctl-validate")
    assert hook["entry"] == "mailctl validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    pattern = re.compile(hook["files"])
    assert pattern.search("mailctl/acme.yaml") and pattern.search("x.yml") and not pattern.search("README.md")


def test_pre_commit_hook_entry_runs_validate_as_pre_commit_would(tmp_path: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    entry = next(h for h in hooks if h["id"] == "mailctl-validate")["entry"].split()
    exe = Path(sys.executable).with_name(entry[0])
    if not exe.exists():
        pytest.skip("the mailctl console script is not installed next to this interpreter")
    ok = subprocess.run(
        [str(exe), *entry[1:], "-f", str(BASIC)], capture_output=True, text=True, check=False, timeout=60
    )
    assert ok.returncode == 0 and ok.stdout.startswith("OK:")
    (tmp_path / "bad.yaml").write_text("version: 1\npods: [x]\n")
    bad = subprocess.run(
        [str(exe), *entry[1:], "-f", str(tmp_path / "bad.yaml")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert bad.returncode == 1 and "Traceback" not in bad.stderr


def test_action_changed_since_is_never_read_as_a_git_option(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    (repo / "mailctl.yaml").write_text("version: 1\npods:\n  tenant-a: {name: A}\n")
    run = run_action(
        tmp_path,
        command="plan",
        config="mailctl.yaml",
        sandbox=":memory:",
        changed_since="--upload-pack=touch PWNED;/x",
        working_directory="repo",
    )
    assert run.code == 1 and not (repo / "PWNED").exists(), run.stdout


def test_action_changed_since_a_base_commit_id_fetches_it_into_a_shallow_checkout(tmp_path: Path) -> None:
    """`changed-since: ${{ github.event.pull_request.base.sha }}` in a depth-1 checkout: the action
    fetches that commit by its id (depth 1), and the plan covers what changed since it."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    origin = tmp_path / "origin"
    origin.mkdir()
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=origin, check=True)
    (origin / "mailctl.yaml").write_text("version: 1\npods:\n  tenant-a: {name: A}\n  tenant-b: {name: B}\n")
    subprocess.run([*git, "add", "-A"], cwd=origin, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "base"], cwd=origin, check=True)
    base = subprocess.run(["git", "rev-parse", "HEAD"], cwd=origin, capture_output=True, text=True).stdout.strip()
    (origin / "mailctl.yaml").write_text("version: 1\npods:\n  tenant-a: {name: A2}\n  tenant-b: {name: B}\n")
    subprocess.run([*git, "commit", "-q", "-am", "pull request"], cwd=origin, check=True)
    subprocess.run(["git", "clone", "-q", "--depth=1", f"file://{origin}", str(tmp_path / "repo")], check=True)
    run = run_action(
        tmp_path,
        command="plan",
        config="mailctl.yaml",
        sandbox=":memory:",
        changed_since=base,
        working_directory="repo",
    )
    assert run.code == 0, run.stdout
    assert run.outputs["exit-code"] == "2" and run.outputs["changes"] == "1", run.stdout  # tenant-a only


def test_action_args_with_an_unbalanced_quote_fail_the_step_instead_of_being_dropped(tmp_path: Path) -> None:
    run = run_action(tmp_path, command="plan", config=str(BASIC), sandbox=":memory:", args="--target 'pod/tenant-acme")
    assert run.code == 1 and "No closing quotation" in run.stdout and "Traceback" not in run.stdout
    assert "exit-code" not in run.outputs  # mailctl never ran without its narrowing


def test_action_escapes_a_bad_command_input_into_one_annotation(tmp_path: Path) -> None:
    """The input in the step's ::error was printed raw: a line break in it started a command of its own."""
    bad = run_action(tmp_path, command="plan\n::stop-commands::tok")
    assert bad.code == 1
    commands = [line for line in bad.stdout.splitlines() if line.startswith("::")]
    assert commands == [
        "::error::mailctl action: command must be validate, plan, apply or drift, not 'plan%0A::stop-commands::tok'"
    ]


@pytest.mark.parametrize("args", ["--format json", "--format=text", "--json"])
def test_action_refuses_a_format_in_args_instead_of_reporting_no_changes(tmp_path: Path, args: str) -> None:
    """With its --format github replaced, the action read changes=0 from a plan of 8 changes."""
    run = run_action(tmp_path, command="plan", config=str(BASIC), sandbox=":memory:", args=args)
    assert run.code == 1, run.stdout
    assert f"::error::mailctl action: args: {args.split()[0]} is the action's own" in run.stdout


def test_the_readme_recipe_plans_a_pull_request_against_its_base_commit() -> None:
    """origin/<base> moves once more is merged there: the recipe names the base commit."""
    readme = (ROOT / "README.md").read_text()
    assert "changed-since: ${{ github.event_name == 'pull_request' && github.event.pull_request.base.sha" in readme
    assert "$RUNNER_TEMP/keys.json" not in readme  # args are never expanded
