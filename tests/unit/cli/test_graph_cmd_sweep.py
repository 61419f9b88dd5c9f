"""`mailctl graph`'s lines that the mutation sweep of ``graph_cmd.py`` found unpinned: each test
names the line whose deletion (or negated ``if``) it catches
(``.ci/mutate.py --sweep src/mailctl/cli/graph_cmd.py tests/unit/cli/test_graph_cmd_sweep.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mailctl.cli.main import cli

CONFIG = "version: 1\npods:\n  acme:\n    name: Acme\n    inboxes:\n      help@agentmail.to: {}\n"
ENV = {"AGENTMAIL_API_KEY": None, "AGENTMAIL_BASE_URL": "http://127.0.0.1:9"}  # offline: never contacted


@pytest.mark.parametrize(
    ("option", "pattern"),
    [("--target", ""), ("--target", "/pod/acme"), ("--exclude", "pod//acme"), ("--exclude", "")],
    ids=["empty-target", "rooted-target", "double-slash-exclude", "empty-exclude"],
)
def test_an_offline_graph_refuses_a_pattern_that_is_no_address(tmp_path: Path, option: str, pattern: str) -> None:
    """Deleting the offline branch's ``validate_patterns(targets, "--target")`` (or its
    ``--exclude`` twin) drew a graph for a malformed pattern, exit 0: an empty target drew
    nothing with a mere note, a malformed exclude silently excluded nothing. ``plan`` and
    ``--plan`` refuse the same patterns with exit 1; the offline graph must too."""
    config = tmp_path / "mailctl.yaml"
    config.write_text(CONFIG)
    run = CliRunner().invoke(cli, ["graph", "-f", str(config), f"{option}={pattern}"], env=ENV)
    assert run.exit_code == 1, run.output
    expected = f"Error: {option} {pattern!r}: expected an address such as pod/tenant-a or pod/tenant-*"
    assert run.stderr.startswith(expected)
    assert run.stderr.count("\n") == 1
    assert run.stdout == ""
