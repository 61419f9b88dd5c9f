"""Rules that span declarations: one owner per domain and per inbox address, inbox domains in
scope, and references (attributes whose values name pods or inboxes, e.g. subscriptions) naming
declared ones.

Uniqueness is checked as declarations arrive (``problems``); references are checked once every
file is in (:meth:`References.check`), because a pod may be declared after a declaration naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from mailctl.config.loader import Document, FieldPath
from mailctl.errors import Problem
from mailctl.kinds import spec_of
from mailctl.resources import DEFAULT_DOMAIN, DOMAIN, INBOX, DesiredState, Resource


@dataclass
class _Declared:
    resource: Resource
    pod: str | None


class References:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self._domains: dict[str, _Declared] = {}  # domain name -> its one declaration
        self._inboxes: dict[str, _Declared] = {}  # address -> its one declaration
        self._inbox_uses: list[tuple[Document, FieldPath, str, str]] = []  # doc, path, pod, address
        self._references: list[tuple[Document, FieldPath, Resource, dict[str, Any], str | None]] = []

    def declared(
        self, doc: Document, path: FieldPath, resource: Resource, name: str, body: dict[str, Any], pod: str | None
    ) -> bool:
        """Record a new declaration (``name``: its ``resource.name``); False when its children must
        not be read (a repeated inbox)."""
        if _refers(resource.kind):
            self._references.append((doc, path, resource, body, pod))
        if resource.kind == DOMAIN:
            self.domain(doc, path, resource, name, pod)
        elif resource.kind == INBOX and pod is not None:
            return self.inbox(doc, path, resource, name, pod)
        return True

    def domain(self, doc: Document, path: FieldPath, resource: Resource, name: str, pod: str | None) -> None:
        first = self._domains.get(name)
        if first is not None:
            self.problems.append(
                doc.problem(
                    path,
                    f"domain {name} is also declared at {first.resource.source}"
                    f" ({_scope_name(first.pod)}): a domain belongs to one pod or "
                    "to the whole organisation",
                    key=True,
                )
            )
            return
        self._domains[name] = _Declared(resource, pod)

    def inbox(self, doc: Document, path: FieldPath, resource: Resource, address: str, pod: str) -> bool:
        first = self._inboxes.get(address)
        if first is not None:
            self.problems.append(
                doc.problem(
                    path, f"inbox {address} is already declared in pod {first.pod} at {first.resource.source}", key=True
                )
            )
            return False
        self._inboxes[address] = _Declared(resource, pod)
        self._inbox_uses.append((doc, path, pod, address))
        return True

    def check(self, state: DesiredState) -> list[Problem]:
        problems = [p for use in self._inbox_uses if (p := self._inbox_domain(*use)) is not None]
        for doc, path, resource, body, pod in self._references:
            problems.extend(self._targets(doc, path, resource, body, pod, state))
        return problems

    def _inbox_domain(self, doc: Document, path: FieldPath, pod: str, address: str) -> Problem | None:
        domain = address.split("@", 1)[1]
        if domain == DEFAULT_DOMAIN:
            return None
        declared = self._domains.get(domain)
        if declared is not None and declared.pod in (None, pod):
            return None
        if declared is not None:
            return doc.problem(
                path,
                f"domain {domain} belongs to pod {declared.pod} "
                f"(declared at {declared.resource.source}), not to pod {pod}",
                key=True,
            )
        parent = self._enclosing_domain(domain, pod)
        if parent is None:
            return doc.problem(
                path,
                f"domain {domain} is not declared in this pod or at organisation level: "
                f"declare it under `pods.{pod}.domains` or `domains`, or use {DEFAULT_DOMAIN}",
                key=True,
            )
        if parent.resource.attrs.get("subdomains_enabled") is not True:
            return doc.problem(
                path,
                f"{domain} is a subdomain of {parent.resource.name} (declared at "
                f"{parent.resource.source}), which needs `subdomains_enabled: true`",
                key=True,
            )
        return None

    def _enclosing_domain(self, domain: str, pod: str) -> _Declared | None:
        labels = domain.split(".")
        for i in range(1, len(labels) - 1):
            declared = self._domains.get(".".join(labels[i:]))
            if declared is not None and declared.pod in (None, pod):
                return declared
        return None

    def _targets(
        self,
        doc: Document,
        path: FieldPath,
        resource: Resource,
        body: dict[str, Any],
        pod: str | None,
        state: DesiredState,
    ) -> list[Problem]:
        problems = []
        for attr in spec_of(resource.kind).attributes:
            if attr.refers_to is None:
                continue
            target = spec_of(attr.refers_to)
            if target.parents == frozenset({None}):  # a top-level kind (pods): its address is its name
                for i, name in enumerate(body.get(attr.name, [])):
                    if target.address(name, None) not in state.resources:
                        problems.append(
                            doc.problem(path + (attr.name, i), f"{target.kind.value} {name} is not declared")
                        )
            else:  # named by a unique name (inboxes by address): declared anywhere, in this pod at pod scope
                problems.extend(self._inbox_targets(doc, path + (attr.name,), body.get(attr.name, []), pod))
        return problems

    def _inbox_targets(self, doc: Document, path: FieldPath, emails: list[str], pod: str | None) -> list[Problem]:
        problems = []
        for i, address in enumerate(emails):
            declared = self._inboxes.get(address.lower())
            if declared is None:
                problems.append(doc.problem(path + (i,), f"inbox {address.lower()} is not declared"))
            elif pod is not None and declared.pod != pod:
                problems.append(
                    doc.problem(path + (i,), f"inbox {address.lower()} is in pod {declared.pod}, not in pod {pod}")
                )
        return problems


@cache
def _refers(kind: str) -> bool:
    """Whether a kind has attributes naming other resources (checked once every file is in)."""
    return any(attr.refers_to is not None for attr in spec_of(kind).attributes)


def _scope_name(pod: str | None) -> str:
    return f"in pod {pod}" if pod is not None else "organisation-wide"
