"""The config files of a git commit, copied out exactly as committed, running nothing.

``--changed-since REF`` loads the config as it was at REF. ``git archive`` would export it, but it
applies checkout conversion: the filter drivers a repository's config names run as commands
(``filter.x.smudge``), and ``export-ignore``/``export-subst`` change what comes out. So objects
are read raw instead: ``git ls-tree`` lists a tree, ``git cat-file --batch`` reads blobs as
stored, and ``git cat-file --follow-symlinks`` follows a symlink the way the commit's tree does,
never out of the repository. None of these runs a filter, textconv, hook or fsmonitor.

Only what the loader would read is copied: ``*.yaml``/``*.yml`` files outside hidden directories
and the top ``.mailctlignore`` of a directory (a file named with ``-f`` whatever its name), each
cut one byte past the loader's size limit, so that the loader reports a larger file as it
reports one in the working tree. The rest of the tree, however large, is never read. A Git LFS
pointer is refused by name: what LFS checks out is not what the commit stores.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from mailctl.config.files import IGNORE_FILE, YAML_SUFFIXES, walked
from mailctl.config.loader import LFS_POINTER, MAX_FILE_BYTES
from mailctl.errors import UsageError

# What git reads from the environment to use a repository other than the one it discovers
# (``git rev-parse --local-env-vars``): a hook or a wrapper may have set them for another one.
_OTHER_REPOSITORY = frozenset(
    {
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_CONFIG",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
        "GIT_OBJECT_DIRECTORY",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_IMPLICIT_WORK_TREE",
        "GIT_GRAFT_FILE",
        "GIT_INDEX_FILE",
        "GIT_NO_REPLACE_OBJECTS",
        "GIT_REPLACE_REF_BASE",
        "GIT_PREFIX",
        "GIT_SHALLOW_FILE",
        "GIT_COMMON_DIR",
    }
)
_CHUNK = 1 << 16
_LFS_WHY = (
    "a Git LFS pointer (the content is in LFS storage, checked out by a filter that mailctl does not "
    "run): keep config files out of Git LFS (.gitattributes)"
)
_SYMLINK = "120000"
_UNFOLLOWED = ("symlink", "dangling", "loop", "notdir")  # --follow-symlinks' answers naming no object


class GitFailed(Exception):
    """A git command exited non-zero; ``str()`` is what it printed on stderr."""


def run_git(cwd: str, *args: str, stdin: bytes | None = None) -> bytes:
    """What ``git args`` prints (run in ``cwd``, found from there); GitFailed when it fails."""
    try:
        done = subprocess.run(_command(cwd, *args), input=stdin, capture_output=True, env=_environment(), check=False)
    except FileNotFoundError:
        raise UsageError("--changed-since needs git, which is not installed (or not on PATH)") from None
    except OSError as exc:  # git there but not run: E2BIG, EACCES...
        raise UsageError(f"--changed-since: git could not be run: {exc.strerror or exc}") from None
    if done.returncode != 0:
        raise GitFailed(done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}")
    return done.stdout


def _command(cwd: str, *args: str) -> list[str]:
    return ["git", "-C", cwd, "-c", "core.fsmonitor=false", *args]


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _OTHER_REPOSITORY}
    env.update(
        GIT_TERMINAL_PROMPT="0",  # never ask for credentials
        GIT_LITERAL_PATHSPECS="1",  # a file named ``:c.yaml`` is that file, not pathspec magic
        GIT_NO_LAZY_FETCH="1",  # a partial clone does not fetch a missing blob from its remote
        GIT_OPTIONAL_LOCKS="0",
        LC_ALL="C",
    )
    return env


@dataclass(frozen=True)
class Found:
    """What a path names in a commit's tree, its symlinks followed."""

    kind: str  # blob, tree, commit (a submodule), missing; or one of _UNFOLLOWED
    oid: str = ""
    target: str = ""  # kind symlink: where it leads, out of the repository


_Entry = tuple[str, str, str, str]  # a tree's entry: path, mode, kind, object


