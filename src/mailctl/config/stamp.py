"""A template's pod body compiled once into closures, then stamped out per tenant.

``expand._Renderer`` walks the template body generically for every tenant and records where each
rendered key and value came from, which is what a problem report needs. Most tenants have no
problem, so this renders them first, along the same rules, without the walk: each text is split
into literals and expressions once, each key knows its template position, and only key
positions are recorded (the builder places every resource at its key). Positions of values are
worked out for a tenant only when something asks for one (``RenderedDocument``).

It renders only the common case: every expression resolves to a usable value and every key to
text, once. Anything else raises ``_Unusual`` and that tenant is rendered by ``_Renderer``, which
words and locates the problem exactly as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from mailctl.config.loader import Document, FieldPath
from mailctl.config.templates import Bound, Template
from mailctl.resources import Source

DIRECTIVES = ("when", "for_each")
_DIRECTIVES = frozenset(DIRECTIVES)
# User data, by (its key, the section of the entry holding it): `when`/`for_each` inside are
# ordinary keys. Only there: an API key named `metadata` still takes `when`.
DATA_MAPS = frozenset({("metadata", "inboxes"), ("headers", "webhooks")})
OMIT = object()  # an unset parameter used as a whole value: the field is left out
_VAR = re.compile(r"\$\$|\$\{([^}]*)\}")

Scope = dict[str, Bound]
# (scopes of the entry, or None when it holds a problem) for a `when`/`for_each` entry
Expand = Callable[[dict[str, Any], FieldPath, Scope], list[Scope] | None]


class _Unusual(Exception):
    """This tenant needs the careful renderer (a problem to word, or a case it alone handles)."""


@dataclass
class _Tenant:
    """What one tenant's rendering writes to and reads from, besides its scope."""

    key_marks: dict[FieldPath, Source]
    item_marks: dict[FieldPath, Source]  # list items: what a declaration in a list is placed at
    expand: Expand


Value = Callable[[_Tenant, Scope, FieldPath], Any]


@dataclass
class Stamped:
    """A tenant's pod as rendered, with the positions of its keys and list items."""

    client_id: str
    body: dict[str, Any]
    key_marks: dict[FieldPath, Source]
    item_marks: dict[FieldPath, Source]


Text = Callable[[Scope], Any]


