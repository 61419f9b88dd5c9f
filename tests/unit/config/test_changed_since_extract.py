"""--changed-since exports the config at REF with ``git archive`` and extracts it; on a Python
without tarfile's "data" filter (3.11.0-3.11.3, Debian 12's) the same refusals are made by hand."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from mailctl.config.changed_since import _extract


def _archive(*members: tuple[str, bytes | None, str | None]) -> tarfile.TarFile:
    """(name, content, link target): a file when content is given, else a symlink to the target."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content, link in members:
            info = tarfile.TarInfo(name)
            if content is not None:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
            else:
                info.type, info.linkname = tarfile.SYMTYPE, link or ""
                tar.addfile(info)
    buffer.seek(0)
    return tarfile.open(fileobj=buffer)


@pytest.fixture(params=["with the data filter", "without it"])
def python(request, monkeypatch):
    if request.param == "without it":
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    return request.param


def test_config_files_are_extracted(python, tmp_path: Path):
    _extract(_archive(("conf/mailctl.yaml", b"version: 1\n", None)), str(tmp_path))
    assert (tmp_path / "conf/mailctl.yaml").read_text() == "version: 1\n"


@pytest.mark.parametrize(
    "member",
    [("../escaped.yaml", b"x", None), ("/abs.yaml", b"x", None), ("link.yaml", None, "/etc/hostname")],
    ids=["parent", "absolute", "link-outside"],
)
def test_nothing_lands_outside_the_private_directory(python, tmp_path: Path, member):
    into = tmp_path / "private"
    into.mkdir()
    try:
        _extract(_archive(member), str(into))
    except tarfile.TarError:
        pass  # refused (the data filter may instead strip a leading "/" and extract inside)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["private"]
    assert not any(p.is_symlink() for p in into.rglob("*"))
