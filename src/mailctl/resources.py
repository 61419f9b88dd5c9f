"""The resource model: what mailctl manages, how each thing is addressed, which attributes it has.

Both sides of a plan are expressed in this vocabulary: the config loader builds the *desired*
state from YAML, the reader builds the *actual* state from the API (translating API ids such as
``pod_id`` back into config names such as the pod's ``client_id``). The planner compares the two.

Addresses (the user-visible identity of a resource, also what ``--target`` matches):

    pod/tenant-acme
    pod/tenant-acme/domain/mail.acme.com
    pod/tenant-acme/inbox/support@mail.acme.com
    pod/tenant-acme/api_key/acme-backend
    pod/tenant-acme/inbox/support@mail.acme.com/api_key/support-agent
    pod/tenant-acme/webhook/events            (keys, webhooks, lists: also at org and inbox scope)
    pod/tenant-acme/list/receive/block/spam.example   (a list entry's name has three parts)
    domain/agents.example.com
    api_key/ci-reader
    list/send/allow/partner.example
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple


class Kind(StrEnum):
    """What mailctl manages: the first segment of each address part. What each kind *is* (its
    attributes, routes, YAML section) is described once, in ``mailctl.kinds``."""

    POD = "pod"
    DOMAIN = "domain"
    INBOX = "inbox"
    API_KEY = "api_key"
    WEBHOOK = "webhook"
    LIST_ENTRY = "list"


POD, DOMAIN, INBOX, API_KEY, WEBHOOK, LIST_ENTRY = Kind
KINDS = tuple(Kind)

LIST_DIRECTIONS = ("send", "receive", "reply")
LIST_TYPES = ("allow", "block")
DEFAULT_DOMAIN = "agentmail.to"


class Source(NamedTuple):
    """Where a declaration was written: used in every error about it. A tuple: a load records
    one per key and value read, and a frozen dataclass costs 3x to make."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Observed:
    """Read-only facts the API reports about an existing resource (actual state only)."""

    client_id: str | None = None  # the deterministic id mailctl created it with (``mailctl.kinds``)
    pod_id: str | None = None
    prefix: str | None = None  # API keys: the visible start of the secret
    used_at: str | None = None
    created_at: str | None = None
    superseded: bool = False  # an older key whose name a newer one holds (mid-rotation)
    unrecorded: bool = False  # a key left under its pending name: its secret may be lost
    replaced: bool = False  # a key marked for deletion by a create-first replacement that did not finish
    declared_address: str | None = None  # of a key: the address its name was made for (also when superseded)
    read_only: bool = False  # list entries the API manages itself


@dataclass(frozen=True)
class WriteOnly:
    """A value the API accepts but never returns (a webhook header's): sent, never shown.

    ``env`` names the environment variable it was read from: all a plan file records. ``value``
    is None where it is unknown (a literal of the config, read back from a plan file). Neither
    ``repr`` nor ``str`` shows the value."""

    value: str | None = field(default=None, repr=False)
    env: str | None = None

    def __reduce__(self) -> tuple[type[WriteOnly], tuple[None, str | None]]:
        # Pickled (a Plan sent to a queue or a cache) as a plan file records it: without the value.
        return (WriteOnly, (None, self.env))

    def __copy__(self) -> WriteOnly:
        return self  # immutable: a copy in memory keeps the value

    def __deepcopy__(self, memo: dict[int, Any]) -> WriteOnly:
        return self


@dataclass
class Resource:
    """One resource of any kind, in desired or actual state.

    ``attrs`` holds only the attributes that are declared (desired state) or that the API reports
    (actual state), normalised the same way on both sides. An attribute absent from a desired
    resource is not managed: the planner never diffs it.
    """

    kind: str
    address: str
    attrs: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None  # address of the containing pod or inbox; None for organisation scope
    source: Source | None = None  # desired state: where it was declared
    prevent_destroy: bool = False  # desired state: refuse plans that delete or replace it
    ignore_changes: frozenset[str] = frozenset()  # desired state: attributes set at create, never diffed
    remote_id: str | None = None  # actual state: the API's id of it (pod_id, domain_id, ...)
    observed: Observed = field(default_factory=Observed)  # actual state: read-only facts
    # Desired state: the values of write-only attributes (attribute -> name -> value), whose names
    # alone are in ``attrs``. Sent to the API; never diffed, rendered, saved or shown by repr().
    write_only: dict[str, dict[str, WriteOnly]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.observed, dict):  # a plain mapping of the same fields (tests, fixtures)
            self.observed = Observed(**self.observed)

    @property
    def pod(self) -> str | None:
        """The client_id of the pod this resource lives in, or None at organisation scope."""
        return pod_of(self.address)

    @property
    def name(self) -> str:
        """The last segment of the address: the thing's name within its scope."""
        return split_address(self.address)[-1][1]