@dataclass
class Stamp:
    """One template's body, compiled. :meth:`render` returns the client_id and pod body, or None."""

    template: Template
    _client_id: Text = field(init=False)
    _body: Value = field(init=False)

    def __post_init__(self) -> None:
        body = self.template.doc.data["pod"]
        client_id = body.get("client_id", "${tenant}")
        self._client_id = _text(client_id) if isinstance(client_id, str) else lambda scope: client_id
        rest = {key: value for key, value in body.items() if key != "client_id"}
        self._body = self._node(rest, ("pod",), free_form=False)

    def render(self, scope: Scope, expand: Expand) -> Stamped | None:
        """The tenant's pod, or None if it needs ``_Renderer``."""
        tenant = _Tenant({}, {}, expand)
        try:
            raw = self._client_id(scope)
            if raw is OMIT or raw is None or isinstance(raw, (dict, list, bool)):
                raise _Unusual
            client_id = str(raw)
            body = self._body(tenant, scope, ("pods", client_id))
        except _Unusual:
            return None
        return Stamped(client_id, body, tenant.key_marks, tenant.item_marks)

    # -----------------------------------------------------------------------------------------

    def _node(self, value: Any, src: FieldPath, free_form: bool) -> Value:
        if isinstance(value, dict):
            return self._mapping(value, src, free_form)
        if isinstance(value, list):
            items = [self._item(item, src + (i,), free_form) for i, item in enumerate(value)]

            def render_list(tenant: _Tenant, scope: Scope, dst: FieldPath) -> list[Any]:
                rendered = [item(tenant, scope, dst + (i,)) for i, item in enumerate(items)]
                return [item for item in rendered if item is not OMIT]

            return render_list
        if isinstance(value, str):
            text = _text(value)
            return lambda tenant, scope, dst: text(scope)
        return lambda tenant, scope, dst: value

    def _item(self, value: Any, src: FieldPath, free_form: bool) -> Value:
        """A list item, whose position is recorded (indexed as written, before items left out)."""
        where = self.template.mark(src)
        if not isinstance(value, str):
            render = self._node(value, src, free_form)

            def render_item(tenant: _Tenant, scope: Scope, dst: FieldPath) -> Any:
                tenant.item_marks[dst] = where
                return render(tenant, scope, dst)

            return render_item
        text = _with_origin(value, self.template.doc, whole_any=True)

        def render_text_item(tenant: _Tenant, scope: Scope, dst: FieldPath) -> Any:
            rendered, origin = text(scope)
            if rendered is not OMIT:
                tenant.item_marks[dst] = where if origin is None else origin.source
            return rendered

        return render_text_item

    def _mapping(self, value: dict[str, Any], src: FieldPath, free_form: bool) -> Value:
        entries = []
        for key, child in value.items():
            child_src = src + (key,)
            data, directive, body = entry_parts(child_src, child, free_form)
            entries.append(((child, child_src) if directive else None, key, child_src, body, data))
        if all(directive is None and "$" not in key for directive, key, *_ in entries):
            return self._plain_mapping(value, src, free_form)
        compiled = [
            (
                directive,
                _with_origin(key, self.template.doc),
                self.template.mark(child_src, key=True),
                self._node(body, child_src, data),
            )
            for directive, key, child_src, body, data in entries
        ]

        def render_mapping(tenant: _Tenant, scope: Scope, dst: FieldPath) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for directive, key, key_mark, render in compiled:
                scopes = [scope]
                if directive is not None:
                    found = tenant.expand(directive[0], directive[1], scope)
                    if found is None:
                        raise _Unusual
                    scopes = found
                for child_scope in scopes:
                    name, origin = key(child_scope)
                    if name in out:
                        raise _Unusual
                    path = dst + (name,)
                    tenant.key_marks[path] = key_mark if origin is None else origin.source
                    rendered = render(tenant, child_scope, path)
                    if rendered is not OMIT:
                        out[name] = rendered
            return out

        return render_mapping

    def _plain_mapping(self, value: dict[str, Any], src: FieldPath, free_form: bool) -> Value:
        """A mapping whose keys are all written out and carry no directive (most of a template).
        A text or number is rendered without a path or a position: no declaration is one, and
        a problem about it works the tenant's positions out."""
        entries: list[tuple[str, Text | None, Source, Value]] = []
        for key, child in value.items():
            child_src = src + (key,)
            leaf: Text | None = None
            if isinstance(child, str):
                leaf = _text(child)
            elif child is not None and not isinstance(child, (dict, list)):
                leaf = _constant(child)
            render = self._node(child, child_src, free_form or is_data_map(child_src))
            entries.append((key, leaf, self.template.mark(child_src, key=True), render))

        def render_plain(tenant: _Tenant, scope: Scope, dst: FieldPath) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, leaf, key_mark, render in entries:
                if leaf is not None:
                    rendered = leaf(scope)
                else:
                    path = dst + (name,)
                    tenant.key_marks[path] = key_mark
                    rendered = render(tenant, scope, path)
                if rendered is not OMIT:
                    out[name] = rendered
            return out

        return render_plain


@lru_cache(maxsize=4096)
def text_parts(text: str) -> tuple[str | None, tuple[tuple[str, str | None], ...]]:
    """A template text, parsed once: the expression when the text is exactly one ``${...}``
    (the value keeps its type), and the ``(literal before, expression or None for $$)`` pairs
    of every ``$`` part (the literal after the last one is :func:`text_tail`)."""
    matches = list(_VAR.finditer(text))
    if len(matches) == 1 and matches[0].group(1) is not None and matches[0].span() == (0, len(text)):
        return matches[0].group(1), ()
    parts = []
    last = 0
    for match in matches:
        parts.append((text[last : match.start()], match.group(1)))
        last = match.end()
    return None, tuple(parts)


@lru_cache(maxsize=4096)
def text_tail(text: str) -> str:
    """The literal after a text's last ``$`` part."""
    matches = list(_VAR.finditer(text))
    return text[matches[-1].end() :] if matches else text


