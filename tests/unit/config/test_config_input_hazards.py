"""Config input that used to hang, crash or crawl: FIFOs, sockets and devices among the config
files, text no encoder accepts (lone surrogates from `\\ud800` escapes), and files with a huge
number of problems. Run over real subprocesses with timeouts where a regression would hang."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailctl.cli.main import cli

TIMEOUT = 60  # seconds: a hang fails the test instead of the suite
MAIN = "from mailctl.cli.main import main; main()"


def mailctl(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", MAIN, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=cwd,
        env={**os.environ, "PYTHONUTF8": "1"},
    )


def validate(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["validate", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    directory = tmp_path / "conf"
    directory.mkdir()
    (directory / "mailctl.yaml").write_text("version: 1\npods: {a: {}}\n")
    return directory


# --- non-regular files ------------------------------------------------------------------------


def test_fifo_in_a_config_directory_is_skipped_with_a_warning_never_opened(conf: Path) -> None:
    os.mkfifo(conf / "x.yaml")
    run = mailctl("validate", "-f", conf)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "OK: 1 file, 1 resource (1 pod)\n"
    assert f"warning: skipped {conf}/x.yaml: a FIFO, not a regular file (never opened)" in run.stderr


def test_fifo_named_with_f_is_an_error_not_a_hang(conf: Path) -> None:
    os.mkfifo(conf / "x.yaml")
    run = mailctl("validate", "-f", conf / "x.yaml")
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert f"{conf}/x.yaml:1:1: not a regular file (a FIFO)" in run.stderr


def test_symlink_to_a_fifo_in_a_directory_is_skipped_too(conf: Path, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (conf / "link.yaml").symlink_to(tmp_path / "pipe")
    run = mailctl("validate", "-f", conf)
    assert run.returncode == 0 and f"skipped {conf}/link.yaml: a FIFO" in run.stderr


def test_socket_in_a_config_directory_is_skipped(conf: Path) -> None:
    path = conf / "s.yaml"
    if len(str(path)) > 100:
        pytest.skip("socket path too long for AF_UNIX")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        run = mailctl("validate", "-f", conf)
    assert run.returncode == 0 and f"skipped {path}: a socket, not a regular file" in run.stderr


def test_device_in_a_config_directory_is_skipped_and_one_named_with_f_is_an_error(conf: Path) -> None:
    device = conf / "null.yaml"
    try:
        os.mknod(device, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # like /dev/null, but ours
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device here: {exc}")
    run = mailctl("validate", "-f", conf)
    assert run.returncode == 0 and f"skipped {device}: a character device, not a regular file" in run.stderr
    named = mailctl("validate", "-f", device)
    assert named.returncode == 1 and f"{device}:1:1: not a regular file (a character device)" in named.stderr


# --- text that cannot be encoded ----------------------------------------------------------------

SURROGATES = r"""version: 1
pods:
  tenant-a:
    name: "Acme \ud800"
    inboxes:
      a@agentmail.to: {metadata: {"k\udfff": v}}
