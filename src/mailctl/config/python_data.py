"""A config given as Python data (``Project(config=...)``) -> YAML text that reads as exactly that data.

The Python API validates a config dict like a file: this writes it as YAML the loader then checks
as any file (its problems carry the label and the line of the key in this text, one key a line).

Plain data is taken as its plain value: any ``Mapping`` (dict, OrderedDict, defaultdict,
MappingProxyType) with text keys, ``str``, ``int``, ``float``, ``bool`` and ``None`` and their
subclasses (an enum member of StrEnum or IntEnum is its value), lists and tuples, and one object
used in several places. A string is text whatever it looks like (``"1e3"``, ``"no"``, ``"~"``):
every string is written double-quoted, with escapes for what YAML would fold or refuse (line
separators, control characters); every number so that YAML 1.1 and 1.2 read the same one.

Anything else is a problem naming the field and the Python type (a set, bytes, Decimal, a Path,
an object), as is a key that is not text, a number that is not finite, a lone surrogate, nesting
as deep as a file may not go (``loader.MAX_DEPTH``: a dict that holds itself too) and data larger
than a file may be once written (``loader.MAX_FILE_BYTES``, counted while writing: a list that
holds one list many times is refused as soon as the limit is passed, never expanded).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from mailctl.config.loader import MAX_DEPTH, MAX_FILE_BYTES, FieldPath, format_path
from mailctl.errors import MAX_SHOWN_PROBLEMS, ConfigError, Problem

PLAIN = "str, int, float, bool, None, a dict (any Mapping) or a list (or tuple)"
# What a double-quoted YAML scalar may hold as is: printable, and not a line break YAML folds
# (U+0085, U+2028, U+2029) nor a byte order mark. The rest, and `"` and `\`, are escaped.
_ESCAPED = re.compile('[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]|["\\\\]')
_SURROGATE = re.compile("[\ud800-\udfff]")


class _TooLarge(Exception):
    pass


def config_text(data: object, label: str) -> str:
    """``data`` written as YAML; raises ``ConfigError`` (located in ``label``) for what is not
    plain data, too deep or too large."""
    writer = _Writer(label)
    if not isinstance(data, Mapping):
        got = _type_name(data)
        writer.problem((), f"the top level must be a mapping of `key: value` pairs (a dict), got {got}")
    else:
        try:
            writer.mapping(data, (), 1, "")
        except _TooLarge:
            writer.problems = [
                Problem(label, 1, 1, "", f"the config is larger than {MAX_FILE_BYTES} bytes once written as YAML")
            ]
            writer.more = 0
    if writer.problems:
        raise ConfigError(writer.problems, writer.more)
    return "\n".join(writer.lines) + "\n"


class _Writer:
    def __init__(self, label: str):
        self.label = label
        self.lines: list[str] = []
        self.size = 0
        self.problems: list[Problem] = []
        self.more = 0

    def problem(self, path: FieldPath, message: str) -> None:
        if len(self.problems) < MAX_SHOWN_PROBLEMS:
            self.problems.append(Problem(self.label, len(self.lines) + 1, 1, format_path(path), message))
        else:
            self.more += 1

    def emit(self, line: str) -> None:
        self.size += len(line) + 1
        if self.size > MAX_FILE_BYTES:
            raise _TooLarge
        self.lines.append(line)

    def mapping(self, data: Mapping[Any, Any], path: FieldPath, depth: int, indent: str) -> None:
        for key, value in data.items():
            if not isinstance(key, str):
                self.problem(path, f"key {_key_repr(key)}is {_type_name(key)}: keys must be text (str)")
                continue
            text = str.__str__(key)
            if (bad := _SURROGATE.search(text)) is not None:
                self.problem(path + (text,), _surrogate(bad.group()))
                continue
            self.entry(f"{indent}{_quoted(text)}:", value, path + (text,), depth, indent)

    def sequence(self, data: list[Any] | tuple[Any, ...], path: FieldPath, depth: int, indent: str) -> None:
        for index, item in enumerate(data):
            self.entry(f"{indent}-", item, path + (index,), depth, indent)

    def entry(self, head: str, value: object, path: FieldPath, depth: int, indent: str) -> None:
        """``head`` (``"key":`` or ``-``) and ``value``: a scalar on the same line, a collection below."""
        collection = isinstance(value, Mapping | list | tuple)
        if collection and depth + 1 >= MAX_DEPTH:
            self.problem(path, f"nested more than {MAX_DEPTH} levels deep")
            return
        if isinstance(value, Mapping):
            if not value:
                self.emit(f"{head} {{}}")
                return
            self.emit(head)
            self.mapping(value, path, depth + 1, indent + "  ")
        elif isinstance(value, list | tuple):
            if not value:
                self.emit(f"{head} []")
                return
            self.emit(head)
            self.sequence(value, path, depth + 1, indent + "  ")
        else:
            scalar = self.scalar(value, path)
            if scalar is not None:
                self.emit(f"{head} {scalar}")

    def scalar(self, value: object, path: FieldPath) -> str | None:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            text = str.__str__(value)
            if (bad := _SURROGATE.search(text)) is not None:
                self.problem(path, _surrogate(bad.group()))
                return None
            return _quoted(text)
        if isinstance(value, int):
            try:
                return int.__repr__(value)
            except ValueError:  # more digits than Python writes out
                self.problem(path, "a number too large to write out")
                return None
        if isinstance(value, float):
            if not math.isfinite(value):
                self.problem(path, f"{float.__repr__(value)} is not a finite number")
                return None
            return _float(value)
        self.problem(path, f"{_type_name(value)} is not config data: use {PLAIN}")
        return None


def _quoted(text: str) -> str:
    return '"' + _ESCAPED.sub(_escape, text) + '"'


def _escape(found: re.Match[str]) -> str:
    ch = found.group()
    if ch in '"\\':
        return "\\" + ch
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _float(value: float) -> str:
    """A float as YAML 1.1 and 1.2 both read it: YAML 1.1 wants a dot before an exponent."""
    text = float.__repr__(value)
    mantissa, e, exponent = text.partition("e")
    return f"{mantissa}.0e{exponent}" if e and "." not in mantissa else text


def _type_name(value: object) -> str:
    kind = type(value)
    module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
    name = f"{module}{kind.__qualname__}"
    return f"a Python {name}"


def _key_repr(key: object) -> str:
    """A key as written, when it is short plain data (``1``, ``None``); else only its type is named."""
    if key is None or isinstance(key, int | float):
        try:
            text = repr(key)
        except ValueError:  # an int with more digits than Python writes out
            return ""
        return f"{text} " if len(text) <= 40 else ""
    return ""


def _surrogate(found: str) -> str:
    return (
        f"`\\u{ord(found):04x}` is a lone UTF-16 surrogate, which cannot be encoded as UTF-8: write the "
        "character itself, or its full code point"
    )