@dataclass
class ManagePolicy:
    """Which *undeclared* resources mailctl may delete (declared pods' children are always
    managed), which existing ones it must leave alone (``ignore``: made at runtime), and which it
    must never destroy (``protect``), declared or not. Globs as for ``--target``."""

    pod_client_id_prefixes: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    protect: tuple[str, ...] = ()

    def manages_pod(self, client_id: str | None) -> bool:
        return client_id is not None and any(client_id.startswith(p) for p in self.pod_client_id_prefixes)

    def ignores(self, address: str) -> str | None:
        """The ``manage.ignore`` glob that ``address`` (or a scope it is in) matches, if any."""
        return next((g for g in self.ignore if address_matches(address, g)), None)

    def protects(self, address: str) -> str | None:
        """The ``manage.protect`` glob that ``address`` (or a scope it is in) matches, if any.
        Matched generously, since a miss destroys: letter case aside (addresses and domains are
        case-insensitive, so ``Support@Acme.com`` must guard ``support@acme.com``) and a trailing
        ``/`` ignored (``pod/vip/`` guards ``pod/vip``)."""
        folded = address.lower()
        return next((g for g in self.protect if address_matches(folded, g.lower().rstrip("/") or g)), None)


@dataclass(frozen=True)
class Moved:
    """A ``moved: {from, to}`` block: the resource that existed at ``from`` now lives at ``to``."""

    source_address: str
    target_address: str
    source: Source | None = None


@dataclass
class DesiredState:
    resources: dict[str, Resource] = field(default_factory=dict)
    manage: ManagePolicy = field(default_factory=ManagePolicy)
    settings: dict[str, Any] = field(default_factory=dict)  # e.g. safety thresholds
    # Scopes (None: organisation, or a pod/inbox address) whose config has a `lists` key: their
    # allow/block lists are managed, so entries no longer declared there are deleted.
    list_scopes: set[str | None] = field(default_factory=set)
    moved: list[Moved] = field(default_factory=list)

    def add(self, resource: Resource) -> None:
        self.resources[resource.address] = resource

    def write_only_values(self) -> list[str]:
        """Every write-only value known here (webhook header values): what no output may show."""
        return [
            held.value
            for resource in self.resources.values()
            for values in resource.write_only.values()
            for held in values.values()
            if held.value
        ]


@dataclass
class ActualState:
    resources: dict[str, Resource] = field(default_factory=dict)
    # Scope address -> what it holds that mailctl never manages (``KindSpec.read_left_alone``).
    left_alone: dict[str, list[str]] = field(default_factory=dict)

    def add(self, resource: Resource) -> None:
        self.resources[resource.address] = resource


# ---------------------------------------------------------------------------------------------
# Addresses


def pod_address(client_id: str) -> str:
    return f"pod/{client_id}"


def domain_address(name: str, pod: str | None = None) -> str:
    return _scoped(pod, None, f"domain/{name.lower()}")


def inbox_address(pod: str, email: str) -> str:
    return f"pod/{pod}/inbox/{email.lower()}"


def api_key_address(name: str, pod: str | None = None, inbox: str | None = None) -> str:
    return _scoped(pod, inbox, f"api_key/{name}")


def webhook_address(name: str, pod: str | None = None, inbox: str | None = None) -> str:
    return _scoped(pod, inbox, f"webhook/{name}")


def list_entry_address(
    direction: str, list_type: str, entry: str, pod: str | None = None, inbox: str | None = None
) -> str:
    return _scoped(pod, inbox, f"list/{direction}/{list_type}/{entry.lower()}")


def _scoped(pod: str | None, inbox: str | None, tail: str) -> str:
    if inbox is not None:
        if pod is None:
            raise ValueError("an inbox-scoped resource needs its pod")
        return f"{inbox_address(pod, inbox)}/{tail}"
    if pod is not None:
        return f"{pod_address(pod)}/{tail}"
    return tail


def split_address(address: str) -> list[tuple[str, str]]:
    """``pod/a/inbox/x@y/api_key/k`` -> ``[("pod","a"), ("inbox","x@y"), ("api_key","k")]``.

    List entries fold their three segments into one name: ``("list", "send/allow/x.com")``.
    """
    parts = address.split("/")
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(parts):
        kind = parts[i]
        if kind == LIST_ENTRY:
            out.append((kind, "/".join(parts[i + 1 : i + 4])))
            i += 4
        else:
            out.append((kind, parts[i + 1] if i + 1 < len(parts) else ""))
            i += 2
    return out


def kind_of(address: str) -> str:
    return split_address(address)[-1][0]


def pod_of(address: str) -> str | None:
    """The pod an address is in (or is), None at organisation scope. Asked for every resource of
    a narrowed plan, so it reads the first two segments only, as ``split_address`` would."""
    first_kind, _, rest = address.partition("/")
    return rest.partition("/")[0] if first_kind == POD else None


def parent_of(address: str) -> str | None:
    """The address of the scope containing this one (pod or inbox), or None at organisation scope."""
    segments = split_address(address)
    if len(segments) <= 1:
        return None
    return join_address(segments[:-1])


