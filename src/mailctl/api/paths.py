"""API paths of resources, built from their addresses and the remote ids known so far."""

from __future__ import annotations

from typing import Protocol

from mailctl.api.client import quote_segment
from mailctl.errors import MissingParent
from mailctl.resources import API_KEY, DOMAIN, INBOX, LIST_ENTRY, POD, WEBHOOK, Resource, split_address


class IdLookup(Protocol):
    """address -> remote id: a dict, or the applier's thread-safe registry."""

    def get(self, address: str, /) -> str | None: ...


def scope_path(scope: str | None, ids: IdLookup) -> str:
    """Path prefix of a scope address: ``/v0``, ``/v0/pods/{pod_id}`` or ``/v0/inboxes/{inbox_id}``."""
    if scope is None:
        return "/v0"
    kind, name = split_address(scope)[-1]
    if kind == INBOX:
        return f"/v0/inboxes/{quote_segment(name)}"  # the inbox id is its address
    remote = ids.get(scope)
    if remote is None:
        raise MissingParent(scope)
    return f"/v0/pods/{quote_segment(remote)}"


def collection_path(resource: Resource, ids: IdLookup) -> str:
    """Where creates of this resource are POSTed."""
    base = scope_path(resource.parent, ids)
    if resource.kind == LIST_ENTRY:
        direction, list_type, _ = resource.name.split("/", 2)
        return f"{base}/lists/{direction}/{list_type}"
    return base + {POD: "/pods", DOMAIN: "/domains", INBOX: "/inboxes", API_KEY: "/api-keys",
                   WEBHOOK: "/webhooks"}[resource.kind]


def item_path(resource: Resource, ids: IdLookup, remote_id: str | None = None) -> str:
    """The path of the object itself (GET / PATCH / DELETE)."""
    if resource.kind == LIST_ENTRY:
        entry = resource.name.split("/", 2)[2]
        return f"{collection_path(resource, ids)}/{quote_segment(entry)}"
    if resource.kind == INBOX:
        remote_id = resource.name
    remote_id = remote_id or resource.remote_id or ids.get(resource.address)
    if remote_id is None:
        raise MissingParent(resource.address)
    return f"{collection_path(resource, ids)}/{quote_segment(remote_id)}"