"""


def test_lone_surrogates_in_values_and_keys_are_located_config_errors(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(SURROGATES)
    code, out, err = validate("-f", tmp_path / "s.yaml")
    assert code == 1 and out == "" and "Traceback" not in err
    assert err.splitlines() == [
        "Error: 2 problems in the configuration:",
        f"{tmp_path}/s.yaml:4:11: pods.tenant-a.name: `\\ud800` is a lone UTF-16 surrogate, which cannot "
        "be encoded as UTF-8: write the character itself, or its full code point (like `\\U0001F600`)",
        f"{tmp_path}/s.yaml:6:35: pods.tenant-a.inboxes.a@agentmail.to.metadata.k\\udfff: `\\udfff` is a lone "
        "UTF-16 surrogate, which cannot be encoded as UTF-8: write the character itself, or its full code "
        "point (like `\\U0001F600`)",
    ]


@pytest.mark.parametrize(
    "text",
    [
        'version: 1\npods: {"\\ud800": {}}\n',
        'version: 1\ndomains: {"x\\udc00.com": {}}\n',
        'version: 1\napi_keys: {"k\\ud83d": {}}\n',
        'version: 1\nwebhooks: {w: {url: "https://h.test/\\ud800", event_types: [message.received]}}\n',
        'version: 1\nsettings: {"\\ud800": 1}\n',
    ],
)
def test_surrogates_anywhere_fail_validate_with_a_location(tmp_path: Path, text: str) -> None:
    (tmp_path / "s.yaml").write_text(text)
    code, _, err = validate("-f", tmp_path / "s.yaml")
    assert code == 1 and "Traceback" not in err
    assert f"{tmp_path}/s.yaml:" in err and "lone UTF-16 surrogate" in err


def test_plan_reports_surrogates_as_config_errors_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text('version: 1\npods:\n  a: {name: "\\ud800"}\n')
    run = mailctl("plan", "-f", tmp_path / "s.yaml", "--sandbox", tmp_path / "sandbox")
    assert run.returncode == 1 and "Traceback" not in run.stderr and "UnicodeEncodeError" not in run.stderr
    assert f"{tmp_path}/s.yaml:3:13: pods.a.name: `\\ud800` is a lone UTF-16 surrogate" in run.stderr


# --- very many problems -------------------------------------------------------------------------


def test_a_hundred_thousand_problems_show_the_first_hundred_and_a_count(tmp_path: Path) -> None:
    file = tmp_path / "many.yaml"
    file.write_text("version: 1\npods:\n" + "".join(f"  p{i}: {{nmae: x}}\n" for i in range(100_000)))
    code, out, err = validate("-f", file)
    lines = err.splitlines()
    assert code == 1 and out == ""
    assert lines[0] == "Error: 100000 problems in the configuration:"
    assert lines[1] == f"{file}:3:8: pods.p0.nmae: unknown field `nmae`; did you mean `name`?"
    assert lines[100] == f"{file}:102:9: pods.p99.nmae: unknown field `nmae`; did you mean `name`?"
    assert lines[101:] == ["... and 99900 more problems"]


def test_the_first_hundred_are_the_first_by_position_across_kinds_of_problem(tmp_path: Path) -> None:
    # YAML-level problems (1.1 booleans) come late in the file, schema problems early: the
    # first hundred shown are the first hundred in the file, whichever step found them.
    body = "".join(f"  p{i}: {{nmae: x}}\n" for i in range(150))
    body += "".join(f"  q{i}: {{name: no}}\n" for i in range(150))
    (tmp_path / "mixed.yaml").write_text("version: 1\npods:\n" + body)
    code, _, err = validate("-f", tmp_path / "mixed.yaml")
    lines = err.splitlines()
    assert code == 1 and lines[0] == "Error: 300 problems in the configuration:"
    assert all("pods.p" in line for line in lines[1:101]) and lines[101] == "... and 200 more problems"


def test_exactly_a_hundred_problems_are_all_shown_without_a_count(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("version: 1\npods:\n" + "".join(f"  p{i}: {{nmae: x}}\n" for i in range(100)))
    _, _, err = validate("-f", tmp_path / "c.yaml")
    lines = err.splitlines()
    assert lines[0] == "Error: 100 problems in the configuration:" and len(lines) == 101
    assert "more problem" not in err


LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 61\n"


@pytest.mark.parametrize("named", [False, True])
def test_a_git_lfs_pointer_is_an_error_naming_lfs_not_a_skipped_file(conf: Path, named: bool) -> None:
    """A CI checkout without LFS (actions/checkout's default) leaves pointers: skipped, the tenants
    in them would read as undeclared, and apply would delete them."""
    (conf / "b.yaml").write_text(LFS_POINTER)
    code, _, err = validate("-f", conf / "b.yaml" if named else conf)
    assert code == 1, err
    assert f"{conf / 'b.yaml'}:1:1: a Git LFS pointer, not the file's content" in err
    assert "git lfs pull" in err and "skipped" not in err
