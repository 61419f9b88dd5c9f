"""Schema-valid config documents -> one ``DesiredState``, with cross-file and cross-reference checks.

Several files merge into one desired state. Every resource is declared exactly once: a second
declaration (in any file) is an error naming the first. A pod is declared in one file only, so a
pod's children always sit together; organisation-level domains, keys, webhooks and list entries
may be spread over files. ``manage`` prefixes add up over files; ``settings`` merge, and the same
setting given two different values is an error naming both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mailctl.config.loader import Document, FieldPath
from mailctl.config.references import References
from mailctl.errors import Problem
from mailctl.resources import (
    API_KEY, DEFAULT_DOMAIN, DOMAIN, INBOX, LIST_DIRECTIONS, LIST_ENTRY, LIST_TYPES, POD, WEBHOOK,
    DesiredState, ManagePolicy, Resource, Source, api_key_address, domain_address, inbox_address,
    list_entry_address, normalize_event_types, normalize_permissions, normalize_timestamp, parent_of,
    pod_address, webhook_address,
)

DOMAIN_FLAGS = ("feedback_enabled", "inbound_enabled", "subdomains_enabled", "tracking_enabled")
INBOX_FIELDS = ("display_name", "metadata", "status")


@dataclass(frozen=True)
class Scope:
    """Where a child is declared: organisation (pod None), a pod, or an inbox of a pod."""

    pod: str | None = None
    inbox: str | None = None


ORG = Scope()


class Builder:
    """Feed it documents with :meth:`add`, then :meth:`finish` for the state and the problems."""

    def __init__(self) -> None:
        self.state = DesiredState()
        self.problems: list[Problem] = []
        self.refs = References()
        self._settings: dict[FieldPath, Source] = {}  # where each setting was given

    def add(self, doc: Document) -> None:
        data = doc.data
        prefix = ((data.get("manage") or {}).get("pods") or {}).get("client_id_prefix", [])
        prefixes = self.state.manage.pod_client_id_prefixes + tuple([prefix] if isinstance(prefix, str) else prefix)
        self.state.manage = ManagePolicy(pod_client_id_prefixes=tuple(dict.fromkeys(prefixes)))
        self._merge_settings(doc, ("settings",), data.get("settings") or {}, self.state.settings)
        self._children(doc, (), data, ORG)
        for client_id, body in (data.get("pods") or {}).items():
            self._pod(doc, ("pods", client_id), client_id, body or {})

    def finish(self, check_references: bool = True) -> tuple[DesiredState, list[Problem]]:
        """The state, and every problem. References are only checked when every file was valid
        (a reference into a broken file would be reported as dangling)."""
        problems = self.problems + self.refs.problems
        if check_references:
            problems.extend(self.refs.check(self.state))
        return self.state, problems

    # -----------------------------------------------------------------------------------------

    def _merge_settings(self, doc: Document, path: FieldPath, given: dict[str, Any], into: dict[str, Any]) -> None:
        for name, value in given.items():
            here = path + (name,)
            if isinstance(value, dict):
                self._merge_settings(doc, here, value, into.setdefault(name, {}))
            elif name in into and into[name] != value:
                self.problems.append(doc.problem(here, f"conflicts with `{into[name]}` given at "
                                                       f"{self._settings[here]}", key=True))
            elif name not in into:
                into[name] = value
                self._settings[here] = doc.mark(here, key=True)

    def _pod(self, doc: Document, path: FieldPath, client_id: str, body: dict[str, Any]) -> None:
        attrs = {"name": body["name"]} if "name" in body else {}
        self._add(doc, path, Resource(POD, pod_address(client_id), attrs), body)
        scope = Scope(pod=client_id)
        self._children(doc, path, body, scope)
        for email, inbox in (body.get("inboxes") or {}).items():
            self._inbox(doc, path + ("inboxes", email), client_id, email, inbox or {})

    def _children(self, doc: Document, path: FieldPath, body: dict[str, Any], scope: Scope) -> None:
        """Domains, keys, webhooks and lists: the children every scope may have (domains: not inboxes)."""
        for name, domain in (body.get("domains") or {}).items():
            self._domain(doc, path + ("domains", name), name, domain or {}, scope)
        for name, key in (body.get("api_keys") or {}).items():
            self._api_key(doc, path + ("api_keys", name), name, key or {}, scope)
        for name, hook in (body.get("webhooks") or {}).items():
            self._webhook(doc, path + ("webhooks", name), name, hook, scope)
        if "lists" in body:  # even empty: the scope's lists are managed (emptied, if need be)
            self.state.list_scopes.add(_scope_address(scope))
        for direction in LIST_DIRECTIONS:
            for list_type in LIST_TYPES:
                entries = ((body.get("lists") or {}).get(direction) or {}).get(list_type)
                self._list(doc, path + ("lists", direction, list_type), direction, list_type, entries, scope)

    def _domain(self, doc: Document, path: FieldPath, name: str, body: dict[str, Any], scope: Scope) -> None:
        if name.lower() == DEFAULT_DOMAIN:
            self.problems.append(doc.problem(path, f"{DEFAULT_DOMAIN} is AgentMail's shared domain: inboxes "
                                                   "may use it without declaring it", key=True))
            return
        attrs = {flag: body[flag] for flag in DOMAIN_FLAGS if flag in body}
        resource = Resource(DOMAIN, domain_address(name, scope.pod), attrs)
        if self._add(doc, path, resource, body):
            self.refs.domain(doc, path, resource, scope.pod)

    def _inbox(self, doc: Document, path: FieldPath, pod: str, email: str, body: dict[str, Any]) -> None:
        attrs = {name: body[name] for name in INBOX_FIELDS if name in body}
        resource = Resource(INBOX, inbox_address(pod, email), attrs)
        if self._add(doc, path, resource, body) and self.refs.inbox(doc, path, resource, pod):
            self._children(doc, path, body, Scope(pod=pod, inbox=email.lower()))

    def _api_key(self, doc: Document, path: FieldPath, name: str, body: dict[str, Any], scope: Scope) -> None:
        attrs: dict[str, Any] = {"permissions": normalize_permissions(body.get("permissions"))}
        if body.get("expires_at") is not None:
            try:
                attrs["expires_at"] = normalize_timestamp(body["expires_at"])
            except ValueError:
                self.problems.append(doc.problem(path + ("expires_at",), f"`{body['expires_at']}` is not a "
                                                 "timestamp: use ISO 8601, e.g. 2026-12-31T00:00:00Z"))
        self._add(doc, path, Resource(API_KEY, api_key_address(name, scope.pod, scope.inbox), attrs), body)

    def _webhook(self, doc: Document, path: FieldPath, name: str, body: dict[str, Any], scope: Scope) -> None:
        attrs: dict[str, Any] = {"url": body["url"], "event_types": normalize_event_types(body["event_types"])}
        if "enabled" in body:
            attrs["enabled"] = body["enabled"]
        if "pods" in body:
            attrs["pods"] = sorted(set(body["pods"]))
        if "inboxes" in body:
            attrs["inboxes"] = sorted({email.lower() for email in body["inboxes"]})
        resource = Resource(WEBHOOK, webhook_address(name, scope.pod, scope.inbox), attrs)
        if self._add(doc, path, resource, body):
            self.refs.webhook(doc, path, body, scope.pod)

    def _list(self, doc: Document, path: FieldPath, direction: str, list_type: str, entries: Any,
              scope: Scope) -> None:
        items = entries.items() if isinstance(entries, dict) else ((entry, None) for entry in entries or [])
        for position, (entry, body) in enumerate(items):
            entry_path = path + ((entry,) if isinstance(entries, dict) else (position,))
            body = body or {}
            attrs = {"reason": body["reason"]} if body.get("reason") is not None else {}
            address = list_entry_address(direction, list_type, entry, scope.pod, scope.inbox)
            self._add(doc, entry_path, Resource(LIST_ENTRY, address, attrs), body)

    def _add(self, doc: Document, path: FieldPath, resource: Resource, body: dict[str, Any]) -> bool:
        """Add a resource declared at ``path``; False (and a problem) if it is already declared."""
        existing = self.state.resources.get(resource.address)
        if existing is not None:
            self.problems.append(doc.problem(path, f"{resource.address} is declared twice: also declared "
                                                   f"at {existing.source}", key=True))
            return False
        resource.source = doc.mark(path, key=True)
        resource.prevent_destroy = bool(body.get("prevent_destroy", False))
        resource.parent = parent_of(resource.address)
        self.state.add(resource)
        return True


def _scope_address(scope: Scope) -> str | None:
    if scope.inbox is not None and scope.pod is not None:
        return inbox_address(scope.pod, scope.inbox)
    return pod_address(scope.pod) if scope.pod is not None else None
