"""`mailctl plan`'s lines that the mutation sweep of ``plan_cmd.py`` found unpinned: each test
names the line whose deletion (or negated ``if``) it catches
(``.ci/mutate.py --sweep src/mailctl/cli/plan_cmd.py tests/unit/cli/test_plan_cmd_sweep.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailctl.cli.main import cli

ENV = {"AGENTMAIL_API_KEY": "am_unused"}
CONFIG = "version: 1\npods:\n  t-a: {name: A}\n  t-b: {name: B}\n"


def test_a_sharded_plan_is_not_saved_and_the_refusal_says_to_apply_the_shard(tmp_path: Path) -> None:
    """Deleting ``raise UsageError("--out cannot save a sharded plan ...")`` saved a shard's plan,
    whose recorded state the other shards change under it: ``plan --shard --out`` exits 1, names
    ``apply --shard K/N`` instead and writes no plan file."""
    config = tmp_path / "mailctl.yaml"
    config.write_text(CONFIG)
    saved = tmp_path / "p.plan"
    connection = ["--sandbox", str(tmp_path / "sandbox.db")]
    runner = CliRunner()

    run = runner.invoke(cli, ["plan", "-f", str(config), *connection, "--shard", "1/2", "--out", str(saved)], env=ENV)
    assert run.exit_code == 1, run.output
    assert "--out cannot save a sharded plan" in run.stderr
    assert "apply each shard with `mailctl apply --shard K/N`" in run.stderr
    assert run.stdout == ""
    assert not saved.exists()

    unsharded = runner.invoke(cli, ["plan", "-f", str(config), *connection, "--out", str(saved)], env=ENV)
    assert unsharded.exit_code == 0, unsharded.output  # the same plan unsharded is saved
    assert saved.exists()


@pytest.mark.parametrize("fmt", ["markdown", "github", "text"])
def test_json_with_another_explicit_format_is_a_usage_error(tmp_path: Path, fmt: str) -> None:
    """`plan --json --format markdown` printed JSON and exited 0, dropping the --format (no
    annotations nor step summary with github): one or the other, as the README's syntax says."""
    config = tmp_path / "mailctl.yaml"
    config.write_text(CONFIG)
    connection = ["--sandbox", str(tmp_path / "sandbox.db")]
    run = CliRunner().invoke(cli, ["plan", "-f", str(config), *connection, "--json", "--format", fmt], env=ENV)
    assert run.exit_code == 1, run.output
    assert "--json" in run.stderr and f"--format {fmt}" in run.stderr, run.stderr
    assert run.stdout == ""


@pytest.mark.parametrize("extra", [[], ["--format", "json"]])
def test_json_alone_or_with_format_json_prints_the_plan_as_json(tmp_path: Path, extra: list[str]) -> None:
    config = tmp_path / "mailctl.yaml"
    config.write_text(CONFIG)
    connection = ["--sandbox", str(tmp_path / "sandbox.db")]
    run = CliRunner().invoke(cli, ["plan", "-f", str(config), *connection, "--json", *extra], env=ENV)
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["summary"]["create"] == 2


def test_a_plan_file_name_with_a_control_character_is_escaped_in_the_saved_line(tmp_path: Path) -> None:
    config = tmp_path / "mailctl.yaml"
    config.write_text(CONFIG)
    saved = tmp_path / "p\x1b[2J.plan"
    run = CliRunner().invoke(
        cli, ["plan", "-f", str(config), "--sandbox", str(tmp_path / "sandbox.db"), "--out", str(saved)], env=ENV
    )
    assert run.exit_code == 0, run.output
    assert saved.exists() and "\x1b" not in run.stdout
    assert "p\\x1b[2J.plan" in run.stdout
