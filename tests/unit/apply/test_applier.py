"""The applier's ordering, failure isolation and interruption, with a recording fake writer."""

from __future__ import annotations

import threading
import time

from mailctl.api.writer import Deferred
from mailctl.apply import DEFERRED, DONE, FAILED, NOT_STARTED, SKIPPED, Applier
from mailctl.errors import ApiError
from mailctl.plan.changes import CREATE, DELETE, REPLACE, Change, Plan
from mailctl.resources import DOMAIN, INBOX, POD, Resource, domain_address, inbox_address, pod_address


class FakeWriter:
    def __init__(self, fail: set[str] = frozenset(), defer: set[str] = frozenset(), delay: float = 0.0):
        self.log: list[tuple[str, str]] = []
        self.fail, self.defer, self.delay = fail, defer, delay
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0

    def _do(self, phase: str, address: str) -> None:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        time.sleep(self.delay)
        with self.lock:
            self.in_flight -= 1
            self.log.append((phase, address))
        if address in self.fail:
            raise ApiError(500, "internal_error", "boom")
        if address in self.defer:
            raise Deferred("domain not verified")

    def create(self, resource, replacing=None):
        self._do("create", resource.address)

    def update(self, change):
        self._do("update", change.address)

    def delete(self, resource):
        self._do("delete", resource.address)


def res(kind, address, parent=None, **attrs):
    return Resource(kind, address, attrs, parent=parent)


POD_A = res(POD, pod_address("a"))
DOM = res(DOMAIN, domain_address("mail.a.com", pod="a"), parent="pod/a")
INBOX_X = res(INBOX, inbox_address("a", "x@mail.a.com"), parent="pod/a")
INBOX_Y = res(INBOX, inbox_address("a", "y@agentmail.to"), parent="pod/a")


def create_plan(*resources):
    return Plan(changes=[Change(CREATE, r.address, desired=r) for r in resources])


def test_creates_run_parents_first_and_inboxes_after_their_domain():
    writer = FakeWriter()
    result = Applier(writer, parallelism=4).apply(create_plan(INBOX_X, DOM, POD_A, INBOX_Y))
    order = [a for _, a in writer.log]
    assert order.index("pod/a") < order.index(DOM.address) < order.index(INBOX_X.address)
    assert order.index("pod/a") < order.index(INBOX_Y.address)
    assert result.ok and len(result.having(DONE)) == 4


def test_the_longest_chain_starts_first_so_the_apply_does_not_end_on_one():
    """pod -> domain -> inbox is started before independent single steps (org domains here, first
    by address), and within the pod the domain (an inbox waits for it) before the other inbox."""
    org_domains = [res(DOMAIN, domain_address(f"a{i}.example")) for i in range(3)]
    writer = FakeWriter()
    Applier(writer, parallelism=1).apply(create_plan(*org_domains, INBOX_X, DOM, POD_A, INBOX_Y))
    order = [a for _, a in writer.log]
    assert order[:2] == ["pod/a", DOM.address]
    assert order.index(INBOX_Y.address) > order.index(DOM.address)


def test_deletes_run_children_first_and_the_pod_last():
    plan = Plan(changes=[Change(DELETE, r.address, actual=r) for r in (POD_A, DOM, INBOX_X, INBOX_Y)])
    writer = FakeWriter()
    Applier(writer, parallelism=4).apply(plan)
    assert writer.log[-1] == ("delete", "pod/a")


def test_a_failure_skips_its_dependents_and_independent_work_carries_on():
    writer = FakeWriter(fail={DOM.address})
    result = Applier(writer, parallelism=2).apply(create_plan(POD_A, DOM, INBOX_X, INBOX_Y))
    outcome = {r.address: r.outcome for r in result.results}
    assert outcome == {"pod/a": DONE, DOM.address: FAILED, INBOX_X.address: SKIPPED, INBOX_Y.address: DONE}
    skipped = result.having(SKIPPED)[0]
    assert skipped.message == f"depends on create of {DOM.address}"
    assert "boom" in result.having(FAILED)[0].message and not result.ok


def test_deferred_domain_defers_inboxes_on_it_without_failing():
    writer = FakeWriter(defer={INBOX_X.address})
    result = Applier(writer).apply(create_plan(POD_A, INBOX_X))
    assert [r.outcome for r in result.results] == [DONE, DEFERRED]


def test_replace_deletes_before_it_creates():
    old = res(INBOX, INBOX_Y.address, parent="pod/a")
    plan = Plan(changes=[Change(REPLACE, INBOX_Y.address, desired=INBOX_Y, actual=old)])
    writer = FakeWriter()
    Applier(writer).apply(plan)
    assert writer.log == [("delete", INBOX_Y.address), ("create", INBOX_Y.address)]


def test_moved_inbox_is_created_only_after_the_old_one_is_deleted():
    old = res(INBOX, inbox_address("b", "y@agentmail.to"), parent="pod/b")
    plan = Plan(changes=[Change(CREATE, INBOX_Y.address, desired=INBOX_Y), Change(DELETE, old.address, actual=old)])
    writer = FakeWriter()
    Applier(writer, parallelism=8).apply(plan)
    assert writer.log == [("delete", old.address), ("create", INBOX_Y.address)]


