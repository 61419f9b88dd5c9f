"""Schema-valid config documents -> one ``DesiredState``, with cross-file and cross-reference checks.

Several files merge into one desired state. Every resource is declared exactly once: a second
declaration (in any file) is an error naming the first. A pod is declared in one file only, so a
pod's children always sit together; organisation-level declarations may be spread over files.
What may be declared where, and with which attributes, is each kind's description
(``mailctl.kinds``). ``manage`` prefixes add up over files; ``settings`` merge, and the same
setting given two different values is an error naming both.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mailctl.config.loader import Document, FieldPath
from mailctl.config.moved import MoveBlock, check_moves
from mailctl.config.references import References
from mailctl.errors import Problem
from mailctl.kinds import CONFIG_ORDER, KindSpec, canonical_pattern, unmatchable
from mailctl.resources import DesiredState, Kind, ManagePolicy, Resource, Source, pod_of


class _Scope(NamedTuple):
    """Where declarations are read: the organisation, or a pod or inbox (its kind, its address and
    its pod's client_id), carried down so that no address has to be parsed back."""

    kind: Kind | None
    address: str | None
    pod: str | None


_ORGANISATION = _Scope(None, None, None)


class Builder:
    """Feed it documents with :meth:`add`, then :meth:`finish` for the state and the problems."""

    def __init__(self) -> None:
        self.state = DesiredState()
        self.problems: list[Problem] = []
        self.refs = References()
        self._settings: dict[FieldPath, Source] = {}  # where each setting was given
        self._moves: list[MoveBlock] = []
        self._declared_at: dict[str, tuple[Document, FieldPath]] = {}  # address -> where (for late checks)
        # scope kind (None: the organisation) -> section -> (config order, the kind declared there)
        self._kinds_in: dict[Kind | None, dict[str, tuple[int, KindSpec]]] = {
            scope: {spec.section: (i, spec) for i, spec in enumerate(CONFIG_ORDER) if scope in spec.parents}
            for scope in (None, *Kind)
        }

    def add(self, doc: Document) -> None:
        data = doc.data
        manage = data.get("manage") or {}
        prefix = (manage.get("pods") or {}).get("client_id_prefix", [])
        prefixes = self.state.manage.pod_client_id_prefixes + tuple([prefix] if isinstance(prefix, str) else prefix)
        old = self.state.manage
        self.state.manage = ManagePolicy(
            pod_client_id_prefixes=tuple(dict.fromkeys(prefixes)),
            ignore=tuple(dict.fromkeys(old.ignore + _canonical(manage.get("ignore")))),
            protect=tuple(dict.fromkeys(old.protect + _canonical(manage.get("protect")))),
        )
        for rule in ("ignore", "protect"):
            for index, glob in enumerate(manage.get(rule) or ()):
                why = unmatchable(glob)
                if why is not None:  # a rule matching nothing protects (or leaves alone) nothing, silently
                    message = f"`{glob}` can never match an address: {why}"
                    self.problems.append(doc.problem(("manage", rule, index), message))
        for index, block in enumerate(data.get("moved") or []):
            source, target = canonical_pattern(block["from"]), canonical_pattern(block["to"])
            self._moves.append(MoveBlock(doc, ("moved", index), source, target))
        self._merge_settings(doc, ("settings",), data.get("settings") or {}, self.state.settings)
        self._scope(doc, (), data)

    def finish(self, check_references: bool = True) -> tuple[DesiredState, list[Problem]]:
        """The state, and every problem. References are only checked when every file was valid
        (a reference into a broken file would be reported as dangling)."""
        problems = self.problems + self.refs.problems
        if check_references:
            problems.extend(self.refs.check(self.state))
            problems.extend(check_moves(self._moves, self.state))
            problems.extend(self._ignored_declarations())
        return self.state, problems

    def _ignored_declarations(self) -> list[Problem]:
        """A declared resource that ``manage.ignore`` matches: mailctl cannot both own and ignore it."""
        out = []
        for address in self.state.resources:
            glob = self.state.manage.ignores(address) if self.state.manage.ignore else None
            if glob is not None:
                doc, path = self._declared_at[address]
                out.append(
                    doc.problem(
                        path,
                        f"{address} is declared, but manage.ignore `{glob}` says mailctl leaves it alone: "
                        f"remove the declaration or narrow the rule",
                        key=True,
                    )
                )
        return out

    # -----------------------------------------------------------------------------------------

    def _merge_settings(self, doc: Document, path: FieldPath, given: dict[str, Any], into: dict[str, Any]) -> None:
        for name, value in given.items():
            here = path + (name,)
            if isinstance(value, dict):
                self._merge_settings(doc, here, value, into.setdefault(name, {}))
            elif name in into and into[name] != value:
                self.problems.append(
                    doc.problem(here, f"conflicts with `{into[name]}` given at {self._settings[here]}", key=True)
                )
            elif name not in into:
                into[name] = value
                self._settings[here] = doc.mark(here, key=True)

    def _scope(self, doc: Document, path: FieldPath, body: dict[str, Any], scope: _Scope = _ORGANISATION) -> None:
        """The declarations in a scope (the organisation, a pod or an inbox): each kind that may
        live there, from its section, in config order. Found from the body's keys: most sections
        are absent, and a load asks this of every pod and inbox."""
        sections = self._kinds_in[scope.kind]
        present = [sections[key] for key in body if key in sections]
        if len(present) > 1:
            present.sort()
        for _, spec in present:
            section = body[spec.section]
            if spec.manages_scope:  # even empty: the scope's ones are managed
                self.state.list_scopes.add(scope.address)
            if section is None:
                continue
            for tail, name, item in spec.declared(section):
                self._declare(doc, path + (spec.section, *tail), spec, name, item or {}, scope)

    def _declare(
        self, doc: Document, path: FieldPath, spec: KindSpec, name: str, body: dict[str, Any], scope: _Scope
    ) -> None:
        refused = spec.refuse(name)
        if refused is not None:
            self.problems.append(doc.problem(path, refused, key=True))
            return
        attrs, invalid = spec.config_attrs(body)
        if invalid:
            self.problems.extend(doc.problem(path + (attr,), message) for attr, message in invalid)
        write_only, unreadable = spec.config_write_only(body) if body else ({}, [])  # never in ``attrs``
        if unreadable:
            self.problems.extend(doc.problem(path + tail, message) for tail, message in unreadable)
        for index, attr in enumerate(body.get("ignore_changes") or () if body else ()):
            if spec.attribute(attr) is None:
                known = ", ".join(a.name for a in spec.attributes)
                self.problems.append(
                    doc.problem(
                        path + ("ignore_changes", index),
                        f"`{attr}` is not an attribute of a {spec.kind.value} (its attributes: {known})",
                    )
                )
        resource = Resource(spec.kind, spec.address(name, scope.address), attrs, write_only=write_only)
        if self._add(doc, path, resource, body, scope.address):
            nested = self.refs.declared(doc, path, resource, spec.address_name(name), body, scope.pod)
        else:
            nested = spec.children_when_repeated  # a pod's children report their own repeats
        if nested:
            inner = _Scope(spec.kind, resource.address, scope.pod or pod_of(resource.address))
            self._scope(doc, path, body, inner)

    def _add(
        self, doc: Document, path: FieldPath, resource: Resource, body: dict[str, Any], parent: str | None
    ) -> bool:
        """Add a resource declared at ``path`` in ``parent``; False (and a problem) if it is
        already declared."""
        existing = self.state.resources.get(resource.address)
        if existing is not None:
            first = self._declared_at.get(resource.address)
            where = existing.source
            if first is not None and where is not None:
                where = _row_in_its_file(*first, where)
            self.problems.append(
                doc.problem(path, f"{resource.address} is declared twice: also declared at {where}", key=True)
            )
            return False
        resource.source = doc.mark(path, key=True)
        resource.prevent_destroy = bool(body.get("prevent_destroy", False))
        ignored = body.get("ignore_changes")
        if ignored:
            resource.ignore_changes = frozenset(ignored)
        self._declared_at[resource.address] = (doc, path)
        resource.parent = parent
        self.state.add(resource)
        return True


def _row_in_its_file(doc: Document, path: FieldPath, source: Source) -> Source:
    """Where the declaration at ``path`` of ``doc`` stands in that file. A resource a template
    wrote is placed at the template line, which every tenant shares: it is named by the row of
    the tenant it was rendered for."""
    if source.file == doc.file:
        return source
    for end in range(len(path) - 1, 0, -1):
        row = doc.mark(path[:end], key=True)
        if row.file == doc.file:
            return row
    return source


def _canonical(globs: list[str] | None) -> tuple[str, ...]:
    """``manage`` globs as addresses are written (an inbox's address in lower case)."""
    return tuple(canonical_pattern(glob) for glob in globs or ())
