"""Execute a Plan over its dependency graph, in parallel, safely.

Each change becomes one or two steps: create, update, delete, or delete-then-create for a
replacement. A step waits for:

- creates/updates: the creation of the scope it lives in (pod, inbox), of the domain its inbox
  address uses, of the pods/inboxes a webhook subscribes to, and of its own delete when replaced
  or moved (an inbox address or domain name is unique organisation-wide);
- deletes: the deletes of everything inside it (children first; a pod last).

A failed step skips every step that (transitively) waits for it; independent work carries on.
``stop`` (set by the first Ctrl-C) stops new steps from starting; those in flight finish.
"""

from __future__ import annotations

import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable

from mailctl.api.writer import ApiWriter, Deferred
from mailctl.errors import MailctlError
from mailctl.plan.changes import CREATE, DELETE, REPLACE, UPDATE, Change, Plan
from mailctl.resources import DOMAIN, INBOX, WEBHOOK, domain_address, parent_of, pod_address

Step = tuple[str, str]  # (address, phase) with phase in create / update / delete

DONE, FAILED, SKIPPED, DEFERRED, NOT_STARTED = "done", "failed", "skipped", "deferred", "not started"


@dataclass
class StepResult:
    address: str
    phase: str
    outcome: str
    message: str = ""


@dataclass
class ApplyResult:
    results: list[StepResult] = field(default_factory=list)

    def having(self, outcome: str) -> list[StepResult]:
        return [r for r in self.results if r.outcome == outcome]

    @property
    def ok(self) -> bool:
        return not any(r.outcome in (FAILED, SKIPPED, NOT_STARTED) for r in self.results)


def steps_of(plan: Plan) -> dict[Step, Change]:
    steps: dict[Step, Change] = {}
    for change in plan.changes:
        if change.action in (DELETE, REPLACE):
            steps[(change.address, DELETE)] = change
        if change.action in (CREATE, REPLACE):
            steps[(change.address, CREATE)] = change
        if change.action == UPDATE:
            steps[(change.address, UPDATE)] = change
    return steps


def dependencies(steps: dict[Step, Change]) -> dict[Step, set[Step]]:
    """For every step, the steps that must succeed before it starts."""
    creates = {address for address, phase in steps if phase == CREATE}
    deletes = {address for address, phase in steps if phase == DELETE}
    inbox_by_email = {c.desired.name: a for (a, p), c in steps.items()
                      if p == CREATE and c.kind == INBOX and c.desired is not None}
    deleted_identity: dict[tuple[str, str], list[str]] = {}
    for (address, phase), change in steps.items():
        if phase == DELETE and change.kind in (INBOX, DOMAIN) and change.actual is not None:
            deleted_identity.setdefault((change.kind, change.actual.name), []).append(address)

    needs: dict[Step, set[Step]] = {step: set() for step in steps}
    for (address, phase), change in steps.items():
        step = (address, phase)
        if phase == DELETE:
            prefix = address + "/"
            needs[step] |= {(d, DELETE) for d in deletes if d.startswith(prefix)}
            continue
        assert change.desired is not None
        wanted: set[str] = set()
        parent = change.desired.parent
        while parent is not None:
            wanted.add(parent)
            parent = parent_of(parent)
        if change.kind == INBOX:
            domain = change.desired.name.partition("@")[2]
            wanted |= {domain_address(domain, pod=change.desired.pod), domain_address(domain)}
        if change.kind == WEBHOOK:
            wanted |= {pod_address(p) for p in change.desired.attrs.get("pods") or []}
            wanted |= {inbox_by_email[i] for i in change.desired.attrs.get("inboxes") or []
                       if i in inbox_by_email}
        needs[step] |= {(a, CREATE) for a in wanted if a in creates and a != address}
        if phase == CREATE:
            if address in deletes:
                needs[step].add((address, DELETE))
            for other in deleted_identity.get((change.kind, change.desired.name), []):
                needs[step].add((other, DELETE))
    return needs


