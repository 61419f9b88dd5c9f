"""`mailctl sandbox serve`'s lines that the mutation sweep of ``sandbox_cmd.py`` found unpinned:
each test names the line whose deletion (or negated ``if``) it catches
(``.ci/mutate.py --sweep src/mailctl/cli/sandbox_cmd.py tests/unit/cli/test_sandbox_cmd_sweep.py``).

Serving itself is replaced by a stand-in that reports ready and returns at once (as after Ctrl-C),
except where the test is about listening."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from mailctl.cli.main import cli
from mailctl.sandbox.app import DEV_API_KEY

NOTICE = f"No --api-key or AGENTMAIL_API_KEY given: using the dev key {DEV_API_KEY}\n"
EXAMPLE = Path(__file__).parents[3] / "examples" / "basic"
READY = "AgentMail sandbox listening on http://127.0.0.1:1\n"


def _served_at_once(app: Any, host: str, port: int, on_ready: Any, threads: int) -> None:
    on_ready("http://127.0.0.1:1")


@pytest.fixture
def served_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mailctl.sandbox.server.serve", _served_at_once)


def _serve(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(cli, ["sandbox", "serve", *args], env=env or {"AGENTMAIL_API_KEY": None})


@pytest.mark.usefixtures("served_at_once")
@pytest.mark.parametrize("blank", [None, "  "], ids=["unset", "blank"])
def test_without_any_key_the_dev_key_in_use_is_said_on_stderr(blank: str | None) -> None:
    """Deleting the ``click.echo("No --api-key or AGENTMAIL_API_KEY given: ...")`` served under
    a key the user never chose and never saw: every client of theirs got 401 with no clue why."""
    run = _serve("--port", "0", env={"AGENTMAIL_API_KEY": blank})
    assert run.exit_code == 0, run.output
    assert run.stderr == NOTICE
    assert run.stdout == READY


@pytest.mark.usefixtures("served_at_once")
@pytest.mark.parametrize(
    ("args", "env"),
    [(["--api-key", "am_unit_flag_key"], {"AGENTMAIL_API_KEY": None}), ([], {"AGENTMAIL_API_KEY": "am_unit_env_key"})],
    ids=["flag", "environment"],
)
def test_a_key_given_by_flag_or_environment_gets_no_dev_key_notice(args: list[str], env: dict[str, str | None]) -> None:
    """The other side of ``if not keys`` (negated, the notice named the dev key while another key
    was the one in use)."""
    run = _serve("--port", "0", *args, env=env)
    assert run.exit_code == 0, run.output
    assert run.stderr == ""
    assert run.stdout == READY


@pytest.mark.usefixtures("served_at_once")
def test_the_db_is_closed_when_serving_ends(tmp_path: Path) -> None:
    """Deleting ``finally: app.close()`` left the SQLite store open (its -wal and -shm files beside
    the --db file) and the webhook worker running after the server stopped."""
    db = tmp_path / "s.db"
    run = _serve("--port", "0", "--db", str(db), "--api-key", "am_unit_flag_key")
    assert run.exit_code == 0, run.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.db"]


def test_a_db_that_cannot_be_opened_is_an_error_without_a_traceback(tmp_path: Path) -> None:
    """Deleting ``raise click.ClickException("cannot open sandbox database ...")`` went on with no
    app: an UnboundLocalError traceback instead of the reason."""
    run = _serve("--port", "0", "--db", str(tmp_path), "--api-key", "am_unit_flag_key")  # a directory
    assert run.exit_code == 1, run.output
    assert isinstance(run.exception, SystemExit)  # click's own exit, not an exception escaping
    assert run.stderr.startswith("Error: cannot open sandbox database ") and "Traceback" not in run.stderr
    assert run.stdout == ""


def _not_a_file(tmp_path: Path, what: str) -> tuple[Path, str]:
    if what == "directory":
        return tmp_path, "is a directory"
    fifo = tmp_path / "sandbox.db"
    os.mkfifo(fifo)
    return fifo, "is not a regular file"


@pytest.mark.parametrize("what", ["directory", "fifo"])
def test_a_db_that_is_no_file_is_named_in_the_error_and_left_alone(tmp_path: Path, what: str) -> None:
    """A --db that is a directory or a FIFO is refused naming the path and what it is (the rule
    for bad input: name the file). SQLite said only "unable to open database file" or "disk I/O
    error", naming neither, and serve's message did not name the path either."""
    db, why = _not_a_file(tmp_path, what)
    before = sorted(p.name for p in tmp_path.iterdir())
    run = _serve("--port", "0", "--db", str(db), "--api-key", "am_unit_flag_key")
    assert run.exit_code == 1, run.output
    assert run.stderr.startswith(f"Error: cannot open sandbox database {str(db)!r}: "), run.stderr
    assert why in run.stderr and "Traceback" not in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no -wal or -shm made beside it


@pytest.mark.parametrize("what", ["directory", "fifo"])
def test_an_embedded_sandbox_that_is_no_file_is_named_in_the_error(tmp_path: Path, what: str) -> None:
    """The same refusal for ``--sandbox PATH`` of the other commands."""
    db, why = _not_a_file(tmp_path, what)
    run = CliRunner().invoke(cli, ["plan", "-f", str(EXAMPLE), "--sandbox", str(db)])
    assert run.exit_code == 1, run.output
    assert f"cannot open sandbox database {str(db)!r}: " in run.stderr and why in run.stderr, run.stderr


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_a_port_already_in_use_fails_with_exit_1_and_never_says_listening(taken_port: int, tmp_path: Path) -> None:
    """Deleting ``raise click.ClickException("cannot listen on HOST:PORT: ...")`` swallowed the
    OSError: serve exited 0 at once, printing nothing, and a CI job went on to talk to whatever
    holds the port."""
    db = tmp_path / "s.db"
    run = _serve("--port", str(taken_port), "--db", str(db), "--api-key", "am_unit_flag_key")
    assert run.exit_code == 1, run.output
    assert run.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{taken_port}: Address already in use")
    assert run.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.db"]  # the store was closed all the same
