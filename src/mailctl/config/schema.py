"""Validate a document against the config's JSON Schema and word every error for people.

The schema is generated from the kind descriptions (``schema_gen.py``; ``mailctl schema`` prints
it, ``schemas/mailctl.schema.json`` is its copy for editors). This module only turns
``jsonschema`` errors into located problems: unknown fields point at the unknown key (with a "did
you mean"), bad names point at the name, bad values at the value. Beside the standard keywords it
reads ``patternErrorMessage`` / ``notErrorMessage`` (the wording of a failed ``pattern`` / ``not``)
and ``x-utc-range`` (a timestamp that stays a timestamp once in UTC, ``mailctl.limits``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from mailctl import limits
from mailctl.config import fastcheck, schema_gen
from mailctl.config.loader import Document, FieldPath, hides_value
from mailctl.errors import Problem
from mailctl.resources import Source

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

SUPPORTED_VERSION = schema_gen.SUPPORTED_VERSION


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The schema of config files, generated once per process from ``mailctl.kinds``."""
    return schema_gen.generate()


def _utc_range(validator: Any, enabled: Any, instance: Any, subschema: dict[str, Any]) -> Iterator[ValidationError]:
    """``x-utc-range``: a timestamp with an offset must stay within years 1-9999 once in UTC (the
    API refuses ``9999-12-31T23:59:59-23:59``). Text that is no timestamp is the builder's to word."""
    if not enabled or not isinstance(instance, str):
        return
    try:
        moment = datetime.fromisoformat(instance.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return
    if not limits.in_utc_range(moment):
        low, high = (t.isoformat(timespec="seconds")[:19] + "Z" for t in (limits.TIMESTAMP_MIN, limits.TIMESTAMP_MAX))
        from jsonschema.exceptions import ValidationError  # only for a config out of range

        yield ValidationError(f"`{instance}` is out of range: in UTC it must fall between {low} and {high}")


def _fast_check() -> fastcheck.Check | None:
    """The compiled yes/no check of the schema; None if it uses a keyword fastcheck lacks.
    Compiled once per schema object (a test that regenerates the schema gets a new check)."""
    current = schema()
    compiled = _COMPILED.get(id(current))
    if compiled is None or compiled[0] is not current:
        try:
            check: fastcheck.Check | None = fastcheck.compile_schema(current, {"x-utc-range": _in_utc_range})
        except fastcheck.Unsupported:
            check = None
        _COMPILED.clear()
        compiled = _COMPILED[id(current)] = (current, check)
    return compiled[1]


_COMPILED: dict[int, tuple[dict[str, Any], fastcheck.Check | None]] = {}


def _in_utc_range(enabled: Any, instance: Any) -> bool:
    return not any(_utc_range(None, enabled, instance, {}))


@lru_cache(maxsize=1)
def _validator() -> Any:
    """jsonschema's validator of the schema: what words the problems of a config that has some.
    Imported here, not with the module: a valid config is decided by the compiled check alone,
    and the import costs every command 80 ms."""
    from jsonschema import Draft202012Validator, validators

    extended = validators.extend(Draft202012Validator, {"x-utc-range": _utc_range})
    return extended(_inline_refs(schema(), schema()["$defs"]))


def _inline_refs(node: Any, definitions: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """The schema with each plain ``{"$ref": "#/$defs/x"}`` replaced by ``x`` itself (recursive
    ones stay): the same rules, but validation runs twice as fast without reference lookups."""
    if isinstance(node, list):
        return [_inline_refs(item, definitions, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if len(node) == 1 and isinstance(ref, str) and ref.startswith(_DEFS):
        name = ref[len(_DEFS) :]
        if name in definitions and name not in seen:
            return _inline_refs(definitions[name], definitions, seen + (name,))
    return {key: value if key == "$defs" else _inline_refs(value, definitions, seen) for key, value in node.items()}


_DEFS = "#/$defs/"


Position = tuple[str, int, int]  # file, line, column


@dataclass
class Checked:
    problems: list[Problem]  # worded and located: the first ``limit`` by position
    more: int = 0  # problems found beyond ``limit``: counted, never worded (wording costs)
    # No problem at all, those at a skipped position included: a value the YAML reader reported
    # (and kept, as `no` for False) may still fail the schema, and must not be built.
    valid: bool = True
    # Skipped positions whose value is of the wrong type however YAML reads it (``Document.readings``):
    # the schema's problem there is in ``problems``, and replaces the YAML reader's advice.
    replaced: set[Position] = field(default_factory=set)


def validate(
    doc: Document, data: Any = None, base: FieldPath = (), *, limit: int | None = None, skip: Container[Position] = ()
) -> Checked:
    """Every schema problem in ``doc`` (or in ``data`` found at ``base`` inside it), except those
    at a position in ``skip`` (already reported). Only the first ``limit`` by position are worded;
    the rest are counted."""
    instance = doc.data if data is None else data
    fast = _fast_check()
    if fast is not None and fast(instance):  # the common case, decided without jsonschema
        return Checked([])
    kept: list[tuple[Position, int, int, ValidationError]] = []  # (first position, order, count, error)
    total = 0
    valid = True
    replaced: set[Position] = set()
    for order, error in enumerate(_validator().iter_errors(instance)):
        valid = False
        wrong_either_way = _wrong_either_way(doc, base, error)
        where = [
            at
            for at in (_at(doc.mark(path, key=key)) for path, key in _targets(base, error))
            if wrong_either_way or at not in skip
        ]
        replaced.update(at for at in where if wrong_either_way and at in skip)
        if where:
            total += len(where)
            kept.append((min(where), order, len(where), error))
            if limit is not None and len(kept) > 2 * limit:
                kept = sorted(kept)[:limit]
    kept = sorted(kept)[:limit] if limit is not None else kept
    problems: dict[Problem, None] = {}  # ordered set: two errors may word one problem alike
    for _, _, _, error in kept:
        worded = _translate(doc, base, error)
        problems.update(dict.fromkeys(p for p in worded if _at(p) not in skip or _at(p) in replaced))
    return Checked(list(problems), total - sum(count for _, _, count, _ in kept), valid, replaced)


def _wrong_either_way(doc: Document, base: FieldPath, error: ValidationError) -> bool:
    """Whether ``error`` is a wrong type for a value YAML 1.1 and 1.2 read differently, and
    neither reading is of a type the schema wants (``inboxes: no``)."""
    reading = doc.readings.get(base + tuple(error.absolute_path)) if error.validator == "type" else None
    if reading is None:
        return False
    expected = error.validator_value
    wanted = {"number" if k == "integer" else k for k in ([expected] if isinstance(expected, str) else expected)}
    return not reading[1] & wanted


def _at(where: Problem | Source) -> Position:
    return where.file, where.line, where.column


def _targets(base: FieldPath, error: ValidationError) -> list[tuple[FieldPath, bool]]:
    """Where each problem ``error`` becomes is located: (field path, at the key?)."""
    path = base + tuple(error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:
        return [(path + (str(error.instance),), True)]
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        return [(path + (extra,), True) for extra in _extras(error.instance, error.schema)]
    if error.validator == "required":
        return [(path, True)]  # jsonschema reports each missing name as an error of its own
    return [(path, False)]


def _translate(doc: Document, base: FieldPath, error: ValidationError) -> list[Problem]:
    path = base + tuple(error.absolute_path)
    keyword = error.validator
    if "propertyNames" in error.absolute_schema_path:
        name = str(error.instance)
        message = _value_message(error)
        message = message if message.startswith("`") else f"`{name}` {message}" if name else f"a key {message}"
        return [doc.problem(path + (name,), message, key=True)]
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        return [
            doc.problem(path + (extra,), _unknown_field(extra, error.schema), key=True)
            for extra in _extras(error.instance, error.schema)
        ]
    if keyword == "required":
        return [doc.problem(path, f"missing required field `{name}`", key=True) for name in _missing(error)]
    if keyword == "const" and path == ("version",):
        if str(error.instance) == str(SUPPORTED_VERSION):  # "1": the version, written as text
            wanted = f"the number {SUPPORTED_VERSION}, not {_described(error.instance)}"
            return [doc.problem(path, f"must be {wanted}: write version: {SUPPORTED_VERSION}")]
        return [
            doc.problem(path, f"unsupported version `{error.instance}`: this mailctl reads version {SUPPORTED_VERSION}")
        ]
    if hides_value(path):
        return [doc.problem(path, _hidden_value_message(error))]
    if keyword == "type" and path in doc.readings:  # as written, not as one reading of it
        return [doc.problem(path, f"expected {_wanted(error.validator_value)}, got `{doc.readings[path][0]}`")]
    return [doc.problem(path, _value_message(error))]


def _missing(error: ValidationError) -> list[str]:
    """The required name a ``required`` error is about: jsonschema makes one error per missing
    name, its message starting with the name's repr (all missing names if it no longer does)."""
    missing = [name for name in error.validator_value if name not in error.instance]
    return [name for name in missing if error.message.startswith(repr(name))][:1] or missing


def _hidden_value_message(error: ValidationError) -> str:
    """The problem with a value that is a secret's (under a webhook's ``headers``): its kind, never it."""
    if error.validator == "type":
        return f"expected {_wanted(error.validator_value)}, got {_kind_of(error.instance)} (the value is not shown)"
    if error.validator in ("maxProperties", "minProperties", "maxLength", "minLength"):
        return _value_message(error)  # a count, not the value
    if error.validator == "pattern" and "patternErrorMessage" in error.schema:
        return f"{error.schema['patternErrorMessage']} (the value is not shown)"  # what is wrong, not the value
    return "is not valid here (the value is not shown)"


def _value_message(error: ValidationError) -> str:
    """The problem with a value, in words: one rule per JSON Schema keyword (``_MESSAGES``)."""
    keyword, expected = error.validator, error.validator_value
    if keyword in ("minLength", "minItems") and expected == 1:
        return "must not be empty"
    if keyword == "not" and "notErrorMessage" not in error.schema:
        return str(error.message)
    rule = _MESSAGES.get(str(keyword))
    return rule(error, expected, error.instance) if rule is not None else str(error.message)


def _type_message(error: ValidationError, expected: Any, instance: Any) -> str:
    return f"expected {_wanted(expected)}, got {describe(instance)}"


def _wanted(expected: Any) -> str:
    kinds = [expected] if isinstance(expected, str) else list(expected)
    names = [_TYPE_NAMES.get(k, k) for k in kinds]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _enum_message(error: ValidationError, expected: Any, instance: Any) -> str:
    hint = _did_you_mean(str(instance), [str(e) for e in expected])
    if hint and len(expected) > 8:
        return f"`{as_yaml(instance)}` is not a valid value{hint}"
    return not_one_of(instance, expected) + hint


def not_one_of(value: Any, allowed: list[Any]) -> str:
    """``value`` is outside ``allowed``, both written as YAML (``false``, ``[a, b]``)."""
    return f"`{as_yaml(value)}` is not one of: {', '.join(as_yaml(v) for v in allowed)}"


def as_yaml(value: Any) -> str:
    """A plain value spelt as YAML's flow style writes it: ``false``, ``null``, ``[a, b]``,
    ``{s: 1}``, never as Python does (``False``, ``None``, ``['a', 'b']``); text as it is."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return f"[{', '.join(as_yaml(v) for v in value)}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{as_yaml(k)}: {as_yaml(v)}" for k, v in value.items()) + "}"
    return str(value)


_MESSAGES: dict[str, Callable[[ValidationError, Any, Any], str]] = {
    "type": _type_message,
    "pattern": lambda e, x, i: f"`{i}` {e.schema.get('patternErrorMessage', f'does not match `{x}`')}",
    "not": lambda e, x, i: f"`{i}` {e.schema['notErrorMessage']}",
    "enum": _enum_message,
    "const": lambda e, x, i: f"must be `{x}`",
    "minLength": lambda e, x, i: f"must be at least {x} characters long",
    "maxLength": lambda e, x, i: f"must be at most {x} characters long",
    "minItems": lambda e, x, i: f"must have at least {x} item(s)",
    "maxItems": lambda e, x, i: f"must have at most {x} item(s)",
    "maxProperties": lambda e, x, i: f"must have at most {x} entries",
    "minimum": lambda e, x, i: f"must be at least {x}",
    "maximum": lambda e, x, i: f"must be at most {x}",
    "uniqueItems": lambda e, x, i: "lists an item more than once",
}


_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
    "null": "nothing (null)",
}


def _kind_of(value: Any) -> str:
    """What ``describe`` says of ``value``, without the value."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "text" if isinstance(value, str) else describe(value)


def describe(value: Any) -> str:
    """A short, user-facing description of a YAML value."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, (int, float)):
        return f"number `{value}`"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = str(value)
    return f"text `{text if len(text) <= 40 else text[:37] + '...'}`"


def _extras(instance: Any, subschema: dict[str, Any]) -> list[str]:
    known = subschema.get("properties", {})
    patterns = list(subschema.get("patternProperties", {}))
    return [key for key in instance if key not in known and not any(re.search(p, key) for p in patterns)]


def _unknown_field(name: str, subschema: dict[str, Any]) -> str:
    allowed = sorted(subschema.get("properties", {}))
    hint = _did_you_mean(name, allowed)
    listing = f" (allowed: {', '.join(allowed)})" if allowed and not hint and len(allowed) <= 12 else ""
    return f"unknown field `{name}`{hint}{listing}"


def _did_you_mean(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


def _described(value: Any) -> str:
    """How a value the user wrote reads in a message: text quoted, as text."""
    return f'the text "{value}"' if isinstance(value, str) else f"`{value}`"
