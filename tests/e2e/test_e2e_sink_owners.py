"""--secrets-out that another user could control, or a process stream like /dev/stdout: the real CLI
refuses it before the lock, the plan and any request (exit 1, "nothing was changed"), and the
sandbox is left exactly as it was: no pod, no key. CI runs as root; "another user" is nobody."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from e2e_harness import Inventory, SandboxProcess

NOBODY = 65534
CONFIG = {
    "version": 1,
    "manage": {"pods": {"client_id_prefix": "e2e-"}},
    "pods": {"e2e-sink": {"name": "Sink owners", "api_keys": {"backend": {}}}},
}


def _nobodys(path: Path) -> Path:
    try:
        os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    except PermissionError:
        pytest.skip("giving a file to another user needs root (CI runs as root)")
    return path


def _api_requests(sandbox: SandboxProcess) -> dict[str, int]:
    """Requests served per API route so far (the sandbox's own /_sandbox routes left out)."""
    return {route: n for route, n in sandbox.stats()["by_route"].items() if " /v0/" in route}


def _shared(tmp: Path) -> Path:
    """A directory like /tmp: world-writable and sticky."""
    directory = tmp / "shared"
    directory.mkdir()
    directory.chmod(0o1777)
    return directory


def _file_of_another_user(tmp: Path) -> Path:
    (tmp / "theirs.json").write_text("[]\n")
    return _nobodys(tmp / "theirs.json")


def _symlink_planted_in_a_shared_directory(tmp: Path) -> Path:
    (tmp / "mine.json").write_text("[]\n")
    (_shared(tmp) / "keys.json").symlink_to(tmp / "mine.json")
    return _nobodys(tmp / "shared" / "keys.json")


def _dangling_symlink_in_a_shared_directory(tmp: Path) -> Path:
    (_shared(tmp) / "keys.json").symlink_to(tmp / "made-by-root")
    return tmp / "shared" / "keys.json"


def _like_dev_stdout(tmp: Path) -> Path:
    (tmp / "stdout").symlink_to("/proc/self/fd/1")  # what /dev/stdout is
    return tmp / "stdout"


def _directory_others_can_write(tmp: Path) -> Path:
    (tmp / "open").mkdir()
    (tmp / "open").chmod(0o777)
    return tmp / "open" / "keys.json"


@pytest.mark.parametrize(
    ("make_sink", "why"),
    [
        (_file_of_another_user, f"is owned by uid {NOBODY}"),
        (_symlink_planted_in_a_shared_directory, "another user may have planted it"),
        (_dangling_symlink_in_a_shared_directory, "a link there never decides where a new file is made"),
        (_like_dev_stdout, "on a kernel pseudo-filesystem"),
        (_directory_others_can_write, "writable by others (mode 777) without the sticky bit"),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else "refused",
)
def test_a_sink_the_user_does_not_control_is_refused_before_any_change(
    mailctl, sandbox, baseline, write_config, tmp_path, make_sink: Callable[[Path], Path], why: str
):
    sink, config = make_sink(tmp_path), write_config(CONFIG)
    files_before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink()}
    requests_before = _api_requests(sandbox)
    # --secrets-out=PATH: the harness reads a --secrets-out PATH after the run, and this one is not ours
    run = mailctl.subprocess("apply", "-f", config, "--auto-approve", f"--secrets-out={sink}")
    assert run.exit_code == 1, run.output
    assert f"--secrets-out {sink}: " in run.stderr and why in run.stderr and "nothing was changed" in run.stderr
    assert _api_requests(sandbox) == requests_before  # not one request: no lock, no plan
    after = Inventory.read(sandbox.sdk()).without(baseline)
    assert (after.pods, after.keys) == ([], [])
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink()} == files_before
    assert not (tmp_path / "made-by-root").exists()
