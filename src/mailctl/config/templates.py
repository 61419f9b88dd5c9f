"""Templates: declare the shape of a tenant's pod once, stamp it out per tenant.

A template file (``kind: template``) names typed ``parameters`` and a ``pod`` body; a tenants
file (``template: NAME``) gives each tenant's values. Rendering turns every tenant into an
ordinary ``pods:`` entry that is then validated like hand-written config. Values keep their
positions, so a bad value is reported at the tenant's file and line (with the template line as
context), and a bad template line names the tenant it was rendered for. See ``render.py``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from mailctl.config.loader import Document, FieldPath
from mailctl.config.schema import describe, not_one_of
from mailctl.errors import Problem
from mailctl.resources import Source

TENANT = "tenant"  # always bound: the tenant's key
ITEM = "item"  # bound inside `for_each`
RESERVED = (TENANT, ITEM)

_TYPES: dict[str, tuple[str, Any]] = {
    "string": ("text", lambda v: isinstance(v, str)),
    "integer": ("a whole number", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "number": ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    "boolean": ("true or false", lambda v: isinstance(v, bool)),
    "list": ("a list", lambda v: isinstance(v, list)),
    "map": ("a mapping", lambda v: isinstance(v, dict)),
    # Not a type a template may declare: a parameter whose declaration has a mistake takes any
    # value, so its tenants are checked for everything else in the same run.
    "any": ("anything", lambda v: True),
}


def kind_of_document(data: dict[str, Any]) -> str:
    """``template``, ``tenants`` or ``config``: decided as the schema decides it."""
    if data.get("kind") == "template":
        return "template"
    return "tenants" if "template" in data else "config"


class Bound(NamedTuple):
    """A parameter's value and where it was written (tenant file, template default, or list item).
    A tuple: every tenant binds one per parameter, and a frozen dataclass costs 3x to make."""

    value: Any
    doc: Document
    path: FieldPath
    key: bool = False

    @property
    def source(self) -> Source:
        return self.doc.mark(self.path, key=self.key)


@dataclass
class Parameter:
    name: str
    type: str
    required: bool
    default: Any
    has_default: bool
    enum: list[Any] | None
    pattern: str | None

    def check(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable, or None. Null always means "not set"."""
        if value is None:
            return None
        label, accepts = _TYPES[self.type]
        if not accepts(value):
            return f"parameter `{self.name}` expects {label}, got {describe(value)}"
        if self.enum is not None and value not in self.enum:
            return not_one_of(value, self.enum)
        if self.pattern is not None and isinstance(value, str) and not re.fullmatch(self.pattern, value):
            return f"`{value}` does not match the pattern of parameter `{self.name}`: {self.pattern}"
        return None


@dataclass
class Template:
    name: str
    doc: Document
    parameters: dict[str, Parameter]
    # Positions in the template, looked up once for all tenants (rendering asks for each per tenant).
    _marks: dict[tuple[FieldPath, bool], Source] = field(default_factory=dict, repr=False)
    _vias: dict[tuple[FieldPath, bool], str] = field(default_factory=dict, repr=False)

    @property
    def source(self) -> Source:
        return self.doc.mark(("name",))

    def mark(self, path: FieldPath, *, key: bool = False) -> Source:
        """Where ``path`` is written in the template (``Document.mark``)."""
        found = self._marks.get((path, key))
        if found is None:
            found = self._marks[(path, key)] = self.doc.mark(path, key=key)
        return found

    def via(self, path: FieldPath, *, key: bool = False) -> str:
        """The note a value (or key) rendered from the template line ``path`` carries."""
        found = self._vias.get((path, key))
        if found is None:
            found = self._vias[(path, key)] = f"via template `{self.name}` at {self.mark(path, key=key)}"
        return found

    def bind(self, tenants: Document, tenant: str) -> tuple[dict[str, Bound], list[Problem]]:
        """Each parameter's value for one tenant (given, default or null), and the problems."""
        base: FieldPath = ("tenants", tenant)
        values = tenants.data["tenants"][tenant] or {}
        problems = []
        for name in values:
            if name not in self.parameters:
                hint = did_you_mean(name, self.parameters)
                reserved = f" (`{TENANT}` is always the tenant's key)" if name in RESERVED else ""
                problems.append(
                    tenants.problem(
                        base + (name,),
                        f"unknown parameter `{name}` for template `{self.name}`{hint}{reserved}",
                        key=True,
                    )
                )
        bound = {TENANT: Bound(tenant, tenants, base, key=True)}
        for name, param in self.parameters.items():
            if name in values:
                bound[name] = Bound(values[name], tenants, base + (name,))
                error = param.check(values[name])
                if error:
                    problems.append(tenants.problem(base + (name,), error))
            elif param.required:
                problems.append(
                    tenants.problem(
                        base,
                        f"tenant `{tenant}` is missing required parameter `{name}` (template `{self.name}`)",
                        key=True,
                    )
                )
            else:
                where = ("parameters", name, "default") if param.has_default else ("parameters", name)
                bound[name] = Bound(param.default, self.doc, where, key=not param.has_default)
        return bound, problems


def did_you_mean(name: str, known: Iterable[str], *, close: bool = True) -> str:
    """``; did you mean `s`?`` for a name written in another case (`S`), or (``close``) a near
    spelling; empty when there is none."""
    candidates = list(known)
    found = [k for k in candidates if k.lower() == name.lower()]
    if not found and close:
        found = difflib.get_close_matches(name, candidates, n=1)
    return f"; did you mean `{found[0]}`?" if found else ""


def parse_template(doc: Document, loose: Container[str] = ()) -> tuple[Template, list[Problem]]:
    """A schema-valid template document -> Template, plus problems in its parameter definitions.
    The parameters named in ``loose`` (their declarations failed the schema) accept any value."""
    problems = []
    parameters = {}
    for name, spec in (doc.data.get("parameters") or {}).items():
        path: FieldPath = ("parameters", name)
        if name in loose:
            parameters[name] = Parameter(name, "any", False, None, False, None, None)
            continue
        if name in RESERVED:
            problems.append(doc.problem(path, f"`{name}` is reserved: `${{{name}}}` is always bound", key=True))
            continue
        param = Parameter(
            name,
            spec["type"],
            bool(spec.get("required", False)),
            spec.get("default"),
            "default" in spec,
            spec.get("enum"),
            spec.get("pattern"),
        )
        if param.pattern is not None:
            try:
                re.compile(param.pattern)
            except re.error as exc:
                problems.append(doc.problem(path + ("pattern",), f"not a valid regular expression: {exc}"))
                param.pattern = None
        if param.required and param.has_default:
            problems.append(
                doc.problem(path, "a parameter is either `required` or has a `default`, not both", key=True)
            )
        error = param.check(param.default)
        if error:
            problems.append(doc.problem(path + ("default",), error))
        parameters[name] = param
    return Template(doc.data["name"], doc, parameters), problems
