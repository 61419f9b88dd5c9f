"""`--format github` on validate, plan and drift: workflow-command annotations (GitHub's exact
syntax and escaping), the Markdown report appended to $GITHUB_STEP_SUMMARY, changes=N appended to
$GITHUB_OUTPUT, and the same exit codes as the other formats."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mailctl.cli.github import escape_data, escape_property, workflow_command
from mailctl.cli.main import cli

BASIC = Path(__file__).resolve().parents[3] / "examples" / "basic" / "mailctl.yaml"


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


@pytest.fixture
def gh_env(tmp_path: Path) -> dict[str, str]:
    return {"GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "GITHUB_OUTPUT": str(tmp_path / "output.txt")}


@pytest.fixture
def applied(tmp_path: Path) -> Path:
    """An embedded sandbox holding exactly examples/basic; returns its path."""
    db = tmp_path / "sandbox.db"
    result = run("apply", "-f", BASIC, "--sandbox", db, "--auto-approve", "--secrets-out", tmp_path / "keys.json")
    assert result.exit_code == 0, result.output
    return db


def test_workflow_command_escapes_message_and_properties_as_github_does() -> None:
    assert escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert escape_property("dir:x,y%\n") == "dir%3Ax%2Cy%25%0A"
    assert (
        workflow_command("error", "50%\nbad", file="a:b,c.yaml", line=3, col=7)
        == "::error file=a%3Ab%2Cc.yaml,line=3,col=7::50%25%0Abad"
    )
    assert workflow_command("warning", "plain") == "::warning::plain"


def test_validate_github_prints_one_error_annotation_per_problem_at_file_line_col(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("conf").mkdir()
    Path("conf/a.yaml").write_text("version: 1\npods:\n  a:\n    nme: x\n")
    Path("conf/b.yaml").write_text("version: 1\npods:\n  b:\n    inboxes:\n      x@agentmail.to: {status: stopped}\n")
    result = run("validate", "-f", "conf", "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=conf/a.yaml,line=4,col=5::pods.a.nme: unknown field `nme`; did you mean `name`?",
        "::error file=conf/b.yaml,line=5,col=32::pods.b.inboxes.x@agentmail.to.status: "
        "`stopped` is not one of: active, paused",
    ]
    assert "Error: 2 problems in the configuration:" in result.stderr  # the usual report, too


def test_a_line_break_in_a_config_key_is_an_escape_in_the_annotation_as_in_the_text_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A problem is one line in the text report (``t\\na``); in an annotation the key's line break
    was sent as ``%0A``, which GitHub shows as a line break: the annotation read otherwise."""
    monkeypatch.chdir(tmp_path)
    Path("a.yaml").write_text('version: 1\npods:\n  "t\\na": {}\n')
    result = run("validate", "-f", "a.yaml", "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=a.yaml,line=3,col=3::pods.t\\na: `t\\na` is not a valid pod client_id: "
        "use 1-256 characters from A-Z a-z 0-9 - . _ ~"
    ]
    assert "a.yaml:3:3: pods.t\\na: `t\\na` is not a valid pod client_id" in result.stderr


