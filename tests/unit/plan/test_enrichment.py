"""Plan, then facts, then finish: the facts (what doomed inboxes hold, domain statuses) are read
for exactly the changes of the narrowed plan, and the pure pipeline puts them on the plan."""

from __future__ import annotations

from typing import Any

from mailctl.api.facts import read_facts
from mailctl.plan.changes import Plan
from mailctl.plan.pipeline import make_plan as pipeline_plan
from mailctl.resources import (
    DOMAIN,
    INBOX,
    POD,
    ActualState,
    DesiredState,
    ManagePolicy,
    Resource,
    domain_address,
    inbox_address,
    pod_address,
)

HELD = {"threads": 1, "messages": 2, "drafts": 0}


def pod(client_id: str, **attrs: Any) -> Resource:
    return Resource(
        POD, pod_address(client_id), dict(attrs), observed={"client_id": client_id}, remote_id=f"id-{client_id}"
    )


def inbox(pod_id: str, email: str, **attrs: Any) -> Resource:
    return Resource(INBOX, inbox_address(pod_id, email), dict(attrs), parent=pod_address(pod_id), remote_id=email)


def domain(name: str) -> Resource:
    return Resource(DOMAIN, domain_address(name), {}, remote_id=f"d-{name}")


def states(
    desired: list[Resource], actual: list[Resource], prefixes: tuple[str, ...] = ()
) -> tuple[DesiredState, ActualState]:
    d, a = DesiredState(manage=ManagePolicy(prefixes)), ActualState()
    for r in desired:
        d.add(r)
    for r in actual:
        a.add(r)
    return d, a


class FakeReader:
    """Records which facts were asked for; answers HELD for every inbox and PENDING for domains."""

    def __init__(self) -> None:
        self.counted: list[str] = []
        self.statuses: list[str] = []

    def count_inbox_data(self, inbox_ids: list[str]) -> dict[str, dict[str, int]]:
        self.counted += inbox_ids
        return {i: dict(HELD) for i in inbox_ids}

    def domain_statuses(self, domains: list[Resource], state: ActualState) -> dict[str, str | None]:
        self.statuses += [d.address for d in domains]
        return {d.address: "PENDING" for d in domains}

    def mail_unseen(self, state: ActualState) -> str:
        return ""  # a key that sees every label


def make_plan(
    desired: DesiredState, actual: ActualState, targets: list[str] = (), excludes: list[str] = ()
) -> tuple[Plan, FakeReader]:
    reader = FakeReader()
    facts = lambda needed: read_facts(reader, needed, actual)  # type: ignore[arg-type]  # noqa: E731
    return pipeline_plan(desired, actual, facts, list(targets), list(excludes)), reader


def test_a_no_op_plan_reads_no_facts():
    desired, actual = states(
        [pod("t", name="T"), inbox("t", "a@x.test")], [pod("t", name="T"), inbox("t", "a@x.test"), domain("x.test")]
    )
    _, reader = make_plan(desired, actual)
    assert reader.counted == [] and reader.statuses == []


def test_an_undeclared_inbox_in_a_declared_pod_is_counted_and_the_plan_shows_it():
    desired, actual = states([pod("t", name="T")], [pod("t", name="T"), inbox("t", "gone@agentmail.to")])
    plan, reader = make_plan(desired, actual)
    assert reader.counted == ["gone@agentmail.to"]
    assert [(c.action, c.data_at_risk) for c in plan.changes] == [("delete", HELD)]


def test_inboxes_of_pods_mailctl_does_not_manage_are_never_counted():
    desired, actual = states([pod("t", name="T")], [pod("other", name="O"), inbox("other", "x@agentmail.to")])
    _, reader = make_plan(desired, actual)
    assert reader.counted == []


def test_a_replaced_pod_counts_its_declared_inboxes():
    desired, actual = states(
        [pod("t", name="New"), inbox("t", "a@agentmail.to")], [pod("t", name="Old"), inbox("t", "a@agentmail.to")]
    )
    plan, reader = make_plan(desired, actual)
    assert reader.counted == ["a@agentmail.to"]
    assert plan.by_address()["pod/t/inbox/a@agentmail.to"].data_at_risk == HELD


def test_a_targeted_plan_reads_facts_only_for_its_own_changes():
    desired, actual = states(
        [pod("a", name="A"), pod("b", name="B")],
        [pod("a", name="A"), inbox("a", "x@agentmail.to"), pod("b", name="B"), inbox("b", "y@agentmail.to")],
    )
    _, reader = make_plan(desired, actual, targets=["pod/a"])
    assert reader.counted == ["x@agentmail.to"]
    _, reader = make_plan(desired, actual, excludes=["pod/a"])
    assert reader.counted == ["y@agentmail.to"]


def test_an_inbox_created_on_an_unverified_domain_is_noted_once_and_only_when_selected():
    desired, actual = states(
        [pod("t", name="T"), inbox("t", "a@x.test"), domain("x.test")], [pod("t", name="T"), domain("x.test")]
    )
    plan, reader = make_plan(desired, actual)
    assert reader.statuses == ["domain/x.test"]
    assert plan.notes == [
        "1 inbox(es) on domain/x.test (PENDING) are created only once it verifies: apply "
        "starts verification; see `mailctl dns`, `--wait-for-domains`"
    ]
    plan, reader = make_plan(desired, actual, excludes=["pod/t/inbox/*"])
    assert plan.notes == [] and reader.statuses == []
