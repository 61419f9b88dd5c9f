"""Stamp a template out for each tenant of a tenants file: one rendered config Document.

Inside a template's ``pod`` body:

- ``${name}`` substitutes a parameter (``${tenant}`` is the tenant's key, ``${item}`` the current
  ``for_each`` element, ``${item.field}`` a field of it; ``$$`` writes a literal ``$``). A string
  that is exactly one ``${name}`` takes the value's type (a number stays a number, a list a list);
  if the parameter is unset (null), the field is left out.
- An entry whose body is a mapping may carry ``when:`` (keep it only if the condition holds) and
  ``for_each:`` (repeat it per element of a list parameter or an inline list, whose items are
  substituted too). Conditions:
  ``when: name`` (set and not false/empty), ``when: "not name"``, ``when: {name: value}`` (equal),
  ``when: {name: [a, b]}`` (one of), or a list of these (all must hold).
- An inbox's ``metadata`` and a webhook's ``headers`` are data: ``when``/``for_each`` keys there
  are ordinary keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mailctl.config.loader import Document, FieldPath, format_path
from mailctl.config.schema import describe
from mailctl.config.stamp import OMIT, Stamp, entry_parts, text_parts, text_tail, unclosed
from mailctl.config.templates import ITEM, Bound, Template, did_you_mean
from mailctl.errors import Problem
from mailctl.kinds import spec_of
from mailctl.resources import Kind, Source


@dataclass
class RenderedDocument(Document):
    """A tenants file rendered to config. A tenant stamped out by ``Stamp`` has its keys'
    positions; those of its values are worked out (by rendering it again, carefully) the first
    time anything asks for a position or note inside its pod."""

    # client_id -> works its positions out into this document (given it: no reference cycle)
    pending: dict[str, Callable[[Document], None]] = field(default_factory=dict)
    item_marks: dict[FieldPath, Source] = field(default_factory=dict)  # stamped list items

    def mark(self, path: FieldPath, *, key: bool = False) -> Source:
        if key:  # the builder's question (where is this declared?), answered without rendering
            found = self.key_marks.get(path) or self.item_marks.get(path)
            if found is not None:
                return found
        self._settle(path)
        return super().mark(path, key=key)

    def note(self, path: FieldPath) -> str | None:
        self._settle(path)
        return super().note(path)

    def _settle(self, path: FieldPath) -> None:
        if len(path) > 1 and path[0] == "pods":
            work_out = self.pending.pop(path[1], None)  # type: ignore[arg-type]
            if work_out is not None:
                work_out(self)


def render_tenants(tenants: Document, template: Template) -> tuple[Document, list[Problem]]:
    """The config document declaring one pod per tenant (tenants with bad values are left out)."""
    out = RenderedDocument(tenants.file, {"version": 1, "pods": {}})
    out.value_marks[()] = tenants.mark(())
    out.key_marks[("version",)] = out.value_marks[("version",)] = tenants.mark(("version",))
    out.key_marks[("pods",)] = out.value_marks[("pods",)] = tenants.mark(("tenants",), key=True)
    problems: list[Problem] = []
    stamp = Stamp(template)
    for tenant in tenants.data["tenants"]:
        scope, found = template.bind(tenants, tenant)
        problems.extend(found)
        if not found and not _stamped(stamp, scope, tenants, tenant, out):
            _settle_all(out)  # a careful render may share positions with tenants stamped before
            problems.extend(_Renderer(template, tenants, tenant, out).render(scope))
    return out, problems


def _stamped(stamp: Stamp, scope: dict[str, Bound], tenants: Document, tenant: str, out: RenderedDocument) -> bool:
    """Render ``tenant`` the quick way; False when it needs ``_Renderer``."""

    def expand(child: dict[str, Any], src: FieldPath, scope: dict[str, Bound]) -> list[dict[str, Bound]] | None:
        probe = _Renderer(stamp.template, tenants, tenant, Document(out.file, None))
        scopes = probe.expand(child, src, scope)
        return None if probe.problems else scopes

    stamped = stamp.render(scope, expand)
    if stamped is None or stamped.client_id in out.data["pods"]:
        return False
    client_id = stamped.client_id
    out.data["pods"][client_id] = stamped.body
    out.key_marks.update(stamped.key_marks)
    out.item_marks.update(stamped.item_marks)
    out.key_marks[("pods", client_id)] = tenants.mark(("tenants", tenant), key=True)

    def work_out(out: Document) -> None:
        careful = Document(out.file, {"version": 1, "pods": {}})
        _Renderer(stamp.template, tenants, tenant, careful).render(scope)
        out.key_marks.update(careful.key_marks)
        out.value_marks.update(careful.value_marks)
        out.notes.update(careful.notes)
        out.value_notes.update(careful.value_notes)
        out.key_notes.update(careful.key_notes)

    out.pending[client_id] = work_out
    return True


def _settle_all(out: RenderedDocument) -> None:
    for work_out in list(out.pending.values()):
        work_out(out)
    out.pending.clear()


class _Renderer:
    def __init__(self, template: Template, tenants: Document, tenant: str, out: Document):
        self.template = template
        self.src = template.doc
        self.out = out
        self.problems: list[Problem] = []
        self.tenant_note = f"rendering tenant `{tenant}` at {tenants.mark(('tenants', tenant), key=True)}"
        self.tenant_source = tenants.mark(("tenants", tenant), key=True)
        self.tenant_value = tenants.mark(("tenants", tenant))

    def render(self, scope: dict[str, Bound]) -> list[Problem]:
        body = self.src.data["pod"]
        raw = self.node(body.get("client_id", "${tenant}"), ("pod", "client_id"), ("client_id",), scope, True)
        if raw is OMIT or isinstance(raw, (dict, list, bool)) or raw is None:
            if not self.problems:
                what = "nothing" if raw is OMIT else describe(raw)
                self.report(("pod", "client_id"), f"the pod's client_id must render to text, got {what}")
            return self.problems
        client_id = str(raw)
        path: FieldPath = ("pods", client_id)
        if client_id in self.out.data["pods"]:  # another tenant of this file: never merge the two
            first, where = self.out.mark(path, key=True), self.tenant_source
            address = spec_of(Kind.POD).address(client_id, None)
            message = f"{address} is declared twice: also declared at {first} ({self.tenant_note})"
            self.problems.append(Problem(where.file, where.line, where.column, format_path(path), message))
            return self.problems
        self.out.key_marks[path] = self.tenant_source
        self.out.value_marks[path] = self.tenant_value
        self.out.notes[path] = self.tenant_note
        rest = {key: value for key, value in body.items() if key != "client_id"}
        self.out.data["pods"][client_id] = self.mapping(rest, ("pod",), path, scope, free_form=False)
        return self.problems

    # -----------------------------------------------------------------------------------------

    def node(self, value: Any, src: FieldPath, dst: FieldPath, scope: dict[str, Bound], free_form: bool) -> Any:
        if isinstance(value, dict):
            self.place(dst, self.template.mark(src), src)
            return self.mapping(value, src, dst, scope, free_form)
        if isinstance(value, list):
            self.place(dst, self.template.mark(src), src)
            items = [self.node(item, src + (i,), dst + (i,), scope, free_form) for i, item in enumerate(value)]
            return [item for item in items if item is not OMIT]
        if isinstance(value, str):
            return self.text(value, src, scope, dst)
        self.place(dst, self.template.mark(src), src)
        return value

    def mapping(
        self, value: dict[str, Any], src: FieldPath, dst: FieldPath, scope: dict[str, Bound], free_form: bool
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, child in value.items():
            child_src = src + (key,)
            data, directive, body = entry_parts(child_src, child, free_form)
            for child_scope in self.expand(child, child_src, scope) if directive else [scope]:
                new_key = self.key(key, child_src, dst, child_scope)
                if new_key is None:
                    continue
                if new_key in out:
                    self.report(child_src, f"`{new_key}` is produced twice in this mapping", key=True)
                    continue
                rendered = self.node(body, child_src, dst + (new_key,), child_scope, data)
                if rendered is not OMIT:
                    out[new_key] = rendered
        return out

    def key(self, key: str, src: FieldPath, dst: FieldPath, scope: dict[str, Bound]) -> str | None:
        value, origin = self.substitute(key, src, scope, key=True)
        if value is None or value is OMIT:
            if value is OMIT:
                self.report(src, f"key `{key}` renders to nothing: guard the entry with `when:`", key=True)
            return None
        if isinstance(value, (dict, list, bool)):
            self.report(src, f"key `{key}` renders to {describe(value)}, not text", key=True)
            return None
        self.out.key_marks[dst + (str(value),)] = origin or self.template.mark(src, key=True)
        if origin is not None and text_parts(key)[0] is None:
            # Placed at a tenant's value, but the template wrote part of it (`sup port@${dom}`): the
            # mistake may be either's, so its problems name the template line too.
            self.out.key_notes[dst + (str(value),)] = f"{self.template.via(src, key=True)}, {self.tenant_note}"
        return str(value)

    def text(self, value: str, src: FieldPath, scope: dict[str, Bound], dst: FieldPath | None = None) -> Any:
        result, origin = self.substitute(value, src, scope)
        if result is None:  # a problem was reported: leave the field out rather than cascade
            return OMIT
        if dst is not None and result is not OMIT:
            self.place(dst, origin or self.template.mark(src), src)
        return result

    def substitute(
        self, text: str, src: FieldPath, scope: dict[str, Bound], key: bool = False
    ) -> tuple[Any, Source | None]:
        """``${...}`` replaced; the origin is the tenant-side position of the first value used."""
        if "$" not in text:
            return text, None
        if unclosed(text):
            self.report(src, "`${` is not closed: write `${name}`, or `$${` for a literal `${`", key=key)
            return None, None
        whole, pieces = text_parts(text)
        if whole is not None:
            bound = self.lookup(whole, src, scope, key)
            if bound is None:
                return None, None
            return (OMIT if bound.value is None else bound.value), self.origin(bound)
        parts: list[str] = []
        origin: Source | None = None
        for literal, expression in pieces:
            parts.append(literal)
            if expression is None:
                parts.append("$")
                continue
            bound = self.lookup(expression, src, scope, key)
            if bound is None:
                return None, None
            if bound.value is None or isinstance(bound.value, (dict, list)):
                why = (
                    "has no value for this tenant: give it one, or guard with `when:`"
                    if bound.value is None
                    else f"is {describe(bound.value)} and cannot be part of text"
                )
                self.report(src, f"`${{{expression.strip()}}}` {why}", key=key)
                return None, None
            parts.append(str(bound.value).lower() if isinstance(bound.value, bool) else str(bound.value))
            origin = origin or self.origin(bound)
        parts.append(text_tail(text))
        return "".join(parts), origin

    def lookup(self, expression: str, src: FieldPath, scope: dict[str, Bound], key: bool = False) -> Bound | None:
        name, _, field = expression.strip().partition(".")
        bound = scope.get(name)
        if bound is None:
            known = ", ".join(sorted(scope))
            hint = did_you_mean(name, scope, close=False)
            self.report(src, f"unknown parameter `{name}` in `${{{expression}}}`{hint} (known: {known})", key=key)
            return None
        if not field:
            return bound
        if not isinstance(bound.value, dict) or field not in bound.value:
            self.report(src, f"`{name}` has no field `{field}`", key=key)
            return None
        return Bound(bound.value[field], bound.doc, bound.path + (field,))

    def expand(self, child: dict[str, Any], src: FieldPath, scope: dict[str, Bound]) -> list[dict[str, Bound]]:
        scopes = [scope]
        if "for_each" in child:
            scopes = [{**scope, ITEM: item} for item in self.items(child["for_each"], src + ("for_each",), scope)]
        if "when" in child:
            scopes = [s for s in scopes if self.condition(child["when"], src + ("when",), s)]
        return scopes

    def items(self, spec: Any, src: FieldPath, scope: dict[str, Bound]) -> list[Bound]:
        if isinstance(spec, str):
            bound = self.lookup(spec.strip().removeprefix("${").removesuffix("}"), src, scope)
            if bound is None or bound.value is None:
                return []
            if not isinstance(bound.value, list):
                self.report(src, f"`for_each` needs a list, but `{spec}` is {describe(bound.value)}")
                return []
            return [Bound(v, bound.doc, bound.path + (i,)) for i, v in enumerate(bound.value)]
        if isinstance(spec, list):
            items = [self.item(value, src + (i,), scope) for i, value in enumerate(spec)]
            return [item for item in items if item is not None]
        self.report(src, f"`for_each` takes a list parameter's name or a list, got {describe(spec)}")
        return []

    def item(self, value: Any, src: FieldPath, scope: dict[str, Bound]) -> Bound | None:
        """An inline ``for_each`` item, substituted (None: left out, an unset ``${name}``, or a
        problem reported). A whole ``${name}`` keeps the value's own position."""
        if not isinstance(value, str) or "$" not in value:
            return Bound(value, self.src, src)
        whole = None if unclosed(value) else text_parts(value)[0]
        if whole is not None:
            bound = self.lookup(whole, src, scope)
            return None if bound is None or bound.value is None else bound
        text, _ = self.substitute(value, src, scope)
        return None if text is None else Bound(text, self.src, src)

    def condition(self, spec: Any, src: FieldPath, scope: dict[str, Bound]) -> bool:
        if isinstance(spec, bool):
            return spec
        if isinstance(spec, list):
            return all([self.condition(part, src + (i,), scope) for i, part in enumerate(spec)])
        if isinstance(spec, str):
            negated = spec.strip().startswith(("not ", "!"))
            name = spec.strip().removeprefix("!").removeprefix("not ").strip()
            if name.startswith("${") and name.endswith("}"):
                written = spec.strip().replace(name, name[2:-1].strip())
                self.report(src, f"`when` takes a parameter's name, not `{name}`: write `when: {written}`")
                return False
            bound = self.lookup(name, src, scope)
            return bound is not None and _is_set(bound.value) != negated
        if isinstance(spec, dict):
            results = []
            for name, expected in spec.items():
                bound = self.lookup(name, src + (name,), scope)
                value = None if bound is None else bound.value
                wanted = expected if isinstance(expected, list) else [expected]
                results.append(bound is not None and any(_same_value(value, w) for w in wanted))
            return all(results)
        self.report(src, f"`when` takes a parameter name, a mapping or a list, got {describe(spec)}")
        return False

    # -----------------------------------------------------------------------------------------

    def origin(self, bound: Bound) -> Source | None:
        """Where a value came from, unless that is the template itself (then the template line wins)."""
        return None if bound.doc is self.src else bound.source

    def place(self, dst: FieldPath, where: Source, src: FieldPath) -> None:
        self.out.value_marks[dst] = where
        if where.file != self.src.file:
            self.out.value_notes[dst] = self.template.via(src)

    def report(self, src: FieldPath, message: str, key: bool = False) -> None:
        where = self.src.mark(src, key=key)
        self.problems.append(
            Problem(where.file, where.line, where.column, format_path(src), f"{message} ({self.tenant_note})")
        )


def _is_set(value: Any) -> bool:
    """``when: name``: set, not false or empty. 0 is set (a count of none is still a value)."""
    return value is not None and value is not False and value != "" and value != [] and value != {}


def _same_value(value: Any, expected: Any) -> bool:
    """``when: {name: expected}``: equal, where true is not 1 (as everywhere in mailctl)."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return isinstance(value, bool) and isinstance(expected, bool) and value == expected
    return bool(value == expected)
