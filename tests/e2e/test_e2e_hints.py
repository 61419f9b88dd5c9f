"""Commands printed as hints carry the connection flags the user ran with, so they work as printed."""

from __future__ import annotations

import shlex

from click.testing import CliRunner
from e2e_harness import tenants_config

from mailctl.cli.main import cli


def _hinted_command(output: str, after: str) -> list[str]:
    line = next(line for line in output.splitlines() if after in line)
    argv = shlex.split(line.split(after, 1)[1])
    assert argv[0] == "mailctl"
    return argv[1:]


def test_the_saved_plan_hint_carries_the_endpoint_and_works_as_printed(mailctl, write_config):
    config = write_config(tenants_config(1, prefix="hint-"))
    run = mailctl("plan", "-f", config, "--out", "my plan.tfplan")
    assert run.exit_code == 0, run.output
    argv = _hinted_command(run.stdout, "Apply exactly this plan with: ")
    assert argv == ["apply", "my plan.tfplan", "--endpoint", mailctl.sandbox.url]
    applied = mailctl(*argv, "--secrets-out", "secrets.json", endpoint=False)
    assert applied.exit_code == 0, applied.output


def test_the_saved_plan_hint_carries_the_embedded_sandbox(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mailctl.yaml").write_text("version: 1\npods:\n  hint-a: {name: A}\n")
    runner = CliRunner()
    planned = runner.invoke(cli, ["plan", "--sandbox", "state dir.db", "--out", "tf.plan"])
    assert planned.exit_code == 0, planned.output
    argv = _hinted_command(planned.stdout, "Apply exactly this plan with: ")
    assert argv == ["apply", "tf.plan", "--sandbox", "state dir.db"]
    assert "'state dir.db'" in planned.stdout  # shell-quoted
    applied = runner.invoke(cli, argv)
    assert applied.exit_code == 0, applied.output


def test_the_rotate_hint_carries_config_and_endpoint(mailctl, write_config):
    config = write_config(tenants_config(1, prefix="hint-"))
    mailctl.apply(config)
    address = "pod/hint-000/api_key/backend"
    run = mailctl("rotate", address, "-f", config, "--secrets-out", "secrets.json")
    assert run.exit_code == 0, run.output
    argv = _hinted_command(run.stdout, "consumers switched: ")
    assert argv == ["rotate", address, "--retire-old", "-f", str(config), "--endpoint", mailctl.sandbox.url]
    retired = mailctl(*argv, endpoint=False)
    assert retired.exit_code == 0, retired.output


def test_a_non_default_timeout_is_carried_too(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mailctl.yaml").write_text("version: 1\npods:\n  hint-a: {name: A}\n")
    planned = CliRunner().invoke(cli, ["plan", "--sandbox", "s.db", "--timeout", "7.5", "--out", "tf.plan"])
    assert planned.exit_code == 0, planned.output
    assert _hinted_command(planned.stdout, "with: ") == ["apply", "tf.plan", "--sandbox", "s.db", "--timeout", "7.5"]


def test_the_export_hint_carries_the_endpoint(mailctl, write_config):
    mailctl.apply(write_config(tenants_config(1, prefix="hint-")))
    run = mailctl("export", "-o", "exported")
    assert run.exit_code == 0, run.output
    argv = _hinted_command(run.stdout, "Check with: ")
    assert argv == ["plan", "-f", "exported", "--endpoint", mailctl.sandbox.url]
    assert mailctl(*argv, "--detailed-exitcode", endpoint=False).exit_code == 0


def test_a_stale_saved_plan_says_how_to_plan_again_with_config_and_sandbox(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "a.yaml").write_text("version: 1\npods:\n  hint-a: {name: A}\n")
    runner = CliRunner()
    assert runner.invoke(cli, ["plan", "-f", "conf", "--sandbox", "s.db", "--out", "tf.plan"]).exit_code == 0
    # The state moves: another apply creates the pod first.
    assert runner.invoke(cli, ["apply", "-f", "conf", "--sandbox", "s.db", "--auto-approve"]).exit_code == 0
    stale = runner.invoke(cli, ["apply", "tf.plan", "--sandbox", "s.db"])
    assert stale.exit_code == 1 and "is stale" in stale.output
    line = next(line for line in stale.output.splitlines() if "Nothing was changed. Run `" in line)
    argv = shlex.split(line.split("Run `", 1)[1].split("`", 1)[0])
    assert argv == ["mailctl", "plan", "-f", "conf", "--out", "tf.plan", "--sandbox", "s.db"]
    replanned = runner.invoke(cli, argv[1:])
    assert replanned.exit_code == 0, replanned.output


PROXY_PASSWORD = "proxy-password-9d2c71"


def _with_userinfo(url: str) -> str:
    return url.replace("://", f"://user:{PROXY_PASSWORD}@", 1)


def test_hints_never_print_the_password_of_the_endpoint(mailctl, write_config):
    """A proxy password in --endpoint (https://user:PASSWORD@proxy) would land in CI logs through
    every suggested command: the hint shows the URL with its userinfo as *** (and says to fill it)."""
    config = write_config(tenants_config(1, prefix="hint-"))
    endpoint = _with_userinfo(mailctl.sandbox.url)
    planned = mailctl("plan", "-f", config, "--out", "tf.plan", "--endpoint", endpoint, endpoint=False)
    assert planned.exit_code == 0, planned.output
    assert PROXY_PASSWORD not in planned.output and "user" not in planned.output.replace(mailctl.sandbox.url, "")
    argv = _hinted_command(planned.stdout, "Apply exactly this plan with: ")
    assert argv == ["apply", "tf.plan", "--endpoint", mailctl.sandbox.url.replace("://", "://***@", 1)]
    mailctl.apply(config)
    address = "pod/hint-000/api_key/backend"
    rotated = mailctl(
        "rotate", address, "-f", config, "--secrets-out", "new.json", "--endpoint", endpoint, endpoint=False
    )
    assert rotated.exit_code == 0, rotated.output
    assert PROXY_PASSWORD not in rotated.output and "://***@" in rotated.output
    exported = mailctl("export", "-o", "exported", "--endpoint", endpoint, endpoint=False)
    assert exported.exit_code == 0, exported.output
    assert PROXY_PASSWORD not in exported.output and "://***@" in exported.output
