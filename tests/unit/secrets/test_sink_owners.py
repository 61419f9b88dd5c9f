"""A sink only the running user controls: another user's file, another user's symlink in a shared
(sticky, world-writable) directory, a dangling link there, a directory others can write to, and
/dev/stdout-like links are all refused by the one pre-check, and nothing is written or created.

CI runs as root: "another user" is uid 65534 (nobody), set with os.chown on files made here."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mailctl.errors import UsageError
from mailctl.secrets import SecretSink

NOBODY = 65534
RECORDS = '[\n  {\n    "address": "api_key/old",\n    "secret": "am_old"\n  }\n]\n'


def _give_to_nobody(path: Path) -> None:
    """chown (not following a symlink) to nobody, or skip: only root can (CI runs as root)."""
    try:
        os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    except PermissionError:
        pytest.skip("giving a file to another user needs root (CI runs as root)")


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A directory like /tmp: world-writable, sticky, owned by the user running the tests."""
    directory = tmp_path / "shared"
    directory.mkdir()
    directory.chmod(0o1777)
    return directory


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    directory = tmp_path / "vault"
    directory.mkdir(mode=0o700)
    return directory


def _refused_and_untouched(path: Path, match: str, *watched: Path) -> None:
    """Refused by the pre-check and by store() alike; every watched path keeps its content (or
    stays absent)."""
    before = {p: p.read_bytes() if p.exists() else None for p in watched}
    with pytest.raises(UsageError, match=match):
        SecretSink(path).check_writable()
    with pytest.raises(UsageError, match=match):
        SecretSink(path).store("api_key/a", {"api_key": "am_secret_never_written"})
    assert {p: p.read_bytes() if p.exists() else None for p in watched} == before


def test_a_sink_file_owned_by_another_user_is_refused(vault):
    sink = vault / "s.json"
    sink.write_text(RECORDS)
    _give_to_nobody(sink)
    _refused_and_untouched(sink, f"is owned by uid {NOBODY}, not by the user running mailctl", sink)


def test_another_users_file_in_a_shared_directory_is_refused(shared):
    sink = shared / "s.json"
    sink.write_text("[]\n")  # planted before the first run, so that root would fill it
    _give_to_nobody(sink)
    _refused_and_untouched(sink, f"is owned by uid {NOBODY}", sink)


def _link_to_records(shared: Path, vault: Path) -> tuple[Path, Path]:
    """shared/s.json -> vault/keys.json, a sink holding one record; both ours for now."""
    target = vault / "keys.json"
    target.write_text(RECORDS)
    link = shared / "s.json"
    link.symlink_to(target)
    return link, target


def _accepted(path: Path) -> None:
    sink = SecretSink(path)
    sink.check_writable()
    sink.store("api_key/a", {"api_key": "am_secret_a"})


def test_a_symlink_another_user_planted_in_a_shared_directory_is_refused_even_for_root(shared, vault):
    link, target = _link_to_records(shared, vault)
    _give_to_nobody(link)
    _refused_and_untouched(link, "reached through the symlink .*s.json, owned by uid 65534", target)
    assert link.is_symlink()


def test_a_planted_symlink_in_the_middle_of_the_path_is_refused(shared, vault):
    (shared / "dir").symlink_to(vault)  # shared/dir/s.json goes through another user's link
    _give_to_nobody(shared / "dir")
    _refused_and_untouched(shared / "dir" / "s.json", "reached through the symlink", vault / "s.json")
    assert list(vault.iterdir()) == []


def test_our_own_symlink_in_a_shared_directory_is_followed(shared, vault):
    link, target = _link_to_records(shared, vault)
    _accepted(link)
    assert [r["secret"] for r in json.loads(target.read_text())] == ["am_old", "am_secret_a"]


def test_a_symlink_owned_by_the_shared_directorys_owner_is_followed(shared, vault):
    link, target = _link_to_records(shared, vault)
    _give_to_nobody(link)
    _give_to_nobody(shared)  # the kernel's rule: the directory's owner may place links there
    _accepted(link)
    assert [r["secret"] for r in json.loads(target.read_text())] == ["am_old", "am_secret_a"]


def test_a_dangling_symlink_in_a_shared_directory_never_creates_its_target(shared, vault):
    target = vault / "cron-job"  # where an attacker wants root to create a file
    (shared / "s.json").symlink_to(target)  # even our own link: its target may be anyone's trap
    _refused_and_untouched(shared / "s.json", "does not exist: a link there never decides", target)
    assert not target.exists()


