"""Read config files into plain data plus the FILE:LINE:COL of every key and value.

YAML's surprises are reported as problems instead of being silently accepted: duplicate keys,
anchors and aliases (no alias bombs: an alias is never expanded), merge keys, custom tags, non-text
keys (``yes:``, ``1:``, ``null:``, ``=``), YAML 1.1 booleans such as ``no`` (a string to YAML 1.2
editors) and numbers YAML 1.2 reads otherwise (``1:30``, ``017``, ``1e3``; text tagged ``!!str``
is text to both), integers no float can hold (the API's numbers are floats), tabs in indentation,
several documents in one file, non-UTF-8 bytes, unreadable paths and U+0085, U+2028 and U+2029
(line breaks to YAML 1.1 only: each is refused, and the file is read with a space in its place, so
every position is the one an editor shows). No message quotes a value under a webhook's
``headers``: those are secrets.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from mailctl.errors import Problem
from mailctl.local_path import NotRegularFile, read_regular
from mailctl.resources import Source

FieldPath = tuple[str | int, ...]

MAX_FILE_BYTES = 5_000_000
MAX_DEPTH = 40

_T = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = _T + "str", _T + "int", _T + "float", _T + "bool", _T + "null"
_TIMESTAMP, _MAP, _SEQ, _MERGE = _T + "timestamp", _T + "map", _T + "seq", _T + "merge"
_VALUE = _T + "value"  # YAML 1.1's `=`
_ALIAS = "mailctl:alias"  # stands in for an alias, so the walk can report it with its field path
# The tag of a plain scalar resolved to text. `!!str 123` keeps `_STR`: text said to be text is
# never a YAML 1.1 / 1.2 ambiguity.
_PLAIN_STR = "mailctl:plain-str"
_ANCHOR = "mailctl_anchor"  # attribute of a node written with an anchor (`&name`): its name
_TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep"
_MAX_ALIAS_REPORTS = 3  # per file: an alias bomb gets a few precise reports (of anchors and aliases) and one summary
_YAML11_BOOLS = re.compile(r"^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$")
# The numbers of YAML 1.2's core schema, which editors and other tools read: a plain scalar that is
# one number to mailctl (YAML 1.1: 1:30 is 90, 017 is 15, 1_000 is 1000) and another or text to
# them (or text to mailctl, 1e3, and a number to them) is reported, as the YAML 1.1 booleans are.
_YAML12_INT = re.compile(r"^[-+]?[0-9]+$")
_YAML12_OCT = re.compile(r"^0o[0-7]+$")
_YAML12_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_YAML12_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_NUMBER_STARTS = frozenset("0123456789+-.")


def yaml12_number(text: str) -> int | float | None:
    """What a plain scalar is in YAML 1.2's core schema, if a number written with digits (None:
    something else, or too long for Python to read as one). ``1e309`` is one too: infinity, since
    no float is that large."""
    if text[:1] not in _NUMBER_STARTS:  # most text, at once (every plain scalar comes here)
        return None
    try:
        if _YAML12_INT.match(text):
            return int(text)
        if _YAML12_OCT.match(text):
            return int(text[2:], 8)
        if _YAML12_HEX.match(text):
            return int(text[2:], 16)
        if _YAML12_FLOAT.match(text):
            return float(text)
    except ValueError:  # more digits than int() reads
        return None
    return None


_KEY_KINDS = {_BOOL: "a boolean", _INT: "a number", _FLOAT: "a number", _NULL: "null", _TIMESTAMP: "a date"}
_SHORTENED = 21  # characters of a long value quoted in a message


def format_path(path: Iterable[str | int]) -> str:
    """``("pods", "a", "webhooks", "w", "pods", 0)`` -> ``pods.a.webhooks.w.pods[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class Document:
    """One file's data with the position of every key and value, addressed by field path."""

    file: str
    data: Any
    key_marks: dict[FieldPath, Source] = field(default_factory=dict)
    value_marks: dict[FieldPath, Source] = field(default_factory=dict)
    notes: dict[FieldPath, str] = field(default_factory=dict)  # context appended to problems below a path
    value_notes: dict[FieldPath, str] = field(default_factory=dict)  # ... to problems about that exact value
    key_notes: dict[FieldPath, str] = field(default_factory=dict)  # ... and about that exact key
    # A scalar YAML 1.1 and 1.2 read as different kinds (`no`: a boolean or text): what was written,
    # and the JSON types of both readings. Its problem advises quoting it or spelling it otherwise,
    # which is no help where the schema wants neither (`inboxes: no`): the schema's problem then says so.
    readings: dict[FieldPath, tuple[str, frozenset[str]]] = field(default_factory=dict)

    def mark(self, path: FieldPath, *, key: bool = False) -> Source:
        """Where ``path`` was written (its key, or its value); the nearest ancestor if unknown."""
        path = tuple(path)
        while True:
            if key and path in self.key_marks:
                return self.key_marks[path]
            if path in self.value_marks:
                return self.value_marks[path]
            if path in self.key_marks:
                return self.key_marks[path]
            if not path:
                return Source(self.file, 1, 1)
            path = path[:-1]

    def note(self, path: FieldPath) -> str | None:
        path = tuple(path)
        while True:
            if path in self.notes:
                return self.notes[path]
            if not path:
                return None
            path = path[:-1]

    def problem(self, path: FieldPath, message: str, *, key: bool = False) -> Problem:
        where = self.mark(path, key=key)
        path = tuple(path)
        note = self.note(path)
        exact = self.key_notes if key else self.value_notes
        if path in exact:
            note = exact[path]
        text = f"{message} ({note})" if note else message
        return Problem(where.file, where.line, where.column, format_path(path), text)


LFS_POINTER = b"version https://git-lfs.github.com/spec/"  # what Git LFS commits in a file's place
_LFS_CHECKOUT = (
    "a Git LFS pointer, not the file's content: fetch the LFS files first (git lfs pull; "
    "actions/checkout: lfs: true), or keep config files out of Git LFS"
)


def file_problem(file: str, message: str, line: int = 1, column: int = 1) -> Problem:
    return Problem(file, line, column, "", message)


# ---------------------------------------------------------------------------------------------
# One file


def read_document(file: str) -> tuple[Document | None, list[Problem]]:
    """Parse one file. Returns the document (None if it could not be parsed) and its problems."""
    try:
        raw = read_regular(file, MAX_FILE_BYTES + 1)
    except NotRegularFile as exc:
        return None, [file_problem(file, f"not a regular file ({exc.kind}): pass a config file or a directory")]
    except OSError as exc:
        return None, [file_problem(file, f"cannot read file: {exc.strerror or exc}")]
    if len(raw) > MAX_FILE_BYTES:
        return None, [file_problem(file, f"file is larger than {MAX_FILE_BYTES} bytes")]
    if raw.startswith(LFS_POINTER):
        return None, [file_problem(file, _LFS_CHECKOUT)]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [
            file_problem(file, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}): save the file as UTF-8", line, column)
        ]
    return parse_text(text, file)


