"""Children replaced only because their pod is are listed apart and not counted as drift; a
child with drift of its own (a diff, a rename, an unrecorded or half-replaced key) still is."""

from __future__ import annotations

import json

from mailctl.plan.changes import REPLACE, AttributeChange, Change, Plan
from mailctl.plan.drift import DriftReport, render
from mailctl.resources import API_KEY, INBOX, POD, Observed, Resource

POD_ADDR = "pod/acme"
INBOX_ADDR = "pod/acme/inbox/bot@agentmail.to"
KEY_ADDR = "pod/acme/api_key/backend"
WHY = "pod/acme is replaced"


def _pod_replaced() -> Change:
    have = Resource(POD, POD_ADDR, {"name": "Acme"})
    return Change(REPLACE, POD_ADDR, actual=have, diff=[AttributeChange("name", "Acme", "Acme Corp", True)])


def _child(
    address: str = INBOX_ADDR,
    observed: Observed | None = None,
    diff: list[AttributeChange] | None = None,
    moved_from: str | None = None,
) -> Change:
    kind = INBOX if "/inbox/" in address else API_KEY
    have = Resource(kind, address, {}, parent=POD_ADDR, observed=observed or Observed())
    return Change(REPLACE, address, actual=have, diff=diff or [], reason=WHY, moved_from=moved_from)


def _report(*children: Change) -> DriftReport:
    return DriftReport.from_plan(Plan(changes=[_pod_replaced(), *children]))


def _changed(report: DriftReport) -> list[str]:
    return [c.address for c in report.changed]


def test_a_child_replaced_only_with_its_pod_is_listed_apart_and_not_counted():
    """Deleting `report.replaced_with_pod.append(change)` dropped the child from every format."""
    report = _report(_child())
    document = json.loads(render(report, "json"))
    assert [c["address"] for c in document["replaced_with_pod"]] == [INBOX_ADDR]
    assert document["summary"]["replaced_with_pod"] == 1 and document["summary"]["total"] == 1
    assert [c["address"] for c in document["changed"]] == [POD_ADDR]


def test_the_headline_says_how_many_more_are_replaced_with_their_pod():
    """Deleting the `aside` line hid the count of children going with their pod from the headline."""
    text = render(_report(_child(), _child(KEY_ADDR)), "text")
    assert text.endswith(
        "Drift: 1 resource(s) differ from the configuration — 1 changed, 0 missing, 0 undeclared "
        "(0 unmanaged; 2 more replaced with their pod)."
    )
    assert "\nReplaced with their pod (nothing of theirs differs; not counted):\n" in text
    assert f"  {INBOX_ADDR}\n      # {WHY}\n" in text


def test_a_child_with_its_own_diff_is_drift():
    """Without `change.diff or` in _only_with_its_pod, a child's own diff was hidden under its pod."""
    report = _report(_child(diff=[AttributeChange("display_name", "A", "B")]))
    assert _changed(report) == [POD_ADDR, INBOX_ADDR] and report.replaced_with_pod == []


def test_a_renamed_child_is_drift():
    """Without the `moved_from` check, a rename inside a replaced pod was not counted."""
    report = _report(_child(moved_from="pod/acme/inbox/old@agentmail.to"))
    assert _changed(report) == [POD_ADDR, INBOX_ADDR] and report.replaced_with_pod == []


def test_a_key_whose_secret_was_never_recorded_is_drift_even_in_a_replaced_pod():
    """Without `observed.unrecorded`, a key nobody has the secret of was not counted."""
    report = _report(_child(KEY_ADDR, observed=Observed(unrecorded=True)))
    assert _changed(report) == [POD_ADDR, KEY_ADDR]


def test_the_old_half_of_an_unfinished_key_replacement_is_drift_even_in_a_replaced_pod():
    """Without `observed.replaced`, the leftover of an interrupted key replacement was not counted."""
    report = _report(_child(KEY_ADDR, observed=Observed(replaced=True)))
    assert _changed(report) == [POD_ADDR, KEY_ADDR]


def test_a_replaced_child_of_a_pod_that_is_not_replaced_is_drift():
    """Without `pod in replaced_pods`, every replaced child was taken for a consequence of its pod."""
    report = DriftReport.from_plan(Plan(changes=[_child()]))
    assert _changed(report) == [INBOX_ADDR] and report.replaced_with_pod == []


def test_a_replaced_pod_is_drift_of_its_own_even_without_a_diff():
    """Without `pod != change.address`, a pod replaced for a reason of its own counted as its own child."""
    pod = Change(REPLACE, POD_ADDR, actual=Resource(POD, POD_ADDR, {}), reason="replaced by hand")
    report = DriftReport.from_plan(Plan(changes=[pod]))
    assert _changed(report) == [POD_ADDR] and report.replaced_with_pod == []
