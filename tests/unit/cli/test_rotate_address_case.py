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
