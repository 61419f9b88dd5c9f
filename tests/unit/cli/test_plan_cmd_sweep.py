"""`mailctl plan`'s lines that the mutation sweep of ``plan_cmd.py`` found unpinned: each test
names the line whose deletion (or negated ``if``) it catches
(``.ci/mutate.py --sweep src/mailctl/cli/plan_cmd.py tests/unit/cli/test_plan_cmd_sweep.py``)."""

from __future__ import annotations

from pathlib import Path

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
