"""How a kind of resource is described: its attributes, where it is declared, its API routes.

One :class:`KindSpec` per kind (``mailctl.kinds.<kind>``) is read by the config builder, the
reader, the writer, the API paths, the step graph, export and dump: none of them names a kind
except where its logic is genuinely its own (domain verification, API key secrets, list entries'
three-part names). This module imports only the resource model: it is below config, plan and api.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from mailctl.kinds.fields import FieldType, bad_field
from mailctl.resources import Kind, Resource, WriteOnly, inbox_address, name_before, pod_address, split_address

Row = Mapping[str, Any]  # one object as the API returns it
Tail = tuple[str | int, ...]  # a field path below an attribute
# config value -> (declared name -> value, (path below the attribute, problem) for each bad one)
WriteOnlyReader = Callable[[Mapping[str, Any]], tuple[dict[str, WriteOnly], list[tuple[Tail, str]]]]


class _Absent:
    """Marks "no value": an attribute left out, unlike one that is None."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Attribute:
    """One declared attribute of a kind.

    The same ``normalise`` runs on config values and API values, so equal things compare equal.
    """

    name: str
    api_type: FieldType | None = None  # the JSON type of its API value (``mailctl.kinds.fields``)
    mutable: bool = True  # False: a change forces replacement (delete, then create)
    normalise: Callable[[Any], Any] | None = None  # raises ValueError for a bad config value
    invalid: str = ""  # the problem for a value ``normalise`` rejects (``{value}`` is replaced)
    absent: Any = ABSENT  # the value an API row without it reads as (ABSENT: left out)
    declared_default: Any = ABSENT  # the value when the config omits it (ABSENT: not managed)
    api_field: str = ""  # the API's name for it, when not ``name``
    refers_to: Kind | None = None  # its values name resources of that kind (sent as their ids)
    patch: str = "replace"  # how an update sends it: replace | merge (JSON merge patch) | set (add_/remove_)
    on_create: bool = True  # sent with the create; else PATCHed right after when it differs
    create_default: Any = ABSENT  # left out of the create body when equal to this (the API's default)
    export_default: Any = ABSENT  # left out of exported config when equal to this (or falsy, for [] / {})
    # -- its config schema: ``config/schema_gen.py`` builds ``mailctl schema`` from these --
    schema: Mapping[str, Any] | None = None  # JSON Schema of its value (limits from mailctl.limits)
    description: str = ""  # for editors and the schema's readers
    required: bool = False  # every declaration must give it
    scopes: frozenset[Kind | None] | None = None  # where it may be declared (None: wherever its kind may)
    # -- a map whose values the API never returns (webhook headers): only its names are diffed --
    # Its config value maps names to values: ``attrs`` holds ``normalise(names)``, and this reads
    # the values into ``Resource.write_only``. A create sends ``{name: value}``; an update PATCHes
    # ``sub_route`` with the added names' values and ``remove_<field>``.
    write_only: WriteOnlyReader | None = None
    sub_route: str = ""  # read (GET, its names under ``read_key``) and updated at the item's path + this
    read_key: str = ""

    @property
    def field(self) -> str:
        return self.api_field or self.name


class IdLookup(Protocol):
    """address -> remote id: a dict, or the applier's thread-safe registry."""

    def get(self, address: str, /) -> str | None: ...


class Owners:
    """Which scope an API row belongs to, in address terms (pod name, inbox email).

    The API sets ``pod_id`` on inbox-scoped keys, but not on every inbox-scoped row: the pod of an
    inbox is taken from the inbox itself. Rows of pods mailctl cannot see (the lock pod) are None.
    """

    def __init__(self, pods: dict[str, str], inbox_pods: dict[str, str | None]):
        self.pods = pods  # pod_id -> the pod's address segment (its client_id, else its pod_id)
        self.inbox_pods = inbox_pods  # inbox email -> pod_id

    def of(self, row: Row) -> tuple[str | None, str | None] | None:
        inbox = (row.get("inbox_id") or "").lower() or None
        pod_id = row.get("pod_id") or (self.inbox_pods.get(inbox) if inbox else None)
        if inbox is not None and pod_id is None:
            return None  # an inbox we did not list
        if pod_id is None:
            return None, None
        pod = self.pods.get(pod_id)
        return None if pod is None else (pod, inbox)

    @staticmethod
    def parent(pod: str | None, inbox: str | None) -> str | None:
        if pod is not None and inbox is not None:
            return inbox_address(pod, inbox)
        return pod_address(pod) if pod is not None else None


