"""An adversarial run against the files mailctl writes (``plan --out``, ``drift --out``,
``--secrets-out``), by another local user who controls a directory that is *not* sticky: one they
own (a service account's directory, such as node_exporter's textfile collector), or one anyone can
write to (mode 0777). The kernel follows any symlink there, so whoever planted it chooses which file
root replaces; mailctl must not.

CI runs as root: "another user" is uid 65534 (nobody), set with os.chown on what is made here.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from mailctl import atomic
from mailctl.errors import UsageError
from mailctl.sandbox.store import Store
from mailctl.secrets import SecretSink

NOBODY = 65534


def _give_to_nobody(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root (CI runs as root)")
    os.chown(path, NOBODY, NOBODY, follow_symlinks=False)


@pytest.fixture
def precious(tmp_path: Path) -> Path:
    """What the link's planter wants root to overwrite (/etc/shadow, a cron file)."""
    path = tmp_path / "precious.conf"
    path.write_text("keep me\n")
    path.chmod(0o600)
    return path


def _their_directory(tmp_path: Path) -> Path:
    directory = tmp_path / "theirs"
    directory.mkdir()
    _give_to_nobody(directory)
    return directory


def _open_directory(tmp_path: Path) -> Path:
    directory = tmp_path / "open"
    directory.mkdir()
    directory.chmod(0o777)
    return directory


DIRECTORIES = pytest.mark.parametrize(
    "make_directory", [_their_directory, _open_directory], ids=["owned-by-another-user", "world-writable"]
)


def _planted(directory: Path, name: str, target: Path) -> Path:
    link = directory / name
    link.symlink_to(target)
    _give_to_nobody(link)
    return link


@DIRECTORIES
def test_plan_or_drift_out_through_a_link_another_user_planted_never_replaces_its_target(
    tmp_path: Path, precious: Path, make_directory: Callable[[Path], Path]
) -> None:
    link = _planted(make_directory(tmp_path), "mailctl_drift.prom", precious)
    with pytest.raises(PermissionError, match="owned by uid 65534"):
        atomic.write_text(link, "# EOF\n")
    assert precious.read_text() == "keep me\n" and link.is_symlink()


@DIRECTORIES
def test_a_directory_link_another_user_planted_is_not_followed(
    tmp_path: Path, precious: Path, make_directory: Callable[[Path], Path]
) -> None:
    """``--out theirs/reports/x`` where ``reports`` is their link to a directory of ours."""
    link = _planted(make_directory(tmp_path), "reports", precious.parent)
    with pytest.raises(PermissionError, match="owned by uid 65534"):
        atomic.write_text(link / precious.name, "# EOF\n")
    assert precious.read_text() == "keep me\n"


@DIRECTORIES
def test_the_secrets_sink_through_a_link_another_user_planted_is_refused(
    tmp_path: Path, precious: Path, make_directory: Callable[[Path], Path]
) -> None:
    vault = tmp_path / "vault"
    vault.mkdir(mode=0o700)
    (vault / "s.json").write_text("[]\n")
    link = _planted(make_directory(tmp_path), "s.json", vault / "s.json")
    with pytest.raises(UsageError, match="owned by uid 65534"):
        SecretSink(link).check_writable()
    assert (vault / "s.json").read_text() == "[]\n"


def test_a_link_of_ours_in_another_users_directory_is_followed(tmp_path: Path) -> None:
    (tmp_path / "real.prom").write_text("old")
    theirs = _their_directory(tmp_path)
    (theirs / "out.prom").symlink_to(tmp_path / "real.prom")
    atomic.write_text(theirs / "out.prom", "new\n")
    assert (tmp_path / "real.prom").read_text() == "new\n"


def test_a_temp_file_swapped_for_a_link_never_has_the_links_target_chmodded(
    tmp_path: Path, precious: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever can write the directory may swap the temp file for a link between its creation and
    its chmod: the mode is set through the open file, never by its path."""
    real_mkstemp = tempfile.mkstemp

    def swapped(*args: object, **kwargs: object) -> tuple[int, str]:
        fd, temp = real_mkstemp(*args, **kwargs)  # type: ignore[call-overload]
        os.unlink(temp)
        os.symlink(precious, temp)  # the other user's move, after the file was made
        return fd, temp

    monkeypatch.setattr(tempfile, "mkstemp", swapped)
    (tmp_path / "out.prom").write_text("old")
    (tmp_path / "out.prom").chmod(0o644)
    try:
        atomic.write_text(tmp_path / "out.prom", "new\n")
    except OSError:
        pass  # refusing is as good: what matters is the target of the link
    assert stat.S_IMODE(precious.stat().st_mode) == 0o600 and precious.read_text() == "keep me\n"


# -- the sandbox's --db file (as root: CI's `sandbox serve --db`, or `--sandbox PATH`) ------------


@DIRECTORIES
def test_a_sandbox_db_through_a_link_another_user_planted_is_refused(
    tmp_path: Path, make_directory: Callable[[Path], Path]
) -> None:
    empty = tmp_path / "empty-but-precious"  # SQLite would make a database of an empty file
    empty.write_bytes(b"")
    link = _planted(make_directory(tmp_path), "sandbox.db", empty)
    with pytest.raises(PermissionError, match="owned by uid 65534"):
        Store(str(link))
    assert empty.read_bytes() == b""


def test_a_sandbox_db_another_user_owns_is_refused(tmp_path: Path) -> None:
    """Whoever owns it can add a key of their own to any organisation in it."""
    db = tmp_path / "sandbox.db"
    Store(str(db)).close()
    _give_to_nobody(db)
    with pytest.raises(PermissionError, match="belongs to uid 65534"):
        Store(str(db))


def test_a_new_sandbox_db_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    Store(str(tmp_path / "sandbox.db")).close()
    assert stat.S_IMODE((tmp_path / "sandbox.db").stat().st_mode) == 0o600
