"""The planner compares values exactly (deepdiff, no float conversion), and deepdiff is loaded only
when a diff is computed, never at start-up."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from mailctl.plan.changes import UPDATE
from mailctl.plan.planner import attribute_changes, plan
from mailctl.resources import INBOX, POD, WEBHOOK, ActualState, DesiredState, Resource

BIG = 2**53


def _inbox_plan(want_meta: dict, have_meta: dict):
    desired, actual = DesiredState(), ActualState()
    for side, meta in ((desired, want_meta), (actual, have_meta)):
        side.add(Resource(POD, "pod/t", {}, observed={"client_id": "t"}, remote_id="id-t"))
        side.add(
            Resource(
                INBOX, "pod/t/inbox/x@agentmail.to", {"metadata": meta}, parent="pod/t", remote_id="x@agentmail.to"
            )
        )
    return plan(desired, actual)


def test_integers_beyond_float_precision_are_compared_exactly():
    (change,) = _inbox_plan({"n": BIG + 1}, {"n": BIG}).changes
    assert change.action == UPDATE
    assert [(d.path, d.before, d.after) for d in change.diff] == [("metadata.n", BIG, BIG + 1)]
    (change,) = _inbox_plan({"n": 9007199254740992}, {"n": 9007199254740993}).changes
    assert change.diff[0].after == 9007199254740992 and change.diff[0].before == 9007199254740993


def test_a_big_integer_differs_from_the_float_it_rounds_to():
    assert _inbox_plan({"n": BIG + 1}, {"n": float(BIG)}).changes
    assert not _inbox_plan({"n": BIG}, {"n": float(BIG)}).changes  # the same number


def test_integers_and_equal_floats_are_the_same_number_anywhere():
    assert not _inbox_plan({"n": 3, "l": [1, {"x": 2}]}, {"n": 3.0, "l": [1.0, {"x": 2.0}]}).changes


def test_booleans_are_not_numbers_inside_lists_and_maps_either():
    assert _inbox_plan({"l": [True]}, {"l": [1]}).changes
    assert _inbox_plan({"m": {"x": False}}, {"m": {"x": 0}}).changes
    assert attribute_changes(WEBHOOK, {"enabled": True}, {"enabled": 1})


def test_top_level_big_integers_and_lists_of_them_are_exact():
    assert attribute_changes(WEBHOOK, {"event_types": [BIG + 1]}, {"event_types": [BIG]})
    assert not attribute_changes(WEBHOOK, {"event_types": ["a", "b"]}, {"event_types": ["b", "a"]})


def test_the_diff_shows_values_as_they_are():
    (d,) = attribute_changes(INBOX, {"metadata": {"seats": 4}}, {"metadata": {"seats": 3.5}})
    assert (d.before, d.after) == (3.5, 4) and type(d.after) is int


def test_deepdiff_is_not_imported_at_start_up():
    code = (
        "import sys\nfrom mailctl.cli.main import cli\n"
        "try:\n    cli(['--version'])\nexcept SystemExit:\n    pass\n"
        "print('deepdiff loaded:', 'deepdiff' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "deepdiff loaded: False" in done.stdout, done.stdout


def test_equal_values_are_recognised_without_deepdiff(monkeypatch):
    """The planner's cheap exact comparison settles equal values; deepdiff only explains differences."""
    from mailctl.plan import planner as planner_module

    def no_deepdiff(*args, **kwargs):
        raise AssertionError("deepdiff called for equal values")

    monkeypatch.setattr(planner_module, "_deepdiff", no_deepdiff)
    assert not _inbox_plan(
        {"n": 3, "l": [1, {"x": 2.0}], "b": True, "s": "x", "z": None},
        {"n": 3.0, "l": [1.0, {"x": 2}], "b": True, "s": "x", "z": None},
    ).changes
    assert not attribute_changes(
        WEBHOOK, {"event_types": ["a", "b"], "enabled": False}, {"event_types": ["a", "b"], "enabled": False}
    )


leaves = st.one_of(
    st.booleans(),
    st.integers(-2, 2),
    st.sampled_from([BIG, BIG + 1, float(BIG), 2.0, 0.5]),
    st.floats(allow_nan=True),
    st.sampled_from(["a", "b"]),
    st.none(),
)
trees = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("xyz"), inner, max_size=3)),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(trees, trees)
def test_the_cheap_comparison_never_hides_a_difference_deepdiff_sees(a, b):
    from mailctl.plan.planner import _deepdiff, _same

    if _same(a, b):
        assert not _deepdiff(a, b)


def test_reordered_lists_compare_ints_and_floats_by_value_and_bools_apart():
    """Lists in another order go to deepdiff (the fast path cannot settle them): 3.0 is still 3
    there, and True is still not 1."""
    assert not attribute_changes(
        INBOX, {"metadata": {"l": [1, 3.0, {"x": 2.0}]}}, {"metadata": {"l": [{"x": 2}, 3, 1]}}
    )
    assert attribute_changes(INBOX, {"metadata": {"l": [True, 2]}}, {"metadata": {"l": [2, 1]}})
    assert attribute_changes(INBOX, {"metadata": {"l": [BIG + 1, 2]}}, {"metadata": {"l": [2, float(BIG)]}})


def test_a_number_written_once_as_int_and_once_as_float_in_a_reordered_list_is_no_change():
    """deepdiff's ignore_order counts 2 and 2.0 apart when both are in one list: the same values in
    another order (found by the property above) must not be an update."""
    assert not attribute_changes(INBOX, {"metadata": {"l": [1, 2, 2.0]}}, {"metadata": {"l": [2.0, 1, 2.0]}})
    assert not attribute_changes(INBOX, {"metadata": {"l": [[], 2, 2.0]}}, {"metadata": {"l": [2.0, [], 2]}})
    (d,) = attribute_changes(INBOX, {"metadata": {"l": [1, 2, 2.0]}}, {"metadata": {"l": [2.0, 1, 3]}})
    assert d.path.startswith("metadata.l")