def _parts(text: str) -> tuple[tuple[str, str] | None, list[tuple[str, tuple[str, str] | None]], str]:
    """``text`` split by :func:`text_parts`, each expression as (name, field)."""
    whole, pieces = text_parts(text)
    if whole is not None:
        return _name(whole), [], ""
    return None, [(literal, None if expr is None else _name(expr)) for literal, expr in pieces], text_tail(text)


def is_data_map(src: FieldPath) -> bool:
    """Whether the template entry at ``src`` is user data: an inbox's ``metadata``, a webhook's
    ``headers``."""
    return len(src) >= 3 and (src[-1], src[-3]) in DATA_MAPS


def entry_parts(src: FieldPath, child: Any, free_form: bool) -> tuple[bool, bool, Any]:
    """The template mapping entry at ``src``: (its value is user data, it carries
    `when`/`for_each`, its body without them)."""
    data = free_form or is_data_map(src)
    directive = not data and isinstance(child, dict) and not _DIRECTIVES.isdisjoint(child)
    return data, directive, ({k: v for k, v in child.items() if k not in DIRECTIVES} if directive else child)


def _name(expression: str) -> tuple[str, str]:
    name, _, field_name = expression.strip().partition(".")
    return name, field_name


def _lookup(scope: Scope, name: str, field_name: str) -> Bound:
    bound = scope.get(name)
    if bound is None:
        raise _Unusual
    if not field_name:
        return bound
    if not isinstance(bound.value, dict) or field_name not in bound.value:
        raise _Unusual
    return Bound(bound.value[field_name], bound.doc, bound.path + (field_name,))


def _constant(value: Any) -> Text:
    return lambda scope: value


def unclosed(text: str) -> bool:
    """Whether ``text`` holds a ``${`` that no ``}`` closes (``$${`` is a literal ``${``)."""
    whole, pieces = text_parts(text)
    return whole is None and ("${" in text_tail(text) or any("${" in literal for literal, _ in pieces))


def _unusual(scope: Scope) -> Any:
    raise _Unusual


def _text(text: str) -> Text:
    """A value's text -> its rendered value (OMIT when an unset parameter is the whole value)."""
    if "$" not in text:
        return lambda scope: text
    if unclosed(text):
        return _unusual
    whole, pieces, tail = _parts(text)
    if whole is not None:
        name, field_name = whole

        def render_whole(scope: Scope) -> Any:
            value = _lookup(scope, name, field_name).value
            return OMIT if value is None else value

        return render_whole

    def render_pieces(scope: Scope) -> str:
        out = []
        for literal, expression in pieces:
            out.append(literal)
            out.append("$" if expression is None else _piece(_lookup(scope, *expression).value))
        out.append(tail)
        return "".join(out)

    return render_pieces


def _with_origin(
    text: str, template_doc: Document, whole_any: bool = False
) -> Callable[[Scope], tuple[Any, Bound | None]]:
    """A key's text -> (rendered key, the first value used that a tenant gave, if any: the
    position to record). ``whole_any``: a list item's text, which as one expression takes the
    value's type."""
    if "$" not in text:
        return lambda scope: (text, None)
    if unclosed(text):
        return _unusual
    whole, pieces, tail = _parts(text)
    used = [whole] if whole is not None else [expression for _, expression in pieces if expression is not None]

    def render_with_origin(scope: Scope) -> tuple[Any, Bound | None]:
        bounds = [_lookup(scope, *expression) for expression in used]
        origin = next((bound for bound in bounds if bound.doc is not template_doc), None)
        if whole is not None:
            value = bounds[0].value
            if whole_any:
                return (OMIT if value is None else value), origin
            if value is None or isinstance(value, (dict, list, bool)):
                raise _Unusual
            return str(value), origin
        values = iter(bounds)
        out = []
        for literal, expression in pieces:
            out.append(literal)
            out.append("$" if expression is None else _piece(next(values).value))
        out.append(tail)
        return "".join(out), origin

    return render_with_origin


def _piece(value: Any) -> str:
    """A value as part of a text (``_Renderer.substitute``'s rules); unusable ones are unusual."""
    if value is None or isinstance(value, (dict, list)):
        raise _Unusual
    return str(value).lower() if isinstance(value, bool) else str(value)
