"""Execute a Plan over its step graph (:mod:`mailctl.plan.steps`), in parallel, safely.

A failed step skips every step that (transitively) waits for it; independent work carries on.
A step blocked so is reported once its last prerequisite has ended (skipped if any failed, else
deferred), so a report never depends on which of them ended first.
``stop`` (set by the first Ctrl-C) stops new steps from starting; those in flight finish.

Under ``--shard``, a step may be a wait for another shard's create (``Change.owner``): it is not a
change of this apply. Its result is ``awaited`` (``FOUND`` once it is there, or deferred, failed...)
and never reaches ``on_results``, which sees the plan's own steps only (the CLI's lines and
progress count those, ``plan.steps.change_steps``).

Scheduling is linear in the number of steps: each step keeps a count of prerequisites not yet
done, and finishing a step touches only the steps that wait for it (reverse edges). Ready steps
wait in a heap ordered deletes first, then by the longest chain of steps waiting on each, then by
address.
"""

from __future__ import annotations

import heapq
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum

from mailctl.api.client import first_request_unless
from mailctl.api.writer import ApiWriter
from mailctl.errors import Deferred, MailctlError, NotStarted
from mailctl.plan.changes import CREATE, DELETE, Change, Plan
from mailctl.plan.steps import Step, dependencies, dependents, steps_of

__all__ = [
    "DEFERRED",
    "DONE",
    "FAILED",
    "FOUND",
    "NOT_STARTED",
    "SKIPPED",
    "Applier",
    "ApplyResult",
    "Outcome",
    "Step",
    "StepResult",
    "dependencies",
    "steps_of",
]


class Outcome(StrEnum):
    """What became of one step. A str: reports and JSON see the bare words."""

    DONE = "done"
    FOUND = "found"  # another shard's create, waited for and there: not a change of this apply
    FAILED = "failed"
    SKIPPED = "skipped"
    DEFERRED = "deferred"
    NOT_STARTED = "not started"


DONE, FOUND, FAILED, SKIPPED, DEFERRED, NOT_STARTED = (
    Outcome.DONE,
    Outcome.FOUND,
    Outcome.FAILED,
    Outcome.SKIPPED,
    Outcome.DEFERRED,
    Outcome.NOT_STARTED,
)


@dataclass
class StepResult:
    address: str
    phase: str
    outcome: Outcome
    message: str = ""
    # The shard whose create the step is (awaited) or waits for (deferred); None: no shard's.
    shard: str | None = None
    # The step is that shard's create, which this apply only waited for: not a change of its own.
    awaited: bool = False


@dataclass
class ApplyResult:
    results: list[StepResult] = field(default_factory=list)

    def having(self, outcome: Outcome) -> list[StepResult]:
        return [r for r in self.results if r.outcome == outcome]

    @property
    def deferred(self) -> list[StepResult]:
        """This apply's own changes left for later: another shard's creates it waited for are not."""
        return [r for r in self.having(DEFERRED) if not r.awaited]

    @property
    def skipped(self) -> list[StepResult]:
        """This apply's own changes skipped (what they depend on failed)."""
        return [r for r in self.having(SKIPPED) if not r.awaited]

    @property
    def not_started(self) -> list[StepResult]:
        """This apply's own changes an interrupt left unstarted."""
        return [r for r in self.having(NOT_STARTED) if not r.awaited]

    @property
    def waited_for(self) -> list[StepResult]:
        """Another shard's creates this apply waited for in vain (``shard`` names that shard): not
        there in time, or never looked for (interrupted first, or an earlier wait failed). A wait
        that broke (an API error) is a failure of this apply."""
        return [r for r in self.results if r.awaited and r.outcome in (DEFERRED, SKIPPED, NOT_STARTED)]

    @property
    def found(self) -> list[StepResult]:
        """Another shard's creates this apply waited for and found (``shard`` names that shard)."""
        return self.having(FOUND)

    @property
    def ok(self) -> bool:
        return not any(r.outcome in (FAILED, SKIPPED, NOT_STARTED) for r in self.results)


