"""`mailctl export` and `mailctl import`'s lines that the mutation sweep of ``export_cmd.py`` found
unpinned: each test names the line whose deletion (or negated ``if``) it catches
(``.ci/mutate.py --sweep src/mailctl/cli/export_cmd.py tests/unit/cli/test_export_cmd_sweep.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from mailctl.api.connect import connect
from mailctl.cli.main import cli

ENV = {"AGENTMAIL_API_KEY": "am_unused"}
WORKER = "pod/t-1/api_key/worker"
HEADER_WARNING = "# Warning: `mailctl plan` with this config would show 1 change(s):"
STDERR_WARNING = (
    "warning: planning this config would show 1 change(s) (listed in its header): "
    "the account holds something config cannot express as it is\n"
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A sandbox holding pod t-1 with an inbox, and a key a killed apply left under its pending
    name (nobody has its secret): config cannot declare it, so planning the export deletes it."""
    return _seed(tmp_path / "sandbox.db", ["help"], key="worker#mailctl-pending")


def _seed(db: Path, usernames: list[str], key: str | None = None) -> Path:
    """Pod t-1 with an inbox per username (and a pod key named ``key``) in the sandbox at ``db``."""
    client = connect(None, str(db), ENV["AGENTMAIL_API_KEY"])
    try:
        pod = client.post("/v0/pods", json={"client_id": "t-1", "name": "Tenant"})["pod_id"]
        for username in usernames:
            client.post(f"/v0/pods/{pod}/inboxes", json={"username": username})
        if key is not None:
            client.post(f"/v0/pods/{pod}/api-keys", json={"name": key})
    finally:
        client.close()
    return db


def _run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--sandbox", str(db)], env=ENV)


def _comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("#")]


@pytest.mark.parametrize("command", [["export"], ["import", "pod/t-1"]], ids=["export", "import"])
def test_an_account_config_cannot_express_is_warned_of_in_the_header_and_on_stderr(
    db: Path, command: list[str]
) -> None:
    """Deleting ``_check``'s ``return check_texts(...)`` made the header claim "plans with no
    changes" for config that plans a delete; deleting the ``Warning: ... would show`` line or the
    list of changes under it hid which change; deleting ``_warn_changes``' ``click.echo`` left
    stderr silent, so a script piping stdout to a file never learned the export is not clean."""
    run = _run(db, *command)
    assert run.exit_code == 0, run.output
    comments = _comments(run.stdout)
    assert HEADER_WARNING in comments
    assert f"#   delete {WORKER} (secret never recorded)" in comments
    assert not any("plans with no changes" in line for line in comments)
    assert run.stderr == STDERR_WARNING


def test_export_to_a_directory_warns_in_every_file_and_on_stderr(db: Path, tmp_path: Path) -> None:
    """The ``-o DIR`` branch of the same lines: each written file's header lists the change and
    stderr says so after the ``Wrote ...`` line."""
    out = tmp_path / "out"
    run = _run(db, "export", "-o", str(out))
    assert run.exit_code == 0, run.output
    files = sorted(out.iterdir())
    assert run.stdout.startswith(f"Wrote {len(files)} file(s) to ") and out / "t-1.yaml" in files
    assert run.stderr == STDERR_WARNING
    for path in files:
        comments = _comments(path.read_text())
        assert HEADER_WARNING in comments and f"#   delete {WORKER} (secret never recorded)" in comments


def test_a_clean_export_says_checked_and_warns_of_nothing(tmp_path: Path) -> None:
    """The other side: with nothing config cannot express, the header says "Checked" and stderr
    stays empty."""
    db = tmp_path / "sandbox.db"
    client = connect(None, str(db), ENV["AGENTMAIL_API_KEY"])
    try:
        client.post("/v0/pods", json={"client_id": "t-1", "name": "Tenant"})
    finally:
        client.close()
    run = _run(db, "export")
    assert run.exit_code == 0, run.output
    assert "# Checked: `mailctl plan` with this config against this account plans with no changes." in run.stdout
    assert run.stderr == ""


def test_export_with_manage_rules_but_nothing_ignored_notes_no_unmanaged_resources(db: Path, tmp_path: Path) -> None:
    """Deleting ``_ignored_notes``' ``return []`` put "Unmanaged (manage.ignore: ...): 0" in the
    header of every ``export -f`` whose ``manage.ignore`` matched nothing."""
    config = tmp_path / "mailctl.yaml"
    config.write_text('version: 1\nmanage:\n  ignore: ["pod/*/inbox/conv-*"]\n')
    run = _run(db, "export", "-f", str(config))
    assert run.exit_code == 0, run.output
    assert "Unmanaged" not in run.stdout
    assert yaml.safe_load(run.stdout)["manage"] == {"ignore": ["pod/*/inbox/conv-*"]}


@pytest.mark.parametrize("to_directory", [False, True], ids=["stdout", "directory"])
def test_a_pod_glob_matching_nothing_is_refused_and_nothing_is_written(
    db: Path, tmp_path: Path, to_directory: bool
) -> None:
    """Deleting ``raise UsageError("nothing to export ...")`` exited 0 with a config declaring
    nothing (or wrote it into DIR), which `apply` would read as "delete what manage selects"."""
    out = tmp_path / "out"
    run = _run(db, "export", "--pod", "nomatch-*", *(["-o", str(out)] if to_directory else []))
    assert run.exit_code == 1, run.output
    assert run.stderr == "Error: nothing to export for --pod nomatch-*\n"
    assert run.stdout == ""
    assert not out.exists()


def test_import_with_manage_ignore_lists_what_it_left_out_in_its_header(tmp_path: Path) -> None:
    """Deleting import's ``selection.notes.extend(notes)`` left the inbox ``manage.ignore``
    matched out of the printed config without a word: the header no longer said it is unmanaged."""
    db = _seed(tmp_path / "sandbox.db", ["help", "conv-1"])
    config = tmp_path / "mailctl.yaml"
    config.write_text('version: 1\nmanage:\n  ignore: ["pod/*/inbox/conv-*"]\n')
    run = _run(db, "import", "pod/t-1", "-f", str(config))
    assert run.exit_code == 0, run.output
    comments = _comments(run.stdout)
    assert "# Unmanaged (manage.ignore: made at runtime, left out, left alone): 1" in comments
    assert "#   pod/t-1/inbox/conv-1@agentmail.to" in comments
    assert "conv-1@agentmail.to:" not in run.stdout and "help@agentmail.to:" in run.stdout
