"""``--changed-since REF``'s lines that the mutation sweep of ``changed_since_option.py`` found
unpinned: each test names the line whose deletion (or negated ``if``) it catches
(``.ci/mutate.py --sweep src/mailctl/cli/changed_since_option.py
tests/unit/cli/test_changed_since_sweep.py``)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailctl.cli.changed_since_option import SHOWN, _report
from mailctl.cli.main import cli
from mailctl.plan.changed import Selection

ENV = {"AGENTMAIL_API_KEY": "am_unused"}
CONFIG = "version: 1\npods:\n  t-a: {name: A}\n  t-b: {name: B}\n"


def git(repo: Path, *args: str) -> None:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args]
    subprocess.run(command, cwd=repo, check=True, capture_output=True, timeout=60)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory: a repository whose one commit holds ``mailctl.yaml``, unedited since."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "mailctl.yaml").write_text(CONFIG)
    git(repo, "init", "-q")
    git(repo, "add", "mailctl.yaml")
    git(repo, "commit", "-q", "-m", "config")
    monkeypatch.chdir(repo)
    return repo


def test_apply_of_a_saved_plan_refuses_changed_since_and_changes_nothing(repo: Path, tmp_path: Path) -> None:
    """Deleting ``raise UsageError("a saved PLANFILE already fixes the targets: ...")`` diffed the
    default config in the working directory instead: nothing differs since HEAD, so ``apply PLANFILE
    --changed-since HEAD`` said "nothing to plan" and exited 0 without applying the saved plan."""
    connection = ["--sandbox", str(tmp_path / "sandbox.db")]
    runner = CliRunner()
    saved = runner.invoke(cli, ["plan", *connection, "--out", str(tmp_path / "p.plan")], env=ENV)
    assert saved.exit_code == 0, saved.output

    run = runner.invoke(
        cli, ["apply", str(tmp_path / "p.plan"), "--changed-since", "HEAD", *connection, "--auto-approve"], env=ENV
    )
    assert run.exit_code == 1, run.output
    assert "a saved PLANFILE already fixes the targets: drop --changed-since" in run.stderr
    still = runner.invoke(cli, ["plan", *connection, "--detailed-exitcode"], env=ENV)
    assert still.exit_code == 2 and "pod/t-a" in still.stdout  # the pod is still to be created


def _planned(run_output: str) -> set[str]:
    return {c["address"] for c in json.loads(run_output)["changes"]}


def test_a_changed_manage_policy_plans_everything_not_only_the_addresses_edited(repo: Path, tmp_path: Path) -> None:
    """Deleting ``return targets`` (the whole config when ``selection.everything`` is set) planned
    only the edited addresses although stderr said "planning everything": a manage policy change
    decides which undeclared pods are deleted, which no address of the diff names."""
    (repo / "mailctl.yaml").write_text(
        "version: 1\nmanage:\n  pods: {client_id_prefix: t-}\npods:\n  t-a: {name: A2}\n  t-b: {name: B}\n"
    )  # the policy and pod/t-a edited, pod/t-b not
    git(repo, "add", "mailctl.yaml")  # staged, not committed: HEAD still has the old config
    run = CliRunner().invoke(
        cli, ["plan", "--sandbox", str(tmp_path / "sandbox.db"), "--changed-since", "HEAD", "--json"], env=ENV
    )
    assert run.exit_code == 0, run.output
    assert "the manage policy changed" in run.stderr and "planning everything" in run.stderr
    assert _planned(run.stdout) == {"pod/t-a", "pod/t-b"}  # both still to be created


def test_a_config_absent_at_ref_with_target_plans_that_target_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleting ``return targets`` planned the whole config when it did not exist at REF although
    --target narrowed it (stderr said "planning --target pod/t-a"): pod/t-b was planned too."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "README").write_text("no config here yet\n")
    git(repo, "init", "-q")
    git(repo, "add", "README")
    git(repo, "commit", "-q", "-m", "readme")
    (repo / "mailctl.yaml").write_text("version: 1\npods:\n  t-a: {name: A}\n  t-b: {name: B}\n")
    monkeypatch.chdir(repo)
    run = CliRunner().invoke(
        cli,
        ["plan", "--sandbox", str(tmp_path / "sandbox.db"), "--changed-since", "HEAD", "--target", "pod/t-a", "--json"],
        env=ENV,
    )
    assert run.exit_code == 0, run.output
    assert "the config did not exist at HEAD" in run.stderr and "planning --target pod/t-a" in run.stderr
    assert _planned(run.stdout) == {"pod/t-a"}


# -- what stderr says was selected -----------------------------------------------------------------

HEAD = "--changed-since main (0123456789ab)"


def _said(capsys: pytest.CaptureFixture[str], selection: Selection, targets: tuple[str, ...] = ()) -> list[str]:
    _report(HEAD, selection, targets)
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err.splitlines()


def test_notes_are_said_first_even_when_they_select_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """Deleting ``say(f"{head}: {note}")`` left "settings changed" unsaid: a settings-only edit
    planned nothing with no word of why."""
    assert _said(capsys, Selection(notes=["settings changed (they select no resource)"])) == [
        f"{HEAD}: settings changed (they select no resource)",
        f"{HEAD}: no declared resource differs; nothing to plan",
    ]


def test_planning_everything_is_said_once_and_lists_no_addresses(capsys: pytest.CaptureFixture[str]) -> None:
    """Deleting the ``return`` after "planning everything" went on to list the addresses edited as
    if only they were selected."""
    selection = Selection(reasons={"pod/t-a": "name"}, everything="the manage policy changed")
    assert _said(capsys, selection) == [f"{HEAD}: the manage policy changed; planning everything"]
    assert _said(capsys, selection, ("pod/t-*",)) == [f"{HEAD}: the manage policy changed; planning --target pod/t-*"]


def test_nothing_selected_is_said_once(capsys: pytest.CaptureFixture[str]) -> None:
    """Deleting the ``return`` after "nothing to plan" added "0 addresses selected:" below it."""
    assert _said(capsys, Selection(), ("pod/eu-*",)) == [
        f"{HEAD}: no declared resource differs within --target pod/eu-*; nothing to plan"
    ]


def test_the_selection_is_headed_by_its_count(capsys: pytest.CaptureFixture[str]) -> None:
    """Deleting the ``N address(es) selected:`` line left the indented reasons without a heading
    saying what they are (and "address" is singular for one)."""
    one = Selection(reasons={"pod/t-a": "name"})
    assert _said(capsys, one) == [f"{HEAD}: 1 address selected:", "  pod/t-a: name"]
    two = Selection(reasons={"pod/t-a": "added"}, patterns={"pod/t-a/list/*": "`lists` now managed at pod/t-a"})
    assert _said(capsys, two, ("pod/t-*",)) == [
        f"{HEAD}: 2 addresses selected within --target pod/t-*:",
        "  pod/t-a: added",
        "  pod/t-a/list/*: `lists` now managed at pod/t-a",
    ]


@pytest.mark.parametrize(("count", "more"), [(SHOWN, []), (SHOWN + 3, ["  ... and 3 more"])])
def test_beyond_shown_addresses_the_rest_are_counted(
    capsys: pytest.CaptureFixture[str], count: int, more: list[str]
) -> None:
    """Deleting ``say("  ... and N more")`` (or negating its ``if``) hid that the list was cut, or
    said "... and 0 more" under a list shown whole."""
    reasons = {f"pod/t-{i:02}": "added" for i in range(count)}
    said = _said(capsys, Selection(reasons=reasons))
    assert said[0] == f"{HEAD}: {count} addresses selected:"
    assert said[1 : SHOWN + 1] == [f"  pod/t-{i:02}: added" for i in range(SHOWN)]
    assert said[SHOWN + 1 :] == more
