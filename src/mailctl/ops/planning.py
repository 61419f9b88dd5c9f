"""Read the state and plan: one read, then the facts the plan's own changes need, then the plan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mailctl.api.client import AgentMailClient
from mailctl.api.connect import connect
from mailctl.api.facts import read_facts
from mailctl.api.pacing import Pacer
from mailctl.api.reader import StateReader
from mailctl.errors import MailctlError
from mailctl.plan import pipeline, shards, targeting
from mailctl.plan.changes import Plan
from mailctl.resources import ActualState, DesiredState


@dataclass
class Planned:
    desired: DesiredState
    actual: ActualState
    plan: Plan


def open_client(endpoint: str | None, sandbox: str | None, api_key: str | None, timeout: float) -> AgentMailClient:
    """The client for one workflow, pacing itself to the API's latency and rate limit."""
    client = connect(endpoint, sandbox, api_key, timeout=timeout)
    client.pacer = Pacer()
    return client


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
    reader = reader or StateReader(client)
    actual = reader.read(desired)
    plan = pipeline.make_plan(
        desired, actual, lambda needed: read_facts(reader, needed, actual), list(targets), list(excludes), shard
    )
    return Planned(desired, actual, plan)


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
    reader.start_listing()
    try:
        desired = load()
    except BaseException:
        reader.abandon_listing(client.close)
        raise
    with client:
        return make_plan(client, desired, targets, excludes, shard, reader)
