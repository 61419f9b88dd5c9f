"""Allow/block list entries, at any scope. Their name has three parts (direction/type/entry);
lists have no organisation-wide view, so they are read per scope, only where declared."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mailctl import limits
from mailctl.kinds.base import Attribute, KindSpec
from mailctl.kinds.fields import FLAG, SEGMENT, TEXT, required
from mailctl.resources import (
    LIST_DIRECTIONS,
    LIST_TYPES,
    Kind,
    Observed,
    Resource,
    list_entry_address,
    split_address,
)

Declaration = tuple[tuple[str | int, ...], str, Any]


def parts(entry: Resource) -> tuple[str, str, str]:
    direction, list_type, value = entry.name.split("/", 2)
    return direction, list_type, value


def _declarations(section: Any) -> Iterator[Declaration]:
    """A ``lists`` section: direction -> type -> entries, a list of values or a map to bodies."""
    for direction in LIST_DIRECTIONS:
        for list_type in LIST_TYPES:
            entries = ((section or {}).get(direction) or {}).get(list_type)
            items = entries.items() if isinstance(entries, dict) else ((e, None) for e in entries or [])
            for position, (entry, body) in enumerate(items):
                where = entry if isinstance(entries, dict) else position
                yield (direction, list_type, where), f"{direction}/{list_type}/{entry}", body


def scoped_lists(scope_path: str) -> Iterator[tuple[str, str, str]]:
    """``(direction, type, path)`` of every list of the scope at ``scope_path``."""
    for direction in LIST_DIRECTIONS:
        for list_type in LIST_TYPES:
            yield direction, list_type, f"{scope_path}/lists/{direction}/{list_type}"


def read_entries(rows: list[dict[str, Any]], scope: str | None, direction: str, list_type: str) -> Iterator[Resource]:
    segments = split_address(scope) if scope else []
    pod = segments[0][1] if segments else None
    inbox = segments[1][1] if len(segments) > 1 else None
    for row in rows:
        address = list_entry_address(direction, list_type, row["entry"], pod=pod, inbox=inbox)
        yield Resource(
            Kind.LIST_ENTRY,
            address,
            LIST_ENTRY_SPEC.row_attrs(row),
            parent=scope,
            observed=Observed(read_only=bool(row.get("read_only"))),
        )


LIST_ENTRY_SPEC = KindSpec(
    kind=Kind.LIST_ENTRY,
    fixed_name="a list entry is its address or domain",
    section="lists",
    newest_first=False,  # listed by entry, in order
    parents=frozenset({None, Kind.POD, Kind.INBOX}),
    attributes=(
        Attribute(
            "reason",
            api_type=TEXT,
            mutable=False,
            schema={"type": "string", "minLength": limits.LIST_REASON.min, "maxLength": limits.LIST_REASON.max},
            description="Why the entry exists (shown in the API).",
        ),
    ),
    route="/lists",
    name_is_id=True,
    row_fields={"entry": required(SEGMENT), "read_only": FLAG},
    lowercase=True,
    client_id=None,  # lists are sets: a repeated create returns the existing entry
    identity=lambda entry: {"entry": parts(entry)[2]},
    declarations=_declarations,
    manages_scope=True,  # a `lists` key, even empty, makes the scope's entries managed
    collection_tail=lambda entry: "/lists/{}/{}".format(*parts(entry)[:2]),
    item_key=lambda entry: parts(entry)[2],
)