class Applier:
    def __init__(self, writer: ApiWriter, parallelism: int = 10,
                 on_result: Callable[[StepResult], None] | None = None,
                 stop: threading.Event | None = None):
        self.writer = writer
        self.parallelism = max(1, parallelism)
        self.on_result = on_result or (lambda result: None)
        self.stop = stop or threading.Event()

    def apply(self, plan: Plan) -> ApplyResult:
        steps = steps_of(plan)
        needs = dependencies(steps)
        outcome: dict[Step, StepResult] = {}
        pending = set(steps)
        running: dict[Future[None], Step] = {}
        with ThreadPoolExecutor(max_workers=self.parallelism) as pool:
            while pending or running:
                if not self.stop.is_set():
                    for step in self._ready(pending, needs, outcome):
                        if len(running) >= self.parallelism:
                            break
                        pending.discard(step)
                        running[pool.submit(self._run, step, steps[step])] = step
                self._settle_blocked(pending, needs, outcome)
                if self.stop.is_set() and not running:
                    break
                if not running:
                    if pending and not self.stop.is_set():
                        raise MailctlError(f"dependency cycle among {sorted(pending)}")
                    continue
                finished, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in finished:
                    step = running.pop(future)
                    self._record(outcome, self._result_of(step, future))
        for step in sorted(pending):
            self._record(outcome, StepResult(*step, NOT_STARTED, "interrupted before it started"))
        return ApplyResult([outcome[s] for s in sorted(outcome, key=lambda s: _order(s, steps))])

    def _ready(self, pending: set[Step], needs: dict[Step, set[Step]],
               outcome: dict[Step, StepResult]) -> list[Step]:
        ready = [s for s in pending if all(outcome.get(d, _UNSET).outcome == DONE for d in needs[s])]
        return sorted(ready, key=lambda s: (s[1] != DELETE, s[0]))

    def _settle_blocked(self, pending: set[Step], needs: dict[Step, set[Step]],
                        outcome: dict[Step, StepResult]) -> None:
        """Steps waiting on a failed/deferred/skipped step will never run: record why, now."""
        changed = True
        while changed:
            changed = False
            for step in sorted(pending):
                blocker = next((d for d in sorted(needs[step])
                                if d in outcome and outcome[d].outcome != DONE), None)
                if blocker is None:
                    continue
                kind = DEFERRED if outcome[blocker].outcome == DEFERRED else SKIPPED
                why = f"{'waits for' if kind == DEFERRED else 'depends on'} {blocker[1]} of {blocker[0]}"
                pending.discard(step)
                self._record(outcome, StepResult(*step, kind, why))
                changed = True

    def _run(self, step: Step, change: Change) -> None:
        address, phase = step
        if phase == DELETE:
            assert change.actual is not None
            self.writer.delete(change.actual)
        elif phase == CREATE:
            assert change.desired is not None
            self.writer.create(change.desired)
        else:
            self.writer.update(change)

    def _result_of(self, step: Step, future: Future[None]) -> StepResult:
        exc = future.exception()
        if exc is None:
            return StepResult(*step, DONE)
        if isinstance(exc, Deferred):
            return StepResult(*step, DEFERRED, str(exc))
        if isinstance(exc, MailctlError):
            return StepResult(*step, FAILED, str(exc))
        # An unexpected bug must not lose the report of what was done: record it as a failure.
        return StepResult(*step, FAILED, f"internal error: {exc.__class__.__name__}: {exc}")

    def _record(self, outcome: dict[Step, StepResult], result: StepResult) -> None:
        outcome[(result.address, result.phase)] = result
        self.on_result(result)


_UNSET = StepResult("", "", "")


def _order(step: Step, steps: dict[Step, Change]) -> tuple[int, str]:
    return (0 if step[1] == DELETE else 1, step[0])
