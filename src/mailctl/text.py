"""Text from config or from the API, made safe to print for a person to read.

A name or value can hold characters a terminal or a browser acts on instead of showing: ESC
starts a terminal escape sequence (move the cursor, recolour, erase a line), CR and BS overwrite
what was printed, BEL rings, and the Unicode bidirectional controls (U+202E RIGHT-TO-LEFT
OVERRIDE...) reorder the text around them; invisible characters (U+00AD SOFT HYPHEN, U+200B ZERO
WIDTH SPACE...) and spaces other than U+0020 (U+00A0 NO-BREAK SPACE...) make two different names
print alike. A config could use them to make a plan say
something other than what it does. :func:`shown` writes each of them as an escape a reviewer can read
(``\\x1b``, ``\\u202e``); ordinary non-ASCII ("Zoë", CJK) is kept as is. And since a CI log is a
terminal too: GitHub's runner executes ``##[command]`` anywhere in a line, so ``##[`` is shown
``#\\u0023[`` (and JSON output writes it ``##\\u005b``, the same string once parsed).

Every place that prints a name or value for people (plans in text, Markdown and GitHub formats,
errors, drift reports, progress and report lines, lock holders, export headers) goes through
:func:`shown`. JSON output does not: it stays exact (``json.dumps`` escapes every non-ASCII
character already).
"""

from __future__ import annotations

import json
import re

# C0 controls, DEL, C1 controls; every format character (Unicode category Cf: the bidi marks,
# embeddings, overrides and isolates, the soft hyphen, zero-width space, word joiner, invisible
# operators, BOM, tag characters...), which is invisible by definition, so two names differing by
# one print alike (ZWNJ and ZWJ stay: scripts and emoji need them; tests/unit/cli/test_escaping.py
# checks the list against unicodedata); the line and paragraph separators (terminals and browsers
# break lines there); characters that print as nothing at all (the combining grapheme joiner, the
# Hangul fillers, the Khmer inherent vowels); the noncharacters (U+FDD0-U+FDEF and the last two
# code points of every plane, kept by Unicode for a program's internal use: they print as nothing);
# lone surrogates (they cannot be encoded, so printing one would fail).
_HIDDEN_CHARACTERS = (
    "\x00-\x1f\x7f-\x9f"
    "\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    "\u2028\u2029"
    "\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0"
    "\ufdd0-\ufdef\ufffe\uffff"
    "\U0001fffe-\U0001ffff\U0002fffe-\U0002ffff\U0003fffe-\U0003ffff\U0004fffe-\U0004ffff"
    "\U0005fffe-\U0005ffff\U0006fffe-\U0006ffff\U0007fffe-\U0007ffff\U0008fffe-\U0008ffff"
    "\U0009fffe-\U0009ffff\U000afffe-\U000affff\U000bfffe-\U000bffff\U000cfffe-\U000cffff"
    "\U000dfffe-\U000dffff\U000efffe-\U000effff\U000ffffe-\U000fffff\U0010fffe-\U0010ffff"
    "\ud800-\udfff"
)
# Every space but U+0020 (category Zs: no-break, en, em, thin, ideographic...) prints as a space:
# "Acme Corp" and "Acme\xa0Corp" printed alike, so a plan could replace a pod whose name showed no
# change. Escaped when shown, but a name may hold one: it is not "hidden" (``hides``), since once
# escaped it prints differently.
_LOOKALIKE_SPACES = "\xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
_HIDDEN = re.compile(f"[{_HIDDEN_CHARACTERS}]")
_ESCAPED = re.compile(f"[{_HIDDEN_CHARACTERS}{_LOOKALIKE_SPACES}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# GitHub's runner executes ``##[command]data`` found anywhere in a line a step prints (its legacy
# workflow commands): text from a config or the API must never print it.
RUNNER_COMMAND = "##["


def _escaped(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def hides(text: str) -> bool:
    """Whether ``text`` holds a character that prints as nothing or acts on the terminal (a
    control, bidi or invisible character): what a name must not hold."""
    return _HIDDEN.search(text) is not None


def escapes(text: str) -> bool:
    """Whether :func:`shown` would escape a character of ``text``: one that ``hides`` finds, or a
    space that prints like U+0020 without being it."""
    return _ESCAPED.search(text) is not None


def shown(text: object, keep: str = "") -> str:
    """``str(text)`` with every control, bidirectional and invisible character and every lookalike
    space escaped, except those in ``keep`` (``keep="\\n"`` for a message of several lines that
    mailctl itself composed)."""
    text = str(text)
    if escapes(text):
        text = _ESCAPED.sub(lambda m: m.group() if m.group() in keep else _escaped(m.group()), text)
    return text.replace(RUNNER_COMMAND, "#\\u0023[") if RUNNER_COMMAND in text else text


def json_text(value: object, **options: object) -> str:
    """``json.dumps(value, **options)`` for output: the same document, with ``##[`` inside strings
    written ``##\\u005b`` (the same string once parsed), so a CI log never runs it."""
    text = json.dumps(value, **options)  # type: ignore[arg-type]
    return text.replace(RUNNER_COMMAND, "##\\u005b") if RUNNER_COMMAND in text else text


def shown_value(value: object) -> str:
    """A config or API value as plans and reports print it: JSON (strings quoted, C0 controls
    already escaped by ``json.dumps``), then :func:`shown` for the rest."""
    return shown(json.dumps(value, sort_keys=True, ensure_ascii=False))


# [scheme://] then the authority's userinfo: up to its last "@" (a password may hold one), which
# comes before the path, query or fragment.
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)?[^/?#]*@")


def without_userinfo(url: str) -> str:
    """``url`` with its userinfo (``user:password@``, a proxy's credentials) shown as ``***@``: a
    printed command or error lands in CI logs. The user name goes too, since it may be a token
    itself; the ``***`` tells whoever copies the command what to fill in."""
    return _USERINFO.sub(r"\1***@", url, count=1)
