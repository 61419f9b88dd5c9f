"""The ordering rules of single steps (``mailctl.plan.steps``): which step waits for which. Each
rule is pinned by what it orders, through ``dependencies`` (the whole graph) and ``Prerequisites``
(one step at a time, what ``--target`` walks): both must give the same answer."""

from __future__ import annotations

import pytest

from mailctl.plan.changes import CREATE, DELETE, REPLACE, Change, Plan
from mailctl.plan.steps import Prerequisites, dependencies, steps_of
from mailctl.resources import API_KEY, DOMAIN, INBOX, POD, Resource, domain_address, inbox_address, pod_address


def _both(plan: Plan) -> dict:
    steps = steps_of(plan)
    whole = dependencies(steps)
    one_by_one = Prerequisites(steps)
    assert {step: one_by_one.of(step) for step in steps} == whole
    return whole


def _inbox(pod: str, email: str, **attrs: object) -> Resource:
    return Resource(INBOX, inbox_address(pod, email), dict(attrs), parent=pod_address(pod))


@pytest.mark.parametrize("create_first", [False, True])
def test_a_replacement_deletes_then_creates_unless_it_creates_first(create_first: bool) -> None:
    old = Resource(API_KEY, "pod/a/api_key/agent", {"name": "agent"}, parent=pod_address("a"))
    new = Resource(API_KEY, "pod/a/api_key/agent", {"name": "agent", "scope": "new"}, parent=pod_address("a"))
    plan = Plan(changes=[Change(REPLACE, old.address, desired=new, actual=old, create_first=create_first)])
    needs = _both(plan)
    create, delete = (old.address, CREATE), (old.address, DELETE)
    if create_first:
        assert needs[create] == set() and needs[delete] == {create}  # the old one goes once the new one exists
    else:
        assert needs[create] == {delete} and needs[delete] == set()  # the name is freed first


def test_a_domain_moved_into_a_pod_is_created_only_after_the_old_one_is_deleted() -> None:
    """A domain's name is unique organisation-wide: the same name at a new address waits for the
    delete of the old one, whatever its address."""
    old = Resource(DOMAIN, domain_address("x.example"), {"domain": "x.example"})
    pod = Resource(POD, pod_address("a"), {"name": "a"})
    new = Resource(DOMAIN, domain_address("x.example", "a"), {"domain": "x.example"}, parent=pod.address)
    plan = Plan(
        changes=[
            Change(CREATE, pod.address, desired=pod),
            Change(CREATE, new.address, desired=new),
            Change(DELETE, old.address, actual=old),
        ]
    )
    needs = _both(plan)
    assert old.name == new.name == "x.example"
    assert needs[(new.address, CREATE)] == {(pod.address, CREATE), (old.address, DELETE)}
    assert needs[(old.address, DELETE)] == set()


def test_an_inbox_moved_between_pods_is_created_after_the_old_one_is_deleted() -> None:
    old, new = _inbox("a", "x@agentmail.to"), _inbox("b", "x@agentmail.to")
    plan = Plan(changes=[Change(CREATE, new.address, desired=new), Change(DELETE, old.address, actual=old)])
    assert _both(plan)[(new.address, CREATE)] == {(old.address, DELETE)}


def test_no_kind_whose_name_is_unique_is_created_before_its_old_one_is_deleted() -> None:
    """Created first, the new one would wait for the old one's delete (its name is taken) and the
    old one for the new one: a cycle. Only kinds whose names may repeat (keys) create first."""
    from mailctl.kinds import SPECS

    assert [k for k, s in SPECS.items() if s.unique_name and s.create_before_destroy] == []
    assert [k for k, s in SPECS.items() if s.create_before_destroy] == [API_KEY]
