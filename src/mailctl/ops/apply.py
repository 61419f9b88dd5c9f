"""The apply workflow: lock, read, plan, check the rails, confirm, execute, report (as data).

The order is the guarantee: the lock is taken before the state is read (nothing can change it
between the plan the user approves and its execution); the rails are checked after the plan is
shown (the user sees what tripped) and before anything changes; a plan that creates secrets
needs a sink before anything changes. Whoever calls this (the CLI, the Python API) shows the
plan, asks for confirmation and reports progress through :class:`ApplyHooks`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field

from mailctl.api.client import AgentMailClient
from mailctl.api.identity import require_organisation_key
from mailctl.api.lock import ApplyLock
from mailctl.api.pacing import Pacer
from mailctl.api.reader import StateReader
from mailctl.api.siblings import SiblingWatch
from mailctl.api.writer import ApiWriter, IdRegistry, SecretStore
from mailctl.apply import DEFERRED, DONE, FAILED, FOUND, NOT_STARTED, SKIPPED, Applier, ApplyResult, StepResult
from mailctl.errors import LockNotReleased, UnsafePlan, UsageError
from mailctl.kinds import spec_of
from mailctl.ops.planning import Planned, make_plan, share_pace
from mailctl.plan import pipeline, planfile, safety
from mailctl.plan.changes import CREATE, REPLACE, Plan, Rule, counted
from mailctl.plan.shards import Shard
from mailctl.plan.steps import change_steps
from mailctl.resources import DesiredState
from mailctl.secrets import SecretSink

Shield = Callable[[], AbstractContextManager[None]]

__all__ = [  # what callers of the workflow read in its results
    "DEFERRED",
    "DONE",
    "FAILED",
    "FOUND",
    "NOT_STARTED",
    "SKIPPED",
    "ApplyHooks",
    "ApplyOptions",
    "ApplyOutcome",
    "ApplyResult",
    "LockState",
    "StepResult",
    "locked",
    "open_sink",
    "run_apply",
]


def open_sink(path: str | None) -> SecretSink | None:
    """The checked ``--secrets-out`` sink (None without one), refused before anything else happens:
    before the lock, the plan and any request (a FIFO, a device, a file another user controls)."""
    if not path:
        return None
    sink = SecretSink(path)
    try:
        sink.check_writable()
    except UsageError as exc:
        raise UsageError(f"{exc} (nothing was changed)") from None
    return sink


@dataclass
class ApplyOptions:
    targets: list[str] = field(default_factory=list)
    excludes: list[str] = field(default_factory=list)
    shard: Shard | None = None
    auto_approve: bool = False
    force: bool = False  # lifts the thresholds only
    allow_data_loss: bool = False  # lifts the data-loss gate only
    wait_for_domains: float = 0.0
    wait_for_shards: float = 300.0  # for what other shards create (organisation-level resources)
    lock_timeout: float = 0.0
    workers: int = 10


def _no_confirmation(planned: Planned, messages_at_risk: int | None) -> None:
    raise UsageError("no way to confirm: pass auto_approve to apply unattended (nothing was changed)")


@dataclass
class ApplyHooks:
    """What the caller shows and asks. Every hook has a silent default but ``confirm``, which
    refuses: applying unattended is an explicit choice (``auto_approve``)."""

    show_plan: Callable[[Planned], None] = lambda planned: None
    # Asks for approval; raises to cancel. ``messages_at_risk`` is set when the plan destroys
    # mail and nothing allowed it: then the user must type that number, not "yes".
    confirm: Callable[[Planned, int | None], None] = _no_confirmation
    # The plan's own steps as they end: the results of those that ended together, in one call.
    on_results: Callable[[list[StepResult]], None] = lambda results: None
    running: Callable[[int, Pacer | None], AbstractContextManager[object]] = lambda steps, pacer: nullcontext()
    on_lock_wait: Callable[[str, str, float], None] | None = None  # (lock waited for, holder, seconds)
    on_domain_wait: Callable[[str, str, float], None] | None = None
    on_shard_wait: Callable[[str, str, float], None] | None = None
    lock_shield: Shield = nullcontext  # holds a signal while a lock request is in flight
    unlock_hint: Callable[[str | None], str] | None = None  # the unlock command: of shard "K/N", or all
    # How the caller is told to give new keys' secrets somewhere (the Python API: its argument).
    secrets_hint: str = "pass --secrets-out FILE"


@dataclass
class ApplyOutcome:
    planned: Planned
    result: ApplyResult | None  # None: there was nothing to do
    sink: SecretStore | None
    lock_left: LockNotReleased | None = None  # the work is done, but its lock may still be held


class LockState:
    """What the caller needs to say after an interrupt: was a lock taken, and which."""

    def __init__(self) -> None:
        self.lock: ApplyLock | None = None

    @property
    def released(self) -> str:
        if self.lock and self.lock.not_released:
            return str(self.lock.not_released)
        return f"{self.lock.what} was released" if self.lock and self.lock.taken else "no lock was taken"


@contextmanager
def locked(
    client: AgentMailClient,
    hooks: ApplyHooks,
    lock_timeout: float,
    shard: Shard | None = None,
    state: LockState | None = None,
) -> Iterator[ApplyLock]:
    """The apply lock, for every workflow that writes (apply, rotate); a key scoped below the
    organisation is refused first (it would plan what it cannot see as missing)."""
    require_organisation_key(client)
    lock = ApplyLock(
        client,
        timeout=lock_timeout,
        shield=hooks.lock_shield,
        on_wait=hooks.on_lock_wait,
        unlock_hint=hooks.unlock_hint,
        exclude_shards=True,
        shard=(shard.index, shard.count) if shard else None,
    )
    if state is not None:
        state.lock = lock
    with lock:
        yield lock


def run_apply(
    client: AgentMailClient,
    desired: DesiredState,
    options: ApplyOptions,
    hooks: ApplyHooks,
    sink: SecretStore | None = None,
    saved: planfile.RecordedPlan | None = None,
    stop: threading.Event | None = None,
    executing: Callable[[], None] = lambda: None,
    lock_state: LockState | None = None,
) -> ApplyOutcome:
    """Apply ``desired`` (or exactly the ``saved`` plan) under the lock. ``executing`` is called
    when the first change is about to start; ``stop`` stops new changes from starting."""
    stop = stop or threading.Event()
    client.hide(desired.write_only_values())  # an API error that quotes the request shows none of them
    share_pace(client, desired, options.shard)  # before the lock: its requests are paced too
    outcome: ApplyOutcome | None = None
    try:
        with locked(client, hooks, options.lock_timeout, options.shard, lock_state) as lock:
            outcome = _apply_locked(client, desired, options, hooks, sink, saved, stop, executing, lock)
    except LockNotReleased as left:  # raised only when nothing else failed: the report still stands
        if outcome is None:
            raise
        outcome.lock_left = left
    assert outcome is not None
    return outcome


def _apply_locked(
    client: AgentMailClient,
    desired: DesiredState,
    options: ApplyOptions,
    hooks: ApplyHooks,
    sink: SecretStore | None,
    saved: planfile.RecordedPlan | None,
    stop: threading.Event,
    executing: Callable[[], None],
    lock: ApplyLock,
) -> ApplyOutcome:
    targets = saved.targets if saved else options.targets
    excludes = saved.excludes if saved else options.excludes
    reader = StateReader(client, pods=lock.pods)
    planned = make_plan(client, desired, targets, excludes, options.shard, reader)
    if saved:
        saved.check_fresh(planned.actual, planned.plan)  # exactly the recorded changes, or refuse
    hooks.show_plan(planned)
    if not planned.plan.has_changes:
        return ApplyOutcome(planned, None, sink)
    unattended = options.auto_approve or saved is not None
    _check_rails(planned, options, hooks, sink, unattended)
    if not unattended:  # a person took their time over the plan
        _refuse_if_mail_arrived(planned, reader)
    executing()
    writer = ApiWriter(
        client,
        IdRegistry(_known_ids(planned)),
        sink,
        domain_wait=options.wait_for_domains,
        on_wait=hooks.on_domain_wait,
        stop=stop,
        shard_wait=options.wait_for_shards,
        on_shard_wait=hooks.on_shard_wait,
    )
    with (
        hooks.running(len(change_steps(planned.plan)), client.pacer),  # the waits for other shards are not counted
        _watch_siblings(client, options.shard, reader),
    ):
        result = Applier(writer, options.workers, stop=stop, on_results=hooks.on_results).apply(planned.plan)
    return ApplyOutcome(planned, result, sink)


def _watch_siblings(client: AgentMailClient, shard: Shard | None, read: StateReader) -> AbstractContextManager[object]:
    """A shard told the rate limit takes up the parts of the shards that have ended (SiblingWatch)."""
    pacer = client.pacer
    if shard is None or pacer is None or pacer.budget is None:
        return nullcontext()
    return SiblingWatch(client, pacer, (shard.index, shard.count), read.lock_rows, read.pods_listed)


def _check_rails(
    planned: Planned, options: ApplyOptions, hooks: ApplyHooks, sink: SecretStore | None, unattended: bool
) -> None:
    """Refuse (nothing changed) what the flags do not allow; ask when a person may decide."""
    plan = planned.plan
    blocking = safety.blocking(plan.refusals, options.force, options.allow_data_loss)
    data_loss = [r for r in blocking if r.rule == Rule.DATA_LOSS]
    if len(data_loss) < len(blocking) or (data_loss and unattended):
        safety.refuse(blocking)
    require_sink(plan, sink, hooks.secrets_hint)
    if data_loss:
        hooks.confirm(planned, safety.messages_at_risk(plan))  # a person types what is destroyed
    elif not unattended:
        hooks.confirm(planned, None)


def _refuse_if_mail_arrived(planned: Planned, reader: StateReader) -> None:
    """What the inboxes the plan destroys hold, read again after the person's answer: mail that
    arrived while they read the plan (which showed what each held then) would be destroyed unseen,
    whatever they answered. Grown, the plan is refused before any change."""
    held = pipeline.facts_needed(planned.plan, planned.actual).held_data
    if not held:
        return
    now = reader.count_inbox_data(held)
    grown = []
    for change in planned.plan.changes:
        if not change.destroys_mail_holder or change.actual is None or change.actual.name not in now:
            continue
        before, after = change.data_at_risk or {}, now[change.actual.name]
        if any(n > before.get(what, 0) for what, n in after.items()):
            grown.append(f"{change.address} now holds {counted(after)} (the plan showed {change.held or 'nothing'})")
    if grown:
        raise UnsafePlan(
            "refusing to apply (nothing was changed): mail arrived while the plan awaited an answer: "
            f"{'; '.join(grown)}. Run apply again to see the plan with it"
        )


def require_sink(plan: Plan, sink: SecretStore | None, hint: str = ApplyHooks.secrets_hint) -> None:
    mints = any(spec_of(c.kind).shows_secret_once and c.action in (CREATE, REPLACE) for c in plan.changes)
    if mints and sink is None:
        raise UsageError(
            f"this plan creates API keys, whose secrets are shown only once: {hint} to store them (nothing was changed)"
        )


def _known_ids(planned: Planned) -> dict[str, str]:
    return {a: r.remote_id for a, r in planned.actual.resources.items() if r.remote_id is not None}