def _ids(attr: Attribute, names: Iterable[str], resolve: Callable[[Kind, str], str]) -> list[str]:
    """The remote ids of the resources an attribute's values name."""
    ref = attr.refers_to
    return [resolve(ref, name) for name in names] if ref is not None else list(names)


def _normalised_names(attr: Attribute) -> Callable[[str], Any]:
    """One name as the attribute's ``normalise`` writes it in ``attrs``."""
    normalise = attr.normalise
    return (lambda name: normalise([name])[0]) if normalise is not None else (lambda name: name)


def is_default(value: Any, default: Any) -> bool:
    """``value`` is ``default``; an empty default ([] or {}) also matches None and any empty value."""
    if default is ABSENT:
        return False
    return bool(value == default or (isinstance(default, (list, dict)) and not default and not value))


REPLACED_SUFFIX = "#mailctl-replaced"  # declared names never hold "#": no collision


def replaced_name(name: str) -> str:
    """The name an old object carries between its successor's create and its own delete."""
    return name + REPLACED_SUFFIX


def name_before_replacement(name: str) -> str | None:
    """The declared name behind a replaced-marker name, or None when ``name`` is not marked."""
    return name_before(name, REPLACED_SUFFIX)


RowsReader = Callable[[list[dict[str, Any]], Owners], Iterable[Resource]]
# rows -> what mailctl never manages, by the address of the scope that holds it (see KindSpec)
LeftAloneReader = Callable[[list[dict[str, Any]], Owners], dict[str, list[str]]]


def default_client_id(address: str) -> str:
    """Stable per address, API-safe (1-256 of A-Z a-z 0-9 - . _ ~): a retried create finds the first."""
    return f"mailctl-{split_address(address)[-1][0]}-{hashlib.sha256(address.encode()).hexdigest()[:32]}"


