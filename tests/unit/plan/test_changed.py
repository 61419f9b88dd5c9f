"""What a config edit selects (``mailctl.plan.changed``): two loaded configs in, addresses and why out."""

from __future__ import annotations

from typing import Any

import yaml

from mailctl.config import load_texts
from mailctl.plan.changed import changed
from mailctl.resources import DesiredState, address_matches, literal

BASE: dict[str, Any] = {
    "version": 1,
    "manage": {"pods": {"client_id_prefix": "t-"}},
    "api_keys": {"ci": {"permissions": {"inbox_read": True}}},
    "pods": {
        "t-a": {"name": "A", "inboxes": {"a@agentmail.to": {"display_name": "A"}}},
        "t-b": {"name": "B", "inboxes": {"b@agentmail.to": {"display_name": "B"}}},
    },
}


def state(data: dict[str, Any]) -> DesiredState:
    return load_texts({"mailctl.yaml": yaml.safe_dump(data)}).state


def edit(path: tuple[str, ...], value: Any, data: dict[str, Any] = BASE) -> dict[str, Any]:
    copy: dict[str, Any] = yaml.safe_load(yaml.safe_dump(data))
    node = copy
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return copy


def test_the_same_config_selects_nothing():
    assert changed(state(BASE), state(BASE)).empty


def test_an_attribute_edit_selects_that_address_and_names_the_attribute():
    selection = changed(state(BASE), state(edit(("pods", "t-a", "inboxes", "a@agentmail.to", "display_name"), "X")))
    assert selection.reasons == {"pod/t-a/inbox/a@agentmail.to": "changed: display_name"}


def test_a_removed_pod_is_selected_once_for_deletion_with_what_is_under_it():
    selection = changed(state(BASE), state(edit(("pods", "t-b"), None)))
    assert selection.reasons == {"pod/t-b": "removed: deleted if it is managed (and 1 under it)"}


def test_an_added_pod_is_selected_at_the_pod():
    pod = {"name": "C", "inboxes": {"c@agentmail.to": {}}}
    selection = changed(state(BASE), state(edit(("pods", "t-c"), pod)))
    assert selection.reasons == {"pod/t-c": "added (and 1 under it)"}


def test_an_organisation_level_edit_selects_the_organisation_level_address():
    selection = changed(state(BASE), state(edit(("api_keys", "ci", "permissions"), {"inbox_read": False})))
    assert list(selection.reasons) == ["api_key/ci"]


def test_prevent_destroy_alone_is_a_difference():
    selection = changed(state(BASE), state(edit(("pods", "t-a", "prevent_destroy"), True)))
    assert selection.reasons == {"pod/t-a": "changed: prevent_destroy"}


def test_ignore_changes_alone_is_a_difference():
    """An attribute no longer ignored may now need an update: the edit selects its resource
    (``what.append("ignore_changes")``: without it the edit selected nothing)."""
    inbox = ("pods", "t-a", "inboxes", "a@agentmail.to", "ignore_changes")
    selection = changed(state(BASE), state(edit(inbox, ["display_name"])))
    assert selection.reasons == {"pod/t-a/inbox/a@agentmail.to": "changed: ignore_changes"}


def test_a_settings_edit_is_noted_and_selects_nothing():
    """``settings`` tune the rails and declare no resource: the note says so, and the plan is not
    widened (without the note, ``--changed-since`` said nothing of the edit at all)."""
    selection = changed(state(BASE), state(edit(("settings",), {"safety": {"min_existing": 3}})))
    assert selection.notes == ["settings changed (they select no resource)"]
    assert selection.reasons == {} and not selection.everything and not selection.patterns
    assert changed(state(BASE), state(BASE)).notes == []


def test_a_template_edit_selects_every_tenant_it_stamps_out():
    template = {
        "version": 1,
        "kind": "template",
        "name": "tenant",
        "parameters": {"company": {"type": "string", "required": True}},
        "pod": {"client_id": "t-${tenant}", "name": "${company}", "inboxes": {"${tenant}@agentmail.to": {}}},
    }
    tenants = yaml.safe_dump(
        {"version": 1, "template": "tenant", "tenants": {f"x{n}": {"company": "C"} for n in range(5)}}
    )
    before = load_texts({"template.yaml": yaml.safe_dump(template), "tenants.yaml": tenants}).state
    template["pod"]["inboxes"]["${tenant}@agentmail.to"] = {"display_name": "${company}"}
    after = load_texts({"template.yaml": yaml.safe_dump(template), "tenants.yaml": tenants}).state
    assert sorted(changed(before, after).reasons) == [f"pod/t-x{n}/inbox/x{n}@agentmail.to" for n in range(5)]


def test_a_changed_manage_policy_selects_everything():
    selection = changed(state(BASE), state(edit(("manage", "pods", "client_id_prefix"), "u-")))
    assert selection.everything is not None and "manage policy" in selection.everything


def test_lists_becoming_managed_in_a_scope_selects_its_list_entries():
    selection = changed(state(BASE), state(edit(("pods", "t-a", "lists"), {})))
    assert selection.patterns == {"pod/t-a/list/*": "`lists` now managed at pod/t-a"}


def test_a_moved_block_selects_both_of_its_addresses():
    moved = edit(("moved",), [{"from": "api_key/old-ci", "to": "api_key/ci"}])
    assert set(changed(state(BASE), state(moved)).reasons) == {"api_key/old-ci", "api_key/ci"}


def test_targets_match_the_selected_address_literally_not_as_a_glob():
    pattern = literal("list/send/block/[x]*?.example")
    assert address_matches("list/send/block/[x]*?.example", pattern)
    assert not address_matches("list/send/block/x-any.example", pattern)


def test_a_removed_pod_whose_lists_were_managed_is_selected_once():
    with_lists = edit(("pods", "t-b", "lists"), {"receive": {"allow": ["x@example.com"]}})
    selection = changed(state(with_lists), state(edit(("pods", "t-b"), None)))
    assert selection.reasons == {"pod/t-b": "removed: deleted if it is managed (and 2 under it)"}
    assert selection.patterns == {}  # targeting pod/t-b takes its list entries


def test_lists_no_longer_managed_in_a_changed_pod_say_so_at_the_pod():
    with_lists = edit(("pods", "t-a", "lists"), {})
    selection = changed(state(with_lists), state(edit(("pods", "t-a", "name"), "A2")))
    assert selection.reasons == {"pod/t-a": "changed: name; `lists` no longer managed"}
    assert selection.patterns == {}