def parse_text(text: str, file: str) -> tuple[Document | None, list[Problem]]:
    if not _SEPARATOR.search(text):  # nearly always
        return _parse(text, file)
    refused = _separator_problems(text, file)
    # Each becomes a space (one column for one), so the rest of the file is read as an editor
    # shows it and its problems are placed on the lines an editor counts.
    doc, problems = _parse(_SEPARATOR.sub(" ", text), file)
    return doc, refused + problems


# Line breaks to YAML 1.1 (PyYAML's and libyaml's reader) and not to YAML 1.2, editors, `wc -l`,
# git or GitHub's annotations: read as breaks, each put every later position a line too low.
_SEPARATOR = re.compile("[\x85\u2028\u2029]")
_SEPARATOR_NAMES = {"\x85": "NEXT LINE", "\u2028": "LINE SEPARATOR", "\u2029": "PARAGRAPH SEPARATOR"}
_MAX_SEPARATOR_REPORTS = 3  # per file, then a count: a pasted document may hold thousands


def _separator_problems(text: str, file: str) -> list[Problem]:
    found = list(_SEPARATOR.finditer(text))
    problems = []
    for match in found[:_MAX_SEPARATOR_REPORTS]:
        at = match.start()
        line = text.count("\n", 0, at) + 1
        column = at - (text.rfind("\n", 0, at) + 1) + 1
        code = f"{ord(match.group()):04x}"
        message = (
            f"the character U+{code.upper()} ({_SEPARATOR_NAMES[match.group()]}) is a line break to YAML 1.1 but "
            f"not to YAML 1.2 or editors, so lines would be counted apart: delete it, or write `\\u{code}` "
            "in a double-quoted value"
        )
        problems.append(file_problem(file, message, line, column))
    if len(found) > _MAX_SEPARATOR_REPORTS:
        last = problems[-1]
        more = len(found) - _MAX_SEPARATOR_REPORTS
        message = f"{more} more U+0085, U+2028 or U+2029 characters in this file (line breaks to YAML 1.1 only)"
        problems.append(file_problem(file, message, last.line, last.column))
    return problems


