"""Another shard's creates that this apply waits for (``Change.owner``) are not changes of its own:
found, they are counted apart from what it did; waited for in vain, apart from what it deferred;
and the step callback (the CLI's lines and progress) sees only the plan's own steps."""

from __future__ import annotations

from mailctl.apply import DEFERRED, DONE, FAILED, FOUND, Applier, ApplyResult, StepResult
from mailctl.errors import ApiError, Deferred
from mailctl.plan.changes import CREATE, Change, Plan
from mailctl.plan.steps import change_steps
from mailctl.resources import INBOX, POD, WEBHOOK, Resource, inbox_address, pod_address, webhook_address

POD_T = Resource(POD, pod_address("t"), {"name": "T"})
INBOX_T = Resource(INBOX, inbox_address("t", "t-a@agentmail.to"), {}, parent=POD_T.address)
HOOK = Resource(WEBHOOK, webhook_address("audit"), {"url": "https://x", "pods": ["t"], "inboxes": ["t-a@agentmail.to"]})


class Writer:
    """Creates succeed; another shard's creates are found unless listed in ``missing`` / ``broken``."""

    def __init__(self, missing: set[str] = frozenset(), broken: set[str] = frozenset()):
        self.missing, self.broken = missing, broken
        self.log: list[tuple[str, str]] = []

    def create(self, resource: Resource, replacing: Resource | None = None) -> None:
        self.log.append(("create", resource.address))

    def await_created(self, resource: Resource, owner: str) -> None:
        self.log.append(("await", resource.address))
        if resource.address in self.broken:
            raise ApiError(500, "internal_error", "boom")
        if resource.address in self.missing:
            raise Deferred("not created yet", shard=owner)


def _plan() -> Plan:
    awaited = [Change(CREATE, r.address, desired=r, owner="3/3") for r in (POD_T, INBOX_T)]
    return Plan(changes=[Change(CREATE, HOOK.address, desired=HOOK)], awaited=awaited)


def _apply(writer: Writer) -> tuple[list[StepResult], list[StepResult]]:
    seen: list[StepResult] = []
    result = Applier(writer, on_result=seen.append).apply(_plan())  # type: ignore[arg-type]
    return result.results, seen


def test_another_shards_creates_found_are_counted_apart_from_what_this_apply_did():
    writer = Writer()
    results, seen = _apply(writer)
    outcome = {r.address: (r.outcome, r.awaited, r.shard) for r in results}
    assert outcome == {
        POD_T.address: (FOUND, True, "3/3"),
        INBOX_T.address: (FOUND, True, "3/3"),
        HOOK.address: (DONE, False, None),
    }
    assert writer.log[-1] == ("create", HOOK.address)  # after both were found
    result = ApplyResult(results)
    assert [r.address for r in result.having(DONE)] == [HOOK.address]
    assert [r.address for r in result.found] == [POD_T.address, INBOX_T.address] and result.ok


def test_the_step_callback_sees_only_the_plans_own_steps_so_progress_matches_the_plan():
    _, seen = _apply(Writer())
    assert [r.address for r in seen] == [HOOK.address]
    assert len(change_steps(_plan())) == len(seen) == 1


def test_a_wait_for_another_shards_pod_in_vain_keeps_what_waits_on_it_in_that_shard():
    results, seen = _apply(Writer(missing={POD_T.address}))
    outcome = {r.address: (r.outcome, r.awaited) for r in results}
    # The inbox is the other shard's too: waited for, never one of this shard's deferred changes.
    assert outcome == {
        POD_T.address: (DEFERRED, True),
        INBOX_T.address: (DEFERRED, True),
        HOOK.address: (DEFERRED, False),
    }
    assert [r.address for r in seen] == [HOOK.address]


def test_a_wait_that_breaks_is_reported_as_that_wait_not_as_this_shards_create():
    results, _ = _apply(Writer(broken={INBOX_T.address}))
    failed = ApplyResult(results).having(FAILED)
    assert [(r.address, r.awaited, r.shard) for r in failed] == [(INBOX_T.address, True, "3/3")]


def test_the_python_api_report_lists_another_shards_creates_found_apart_from_done():
    from mailctl.project import ApplyReport

    results, _ = _apply(Writer())
    report = ApplyReport(results, [])
    assert [r.address for r in report.done] == [HOOK.address]
    assert [r.address for r in report.found] == [POD_T.address, INBOX_T.address]
    assert report.waited_for == [] and report.ok