def ancestors(scope: str | None) -> list[str]:
    """``scope`` and the scopes it is in, innermost first (``pod/a/inbox/x``, ``pod/a``); [] for None."""
    out = []
    while scope is not None:
        out.append(scope)
        scope = parent_of(scope)
    return out


def join_address(segments: list[tuple[str, str]]) -> str:
    return "/".join(f"{kind}/{name}" for kind, name in segments)


def name_before(name: str, marker: str) -> str | None:
    """The declared name behind ``name + marker`` (a key mailctl is working on: pending, replaced),
    or None when ``name`` does not carry ``marker``. Declared names never hold "#", markers do."""
    if name.endswith(marker) and len(name) > len(marker):
        return name[: -len(marker)]
    return None


_GLOB_SPECIALS = {"*": "[*]", "?": "[?]", "[": "[[]"}


def literal(address: str) -> str:
    """A ``--target`` glob that matches ``address`` itself (and what is under it) only."""
    return "".join(_GLOB_SPECIALS.get(c, c) for c in address)


@lru_cache(maxsize=65536)  # asked of the same few ignore/protect/--target patterns for every address
def literal_text(pattern: str) -> str | None:
    """The one string a glob matches, when it matches one only: an address as written, or escaped
    as ``--changed-since`` and ``rotate`` escape one (``[*]``, ``[?]``, ``[[]``). None: a glob."""
    text: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch in "*?":
            return None
        if ch == "[":
            if pattern[i + 2 : i + 3] != "]" or pattern[i + 1 : i + 2] in ("", "!", "]"):
                return None  # a class of more than one character, a negation, or fnmatch's edge cases
            ch = pattern[i + 1]
            i += 2
        text.append(ch)
        i += 1
    return "".join(text)


def matching_literals(address: str) -> list[str]:
    """Every glob-free pattern ``address_matches(address, pattern)`` accepts: the address and each
    of its scopes (``pod/a``, ``pod/a/inbox/x``), and for a key's leftover ``name#suffix`` the same
    for the key ``name``. A set of literal patterns (thousands, from ``--changed-since``) is
    matched by looking these up, not by trying every pattern on every address."""

    def scopes(candidate: str) -> list[str]:
        parts = candidate.split("/")
        return ["/".join(parts[:n]) for n in range(2, len(parts), 2)] + [candidate]

    head, _, name = address.rpartition("/")
    if "#" in name and kind_of(address) == API_KEY:
        return scopes(address) + scopes(f"{head}/{name.split('#', 1)[0]}")
    return scopes(address)


def address_matches(address: str, pattern: str) -> bool:
    """Glob match on the address or any of its scopes (``pod/a`` matches ``pod/a/inbox/x``); a
    key named ``name#suffix`` (a leftover of a killed apply or a replacement) also matches as the
    key ``name`` it belongs to, and an address written as it is matches itself whatever glob
    characters it holds. What ``--target``, ``manage.ignore`` and ``manage.protect`` use."""
    text = literal_text(pattern)
    if text is not None:  # the same answer as glob_matches, by comparing text
        literals = matching_literals(address)
        return text in literals or pattern in literals
    return glob_matches(address, pattern)


def glob_matches(address: str, pattern: str) -> bool:
    """``address_matches`` for a pattern known to be a glob (``literal_text`` gave None). An address
    written as it is also matches: a key named ``ops [prod]`` is a valid name, and a rule naming its
    address, read as a glob only, would match nothing (``[prod]`` is a class of one character)."""
    from fnmatch import fnmatchcase

    if pattern in matching_literals(address):
        return True

    def one(candidate: str) -> bool:
        parts = candidate.split("/")
        return any(fnmatchcase("/".join(parts[:n]), pattern) for n in range(2, len(parts) + 1, 2)) or fnmatchcase(
            candidate, pattern
        )

    head, _, name = address.rpartition("/")
    owner = f"{head}/{name.split('#', 1)[0]}" if "#" in name and kind_of(address) == API_KEY else None
    return one(address) or (owner is not None and one(owner))


# ---------------------------------------------------------------------------------------------
# Deterministic client_ids: a retried create must find what the first attempt made.
# The API allows 1-256 characters from A-Z a-z 0-9 - . _ ~ (no '@').


def pod_client_id(pod: str) -> str:
    """A pod's client_id is its config key: the pod's identity."""
    return pod


# ---------------------------------------------------------------------------------------------
# Normalisation shared by the config loader and the reader, so equal things compare equal.


def normalize_timestamp(value: Any) -> str:
    """Any ISO-8601 string or datetime -> UTC ``YYYY-MM-DDTHH:MM:SSZ`` (naive means UTC).

    Raises ValueError for anything that is not a timestamp.
    """
    from datetime import date, datetime

    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    else:
        raise ValueError(f"not a timestamp: {value!r}")  # noqa: TRY004 - callers report ValueErrors
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalize_permissions(value: Any) -> dict[str, bool] | None:
    """Permissions are a whitelist: only granted flags matter. None means unrestricted."""
    if value is None:
        return None
    return {flag: True for flag, granted in sorted(value.items()) if granted is True}