class UnreadableAtRevision(Exception):
    """A config path that exists at the commit but cannot be read from it (a link out of the
    repository, a loop): ``path`` and why."""

    def __init__(self, path: str, why: str):
        super().__init__(f"{path}: {why}")
        self.path, self.why = path, why


class Commit:
    """One commit of the repository whose top is ``top``."""

    def __init__(self, top: str, commit: str):
        self.top, self.commit = top, commit

    def find(self, paths: list[str]) -> list[Found]:
        """What each repository-relative path (``.``: the top) names, symlinks followed in the tree."""
        if not paths:
            return []
        if any("\n" in p for p in paths):
            raise UsageError("--changed-since: a config path with a newline in its name cannot be read from git")
        spec = "".join(f"{self.commit}:{'' if p == '.' else p}\n" for p in paths)
        output = run_git(self.top, "cat-file", "--batch-check", "--follow-symlinks", stdin=os.fsencode(spec))
        return list(_answers(output))

    def copy(self, paths: list[str], into: str) -> list[str]:
        """Copy the config under each of ``paths`` (repository-relative) into ``into`` at the same
        relative place; the paths that existed at the commit (the others contribute nothing)."""
        blobs: dict[str, str] = {}  # destination (relative) -> blob
        present = []
        for path, found in zip(paths, self.find(paths), strict=True):
            if found.kind == "blob":
                blobs[posixpath.normpath(path)] = found.oid
            elif found.kind == "tree":  # a path named twice (a directory and its parent): copied once
                files = self._config_files(path, found.oid)
                if not files:  # no config file in it: as absent as no directory at all
                    continue
                blobs.update((posixpath.normpath(f"{path}/{n}"), oid) for n, oid in files)
            elif found.kind in ("symlink", "loop", "commit"):
                raise UnreadableAtRevision(path, _why(found))
            else:  # missing, dangling, a file where a directory is expected: not there
                continue
            present.append(path)
        self._write(blobs, into)
        return present

    def _config_files(
        self, path: str, tree: str, searched: set[str] | None = None, entries: list[_Entry] | None = None
    ) -> list[tuple[str, str]]:
        """(path below ``path``, blob) of the files the loader reads in the directory ``path``:
        links to directories followed as the loader's walk follows them, unless they lead to a
        directory searched already or to one holding it (``searched``: the trees walked;
        ``entries``: ``tree``'s, when listed already)."""
        searched = set() if searched is None else searched
        entries = self._entries(tree) if entries is None else entries
        searched.update(oid for name, _, kind, oid in entries if kind == "tree" and walked(name))
        searched.add(tree)
        files, links = [], []
        for name, mode, kind, oid in entries:
            if not walked(name):
                continue
            if kind == "commit":  # a submodule's files are another repository's
                raise UnreadableAtRevision(f"{'' if path == '.' else f'{path}/'}{name}", _why(Found("commit")))
            if mode == _SYMLINK:
                links.append(name)
            elif kind == "blob" and _read_by_the_loader(name):
                files.append((name, oid))
        prefix = "" if path == "." else f"{path}/"
        for name, found in zip(links, self.find([prefix + n for n in links]), strict=True):
            if found.kind == "blob" and _read_by_the_loader(name):
                files.append((name, found.oid))
            elif found.kind == "tree":
                files.extend((f"{name}/{n}", oid) for n, oid in self._linked_files(prefix + name, found.oid, searched))
            elif found.kind in ("symlink", "loop", "dangling") and _read_by_the_loader(name):
                raise UnreadableAtRevision(prefix + name, _why(found))
        return sorted(files)

    def _linked_files(self, path: str, tree: str, searched: set[str]) -> list[tuple[str, str]]:
        """The config files of the directory a link at ``path`` leads to; none if the walk has
        searched it already or it holds a directory searched (a loop): the loader skips those."""
        if tree in searched:
            return []
        entries = self._entries(tree)
        if any(kind == "tree" and oid in searched for _, _, kind, oid in entries):
            return []
        return self._config_files(path, tree, searched, entries)

    def _entries(self, tree: str) -> list[_Entry]:
        """(path, mode, kind, object) of everything below ``tree``, subtrees included."""
        entries = []
        for record in run_git(self.top, "ls-tree", "-r", "-t", "-z", "--full-tree", tree).split(b"\0"):
            meta, _, raw_name = record.partition(b"\t")
            if meta:
                mode, kind, oid = meta.decode("ascii").split(" ")
                entries.append((os.fsdecode(raw_name), mode, kind, oid))
        return entries

    def _write(self, blobs: dict[str, str], into: str) -> None:
        """Each blob into its file below ``into``, read through one ``git cat-file --batch``."""
        if not blobs:
            return
        reader = subprocess.Popen(
            _command(self.top, "cat-file", "--batch"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a failure shows as a missing answer
            env=_environment(),
        )
        assert reader.stdin is not None and reader.stdout is not None
        try:
            for relative, oid in blobs.items():  # one at a time: each answer is read before the next ask
                reader.stdin.write(f"{oid}\n".encode("ascii"))
                reader.stdin.flush()
                with _create(into, relative) as out:
                    _copy_blob(reader.stdout, out, relative)
        finally:
            reader.stdin.close()
            reader.stdout.close()
            reader.wait()


def _copy_blob(stream: IO[bytes], out: IO[bytes], relative: str) -> None:
    """One ``--batch`` answer's content into ``out``, cut one byte past the loader's limit."""
    header = stream.readline().decode("ascii", "replace").split()
    if len(header) != 3 or header[1] != "blob":
        raise GitFailed(f"git cat-file could not read {relative}: {' '.join(header) or 'no answer'}")
    remaining, room = int(header[2]), MAX_FILE_BYTES + 1
    while remaining:
        chunk = stream.read(min(_CHUNK, remaining))
        if not chunk:
            raise GitFailed(f"git cat-file stopped in the middle of {relative}")
        if room > MAX_FILE_BYTES and chunk.startswith(LFS_POINTER):  # the first chunk
            raise UnreadableAtRevision(relative, _LFS_WHY)
        remaining -= len(chunk)
        if room > 0:
            out.write(chunk[:room])
            room -= len(chunk)
    stream.read(1)  # the newline after the content


def _create(into: str, relative: str) -> IO[bytes]:
    """A new private file at ``relative`` below ``into``, which no name from git can leave."""
    parts = relative.split("/")  # normalised by ``copy``: no "." left in a plain path
    if any(part in ("", ".", "..") or "\0" in part for part in parts):
        raise GitFailed(f"refusing a path from git that is not a plain relative path: {relative!r}")
    directory = os.path.join(into, *parts[:-1])
    os.makedirs(directory, mode=0o700, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    return os.fdopen(os.open(os.path.join(directory, parts[-1]), flags, 0o600), "wb")


def _read_by_the_loader(name: str) -> bool:
    """Whether the loader's walk of a directory reads ``name`` (a path below the directory)."""
    base = name.rsplit("/", 1)[-1]
    return walked(name) and (base.endswith(YAML_SUFFIXES) or name == IGNORE_FILE)


def _answers(output: bytes) -> Iterator[Found]:
    """``cat-file --batch-check --follow-symlinks`` answers, one per path asked."""
    at = 0
    while at < len(output):
        end = output.index(b"\n", at)
        line = output[at:end].decode("utf-8", "surrogateescape")
        at = end + 1
        first, _, rest = line.partition(" ")
        if line.endswith(" missing"):
            yield Found("missing")
        elif first in _UNFOLLOWED and rest.isdigit():  # "<kind> <size>", then <size> bytes and a newline
            size = int(rest)
            detail = os.fsdecode(output[at : at + size])
            at += size + 1
            yield Found(first, target=detail if first == "symlink" else "")
        else:
            oid, kind, _ = line.split(" ")
            yield Found(kind, oid)


def _why(found: Found) -> str:
    if found.kind == "commit":
        return "a git submodule (another repository's files): keep the config out of submodules to use --changed-since"
    if found.kind == "symlink":
        return f"a symlink out of the repository (to {found.target}), which git does not record"
    if found.kind == "loop":
        return "a symlink loop"
    return "a symlink to nothing"
