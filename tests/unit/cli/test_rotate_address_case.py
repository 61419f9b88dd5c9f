"""`mailctl rotate ADDRESS` reads an address as --target and import do: an inbox's address in any
case (README: addresses are case-insensitive wherever an address or glob names them)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from mailctl.cli.main import cli

CONFIG = """\
version: 1
pods:
  tenant-zoe:
    name: Zoe
    inboxes:
      support@agentmail.to:
        api_keys:
          support-bot: {}
"""


def test_rotate_takes_an_inbox_address_in_any_case(tmp_path: Path) -> None:
    config, db = tmp_path / "c.yaml", tmp_path / "sb.db"
    config.write_text(CONFIG)
    runner = CliRunner()
    applied = runner.invoke(
        cli,
        ["apply", "-f", str(config), "--sandbox", str(db), "--auto-approve", "--secrets-out", str(tmp_path / "a.json")],
    )
    assert applied.exit_code == 0, applied.output
    rotated = runner.invoke(
        cli,
        [
            "rotate",
            "pod/tenant-zoe/inbox/SUPPORT@AgentMail.to/api_key/support-bot",
            "-f",
            str(config),
            "--sandbox",
            str(db),
            "--secrets-out",
            str(tmp_path / "new.json"),
        ],
    )
    assert rotated.exit_code == 0, rotated.output
    assert "pod/tenant-zoe/inbox/support@agentmail.to/api_key/support-bot: new key created" in rotated.output
    [record] = json.loads((tmp_path / "new.json").read_text())
    assert record["address"] == "pod/tenant-zoe/inbox/support@agentmail.to/api_key/support-bot"


def test_retiring_the_key_this_run_uses_is_refused_before_anything_is_deleted(tmp_path: Path) -> None:
    """It deleted the key mailctl was authenticating with: the lock's release then failed (401),
    and the hint said to unlock with that dead key."""
    config, db = tmp_path / "c.yaml", tmp_path / "sb.db"
    config.write_text('version: 1\napi_keys:\n  "sandbox bootstrap key": {}\n')
    runner = CliRunner()
    base = ["-f", str(config), "--sandbox", str(db)]
    rotated = runner.invoke(
        cli, ["rotate", "api_key/sandbox bootstrap key", *base, "--secrets-out", str(tmp_path / "new.json")]
    )
    assert rotated.exit_code == 0, rotated.output
    retired = runner.invoke(cli, ["rotate", "api_key/sandbox bootstrap key", *base, "--retire-old"])
    assert retired.exit_code == 1
    assert "is the key this run authenticates with" in retired.output and "nothing was deleted" in retired.output
    assert runner.invoke(cli, ["unlock", "--sandbox", str(db)]).output.startswith("No apply lock is held")
    deleting = runner.invoke(
        cli,
        ["rotate", "api_key/sandbox bootstrap key", *base, "--delete-old", "--secrets-out", str(tmp_path / "b.json")],
    )
    assert deleting.exit_code == 1 and "is the key this run authenticates with" in deleting.output
    assert not (tmp_path / "b.json").exists() or (tmp_path / "b.json").read_text() in ("", "[]")  # no key made