class Applier:
    """Runs a plan's steps on ``parallelism`` worker threads; the calling thread schedules them.

    ``on_results`` gets the results of the steps that finished together (with the steps they
    skipped), in one call, once the steps waiting on them have started: printing is the calling
    thread's slowest job under many workers, and a dependent must not wait for it. ``on_result``
    is the same one result at a time (used when ``on_results`` is not given).
    """

    def __init__(
        self,
        writer: ApiWriter,
        parallelism: int = 10,
        on_result: Callable[[StepResult], None] | None = None,
        stop: threading.Event | None = None,
        on_results: Callable[[list[StepResult]], None] | None = None,
    ):
        self.writer = writer
        self.parallelism = max(1, parallelism)
        self.on_results = on_results or _one_at_a_time(on_result or (lambda result: None))
        self.stop = stop or threading.Event()

    def apply(self, plan: Plan) -> ApplyResult:
        steps = steps_of(plan)
        graph = _Graph(steps)
        outcome: dict[Step, StepResult] = {}
        running: dict[Future[None], Step] = {}
        # Finished futures arrive on a queue: O(1) per step, where wait() on every running future
        # costs O(parallelism) each time one finishes.
        finished_queue: queue.SimpleQueue[Future[None]] = queue.SimpleQueue()
        with ThreadPoolExecutor(max_workers=self.parallelism) as pool:

            def start_ready() -> None:
                while not self.stop.is_set() and len(running) < self.parallelism and graph.ready:
                    step = graph.pop_ready()
                    future = pool.submit(self._run, step, steps[step])
                    running[future] = step
                    future.add_done_callback(finished_queue.put)

            while graph.pending or running:
                start_ready()
                if self.stop.is_set() and not running:
                    break
                if not running:
                    raise MailctlError(f"dependency cycle among {sorted(graph.pending)}")
                finished: list[StepResult] = []
                for future in _drain(finished_queue, timeout=0.5):
                    step = running.pop(future)
                    if isinstance(future.exception(), NotStarted):  # stopped before its first request
                        graph.pending.add(step)  # reported below with the rest that never started
                        continue
                    result = self._result_of(step, steps[step], future)
                    finished.append(result)
                    finished.extend(graph.finish(step, result.outcome, result.shard))
                start_ready()  # what waited on them starts before they are shown
                self._record(outcome, finished)
        left = []
        for step in sorted(graph.pending):  # interrupted: what was blocked already says why
            owner = steps[step].owner
            blocked = graph.blocked(step)
            left.append(
                blocked or StepResult(*step, NOT_STARTED, "interrupted before it started", owner, owner is not None)
            )
        self._record(outcome, left)
        return ApplyResult([outcome[s] for s in sorted(outcome, key=_order)])

    def _run(self, step: Step, change: Change) -> None:
        with first_request_unless(self.stop):  # queued for its turn when stopped: not started
            self._start(step, change)

    def _start(self, step: Step, change: Change) -> None:
        address, phase = step
        if phase == DELETE:
            assert change.actual is not None
            self.writer.delete(change.actual)
        elif phase == CREATE and change.owner is not None:
            assert change.desired is not None
            self.writer.await_created(change.desired, change.owner)  # another shard makes it
        elif phase == CREATE:
            assert change.desired is not None
            self.writer.create(change.desired, replacing=change.actual if change.create_first else None)
        else:
            self.writer.update(change)

    def _result_of(self, step: Step, change: Change, future: Future[None]) -> StepResult:
        exc = future.exception()
        owner = change.owner if step[1] == CREATE else None
        if owner is not None:
            return _awaited_result(step, owner, exc)
        if exc is None:
            return StepResult(*step, DONE)
        if isinstance(exc, Deferred):
            return StepResult(*step, DEFERRED, str(exc), shard=exc.shard)
        return StepResult(*step, FAILED, _failure(exc))

    def _record(self, outcome: dict[Step, StepResult], results: list[StepResult]) -> None:
        for result in results:
            outcome[(result.address, result.phase)] = result
        own = [result for result in results if not result.awaited]
        if own:
            self.on_results(own)


def _one_at_a_time(on_result: Callable[[StepResult], None]) -> Callable[[list[StepResult]], None]:
    def on_results(results: list[StepResult]) -> None:
        for result in results:
            on_result(result)

    return on_results


def _failure(exc: BaseException) -> str:
    if isinstance(exc, MailctlError):
        return str(exc)
    # An unexpected bug must not lose the report of what was done: record it as a failure.
    return f"internal error: {exc.__class__.__name__}: {exc}"


def _awaited_result(step: Step, owner: str, exc: BaseException | None) -> StepResult:
    """The result of waiting for shard ``owner``'s create: found, waited for in vain, or a wait that
    broke (an API error while looking), never a create of this apply."""
    if exc is None:
        return StepResult(*step, FOUND, f"found, made by shard {owner}", owner, True)
    if isinstance(exc, Deferred):
        return StepResult(*step, DEFERRED, str(exc), owner, True)
    return StepResult(*step, FAILED, f"waiting for shard {owner} to create it: {_failure(exc)}", owner, True)


@dataclass(frozen=True)
class _Blocker:
    """A prerequisite that did not succeed, and what it makes of the steps waiting on it."""

    outcome: Outcome  # SKIPPED (it failed or was skipped) or DEFERRED
    step: Step
    shard: str | None  # the shard whose work the deferral waits for, passed down the chain

    @property
    def rank(self) -> tuple[bool, tuple[bool, str, str]]:
        return (self.outcome == DEFERRED, _order(self.step))


