"""Every kind mailctl manages, described once (``mailctl.kinds.<kind>``), and the registry of them.

Adding a kind: write its module (a ``KindSpec``; its attributes carry their config schema), add it
to ``SPECS`` and to ``Kind``, give the sandbox a backend for it and ``config/schema_gen.SECTIONS``
a row. See the README's Development section.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mailctl.kinds.api_key import API_KEY_SPEC
from mailctl.kinds.base import ABSENT, Attribute, IdLookup, KindSpec, Owners
from mailctl.kinds.domain import DOMAIN_SPEC
from mailctl.kinds.inbox import INBOX_SPEC
from mailctl.kinds.list_entry import LIST_ENTRY_SPEC
from mailctl.kinds.pod import POD_SPEC
from mailctl.kinds.webhook import WEBHOOK_SPEC
from mailctl.resources import Kind, Resource

# In the order a scope's sections are read from config (children before the nested scopes, as
# files are written); reads and displays follow ``Kind``'s order.
CONFIG_ORDER: tuple[KindSpec, ...] = (DOMAIN_SPEC, API_KEY_SPEC, WEBHOOK_SPEC, LIST_ENTRY_SPEC, POD_SPEC, INBOX_SPEC)
SPECS: dict[Kind, KindSpec] = {spec.kind: spec for spec in sorted(CONFIG_ORDER, key=lambda s: list(Kind).index(s.kind))}


def spec_of(kind: str) -> KindSpec:
    """The description of ``kind`` (a ``Kind`` or its string value)."""
    return SPECS[Kind(kind)]


def canonical_pattern(pattern: str) -> str:
    """An address or glob as addresses are written: the names of case-insensitive kinds (an inbox's
    address, a domain, a list entry) lowercased, as the API stores them, so that ``pod/*/inbox/Conv-*``
    (``--target``, ``manage.ignore``, ``moved``) matches the inbox ``conv-7@agentmail.to``. Other
    names (client_ids, key names) keep their case; a segment that is no kind (a glob) stops it."""
    parts = pattern.split("/")
    at = 0
    while at + 1 < len(parts):
        spec = SPECS.get(parts[at])  # type: ignore[call-overload]  # a Kind is its string value
        if spec is None:
            break
        span = 3 if spec.kind == Kind.LIST_ENTRY else 1  # list/DIRECTION/TYPE/ENTRY: one name
        if spec.lowercase:
            parts[at + 1 : at + 1 + span] = [p.lower() for p in parts[at + 1 : at + 1 + span]]
        at += 1 + span
    return "/".join(parts)


def unmatchable(pattern: str) -> str | None:
    """Why no address can ever match the glob ``pattern`` (None: some may). Read as ``--target``,
    ``manage.ignore`` and ``manage.protect`` read it: a trailing ``/`` ignored, kinds in the order
    addresses nest them, until a part holding a glob character (``*`` also matches ``/``)."""
    if not pattern:
        return "it is empty"
    if pattern.startswith("/"):
        return "it starts with /"
    parts = pattern.removesuffix("/").split("/")
    if "" in parts:
        return "it has an empty part (//)"
    if any(part in (".", "..") for part in parts):
        return "it has a . or .. part: addresses are never relative"
    if any(part != part.strip() for part in parts):
        return "a part starts or ends with a space, which no name does"
    at, parent = 0, None
    while at < len(parts):
        if any(c in parts[at] for c in "*?["):
            return None
        spec = SPECS.get(parts[at])  # type: ignore[call-overload]  # a Kind is its string value
        if spec is None or parent not in spec.parents:
            where = "at the top" if parent is None else f"inside a {parent}"
            return f"`{parts[at]}` is not a kind {where} (addresses read pod/NAME/inbox/ADDRESS/...)"
        if at + 1 == len(parts):
            return f"`{parts[at]}` names no {parts[at]}: write {parts[at]}/NAME, or {parts[at]}/* for every one"
        at += 1 + (3 if spec.kind == Kind.LIST_ENTRY else 1)  # list/DIRECTION/TYPE/ENTRY: one name
        parent = spec.kind
    return None


def _scopes() -> tuple[Kind, tuple[Kind, ...]]:
    """The top-level scope kind (pods: declared at organisation level, holding others) and the
    scope kinds inside it (inboxes): what reads by scope walk, without naming them."""
    holders = {p for spec in SPECS.values() for p in spec.parents if p is not None}
    top = next(k for k in holders if SPECS[k].parents == frozenset({None}))
    return top, tuple(sorted((k for k in holders if k != top), key=list(Kind).index))


TOP_SCOPE, INNER_SCOPES = _scopes()


def names_index(resources: Iterable[Resource]) -> dict[tuple[str, str], str]:
    """(kind, name) -> address of the resources other resources may name in their attributes
    (an inbox by its email, wherever its pod is): what :func:`referenced` resolves against."""
    referable = {a.refers_to for spec in SPECS.values() for a in spec.attributes if a.refers_to is not None}
    return {(r.kind, r.name.lower()): r.address for r in resources if r.kind in referable}


def referenced(resource: Resource, index: Mapping[tuple[str, str], str]) -> list[str]:
    """The addresses of the resources ``resource``'s attributes name (a webhook's pods and
    inboxes): a top-level kind by its address, any other through ``index``."""
    out: list[str] = []
    for attr in spec_of(resource.kind).attributes:
        if attr.refers_to is None:
            continue
        target = SPECS[attr.refers_to]
        for name in resource.attrs.get(attr.name) or []:
            if target.parents == frozenset({None}):
                out.append(target.address(str(name), None))
            elif (found := index.get((target.kind, str(name).lower()))) is not None:
                out.append(found)
    return out


__all__ = [
    "ABSENT",
    "CONFIG_ORDER",
    "INNER_SCOPES",
    "SPECS",
    "TOP_SCOPE",
    "Attribute",
    "IdLookup",
    "KindSpec",
    "Owners",
    "names_index",
    "referenced",
    "spec_of",
    "unmatchable",
]
