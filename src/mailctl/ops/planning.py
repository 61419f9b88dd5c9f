"""Read the state and plan: one read (of what the narrowed plan takes), then the facts the plan's own
changes need, then the plan."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mailctl.api.budget import Budget
from mailctl.api.client import AgentMailClient
from mailctl.api.connect import connect, sandbox_app_client
from mailctl.api.facts import read_facts
from mailctl.api.pacing import Pacer
from mailctl.api.pod_reads import PodsRead
from mailctl.api.reader import StateReader
from mailctl.errors import MailctlError
from mailctl.plan import pipeline, reads, shards, targeting
from mailctl.plan.changes import Plan
from mailctl.resources import ActualState, DesiredState, literal


@dataclass
class Planned:
    desired: DesiredState
    actual: ActualState
    plan: Plan


def open_client(
    endpoint: str | None,
    sandbox: str | None,
    api_key: str | None,
    timeout: float,
    rate_limit: Budget | float | None = None,
    sandbox_app: Any = None,
) -> AgentMailClient:
    """The client for one workflow, pacing itself to the API's latency and rate limit (kept from
    the first request when ``rate_limit`` tells it: see ``Pacer``'s budget). ``sandbox_app``: an
    in-process sandbox that outlives the client (a Project's in-memory one)."""
    if sandbox_app is not None:
        client = sandbox_app_client(sandbox_app, timeout=timeout)
    else:
        client = connect(endpoint, sandbox, api_key, timeout=timeout)
    client.pacer = Pacer(budget=rate_limit)
    return client


def share_pace(client: AgentMailClient, desired: DesiredState, shard: shards.Shard | None) -> None:
    """With ``--shard K/N``, tell the client's pacer this shard's part of the config's resources
    (``Pacer.share``): the N shards start together, so they ramp their pace up as one client would,
    or with ``--rate-limit`` each spends its part of it."""
    if shard is not None and client.pacer is not None:
        client.pacer.share(shards.works(desired.resources, shard.count), shard.index - 1)


def make_plan(
    client: AgentMailClient,
    desired: DesiredState,
    targets: tuple[str, ...] | list[str] = (),
    excludes: tuple[str, ...] | list[str] = (),
    shard: shards.Shard | None = None,
    reader: StateReader | None = None,
) -> Planned:
    """Read the state, plan, narrow, then read the facts the narrowed plan needs and finish it."""
    targeting.validate_patterns(list(targets), "--target")
    targeting.validate_patterns(list(excludes), "--exclude")
    targets, excludes = targeting.canonical(targets), targeting.canonical(excludes)
    reader = reader or StateReader(client)
    actual = reader.read(desired, narrowed_read(desired, targets, shard))
    plan = pipeline.make_plan(
        desired, actual, lambda needed: read_facts(reader, needed, actual), list(targets), list(excludes), shard
    )
    return Planned(desired, actual, plan)


def narrowed_read(
    desired: DesiredState, targets: tuple[str, ...] | list[str], shard: shards.Shard | None
) -> PodsRead | None:
    """What a plan narrowed by ``targets`` / ``shard`` reads (None: a whole plan reads everything)."""
    scope = reads.read_scope(targets, shard)
    if scope.everything:
        return None
    declared = reads.declared_in(desired, scope)
    return PodsRead(
        takes_pod=scope.takes_pod,
        organisation=scope.organisation,
        domains=reads.needs_domains(declared),
        locate=tuple(r.name for r in reads.unique_names(declared)),
        cheaper=reads.pods_cheaper(desired, scope),
    )


def read_addresses(
    client: AgentMailClient,
    desired: DesiredState,
    addresses: Iterable[str],
    pods: list[dict[str, Any]] | None = None,
) -> ActualState:
    """The state a workflow acting on ``addresses`` needs (rotate, dns), read as a plan targeted at
    exactly them reads it: in a fleet, their pods rather than every organisation-wide list.
    ``pods``: every pod row, if the lock listed them already."""
    targets = tuple(literal(address) for address in addresses)  # an address, not a glob
    return StateReader(client, pods=pods).read(desired, narrowed_read(desired, targets, None))


def load_and_plan(
    load: Callable[[], DesiredState],
    open_: Callable[[], AgentMailClient],
    targets: tuple[str, ...] | list[str] = (),
    excludes: tuple[str, ...] | list[str] = (),
    shard: shards.Shard | None = None,
) -> Planned:
    """For workflows that only read (plan, drift): the organisation-wide lists are read while the
    config loads. A bad config is still the error reported when the connection cannot be made."""
    try:
        client = open_()
    except MailctlError:
        load()
        raise
    reader = StateReader(client)
    if reads.read_scope(targets, shard).everything:
        reader.start_listing()
    else:
        reader.start_listing(pods_only=True)  # the rest depends on the pods the targets take
    try:
        desired = load()
    except BaseException:
        reader.abandon_listing(client.close)
        raise
    with client:
        share_pace(client, desired, shard)  # the lists started before the config loaded: paced so from here
        return make_plan(client, desired, targets, excludes, shard, reader)
