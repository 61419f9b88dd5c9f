"""Apply's report that the mutation sweep of ``apply.py`` found unpinned: each test names the line
whose deletion (or negated ``if``) it catches
(``.ci/mutate.py --sweep src/mailctl/apply.py tests/unit/test_apply_report_sweep.py``)."""

from __future__ import annotations

import threading

import click
import pytest

from mailctl.api.writer import ApiWriter
from mailctl.apply import DONE, FAILED, NOT_STARTED, SKIPPED, Applier, ApplyResult
from mailctl.cli.apply_cmd import _print_steps, _report
from mailctl.errors import ApiError, MailctlError
from mailctl.ops.apply import ApplyOutcome
from mailctl.ops.planning import Planned
from mailctl.plan.changes import CREATE, Change, Plan
from mailctl.resources import (
    API_KEY,
    DOMAIN,
    INBOX,
    POD,
    WEBHOOK,
    ActualState,
    DesiredState,
    Resource,
    api_key_address,
    domain_address,
    inbox_address,
    pod_address,
    webhook_address,
)

POD_A = Resource(POD, pod_address("a"), {"name": "A"})
POD_B = Resource(POD, pod_address("b"), {"name": "B"})
# An org-level domain, an inbox on it in a pod this plan does not create, a key in that inbox: a
# chain where the key waits for the domain only through the inbox.
DOMAIN_B = Resource(DOMAIN, domain_address("mail.b.example"), {})
INBOX_B = Resource(INBOX, inbox_address("b", "x@mail.b.example"), {}, parent=POD_B.address)
KEY_B = Resource(API_KEY, api_key_address("k", pod="b", inbox="x@mail.b.example"), {}, parent=INBOX_B.address)
INBOX_A = Resource(INBOX, inbox_address("a", "a@agentmail.to"), {}, parent=POD_A.address)
HOOK = Resource(WEBHOOK, webhook_address("audit"), {"url": "https://x", "pods": ["t"]})
POD_T = Resource(POD, pod_address("t"), {"name": "T"})  # another shard's


class Writer:
    """Creates succeed, except those listed in ``raises`` (address -> what the create raises)."""

    def __init__(self, raises: dict[str, BaseException] | None = None) -> None:
        self.raises = raises or {}
        self.created: list[str] = []

    def create(self, resource: Resource, replacing: Resource | None = None) -> None:
        if resource.address in self.raises:
            raise self.raises[resource.address]
        self.created.append(resource.address)

    def await_created(self, resource: Resource, owner: str) -> None:
        self.created.append(resource.address)


def _creates(*resources: Resource) -> Plan:
    return Plan(changes=[Change(CREATE, r.address, desired=r) for r in resources])


def _apply(plan: Plan, writer: Writer) -> ApplyResult:
    return Applier(writer).apply(plan)  # type: ignore[arg-type]  # the two methods it calls


def test_an_api_error_is_reported_in_its_own_words_not_as_an_internal_error() -> None:
    """Negating ``if isinstance(exc, MailctlError):`` in ``_failure``, or deleting its
    ``return str(exc)``, reported every API refusal as ``internal error: ApiError: ...``."""
    writer = Writer({POD_A.address: ApiError(409, "already_exists", "client_id taken")})
    [failed] = _apply(_creates(POD_A), writer).having(FAILED)
    assert failed.message == "409 already_exists: client_id taken"