class _Graph:
    """Pending steps with counters of unfinished prerequisites; ready ones in a heap."""

    def __init__(self, steps: dict[Step, Change]):
        needs = dependencies(steps)
        self.owners = {step: c.owner for step, c in steps.items() if step[1] == CREATE and c.owner is not None}
        self.waiting_for = {step: len(prerequisites) for step, prerequisites in needs.items()}
        self.dependents = dependents(needs)
        self.pending = set(steps)
        self._height = _heights(self.waiting_for, self.dependents)
        self._blockers: dict[Step, _Blocker] = {}  # steps a prerequisite of which did not succeed
        self._heap = [self._priority(s) for s, n in self.waiting_for.items() if n == 0]
        heapq.heapify(self._heap)

    def _priority(self, step: Step) -> tuple[bool, int, str, str]:
        """Deletes first; then the step with the longest chain waiting on it (a pod before its
        domain, a domain before its inboxes), so the last seconds are not one long chain."""
        return (step[1] != DELETE, -self._height.get(step, 0), step[0], step[1])

    @property
    def ready(self) -> bool:
        return bool(self._heap)

    def pop_ready(self) -> Step:
        _, _, address, phase = heapq.heappop(self._heap)
        step = (address, phase)
        self.pending.discard(step)
        return step

    def finish(self, step: Step, outcome: Outcome, shard: str | None = None) -> list[StepResult]:
        """``step`` ended with ``outcome``: its dependents' counters go down; those it leaves with
        none to wait for start, or, when a prerequisite did not succeed, end unstarted (returned).

        A step blocked by one prerequisite is held until its last one ends, so that what it is
        reported as never depends on which ended first: skipped when any failed (or was skipped),
        else deferred; the reason names the first such prerequisite in step order."""
        out: list[StepResult] = []
        todo = [(step, outcome, shard)]
        while todo:
            ended, ended_outcome, origin = todo.pop()
            for dependent in self.dependents.get(ended, ()):
                if dependent not in self.pending:
                    continue
                if ended_outcome not in (DONE, FOUND):
                    self._note_blocker(dependent, ended, ended_outcome, origin)
                self.waiting_for[dependent] -= 1
                if self.waiting_for[dependent]:
                    continue
                blocked = self.blocked(dependent)
                if blocked is None:
                    heapq.heappush(self._heap, self._priority(dependent))
                    continue
                self.pending.discard(dependent)
                out.append(blocked)
                todo.append((dependent, blocked.outcome, self._blockers[dependent].shard))
        return out

    def _note_blocker(self, step: Step, blocker: Step, outcome: Outcome, shard: str | None) -> None:
        """Keep the prerequisite that decides how ``step`` is reported: a failure before a
        deferral, then the first in step order."""
        candidate = _Blocker(DEFERRED if outcome == DEFERRED else SKIPPED, blocker, shard)
        if step not in self._blockers or candidate.rank < self._blockers[step].rank:
            self._blockers[step] = candidate

    def blocked(self, step: Step) -> StepResult | None:
        """What ``step`` is reported as when a prerequisite did not succeed (None: none so far).
        Deferred for another shard's work: which shard."""
        if (why := self._blockers.get(step)) is None:
            return None
        kind, (address, phase) = why.outcome, why.step
        text = f"{'waits for' if kind == DEFERRED else 'depends on'} {phase} of {address}"
        owner = self.owners.get(step)  # another shard's create: still not this apply's
        return StepResult(*step, kind, text, owner or (why.shard if kind == DEFERRED else None), owner is not None)


def _drain(finished: queue.SimpleQueue[Future[None]], timeout: float) -> list[Future[None]]:
    """The futures finished so far, waiting up to ``timeout`` for the first (none: a Ctrl-C check)."""
    try:
        out = [finished.get(timeout=timeout)]
    except queue.Empty:
        return []
    while True:
        try:
            out.append(finished.get_nowait())
        except queue.Empty:
            return out


def _heights(waiting_for: dict[Step, int], dependents: dict[Step, list[Step]]) -> dict[Step, int]:
    """For every step, the number of steps in the longest chain that waits on it (itself included).
    Linear: a topological order (Kahn's), then heights from the last step back. Steps in a cycle
    get none (the applier reports the cycle)."""
    left = dict(waiting_for)
    order = [step for step, n in left.items() if n == 0]
    for step in order:  # grows while iterating: a breadth-first topological order
        for dependent in dependents.get(step, ()):
            left[dependent] -= 1
            if left[dependent] == 0:
                order.append(dependent)
    height: dict[Step, int] = {}
    for step in reversed(order):
        height[step] = 1 + max((height.get(d, 0) for d in dependents.get(step, ())), default=0)
    return height


def _order(step: Step) -> tuple[bool, str, str]:
    """Deletes first, then by address: the order steps start in, and the order of the report."""
    return (step[1] != DELETE, step[0], step[1])