def test_a_dangling_symlink_another_user_planted_never_creates_its_target(shared, vault):
    (shared / "s.json").symlink_to(vault / "cron-job")
    _give_to_nobody(shared / "s.json")
    _refused_and_untouched(shared / "s.json", "reached through the symlink", vault / "cron-job")
    assert not (vault / "cron-job").exists()


def test_a_dangling_symlink_outside_shared_directories_creates_its_target(tmp_path, vault):
    (tmp_path / "s.json").symlink_to(vault / "keys.json")  # e.g. a link into a vault made before the first run
    SecretSink(tmp_path / "s.json").store("api_key/a", {"api_key": "am_secret_a"})
    assert len(json.loads((vault / "keys.json").read_text())) == 1


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757], ids=oct)
def test_a_directory_others_can_write_without_the_sticky_bit_is_refused(tmp_path, mode):
    directory = tmp_path / "open"
    directory.mkdir()
    directory.chmod(mode)
    _refused_and_untouched(directory / "s.json", f"writable by others \\(mode {mode:o}\\) without the sticky bit")
    assert list(directory.iterdir()) == []


def test_a_new_file_in_a_shared_sticky_directory_is_made_ours_and_0600(shared):
    _accepted(shared / "s.json")
    info = (shared / "s.json").stat()
    assert info.st_uid == os.geteuid() and info.st_mode & 0o777 == 0o600


def test_a_directory_owned_by_another_user_is_refused(tmp_path):
    directory = tmp_path / "theirs"
    directory.mkdir(mode=0o755)
    _give_to_nobody(directory)
    _refused_and_untouched(directory / "s.json", f"directory .*theirs belongs to uid {NOBODY}")
    assert list(directory.iterdir()) == []


def test_a_file_with_a_second_hard_link_is_refused(vault, shared):
    sink = vault / "s.json"
    sink.write_text(RECORDS)
    os.link(sink, shared / "copy.json")
    _refused_and_untouched(sink, "has 2 hard links", sink)


@pytest.mark.parametrize(
    ("link", "points_to", "sink"), [("stdout", "/proc/self/fd/1", "stdout"), ("fd", "/proc/self/fd", "fd/2")]
)
def test_a_link_to_a_process_stream_like_dev_stdout_is_refused_up_front(tmp_path, link, points_to, sink):
    # /dev/stdout is a symlink to /proc/self/fd/1 and /dev/fd one to /proc/self/fd: links of our
    # own to the same places behave alike (the defect: the pod was made before the write failed)
    (tmp_path / link).symlink_to(points_to)
    with pytest.raises(UsageError, match="leads to /proc, on a kernel pseudo-filesystem.*/dev/stdout"):
        SecretSink(tmp_path / sink).check_writable()


def test_a_file_swapped_for_another_users_after_the_check_is_never_written(vault):
    sink_path = vault / "s.json"
    sink_path.write_text(RECORDS)
    sink = SecretSink(sink_path)
    sink.check_writable()
    sink_path.unlink()
    sink_path.write_text("[]\n")  # someone else's file under the same name
    _give_to_nobody(sink_path)
    with pytest.raises(UsageError, match="is owned by uid 65534"):
        sink.store("api_key/a", {"api_key": "am_secret_never_written"})
    assert sink_path.read_text() == "[]\n"


def _race_at_open(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """The attacker wins the race: just before the sink opens ``path`` (after every check),
    another user's file takes its place."""
    real_open = os.open

    def racing_open(target, flags, *args):
        if Path(target) == path and flags & os.O_RDWR:
            path.unlink(missing_ok=True)
            path.write_text("[]\n")
            _give_to_nobody(path)
        return real_open(target, flags, *args)

    monkeypatch.setattr(os, "open", racing_open)


def test_a_file_planted_between_the_check_and_the_create_is_never_written(shared, monkeypatch):
    path = shared / "s.json"
    _race_at_open(monkeypatch, path)
    with pytest.raises(UsageError, match="is owned by uid 65534"):
        SecretSink(path).store("api_key/a", {"api_key": "am_secret_never_written"})
    assert path.read_text() == "[]\n"


def test_a_file_swapped_between_the_last_check_and_the_open_is_never_written(vault, monkeypatch):
    path = vault / "s.json"
    path.write_text(RECORDS)
    _race_at_open(monkeypatch, path)
    with pytest.raises(UsageError, match="is owned by uid 65534"):
        SecretSink(path).store("api_key/a", {"api_key": "am_secret_never_written"})
    assert path.read_text() == "[]\n"
