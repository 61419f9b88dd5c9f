"""Which scopes a narrowed plan needs read: ``--target`` / ``--shard`` patterns -> a ``ReadScope``. Pure.

A plan narrowed to some pods needs the state of those pods (and everything in them), of the
organisation level only when a target can select an organisation-level address, and of the
organisation-level resources its pods' changes depend on (the custom domains their inboxes are
created on). The pods themselves are always listed: globs are matched against them, and
``manage.pods`` deletions of targeted undeclared pods need them.

Which pods a target takes is decided the way ``--target`` matches (``resources.address_matches``):
a pod is taken when the glob matches its address or could match an address inside it. ``*`` in
a glob also matches ``/``, so this asks whether the glob can still match *some* string once it
has read ``pod/<name>/`` (a small walk of the glob, no regex), never guesses from its first segment.

``--exclude`` never widens a read, and is not used to narrow it (it only removes changes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from mailctl.kinds import INNER_SCOPES, SPECS, TOP_SCOPE, spec_of
from mailctl.plan.shards import Shard, shard_of
from mailctl.resources import DesiredState, Resource, literal_text, pod_address, pod_of

_POD_PREFIX = "pod/"
PAGE = 100  # the largest page the API serves


@dataclass(frozen=True)
class ReadScope:
    """What a plan narrowed by ``targets`` and ``shard`` reads. No targets and no shard: everything."""

    targets: tuple[str, ...] = ()
    shard: Shard | None = None
    # client_id -> takes_pod's answer: asked for every declared resource and every listed pod
    # (80,000 times for 10,000 tenants), and a glob's walk is not free.
    _taken: dict[str, bool] = field(default_factory=dict, init=False, compare=False, repr=False)
    # The targets that are addresses (``--changed-since`` gives one per changed tenant, thousands
    # after a template edit) by the pod they are in; the others are globs, each tried in turn.
    _literal_pods: frozenset[str] = field(init=False, compare=False, repr=False)
    _globs: tuple[str, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        texts = {t: literal_text(t) for t in self.targets}
        pods = {
            text[len(_POD_PREFIX) :].partition("/")[0]
            for text in texts.values()
            if text and text.startswith(_POD_PREFIX)
        }
        object.__setattr__(self, "_literal_pods", frozenset(pods))
        object.__setattr__(self, "_globs", tuple(t for t, text in texts.items() if text is None))

    @property
    def everything(self) -> bool:
        """A plan of the whole config: every organisation-wide list, as before."""
        return not self.targets and (self.shard is None or self.shard.count == 1)

    @property
    def organisation(self) -> bool:
        """Organisation-level resources are selected: they can only be listed with all of them."""
        if self.everything:
            return True
        in_shard = self.shard is None or self.shard.index == 1
        return in_shard and (not self.targets or any(_may_select_organisation(t) for t in self.targets))

    def takes_pod(self, client_id: str) -> bool:
        """The plan may change something in this pod (or the pod itself)."""
        taken = self._taken.get(client_id)
        if taken is None:
            taken = self._taken[client_id] = self._takes_pod(client_id)
        return taken

    def _takes_pod(self, client_id: str) -> bool:
        if (
            self.shard is not None
            and self.shard.count > 1
            and shard_of(client_id, self.shard.count) != self.shard.index
        ):
            return False
        if not self.targets:
            return True
        if "/" in client_id:  # not a client_id the API gives: ask every target, as written
            return any(pod_selected(client_id, t) for t in self.targets)
        return client_id in self._literal_pods or any(pod_selected(client_id, t) for t in self._globs)


def read_scope(targets: tuple[str, ...] | list[str], shard: Shard | None = None) -> ReadScope:
    return ReadScope(tuple(targets), shard)


def pod_selected(client_id: str, pattern: str) -> bool:
    """``--target pattern`` selects pod ``client_id`` or something in it."""
    address = pod_address(client_id)
    text = literal_text(pattern)
    if text is not None:  # an address: the pod's, or one inside it
        return text == address or text.startswith(address + "/")
    return fnmatchcase(address, pattern) or can_continue(pattern, address + "/")


def _may_select_organisation(pattern: str) -> bool:
    """Conservative: only a glob that starts with a literal ``pod/`` never selects the organisation level."""
    return not pattern.startswith(_POD_PREFIX)


def can_continue(pattern: str, prefix: str) -> bool:
    """Some string that starts with ``prefix`` matches the fnmatch glob ``pattern`` (case-sensitive).

    Conservative past a ``*``: it matches any rest of the prefix, and what follows it is taken to
    match something (a class that matches nothing, such as ``[z-a]``, only costs a pod read)."""
    tokens = _tokens(pattern)
    states = {0}  # how many tokens the prefix read so far may have matched
    for ch in prefix:
        if any(i < len(tokens) and tokens[i] == "*" for i in states):
            return True
        states = {i + 1 for i in states if i < len(tokens) and _accepts(tokens[i], ch)}
        if not states:
            return False
    return True


def _tokens(pattern: str) -> list[str]:
    """``*``, ``?``, a ``[...]`` class (as written) or one literal character each."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "[":
            j = i + 1
            if j < len(pattern) and pattern[j] == "!":
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                j += 1
            j = pattern.find("]", j)
            if j != -1:
                out.append(pattern[i : j + 1])
                i = j + 1
                continue
        out.append(ch)  # a '[' without its ']' is a literal, as fnmatch reads it
        i += 1
    return out


def _accepts(token: str, ch: str) -> bool:
    if token == "?":
        return True
    if len(token) > 1:
        return fnmatchcase(ch, token)
    return token == ch


# ---------------------------------------------------------------------------------------------
# What the taken pods' declarations need beyond their own children


def declared_in(desired: DesiredState, scope: ReadScope) -> list[Resource]:
    """The declared resources of the taken pods (everything declared when the scope is everything)."""
    if scope.everything:
        return list(desired.resources.values())
    return [r for r in desired.resources.values() if (pod := pod_of(r.address)) is not None and scope.takes_pod(pod)]


def needs_domains(declared: list[Resource]) -> bool:
    """The taken pods declare a domain, or an inbox on a custom domain: read the domains
    (organisation-wide, where a domain name is unique and where an inbox's domain may live)."""
    return any(spec_of(r.kind).uses(r) or spec_of(r.kind).verified for r in declared)


def unique_names(declared: list[Resource]) -> list[Resource]:
    """Declared resources whose name is unique organisation-wide and the API finds by that name
    (an inbox by its address): one GET finds where each exists, so a move is seen."""
    return [r for r in declared if spec_of(r.kind).unique_name and spec_of(r.kind).name_is_id]


def pods_cheaper(desired: DesiredState, scope: ReadScope) -> Callable[[list[str], int], bool]:
    """``(pods taken, pods listed) -> bool``: reading the taken pods one by one costs no more
    requests than the organisation-wide lists of their children's kinds (a page holds
    ``PAGE``). A list is counted at least as long as the pods listing (a tenant has an inbox) or
    as what the config declares of that kind, whichever is longer. Small organisations, whose
    lists are a page each, keep reading the lists."""
    declared = declared_in(desired, scope)
    inboxes = Counter(pod_of(r.address) for r in declared if r.kind in INNER_SCOPES)
    declared_pods = {r.name for r in declared if r.kind == TOP_SCOPE}
    fleet = Counter(r.kind for r in desired.resources.values())
    domains = needs_domains(declared)
    in_pod = [s.kind for s in SPECS.values() if s.list_key is not None and TOP_SCOPE in s.parents]
    in_inbox = [s.kind for s in SPECS.values() if s.list_key is not None and set(INNER_SCOPES) & s.parents]
    verified = sum(fleet[s.kind] for s in SPECS.values() if s.verified)  # domains, read organisation-wide
    fixed = len(unique_names(declared)) + (_pages(verified) if domains else 0)

    def cheaper(taken: list[str], listed: int) -> bool:
        per_pod = len(in_pod) - (1 if domains else 0)
        pods = sum(per_pod + len(in_inbox) * inboxes.get(p, 0 if p in declared_pods else 1) for p in taken)
        lists = sum(_pages(max(fleet[kind], listed)) for kind in in_pod)
        return fixed + pods <= lists

    return cheaper


def _pages(rows: int) -> int:
    return max(1, -(-rows // PAGE))