def test_an_unexpected_exception_fails_its_step_as_an_internal_error_and_the_rest_carries_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Deleting ``return f"internal error: ..."`` in ``_failure`` left the failure without a
    message (``None``): the line said neither that it was a bug nor what it was."""
    writer = Writer({POD_A.address: RuntimeError("bad state\x1b[2J")})
    result = _apply(_creates(POD_A, POD_B), writer)
    assert {r.address: r.outcome for r in result.results} == {POD_A.address: FAILED, POD_B.address: DONE}
    [failed] = result.having(FAILED)
    assert failed.message == "internal error: RuntimeError: bad state\x1b[2J"
    _print_steps([failed])
    assert capsys.readouterr().err == "pod/a: create FAILED: internal error: RuntimeError: bad state\\x1b[2J\n"


def test_a_failure_skips_what_waits_on_it_through_another_step_naming_each_ones_own_blocker() -> None:
    """Deleting the ``todo.append`` in ``_Graph.finish`` (``blocked_by`` then) stopped at the direct
    dependents: the key in the skipped inbox was left pending and the apply ended in a false
    "dependency cycle" error instead of a report."""
    writer = Writer({DOMAIN_B.address: ApiError(500, "internal_error", "boom")})
    result = _apply(_creates(DOMAIN_B, INBOX_B, KEY_B, POD_A), writer)
    assert [(r.address, r.message) for r in result.having(SKIPPED)] == [
        (INBOX_B.address, f"depends on create of {DOMAIN_B.address}"),
        (KEY_B.address, f"depends on create of {INBOX_B.address}"),
    ]
    assert [r.address for r in result.having(DONE)] == [POD_A.address]


@pytest.mark.timeout(30)  # the mutation this catches hangs: fail it in seconds, not at the suite's limit
def test_a_dependency_cycle_is_an_error_naming_its_steps_not_a_hang() -> None:
    """Deleting ``raise MailctlError(f"dependency cycle among ...")`` left the scheduler looping
    forever on steps that can never start. (The planner makes no cycle; a pod whose parent is its
    own inbox forces one.)"""
    box = inbox_address("a", "x@agentmail.to")
    pod = Resource(POD, POD_A.address, {"name": "A"}, parent=box)
    inbox = Resource(INBOX, box, {}, parent=POD_A.address)
    writer = Writer()
    with pytest.raises(MailctlError, match="dependency cycle among") as caught:
        _apply(_creates(pod, inbox), writer)
    assert POD_A.address in str(caught.value) and box in str(caught.value)
    assert writer.created == []


def test_the_summary_counts_only_this_applys_own_changes_as_not_started(capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C under ``--shard`` before the wait for another shard's pod started: the shard's own
    changes were its pod (done), an inbox and the webhook (not started), as its progress counted;
    the wait for the other shard's pod is no change of this apply."""
    stop = threading.Event()

    class StoppedWriter(Writer):
        def create(self, resource: Resource, replacing: Resource | None = None) -> None:
            super().create(resource, replacing)
            stop.set()  # Ctrl-C as this shard's own pod is created

    awaited = [Change(CREATE, POD_T.address, desired=POD_T, owner="3/3")]
    plan = Plan(changes=_creates(POD_A, INBOX_A, HOOK).changes, awaited=awaited)
    progress: list[str] = []
    # One worker: pod/a and pod/t each have a step waiting on them; pod/a goes first by address.
    writer: ApiWriter = StoppedWriter()  # type: ignore[assignment]  # the two methods apply calls
    result = Applier(writer, parallelism=1, stop=stop, on_result=lambda r: progress.append(r.address)).apply(plan)
    assert progress == [POD_A.address, INBOX_A.address, HOOK.address]
    assert [(r.address, r.awaited) for r in result.having(NOT_STARTED)] == [
        (INBOX_A.address, False),
        (POD_T.address, True),  # never waited for: neither found nor waited for in vain
        (HOOK.address, False),
    ]
    _report(result, ApplyOutcome(Planned(DesiredState(), ActualState(), plan), result, None))
    printed = click.unstyle(capsys.readouterr().out).splitlines()
    assert printed[-1] == (
        "Apply incomplete! 1 done, 0 failed, 0 skipped, 0 deferred, 2 not started; "
        "waited for 1 made by another shard, 0 found."
    )
    waited = printed.index("Waited for (made by another shard):")
    assert printed[waited + 1] == f"  {POD_T.address}: interrupted before it started"
    not_started = printed.index("Not started:")
    assert printed[not_started + 1 : not_started + 3] == [
        f"  create {INBOX_A.address}: interrupted before it started",
        f"  create {HOOK.address}: interrupted before it started",
    ]
    assert [r.address for r in result.not_started] == [INBOX_A.address, HOOK.address]
    assert [r.address for r in result.waited_for] == [POD_T.address]
