"""``mailctl --help``, every command's ``--help`` and ``mailctl completion`` load none of what the
commands run (httpx, the config loader with yaml and jsonschema, deepdiff, the sandbox, the
workflows): command modules import those inside the functions that use them. Importing them
when the command group loaded cost 0.3 s of every invocation."""

from __future__ import annotations

import json
import subprocess
import sys

# What a command imports when it runs; none of it when it only shows help or a completion script.
RUN_ONLY = (
    "httpx",
    "httpcore",
    "h11",
    "yaml",
    "jsonschema",
    "deepdiff",
    "pathspec",
    "sqlite3",
    "mailctl.api.client",
    "mailctl.config",
    "mailctl.kinds",  # the kind descriptions: 20 ms, and they pull in the plan modules
    "mailctl.ops",
    "mailctl.sandbox.app",
    "mailctl.sandbox.server",
)

# In a fresh interpreter: the console entry's group shows each help page, then says what got loaded.
_PROBE = """
import contextlib, io, json, sys
from mailctl.cli.main import cli
runs = [["--help"], ["--version"], ["completion", "bash"], ["sandbox", "serve", "--help"]]
runs += [[name, "--help"] for name in cli.commands]
for args in runs:
    with contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(args, prog_name="mailctl", standalone_mode=False)
    assert code in (0, None), (args, code)
print(json.dumps(sorted(sys.modules)))
"""


def test_help_and_completion_import_nothing_a_command_runs() -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=True)
    loaded = json.loads(done.stdout)
    heavy = [m for m in loaded if any(m == name or m.startswith(name + ".") for name in RUN_ONLY)]
    assert heavy == [], "import these inside the command functions that need them: " + ", ".join(heavy)


# Loading a valid config as every command does: the compiled check decides it without jsonschema
# (80-100 ms of imports), which is needed only to word the problems of a config that has some;
# pathspec (25 ms) only reads a .mailctlignore.
NEEDED_ONLY_SOMETIMES = ("jsonschema", "pathspec")
_LOAD_PROBE = """
import json, sys
from mailctl.config import load
load([sys.argv[1]])
print(json.dumps(sorted(sys.modules)))
"""


def test_a_valid_config_without_an_ignore_file_loads_without_jsonschema_or_pathspec(tmp_path) -> None:
    config = tmp_path / "mailctl.yaml"
    config.write_text("version: 1\npods:\n  acme:\n    name: Acme\n    inboxes:\n      support@agentmail.to: {}\n")
    probe = [sys.executable, "-c", _LOAD_PROBE, str(config)]
    done = subprocess.run(probe, capture_output=True, text=True, timeout=120, check=True)
    loaded = json.loads(done.stdout)
    assert "mailctl.config.schema" in loaded  # the check ran
    assert [m for m in loaded if m.split(".")[0] in NEEDED_ONLY_SOMETIMES] == []