@dataclass(frozen=True)
class KindSpec:
    """Everything mailctl knows about one kind, as data and a few hooks."""

    kind: Kind
    section: str  # its YAML key in a scope (and in exported config)
    parents: frozenset[Kind | None]  # the scopes it may be declared in (None: the organisation)
    attributes: tuple[Attribute, ...]
    route: str  # its collection under a scope's path: ``/pods``, ``/api-keys``
    list_key: str | None = None  # items key of the organisation-wide list ``/v0{route}`` (None: none)
    newest_first: bool = True  # the API lists it by created_at, newest first (``mailctl.api.newest``)
    remote_id_field: str | None = None  # the API's id of it (None: its name is its id)
    name_is_id: bool = False  # the API addresses it by its name (an inbox by its email)
    lowercase: bool = False  # names compare case-insensitively (domain names, emails)
    unique_name: bool = False  # its name is unique organisation-wide: a move deletes before creating
    client_id: Callable[[str], str] | None = default_client_id  # address -> client_id (None: none)
    identity: Callable[[Resource], dict[str, Any]] = lambda r: {}  # create-body fields naming it
    read_rows: RowsReader | None = None  # rows of its organisation-wide list -> resources
    # Rows it lists but never manages (public-key credentials among API keys): they go with their
    # scope, so a plan must not delete that (the ``ignored_children`` rail).
    read_left_alone: LeftAloneReader | None = None
    # The types of the fields its rows must have besides its attributes': the first is its id
    # (what names a bad row). The reader checks every row against them (``mailctl.api.rows``).
    row_fields: Mapping[str, FieldType] = field(default_factory=dict)
    # Config: (path below the section, name) of each declaration in a scope's section value.
    declarations: Callable[[Any], Iterable[tuple[tuple[str | int, ...], str, Any]]] | None = None
    manages_scope: bool = False  # its section (even empty) makes mailctl own the scope's ones
    children_when_repeated: bool = False  # a second declaration's children are still checked
    refuse: Callable[[str], str | None] = lambda name: None  # config: why a name may not be declared
    collection_tail: Callable[[Resource], str] | None = None  # path below the scope, if not ``route``
    item_key: Callable[[Resource], str] | None = None  # path segment of the item, if not its id
    # -- behaviour the core asks for, instead of naming the kind --
    rename: Callable[[str], dict[str, Any]] | None = None  # new name -> PATCH body renaming it in place
    fixed_name: str = "its name is its identity in the API"  # why it cannot be renamed (``moved:``)
    holds_data: bool = False  # destroying it destroys mail: data-at-risk counts, the data-loss gate
    shows_secret_once: bool = False  # its create returns a secret, once: applying it needs a sink
    # A replacement creates the new one first, then deletes the old (renamed to ``replaced_name``
    # first, so a run that stops in between leaves a marked key the next plan deletes). Needs ``rename``.
    create_before_destroy: bool = False
    # Addresses of what it is created on (an inbox: its custom domain, in its pod or organisation
    # wide), in the order to look for them; it waits for the first that exists to verify.
    uses: Callable[[Resource], tuple[str, ...]] = lambda r: ()
    label: Callable[[Resource], str | None] = lambda r: None  # what people call it, when not its address
    verified: bool = False  # must be verified before use: a create starts the verification
    mutable: frozenset[str] = field(init=False)
    refers: bool = field(init=False)  # an attribute of it names other resources (a webhook's pods)
    _write_only: tuple[Attribute, ...] = field(init=False, repr=False)  # attributes with write-only values
    _segment: str = field(init=False, repr=False)  # "KIND/", the start of its address segment
    _field_types: tuple[tuple[str, FieldType], ...] = field(init=False, repr=False)  # row_fields, then attributes'

    def __post_init__(self) -> None:
        object.__setattr__(self, "mutable", frozenset(a.name for a in self.attributes if a.mutable))
        object.__setattr__(self, "refers", any(a.refers_to is not None for a in self.attributes))
        object.__setattr__(self, "_write_only", tuple(a for a in self.attributes if a.write_only is not None))
        object.__setattr__(self, "_segment", f"{self.kind.value}/")
        listed = tuple((a.field, a.api_type) for a in self.attributes if a.api_type is not None and not a.sub_route)
        object.__setattr__(self, "_field_types", (*self.row_fields.items(), *listed))

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    def address(self, name: str, parent: str | None) -> str:
        segment = self._segment + self.address_name(name)
        return f"{parent}/{segment}" if parent else segment

    def address_name(self, name: str) -> str:
        """A declared name as its address (and ``Resource.name``) writes it."""
        return name.lower() if self.lowercase else name

    # -- config --------------------------------------------------------------------------------

    def declared(self, section: Any) -> Iterable[tuple[tuple[str | int, ...], str, Any]]:
        """``(path below the section, name, body)`` of every declaration in a section's value."""
        if self.declarations is not None:
            return self.declarations(section)
        return (((name,), name, body) for name, body in (section or {}).items())

    def config_attrs(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Declared attributes, normalised, and ``(attribute, problem)`` for values that are not valid."""
        attrs: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        for attr in self.attributes:
            value = body.get(attr.name)
            if value is None:
                if attr.declared_default is not ABSENT:
                    attrs[attr.name] = attr.declared_default
                continue
            try:
                attrs[attr.name] = attr.normalise(value) if attr.normalise else value
            except ValueError:
                problems.append((attr.name, attr.invalid.format(value=value)))
        return attrs, problems

    def config_write_only(
        self, body: Mapping[str, Any]
    ) -> tuple[dict[str, dict[str, WriteOnly]], list[tuple[Tail, str]]]:
        """The declared values of write-only attributes, and ``(path, problem)`` for bad ones."""
        values: dict[str, dict[str, WriteOnly]] = {}
        problems: list[tuple[Tail, str]] = []
        for attr in self._write_only:
            given = body.get(attr.name)
            if attr.write_only is None or not isinstance(given, Mapping):
                continue
            values[attr.name], found = attr.write_only(given)
            problems.extend(((attr.name, *tail), message) for tail, message in found)
        return values, problems

    def values_to_send(
        self, desired: Resource, actual: Resource | None = None, changed: Iterable[str] = ()
    ) -> dict[str, dict[str, WriteOnly]]:
        """The write-only values a create (``actual`` None: all) or an update of the ``changed``
        attributes (the names ``actual`` lacks) sends, by attribute then declared name."""
        out: dict[str, dict[str, WriteOnly]] = {}
        for attr in self.attributes:
            declared = desired.write_only.get(attr.name)
            if attr.write_only is None or not declared or attr.name not in desired.attrs:
                continue
            if actual is not None and attr.name not in changed:
                continue
            have = set(actual.attrs.get(attr.name) or ()) if actual is not None else set()
            names = _normalised_names(attr)
            sent = {name: value for name, value in declared.items() if names(name) not in have}
            if sent:
                out[attr.name] = sent
        return out

    # -- API -----------------------------------------------------------------------------------

    @property
    def id_field(self) -> str | None:
        """The field of its rows that is their id (named in errors about a row)."""
        return next(iter(self.row_fields), None)

    def bad_field(self, row: Row) -> tuple[str, FieldType] | None:
        """The first field ``row`` lacks or holds with another type than the API's, if any."""
        return bad_field(row, self._field_types)

    def row_attrs(self, row: Row, only: Iterable[str] | None = None) -> dict[str, Any]:
        """Attributes read from an API row (``only``: just these)."""
        attrs: dict[str, Any] = {}
        for attr in self.attributes:
            if only is not None and attr.name not in only:
                continue
            value = row.get(attr.field)
            if value is None:
                if attr.absent is not ABSENT:
                    attrs[attr.name] = attr.absent
            else:
                attrs[attr.name] = attr.normalise(value) if attr.normalise else value
        return attrs

    def create_body(self, resource: Resource, resolve: Callable[[Kind, str], str]) -> dict[str, Any]:
        """The POST body: identity, client_id and the attributes sent with a create."""
        body = self.identity(resource)
        if self.client_id is not None:
            body["client_id"] = self.client_id(resource.address)
        sealed = self.values_to_send(resource, None)
        for attr in self.attributes:
            value = resource.attrs.get(attr.name)
            if not attr.on_create or attr.name not in resource.attrs:
                continue
            if attr.write_only is not None:
                value = {name: v.value for name, v in sealed.get(attr.name, {}).items()}
            if is_default(value, attr.create_default):
                continue
            if attr.refers_to is not None:
                value = _ids(attr, value or [], resolve)
            body[attr.field] = value
        return body

    def after_create(self, resource: Resource, created: Row) -> dict[str, Any]:
        """What to PATCH right after a create: declared attributes a create cannot set, if they differ."""
        body: dict[str, Any] = {}
        for attr in self.attributes:
            if attr.on_create or attr.name not in resource.attrs:
                continue
            have = created.get(attr.field, attr.absent)
            if resource.attrs[attr.name] != have:
                body[attr.field] = resource.attrs[attr.name]
        return body

    def update_body(
        self,
        changed: Iterable[str],
        want: Mapping[str, Any],
        have: Mapping[str, Any],
        resolve: Callable[[Kind, str], str],
    ) -> dict[str, Any]:
        """The PATCH body for the attributes in ``changed``."""
        body: dict[str, Any] = {}
        for name in sorted(changed):
            attr = self.attribute(name) or Attribute(name)
            if attr.sub_route:
                continue  # sent by ``sub_updates``
            if attr.patch == "merge":
                old, new = have.get(name) or {}, want.get(name) or {}
                body[attr.field] = {**{k: None for k in old if k not in new}, **new} if new else None
            elif attr.patch == "set":
                old_set, new_set = set(have.get(name) or []), set(want.get(name) or [])
                if new_set - old_set:
                    body[f"add_{attr.field}"] = sorted(_ids(attr, new_set - old_set, resolve))
                if old_set - new_set:
                    body[f"remove_{attr.field}"] = sorted(_ids(attr, old_set - new_set, resolve))
            else:
                body[attr.field] = want.get(name)
        return body

    def sub_updates(
        self, changed: Iterable[str], desired: Resource, actual: Resource
    ) -> list[tuple[str, dict[str, Any]]]:
        """``(path below the item, PATCH body)`` for the changed attributes updated at their own
        route: the added names with their values, the removed names."""
        out: list[tuple[str, dict[str, Any]]] = []
        changed = set(changed)
        sent = self.values_to_send(desired, actual, changed)
        for attr in self.attributes:
            if not attr.sub_route or attr.name not in changed:
                continue
            body: dict[str, Any] = {}
            added = {name: v.value for name, v in sent.get(attr.name, {}).items()}
            removed = set(actual.attrs.get(attr.name) or ()) - set(desired.attrs.get(attr.name) or ())
            if added:
                body[attr.field] = added
            if removed:
                body[f"remove_{attr.field}"] = sorted(removed)
            if body:
                out.append((attr.sub_route, body))
        return out

    # -- export --------------------------------------------------------------------------------

    def declaration(self, resource: Resource) -> dict[str, Any]:
        """The config body declaring ``resource`` as read: defaults left out."""
        attrs = dict(resource.attrs)
        for attr in self.attributes:
            if attr.write_only is not None:  # names alone are no declaration: the values are unknown
                attrs.pop(attr.name, None)
            if attr.export_default is ABSENT or attr.name not in attrs:
                continue
            if is_default(attrs[attr.name], attr.export_default):
                del attrs[attr.name]
        return attrs