def test_parallelism_bounds_changes_in_flight():
    inboxes = [res(INBOX, inbox_address("a", f"i{n}@agentmail.to"), parent="pod/a") for n in range(12)]
    writer = FakeWriter(delay=0.02)
    Applier(writer, parallelism=3).apply(create_plan(*inboxes))
    assert writer.max_in_flight == 3


def test_stop_starts_nothing_new_and_reports_the_rest_as_not_started():
    stop = threading.Event()
    inboxes = [res(INBOX, inbox_address("a", f"i{n}@agentmail.to"), parent="pod/a") for n in range(6)]

    class StoppedWriter(FakeWriter):
        def create(self, resource, replacing=None):
            super().create(resource, replacing)
            stop.set()  # "Ctrl-C" as the first change completes

    writer = StoppedWriter(delay=0.05)
    result = Applier(writer, parallelism=2, stop=stop).apply(create_plan(*inboxes))
    assert len(result.having(DONE)) == 2  # the two in flight finished
    assert len(result.having(NOT_STARTED)) == 4 and not result.ok


def test_what_waits_on_a_step_starts_before_the_step_is_reported():
    """Reporting (printing, under many workers) must not hold up the steps that waited."""
    started: dict[str, threading.Event] = {r.address: threading.Event() for r in (DOM, INBOX_X)}

    class Writer(FakeWriter):
        def create(self, resource, replacing=None):
            if resource.address in started:
                started[resource.address].set()
            super().create(resource, replacing)

    started_when_reported = []

    def on_results(results):  # the pod's domain waits on the pod, the inbox on that domain
        for r in results:
            waiting = {POD_A.address: DOM.address, DOM.address: INBOX_X.address}.get(r.address)
            if waiting:
                started_when_reported.append(started[waiting].wait(5))

    result = Applier(Writer(), parallelism=4, on_results=on_results).apply(create_plan(POD_A, DOM, INBOX_X))
    assert result.ok and started_when_reported == [True, True]


def test_results_are_reported_once_each_in_batches():
    inboxes = [res(INBOX, inbox_address("a", f"i{n}@agentmail.to"), parent="pod/a") for n in range(30)]
    batches: list[list[str]] = []
    result = Applier(FakeWriter(), parallelism=8, on_results=lambda rs: batches.append([r.address for r in rs])).apply(
        create_plan(POD_A, *inboxes)
    )
    reported = [address for batch in batches for address in batch]
    assert sorted(reported) == sorted(r.address for r in result.results) and len(reported) == 31
    assert all(batches)


def _moved_inbox_on_deferred_domain(delete_first: bool):
    """Inbox x@mail.a.com moves into pod a: its create waits on its domain (deferred here) and on
    the old inbox's delete (failing here). ``delete_first``: which of the two ends first."""
    old = res(INBOX, inbox_address("b", "x@mail.a.com"), parent="pod/b")
    plan = Plan(
        changes=[
            *(Change(CREATE, r.address, desired=r) for r in (POD_A, DOM, INBOX_X)),
            Change(DELETE, old.address, actual=old),
        ]
    )
    first, second = (old.address, DOM.address) if delete_first else (DOM.address, old.address)
    second_may_end = threading.Event()

    class Writer(FakeWriter):
        def _do(self, phase, address):
            if address == second:
                assert second_may_end.wait(5)
            try:
                super()._do(phase, address)
            finally:
                if address == first:
                    threading.Timer(0.1, second_may_end.set).start()  # after the first is seen

    reported: list[tuple[str, str]] = []
    result = Applier(
        Writer(fail={old.address}, defer={DOM.address}),
        parallelism=4,
        on_result=lambda r: reported.append((r.address, r.outcome)),
    ).apply(plan)
    return old, result, reported


def test_a_step_blocked_by_a_failure_and_a_deferral_is_skipped_whichever_ends_first():
    """The report must not depend on timing: a change that waits on a failed step is skipped
    (its prerequisite failed), even when a deferred one had ended first."""
    for delete_first in (True, False):
        old, result, reported = _moved_inbox_on_deferred_domain(delete_first)
        outcome = {r.address: (r.outcome, r.message) for r in result.results}
        assert outcome[INBOX_X.address] == (SKIPPED, f"depends on delete of {old.address}"), delete_first
        assert outcome[DOM.address][0] == DEFERRED and outcome[old.address][0] == FAILED
        assert reported.count((INBOX_X.address, SKIPPED)) == 1 and len(reported) == 4


def test_an_interrupt_reports_a_step_already_blocked_by_a_failure_as_skipped():
    """Held for its last prerequisite, which the interrupt left unstarted, a step whose other
    prerequisite failed is still reported as skipped, naming the failure, not as not started."""
    old = res(INBOX, inbox_address("b", "x@mail.a.com"), parent="pod/b")
    plan = Plan(
        changes=[
            *(Change(CREATE, r.address, desired=r) for r in (POD_A, DOM, INBOX_X)),
            Change(DELETE, old.address, actual=old),
        ]
    )
    stop = threading.Event()

    class Writer(FakeWriter):
        def delete(self, resource):
            stop.set()  # "Ctrl-C" while the first step (deletes start first) runs
            super().delete(resource)

    result = Applier(Writer(fail={old.address}), parallelism=1, stop=stop).apply(plan)
    outcome = {r.address: (r.outcome, r.message) for r in result.results}
    assert outcome[INBOX_X.address] == (SKIPPED, f"depends on delete of {old.address}")
    assert outcome[POD_A.address][0] == outcome[DOM.address][0] == NOT_STARTED
