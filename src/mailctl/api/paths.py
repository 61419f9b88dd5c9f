"""API paths of resources, built from their addresses and the remote ids known so far."""

from __future__ import annotations

from typing import Protocol

from mailctl.api.client import quote_segment
from mailctl.errors import MissingParent
from mailctl.kinds import spec_of
from mailctl.resources import Resource, split_address


class IdLookup(Protocol):
    """address -> remote id: a dict, or the applier's thread-safe registry."""

    def get(self, address: str, /) -> str | None: ...


def scope_path(scope: str | None, ids: IdLookup) -> str:
    """Path prefix of a scope address: ``/v0``, ``/v0/pods/{pod_id}`` or ``/v0/inboxes/{inbox_id}``."""
    if scope is None:
        return "/v0"
    kind, name = split_address(scope)[-1]
    spec = spec_of(kind)
    remote = name if spec.name_is_id else ids.get(scope)
    if remote is None:
        raise MissingParent(f"{scope}: its id is not known here (not created, or not read by this run)")
    return f"/v0{spec.route}/{quote_segment(remote)}"


def collection_path(resource: Resource, ids: IdLookup) -> str:
    """Where creates of this resource are POSTed."""
    spec = spec_of(resource.kind)
    tail = spec.collection_tail(resource) if spec.collection_tail is not None else spec.route
    return scope_path(resource.parent, ids) + tail


def item_path(resource: Resource, ids: IdLookup, remote_id: str | None = None) -> str:
    """The path of the object itself (GET / PATCH / DELETE)."""
    spec = spec_of(resource.kind)
    if spec.item_key is not None:
        key: str | None = spec.item_key(resource)
    elif spec.name_is_id:
        key = resource.name
    else:
        key = remote_id or resource.remote_id or ids.get(resource.address)
    if key is None:
        raise MissingParent(f"{resource.address}: its id is not known here (not created, or not read by this run)")
    return f"{collection_path(resource, ids)}/{quote_segment(key)}"
