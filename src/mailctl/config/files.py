"""Which files are config: ``-f`` paths expanded into the files mailctl reads.

A file named with ``-f`` is always read (a FIFO, socket or device is an error, never opened). A
directory means every ``*.yaml`` / ``*.yml`` below it, except:

- what its ``.mailctlignore`` excludes (gitignore syntax, relative to that directory);
- hidden directories (``.git``, ``.github``...);
- a link to a directory that leads into, or around, a directory already searched (a loop): other
  links to directories are followed, since a linked directory's files are config like any other;
- anything that is not a regular file: it is never opened (a FIFO would block, a device may
  have side effects), only reported as skipped;
- files a sparse checkout left out of the working tree, which are errors, not skips
  (``mailctl.config.sparse_checkout``: read without them, their pods would look undeclared);
- other tools' YAML (docker-compose, Kubernetes manifests, Helm values, CI workflows): a file is
  read only when it clearly is mailctl's, that is it carries the schema modeline, or it says
  ``version: 1`` beside a mailctl section (then a misspelt key is an error, not a skip: a skipped
  config file would make its pods look undeclared), or every top-level key is one of mailctl's
  (and ``kind:``, if any, is a mailctl kind).

Every file skipped for the last three reasons is reported (and so is a directory that cannot be
listed), so a misspelt top-level key in a real config file cannot go unnoticed.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from mailctl.config import schema, sparse_checkout
from mailctl.config.loader import LFS_POINTER, MAX_FILE_BYTES, file_problem
from mailctl.errors import Problem
from mailctl.local_path import NotRegularFile, read_regular, special_kind
from mailctl.text import shown

YAML_SUFFIXES = (".yaml", ".yml")
IGNORE_FILE = ".mailctlignore"
MAILCTL_KINDS = ("config", "template")

# `# yaml-language-server: $schema=.../mailctl.schema.json`: the file says it is mailctl's.
_MODELINE = re.compile(r"^#\s*yaml-language-server:\s*\$schema=\S*mailctl\S*\.json", re.M)
# A key at column 0: a top-level key of a block mapping (plain, or quoted).
_TOP_KEY = re.compile(
    r"""^(?:"([^"\n]*)"|'([^'\n]*)'|([^\s#'"{}\[\],&*!|>%@`?:-][^:\n]*?|-[^\s:\n][^:\n]*?))"""
    r"""[ \t]*:(?:[ \t]+(.*))?$""",
    re.M,
)
# A flow mapping at the top (JSON, or ``--- {...}``), after comments, directives and blank lines.
_FLOW_TOP = re.compile(r"(?:[ \t]*(?:#[^\n]*|%[^\n]*)?\n)*(?:---(?:[ \t]+|\n))?\s*\{")
_LINE_BREAK = re.compile("\r\n?|[\x85\u2028\u2029]")  # the line breaks of YAML 1.1, as PyYAML reads them
_LEFT_OUT = (
    "left out of the working tree by a sparse checkout: git tracks this file, so what it declares would read "
    "as removed (a plan would delete it); check it out (git sparse-checkout add, or git sparse-checkout disable)"
)
_KIND_VALUE = re.compile(r"""^["']?([^"'#\s]*)["']?""")


@dataclass(frozen=True)
class Skipped:
    file: str
    reason: str

    def __str__(self) -> str:
        """One line, whatever a neighbour named the file or wrote in it."""
        return f"warning: skipped {shown(self.file)}: {shown(self.reason)}"


@dataclass
class FileSet:
    files: list[str] = field(default_factory=list)  # config files to read, in order
    skipped: list[Skipped] = field(default_factory=list)  # found in directories, not read
    problems: list[Problem] = field(default_factory=list)


def expand_paths(paths: list[str], on_skip: Callable[[Skipped], None] | None = None) -> FileSet:
    """``-f`` arguments -> config files (``mailctl.yaml`` when none). ``on_skip`` hears of each
    file a directory holds but mailctl leaves alone, as it is found."""
    out = FileSet()

    def skip(file: str, reason: str) -> None:
        out.skipped.append(Skipped(file, reason))
        if on_skip is not None:
            on_skip(out.skipped[-1])

    for path in paths or ["mailctl.yaml"]:
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            out.problems.append(file_problem(path, "no such file or directory"))
            continue
        except OSError as exc:
            out.problems.append(file_problem(path, f"cannot read: {exc.strerror or exc}"))
            continue
        if stat.S_ISDIR(mode):
            _expand_directory(path, out, skip)
        elif stat.S_ISREG(mode):
            out.files.append(path)
        else:
            out.problems.append(
                file_problem(path, f"not a regular file ({special_kind(mode)}): pass a config file or a directory")
            )
    out.files = _unique(out.files)
    return out


def _expand_directory(directory: str, out: FileSet, skip: Callable[[str, str], None]) -> None:
    for file in sparse_checkout.left_out(directory, _walk_reads(directory)):
        out.problems.append(file_problem(file, _LEFT_OUT))
    skipped_before = len(out.skipped)
    read = 0
    for file in _yaml_files_under(directory, skip):
        reason = foreign_reason(file)
        if reason is None:
            out.files.append(file)
            read += 1
        else:
            skip(file, reason)
    if read:
        return
    skipped = len(out.skipped) - skipped_before
    out.problems.append(
        file_problem(
            directory,
            f"no mailctl config files in this directory ({skipped} other file{'' if skipped == 1 else 's'} skipped)"
            if skipped
            else "directory contains no *.yaml or *.yml files",
        )
    )


def _unique(files: list[str]) -> list[str]:
    """The same file named twice (directly and via its directory) counts once."""
    seen: set[str] = set()
    unique = []
    for file in files:
        real = os.path.realpath(file)
        if real not in seen:
            seen.add(real)
            unique.append(file)
    return unique


def _yaml_files_under(directory: str, skip: Callable[[str, str], None]) -> list[str]:
    ignored = _ignore_matcher(directory)
    searched = [os.path.realpath(directory)]  # the directory, and every linked one followed
    found: list[str] = []

    def unlisted(error: OSError) -> None:  # os.walk would pass over it without a word
        skip(error.filename or directory, f"cannot list this directory: {error.strerror or error}")

    for root, dirs, names in os.walk(directory, onerror=unlisted, followlinks=True):
        rel_root = os.path.relpath(root, directory)
        prefix = "" if rel_root == "." else f"{rel_root}/"  # paths relative to the directory given
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not ignored(f"{prefix}{d}/"))
        dirs[:] = [d for d in dirs if _follows(os.path.join(root, d), searched, skip)]
        for name in names:
            if not name.endswith(YAML_SUFFIXES) or ignored(f"{prefix}{name}"):
                continue
            file = os.path.join(root, name)
            try:
                mode = os.stat(file).st_mode  # follows symlinks: a link to a FIFO is a FIFO
            except OSError:
                found.append(file)  # a dangling link: the reader reports it
                continue
            if stat.S_ISREG(mode):
                found.append(file)
            elif not stat.S_ISDIR(mode):
                skip(file, f"{special_kind(mode)}, not a regular file (never opened)")
    return sorted(found)


def walked(name: str) -> bool:
    """Whether the walk of a directory reaches ``name`` (a ``/``-separated path below it): never
    below a hidden directory."""
    return not any(d.startswith(".") for d in name.split("/")[:-1])


def _walk_reads(directory: str) -> Callable[[str], bool]:
    """Whether ``_yaml_files_under(directory)`` would read a file, given its path below the
    directory (``/``-separated) rather than finding it on disk."""
    ignored = _ignore_matcher(directory)

    def reads(name: str) -> bool:
        parts = name.split("/")
        above = ["/".join(parts[: i + 1]) + "/" for i in range(len(parts) - 1)]
        if not walked(name) or any(ignored(d) for d in above):
            return False
        return name.endswith(YAML_SUFFIXES) and not ignored(name)

    return reads


def _follows(path: str, searched: list[str], skip: Callable[[str, str], None]) -> bool:
    """Whether the walk enters the subdirectory ``path``: a real one always; a link to a
    directory (its files are config like any other: left out, their pods would look undeclared)
    unless it leads into a directory searched anyway, or around one (a loop), which is named."""
    if not os.path.islink(path):
        return True
    target = os.path.realpath(path)
    for seen in searched:
        if _within(target, seen):
            skip(path, f"a link to {target}, a directory already searched")
            return False
        if _within(seen, target):
            skip(path, f"a link to {target}, which holds {seen}, a directory already searched")
            return False
    searched.append(target)
    return True


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def _ignore_matcher(directory: str) -> Callable[[str], bool]:
    """``.mailctlignore`` at the top of ``directory`` (gitignore syntax), as a path test."""
    path = os.path.join(directory, IGNORE_FILE)
    try:
        text = _text_of(read_regular(path, MAX_FILE_BYTES))
    except (OSError, NotRegularFile):
        return lambda rel: False
    import pathspec  # 25 ms of imports, for configs that have an ignore file

    spec = pathspec.GitIgnoreSpec.from_lines(text.splitlines())
    return spec.match_file


def _text_of(raw: bytes) -> str:
    """A file's text as the loader reads it: a UTF-8 byte order mark dropped (editors on Windows
    write one), and every YAML line break (``\\r\\n``, ``\\r``...) one ``\\n``, so that a file
    saved with other line ends is recognised as the same file with ``\\n``."""
    return _LINE_BREAK.sub("\n", raw.decode("utf-8-sig", errors="replace"))


def foreign_reason(file: str) -> str | None:
    """Why ``file`` is not a mailctl file, or None if it clearly is one (or cannot be read:
    then the reader reports why)."""
    try:
        text = _text_of(read_regular(file, MAX_FILE_BYTES))
    except NotRegularFile as exc:
        return f"{exc.kind}, not a regular file (never opened)"
    except OSError:
        return None
    if _MODELINE.search(text) or text.startswith(LFS_POINTER.decode()):  # a pointer: the reader says so
        return None
    keys = _flow_keys(text) if _FLOW_TOP.match(text) else _block_keys(text)
    if not keys:
        return "no mailctl top-level key (not a mailctl file)"
    if _declares_mailctl_version(keys):
        return None
    return _foreign_keys(keys) or _foreign_kind(keys) or _only_metadata(keys)


def _block_keys(text: str) -> dict[str, str]:
    """The top-level keys of a block mapping (``key: value`` at column 0), each with its value's text."""
    keys: dict[str, str] = {}
    for match in _TOP_KEY.finditer(text):
        key = next(g for g in match.groups()[:3] if g is not None)
        keys.setdefault(key, match.group(4) or "")
    return keys


def _flow_keys(text: str) -> dict[str, str]:
    """The top-level keys of a flow mapping (JSON, or ``--- {version: 1, ...}``), each with its
    scalar value's text: parsed, since such a mapping spans lines as it likes. Empty if it does
    not parse (the file is then nobody's config)."""
    import yaml

    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # a safe loader
    except yaml.YAMLError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) if isinstance(v, str | int) and not isinstance(v, bool) else "" for k, v in data.items()}


def _foreign_keys(keys: dict[str, str]) -> str | None:
    foreign = [key for key in keys if key not in top_level_keys()]
    if not foreign:
        return None
    listed = ", ".join(f"`{key}`" for key in foreign[:5]) + (", ..." if len(foreign) > 5 else "")
    return (
        f"top-level key{'s' if len(foreign) > 1 else ''} {listed} "
        f"{'are' if len(foreign) > 1 else 'is'} not mailctl's (another tool's file; "
        f"list it in {IGNORE_FILE} to silence this)"
    )


def _foreign_kind(keys: dict[str, str]) -> str | None:
    if "kind" not in keys:
        return None
    kind_match = _KIND_VALUE.match(keys["kind"])
    kind = kind_match.group(1) if kind_match else ""
    return None if kind in MAILCTL_KINDS else f"`kind: {kind}` is not a mailctl kind (another tool's file)"


def _only_metadata(keys: dict[str, str]) -> str | None:
    return "no mailctl top-level key (not a mailctl file)" if not set(keys) - {"name", "description"} else None


def _declares_mailctl_version(keys: dict[str, str]) -> bool:
    """``version: 1`` (an integer: compose files quote theirs) plus a mailctl section."""
    sections = top_level_keys() - {"version", "kind", "name", "description"}
    return keys.get("version", "").split("#")[0].strip() == "1" and any(key in sections for key in keys)


@lru_cache(maxsize=1)
def top_level_keys() -> frozenset[str]:
    """Every top-level key a config, template or tenants file may have (from the schema)."""
    definitions = schema.schema()["$defs"]
    return frozenset(
        key for name in ("configFile", "templateFile", "tenantsFile") for key in definitions[name].get("properties", {})
    )