def _parse(text: str, file: str) -> tuple[Document | None, list[Problem]]:
    try:
        root = _compose(text)
        if root is not None and _nested_too_deep(root):
            root = _compose_with(_MarkedLoader, text)  # raises, worded and placed as ever
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_problem(file, exc)]
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        character = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return None, [file_problem(file, f"character #x{character:04x} is not allowed in YAML", line, column)]
    except RecursionError:
        return None, [file_problem(file, "YAML nested too deeply")]
    if root is None:
        return None, [file_problem(file, "file is empty: expected at least `version: 1`")]
    doc = Document(file, None)
    walker = _Walker(doc, [])
    doc.data = walker.value(root, ())
    walker.summarise_aliases()
    if not isinstance(doc.data, dict):
        got = (
            "a list" if isinstance(doc.data, list) else f"`{root.value}`" if isinstance(root, ScalarNode) else "nothing"
        )
        walker.problems.append(doc.problem((), f"the top level must be a mapping of `key: value` lines, got {got}"))
        return None, walker.problems
    return doc, walker.problems


def _syntax_problem(file: str, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or "invalid YAML"
    if problem == _TOO_DEEP:
        message = problem
    elif "'\\t'" in problem:
        message = "tab character in indentation: YAML indents with spaces only"
    elif "expected a single document" in (exc.context or ""):
        message = "only one YAML document per file (a second one starts here with `---`)"
    else:
        context = f" ({exc.context}, line {exc.context_mark.line + 1})" if exc.context and exc.context_mark else ""
        message = f"YAML syntax error: {problem}{context}"
    return file_problem(file, message, line, column)


def _compose(text: str) -> Node | None:
    """The node tree of ``text``: parsed by libyaml when it is installed (4x faster), by the
    pure-Python parser when not, and whenever libyaml objects, so that every error reads the same.

    Text without anchors (no ``&``) is also composed by libyaml (another 2x): with no anchor, no
    alias can name one (libyaml refuses it, and the slower path reports it), and libyaml refuses
    nesting deeper than its own limit, so its recursion is bounded; MAX_DEPTH is checked after."""
    if _FastLoader is not None and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        if _ComposingLoader is not None and "&" not in text:
            try:
                return _compose_with(_ComposingLoader, text)
            except yaml.YAMLError:
                pass
        try:
            return _compose_with(_FastLoader, text)
        except yaml.YAMLError:
            pass  # re-parsed below for PyYAML's wording and position
    return _compose_with(_MarkedLoader, text)


def _nested_too_deep(root: Node) -> bool:
    """Whether a tree composed by libyaml goes MAX_DEPTH levels deep (the Python composer
    refuses those with its own error). Walked without recursion."""
    level = [(root, 1)]
    while level:
        node, depth = level.pop()
        if isinstance(node, ScalarNode):
            continue
        if depth >= MAX_DEPTH:
            return True
        for child in node.value:
            if isinstance(child, tuple):
                level.extend(((child[0], depth + 1), (child[1], depth + 1)))
            elif not isinstance(child, ScalarNode):
                level.append((child, depth + 1))
    return False


def _compose_with(kind: Any, text: str) -> Node | None:
    loader = kind(text)
    try:
        node: Node | None = loader.get_single_node()
        return node
    finally:
        loader.dispose()


class _MarkedComposer(Composer):
    """Composition that never expands aliases (each one becomes a placeholder reported later)
    and stops at MAX_DEPTH."""

    depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        events: Any = self  # the parser half (PyYAML's or libyaml's) is mixed in beside this class
        if events.check_event(AliasEvent):
            event = events.get_event()
            return ScalarNode(_ALIAS, event.anchor, event.start_mark, event.end_mark)
        if self.depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(None, None, _TOO_DEEP, events.peek_event().start_mark)
        anchor = getattr(events.peek_event(), "anchor", None)
        self.depth += 1
        try:
            node = Composer.compose_node(self, parent, index)
        finally:
            self.depth -= 1
        if anchor is not None:  # reported by the walk: anchors are as unsupported as aliases
            setattr(node, _ANCHOR, anchor)
        return node


class _PlainText(Resolver):
    """Resolution that tells a plain scalar read as text (`_PLAIN_STR`) from one tagged `!!str`.
    Whichever composer runs (Python's or libyaml's) asks ``resolve`` only for untagged nodes."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        tag = Resolver.resolve(self, kind, value, implicit)  # type: ignore[no-untyped-call]
        return _PLAIN_STR if tag == _STR and kind is ScalarNode and implicit[0] else tag


class _MarkedLoader(_MarkedComposer, _PlainText, yaml.SafeLoader):
    """The pure-Python SafeLoader, composing as above."""


def _fast_loader() -> Any:
    """The same loader over libyaml's parser (events in C, composition above), if installed."""
    try:
        from yaml._yaml import CParser
    except ImportError:
        return None

    class FastLoader(_MarkedComposer, CParser, SafeConstructor, _PlainText):
        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    return FastLoader


_FastLoader = _fast_loader()


def _composing_loader() -> Any:
    """libyaml's parser and composer, where this libyaml refuses deep nesting (0.2.5 and later:
    1,000 levels), so that its recursive composer cannot exhaust the C stack."""
    try:
        from yaml._yaml import CParser
    except ImportError:
        return None

    class ComposingLoader(CParser, SafeConstructor, _PlainText):
        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    try:
        _compose_with(ComposingLoader, "[" * 5000 + "]" * 5000)
    except yaml.YAMLError:
        return ComposingLoader
    return None


_ComposingLoader = _composing_loader()


def _source(file: str, node: Node) -> Source:
    return Source(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Walker:
    """Node tree -> plain Python data, recording marks and YAML-level problems."""

    def __init__(self, doc: Document, problems: list[Problem]):
        self.doc = doc
        self.problems = problems
        self.loader = _MarkedLoader("")
        self.aliases: list[tuple[FieldPath, str]] = []  # and anchors: (where, what)

    def summarise_aliases(self) -> None:
        if len(self.aliases) > _MAX_ALIAS_REPORTS:
            path, _ = self.aliases[_MAX_ALIAS_REPORTS]
            more = len(self.aliases) - _MAX_ALIAS_REPORTS
            self.report(path, f"{more} more YAML anchors and aliases in this file (none are expanded)")

    def anchor(self, node: Node, path: FieldPath) -> None:
        """Report ``node``'s anchor, if it has one: no alias may name it, so it only misleads."""
        name = getattr(node, _ANCHOR, None)
        if name is None:
            return
        self.aliases.append((path, name))
        if len(self.aliases) <= _MAX_ALIAS_REPORTS:
            where = _source(self.doc.file, node)
            message = f"YAML anchors (`&{name}`) are not supported: remove the anchor"
            self.problems.append(Problem(where.file, where.line, where.column, format_path(path), message))

    def report(self, path: FieldPath, message: str, *, key: bool = False) -> None:
        self.problems.append(self.doc.problem(path, message, key=key))

    def value(self, node: Node, path: FieldPath) -> Any:
        self.doc.value_marks[path] = _source(self.doc.file, node)
        self.anchor(node, path)
        if isinstance(node, MappingNode):
            if node.tag != _MAP:
                self.report(path, f"YAML tag `{_short(node.tag)}` is not supported")
            return self.mapping(node, path)
        if isinstance(node, SequenceNode):
            if node.tag != _SEQ:
                self.report(path, f"YAML tag `{_short(node.tag)}` is not supported")
            return [self.value(item, path + (i,)) for i, item in enumerate(node.value)]
        if _SURROGATE.search(node.value):  # `"\ud800"`: text no file, API or terminal can encode
            node.value = _escape_surrogates(node.value)
            self.report(path, _surrogate_message(node.value))
        return self.scalar(node, path)

    def mapping(self, node: MappingNode, path: FieldPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.key(key_node, path)
            if key is None:
                continue
            key_path = path + (key,)
            if key in out:
                first = self.doc.key_marks[key_path]
                self.problems.append(
                    Problem(
                        self.doc.file,
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        format_path(key_path),
                        f"duplicate key `{key}` (first at line {first.line})",
                    )
                )
                continue
            self.doc.key_marks[key_path] = _source(self.doc.file, key_node)
            self.anchor(key_node, key_path)
            out[key] = self.value(value_node, key_path)
        return out

    def key(self, node: Node, path: FieldPath) -> str | None:
        if isinstance(node, ScalarNode) and _SURROGATE.search(node.value):
            node.value = _escape_surrogates(node.value)
            where = _source(self.doc.file, node)
            self.problems.append(
                Problem(
                    where.file,
                    where.line,
                    where.column,
                    format_path(path + (node.value,)),
                    _surrogate_message(node.value),
                )
            )
        if isinstance(node, ScalarNode) and node.tag in (_STR, _PLAIN_STR):
            return str(node.value)
        where = _source(self.doc.file, node)
        if not isinstance(node, ScalarNode) or not node.value or node.tag in (_ALIAS, _MERGE):
            message = {
                _MERGE: "YAML merge keys (`<<`) are not supported: write the fields out",
                _ALIAS: "YAML aliases are not supported as keys",
            }.get(node.tag, "keys must be plain text")
            self.problems.append(Problem(where.file, where.line, where.column, format_path(path), message))
            return None
        kind = _KEY_KINDS.get(node.tag, f"tag `{_short(node.tag)}`")
        read = _VALUE_KEY if node.tag == _VALUE else f"is read by YAML as {kind}"
        self.problems.append(
            Problem(
                where.file,
                where.line,
                where.column,
                format_path(path + (node.value,)),
                f'key `{node.value}` {read}, not text: quote it ("{node.value}")',
            )
        )
        return str(node.value)

    def scalar(self, node: Node, path: FieldPath) -> Any:
        assert isinstance(node, ScalarNode)
        tag = node.tag
        if tag == _ALIAS:
            self.aliases.append((path, str(node.value)))
            if len(self.aliases) <= _MAX_ALIAS_REPORTS:
                self.report(path, f"YAML aliases (`*{node.value}`) are not supported: write the value out")
            return None
        hidden = hides_value(path)
        what = "the value" if hidden else f"`{_shortened(node.value)}`" if node.value else "the empty value"
        unshown = " (the value is not shown)" if hidden else ""
        if tag == _PLAIN_STR and (number := yaml12_number(node.value)) is not None:
            self.doc.readings[path] = (node.value, frozenset(("string", "number")))
            spelling = None if hidden or not _holdable(number) else _spelling(number)
            self.report(
                path,
                f"{what} is text in YAML 1.1 but {_number(number, hidden)} in YAML 1.2: "
                f"quote it{'' if spelling is None else f', or write {spelling}'}{unshown}",
            )
        if tag in (_STR, _PLAIN_STR, _TIMESTAMP):  # timestamps stay text: the schema and the builder parse them
            return str(node.value)
        if tag == _VALUE:
            quoted = "" if hidden else f' ("{node.value}")'
            self.report(path, f"{what} {_VALUE_KEY}, not text: quote it{quoted}")
            return None
        if tag not in (_INT, _FLOAT, _BOOL, _NULL):
            self.report(path, f"YAML tag `{_short(tag)}` is not supported")
            return None
        if tag == _BOOL and not node.style and _YAML11_BOOLS.match(node.value):
            self.doc.readings[path] = (node.value, frozenset(("boolean", "string")))
            self.report(
                path, f"{what} is a boolean in YAML 1.1 but text in YAML 1.2: write true/false, or quote it{unshown}"
            )
        try:
            value = self.loader.construct_object(node)
        except (ValueError, IndexError, KeyError, yaml.YAMLError):  # PyYAML's, of `!!int ""`, `!!bool ""`
            if tag == _INT and len(node.value) > _FLOAT_DIGITS and _DECIMAL.match(node.value):
                self.report(path, _too_large(what, node.value, unshown))  # more digits than int() reads
            else:
                self.report(path, f"{what} is not a valid {tag.rsplit(':', 1)[-1]}{unshown}")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.report(path, f"{what} is not a finite number{unshown}")
            return None
        if isinstance(value, int) and not isinstance(value, bool) and not _fits_a_float(value):
            self.report(path, _too_large(what, node.value, unshown))  # the API holds numbers as floats
            return None
        if tag in (_INT, _FLOAT) and not node.style and (elsewhere := yaml12_number(node.value)) != value:
            self.doc.readings[path] = (node.value, frozenset(("number", "string" if elsewhere is None else "number")))
            spelling = None if hidden else _spelling(value)
            self.report(
                path,
                f"{what} is {_number(value, hidden)} in YAML 1.1 but "
                f"{'text' if elsewhere is None else 'a different number' if hidden else repr(elsewhere)} in YAML 1.2: "
                f"{'' if spelling is None else f'write {spelling}, or '}quote it{unshown}",
            )
        return value


def hides_value(path: FieldPath) -> bool:
    """A webhook's ``headers``, or a field under it: every value there is a secret's, a value
    written where the mapping of them goes too (README: errors carry names only)."""
    return any(part == "webhooks" and path[i + 2 : i + 3] == ("headers",) for i, part in enumerate(path))


_VALUE_KEY = "is YAML 1.1's value key (`!!value`)"
_DECIMAL = re.compile(r"^[-+]?[0-9_]+$")
_FLOAT_DIGITS = 309  # the largest float, 1.8e308, has 309 digits


def _shortened(text: str) -> str:
    return text if len(text) <= _SHORTENED + 3 else text[:_SHORTENED] + "..."


def _number(number: int | float, hidden: bool) -> str:
    if hidden:
        return "a number"
    if isinstance(number, float) and math.isinf(number):
        return "infinity" if number > 0 else "minus infinity"
    if not _holdable(number):  # and past 4,300 digits Python will not even write it out
        return "a number larger than any the API holds"
    return f"the number {number!r}"


def _fits_a_float(number: int) -> bool:
    try:
        float(number)
    except OverflowError:
        return False
    return True


def _holdable(number: int | float) -> bool:
    """A number the API can hold: any float, an int a float can hold."""
    return isinstance(number, float) or _fits_a_float(number)


def _too_large(what: str, text: str, unshown: str) -> str:
    digits = _digit_count(text)
    return (
        f"{what} ({digits} digits) is larger than any number the API holds (a 64-bit float): "
        f"quote it to keep it as text{unshown}"
    )


def _digit_count(text: str) -> int:
    """The digits of an integer as written: without its sign, ``_``, and base prefix (``0x``,
    ``0o``, ``0b``, or YAML 1.1's octal ``0``)."""
    body = text.lstrip("+-").replace("_", "")
    if body[:2].lower() in ("0x", "0o", "0b"):
        return len(body) - 2
    if len(body) > 1 and body.startswith("0") and body.isdigit():
        return len(body) - 1
    return sum(ch.isdigit() for ch in body)


def _spelling(number: int | float) -> str | None:
    """``number`` written as YAML 1.1 and 1.2 both read it (1e-320 is text to YAML 1.1, which
    wants a dot and a signed exponent: 1.0e-320), or None if there is no such spelling."""
    text = repr(number)
    if isinstance(number, float) and "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa if '.' in mantissa else mantissa + '.0'}e{'' if exponent[0] in '+-' else '+'}{exponent}"
    loader = _MarkedLoader("")
    try:
        read = loader.construct_object(ScalarNode(loader.resolve(ScalarNode, text, (True, False)), text))
    except (ValueError, yaml.YAMLError):
        return None
    finally:
        loader.dispose()
    return text if read == number and type(read) is type(number) and yaml12_number(text) == number else None


_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\ud[89a-f][0-9a-f]{2}")


def _escape_surrogates(text: str) -> str:
    """Lone surrogates written out as ``\\udXXX``, so the text can be printed and reported."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _surrogate_message(escaped: str) -> str:
    found = _ESCAPED_SURROGATE.search(escaped)
    code = found.group(0) if found else "\\ud800"
    return (
        f"`{code}` is a lone UTF-16 surrogate, which cannot be encoded as UTF-8: write the character "
        "itself, or its full code point (like `\\U0001F600`)"
    )


def _short(tag: str) -> str:
    return tag.replace(_T, "!!")