def test_annotations_name_files_from_the_workspace_top_where_mailctl_runs_below_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner reads ``file=`` from the repository top ($GITHUB_WORKSPACE): run from infra/
    (the action's working-directory), ``conf/a.yaml`` named a file that does not exist there, and
    the annotation never reached the pull request's line."""
    (tmp_path / "infra" / "conf").mkdir(parents=True)
    (tmp_path / "infra" / "conf" / "a.yaml").write_text("version: 1\npods:\n  a:\n    nme: x\n")
    monkeypatch.chdir(tmp_path / "infra")
    result = run("validate", "-f", "conf", "--format", "github", env={"GITHUB_WORKSPACE": str(tmp_path)})
    assert result.stdout.splitlines()[0].startswith("::error file=infra/conf/a.yaml,line=4,col=5::")
    outside = run("validate", "-f", "conf", "--format", "github", env={"GITHUB_WORKSPACE": str(tmp_path / "other")})
    assert outside.stdout.startswith("::error file=conf/a.yaml,")  # not under it: as given


def test_validate_github_on_a_valid_config_prints_ok_and_exits_0() -> None:
    result = run("validate", "-f", BASIC, "--format", "github")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: 1 file, 8 resources") and "::" not in result.stdout


def test_plan_github_annotates_config_errors_and_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.yaml").write_text("version: 1\npods:\n  a:\n    nme: x\n")
    for command in ("plan", "drift"):
        result = run(command, "-f", "bad.yaml", "--sandbox", ":memory:", "--format", "github")
        assert result.exit_code == 1
        assert "::error file=bad.yaml,line=4,col=5::pods.a.nme: unknown field `nme`" in result.stdout


def test_plan_github_warns_about_deferred_work_and_appends_the_markdown_plan_to_the_step_summary(
    tmp_path: Path, gh_env: dict[str, str]
) -> None:
    Path(gh_env["GITHUB_STEP_SUMMARY"]).write_text("earlier step\n")
    result = run(
        "plan", "-f", BASIC, "--sandbox", tmp_path / "s.db", "--format", "github", "--detailed-exitcode", env=gh_env
    )
    assert result.exit_code == 2, result.output
    assert "Plan: 8 to add, 0 to change, 0 to replace, 0 to destroy." in result.stdout
    warnings = [line for line in result.stdout.splitlines() if line.startswith("::warning")]
    assert warnings and all(w.startswith("::warning::") for w in warnings)
    assert any("mail.acme.com" in w and "created only once it verifies" in w for w in warnings)
    summary = Path(gh_env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith("earlier step\n### mailctl plan\n")  # appended, never overwritten
    assert "**Plan: 8 to add, 0 to change, 0 to replace, 0 to destroy.**" in summary
    assert Path(gh_env["GITHUB_OUTPUT"]).read_text() == "changes=8\n"


def test_plan_github_exit_codes_match_the_other_formats(applied: Path, gh_env: dict[str, str]) -> None:
    assert (
        run(
            "plan", "-f", BASIC, "--sandbox", applied, "--format", "github", "--detailed-exitcode", env=gh_env
        ).exit_code
        == 0
    )
    assert run("plan", "-f", BASIC, "--sandbox", applied, "--format", "github", env=gh_env).exit_code == 0
    assert "No changes" in Path(gh_env["GITHUB_STEP_SUMMARY"]).read_text()
    assert Path(gh_env["GITHUB_OUTPUT"]).read_text().splitlines()[-1] == "changes=0"
    assert run("plan", "--format", "githb").exit_code == 1  # a usage error exits 1


def test_plan_github_errors_when_apply_would_refuse(applied: Path, tmp_path: Path, gh_env: dict[str, str]) -> None:
    config = tmp_path / "guarded.yaml"
    config.write_text(BASIC.read_text().replace("    name: Acme Corp", "    name: Acme Inc\n    prevent_destroy: true"))
    result = run("plan", "-f", config, "--sandbox", applied, "--format", "github", "--detailed-exitcode", env=gh_env)
    assert result.exit_code == 2, result.output
    refusals = [line for line in result.stdout.splitlines() if line.startswith("::error::apply will refuse this plan")]
    assert refusals and "pod/tenant-acme" in refusals[0] and "prevent_destroy" in refusals[0]


def test_drift_github_warns_at_the_declaration_and_summarises_exit_2(
    applied: Path, tmp_path: Path, gh_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("drifted.yaml").write_text(BASIC.read_text().replace("display_name: Acme Support", "display_name: Acme Help"))
    line = next(
        n for n, text in enumerate(Path("drifted.yaml").read_text().splitlines(), 1) if "support@mail.acme.com:" in text
    )
    result = run("drift", "-f", "drifted.yaml", "--sandbox", applied, "--format", "github", env=gh_env)
    assert result.exit_code == 2, result.output
    assert (
        f"::warning file=drifted.yaml,line={line},col=7::drift: pod/tenant-acme/inbox/support@mail.acme.com "
        'changed (display_name: "Acme Support" (actual) != "Acme Help" (declared))'
    ) in result.stdout.splitlines()
    assert Path(gh_env["GITHUB_STEP_SUMMARY"]).read_text().startswith("### mailctl drift report\n")
    assert Path(gh_env["GITHUB_OUTPUT"]).read_text() == "changes=1\n"


def test_drift_github_without_drift_exits_0_with_no_warnings(applied: Path, gh_env: dict[str, str]) -> None:
    result = run("drift", "-f", BASIC, "--sandbox", applied, "--format", "github", env=gh_env)
    assert result.exit_code == 0, result.output
    assert "::warning" not in result.stdout
    assert "No drift" in Path(gh_env["GITHUB_STEP_SUMMARY"]).read_text()


def test_github_format_without_step_summary_variables_writes_no_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    monkeypatch.chdir(tmp_path)
    result = run("plan", "-f", BASIC, "--sandbox", ":memory:", "--format", "github")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []
