"""Export/import selection (pure): whatever is picked, the printed config plans with zero changes
against the state it came from; the header says how the selection was widened."""

from __future__ import annotations

import pytest

from mailctl.config import load_texts
from mailctl.export import export_tree, select_for_import, select_pods, to_yaml
from mailctl.plan import planner
from mailctl.resources import (
    API_KEY,
    DOMAIN,
    INBOX,
    LIST_ENTRY,
    POD,
    WEBHOOK,
    ActualState,
    Resource,
    api_key_address,
    domain_address,
    inbox_address,
    list_entry_address,
    pod_address,
)


def _account() -> ActualState:
    state = ActualState()

    def add(kind: str, address: str, attrs: dict | None = None, parent: str | None = None, **observed) -> None:
        state.add(Resource(kind, address, attrs or {}, parent=parent, remote_id=address, observed=observed))

    add(DOMAIN, domain_address("org.test"), {"feedback_enabled": True})
    add(DOMAIN, domain_address("other.test"), {"feedback_enabled": False})
    add(API_KEY, api_key_address("org-reader"), {"permissions": {"pod_read": True}})
    add(LIST_ENTRY, list_entry_address("receive", "block", "a.example"), {"reason": "spam"})
    add(LIST_ENTRY, list_entry_address("receive", "block", "b.example"))
    pod = pod_address("t1")
    add(POD, pod, {"name": "T1"}, client_id="t1")
    for email in ("a@agentmail.to", "b@org.test"):
        add(INBOX, inbox_address("t1", email), {"display_name": email}, parent=pod)
    inbox = inbox_address("t1", "a@agentmail.to")
    add(API_KEY, api_key_address("agent", pod="t1", inbox="a@agentmail.to"), {"permissions": None}, parent=inbox)
    add(API_KEY, api_key_address("backend", pod="t1"), {"permissions": None}, parent=pod)
    add(
        API_KEY,
        api_key_address("backend#old-id", pod="t1"),
        {"permissions": None},
        parent=pod,
        superseded=True,
        declared_address=api_key_address("backend", pod="t1"),
    )
    add(LIST_ENTRY, list_entry_address("send", "allow", "p.example", pod="t1"), parent=pod)
    add(POD, pod_address("t2"), {"name": "T2"}, client_id="t2")
    return state


def _changes(tree: dict, actual: ActualState) -> list[str]:
    desired = load_texts({"<stdout>": to_yaml(tree, [])}).state
    return [f"{c.action} {c.address}" for c in planner.plan(desired, actual).changes]


@pytest.mark.parametrize(
    "patterns",
    [
        ["pod/t1/inbox/a@agentmail.to"],
        ["pod/t1/inbox/a@agentmail.to/api_key/agent"],
        ["pod/t1/list/send/allow/p.example"],
        ["pod/t1/api_key/*"],
        ["domain/org.test"],
        ["list/receive/block/a.example"],
        ["api_key/org-reader"],
        ["pod/t*"],
        ["*"],
    ],
)
def test_any_import_selection_plans_with_zero_changes(patterns: list[str]) -> None:
    actual = _account()
    assert _changes(export_tree(select_for_import(actual, patterns).state), actual) == []


def test_part_of_a_pod_brings_the_whole_pod_and_its_inboxes_org_domain() -> None:
    selection = select_for_import(_account(), ["pod/t1/inbox/a@agentmail.to"])
    tree = export_tree(selection.state)
    assert set(tree["pods"]["t1"]["inboxes"]) == {"a@agentmail.to", "b@org.test"}
    assert list(tree["domains"]) == ["org.test"]
    assert "pod/t2" not in selection.state.resources
    assert selection.notes == [
        "pod/t1 is imported whole: mailctl deletes the undeclared children of a declared pod, so "
        "declaring part of it would delete the rest",
        "domain/org.test is included: the selected inboxes use it (drop it if your config declares it already)",
        "pod/t1/api_key/backend#old-id is left out: superseded by a newer key of the same name "
        "(mid-rotation; `mailctl rotate --retire-old` removes it)",
    ]


def test_one_org_list_entry_brings_the_others_and_org_resources_come_alone() -> None:
    selection = select_for_import(_account(), ["list/receive/block/a.example", "api_key/org-reader"])
    assert set(selection.state.resources) == {
        "list/receive/block/a.example",
        "list/receive/block/b.example",
        "api_key/org-reader",
    }
    assert any("every organisation list entry" in note for note in selection.notes)


def test_export_of_selected_pods_includes_the_org_domains_their_inboxes_use() -> None:
    actual = _account()
    selection = select_pods(actual, ["t1"])
    tree = export_tree(selection.state)
    assert list(tree["domains"]) == ["org.test"] and "api_keys" not in tree and list(tree["pods"]) == ["t1"]
    assert _changes(tree, actual) == []


def test_full_export_mid_rotation_leaves_the_superseded_key_out_and_plans_clean() -> None:
    actual = _account()
    selection = select_pods(actual)
    tree = export_tree(selection.state)
    assert "backend#old-id" not in tree["pods"]["t1"]["api_keys"]
    assert _changes(tree, actual) == []


def test_the_header_claims_zero_changes_only_when_planning_shows_none() -> None:
    from mailctl.cli.export_cmd import STDOUT, _check, _header

    actual = _account()
    lost = api_key_address("lost", pod="t1")  # a key whose secret was never recorded: plan replaces it
    actual.add(
        Resource(
            API_KEY,
            lost,
            {"permissions": None},
            parent=pod_address("t1"),
            remote_id="x",
            observed={"unrecorded": True, "declared_address": lost},
        )
    )
    selection = select_pods(actual)
    changes = _check({STDOUT: to_yaml(export_tree(selection.state), [])}, actual)
    header = _header("Exported", selection, changes)
    assert not any("no changes" in line for line in header)
    assert header[1] == "Warning: `mailctl plan` with this config would show 1 change(s):"
    assert header[2] == f"  delete {lost} (secret never recorded)"  # left out, in a declared pod
    clean = _header("Exported", select_pods(_account()), [])
    assert clean[1] == "Checked: `mailctl plan` with this config against this account plans with no changes."


def test_config_that_cannot_load_is_reported_against_the_file_it_would_be_written_to() -> None:
    from mailctl.cli.export_cmd import _check
    from mailctl.errors import UsageError

    with pytest.raises(UsageError) as caught:
        _check({"adopted/t1.yaml": "version: 1\npods: {'bad name!': {}}\n"}, ActualState())
    message = str(caught.value)
    assert "adopted/t1.yaml:2:8: pods.bad name!: `bad name!` is not a valid pod client_id" in message
    assert "nothing was written" in message and "/tmp" not in message


def _add_key(actual: ActualState, address: str, parent: str | None = None, remote_id: str = "", **observed) -> None:
    """An unrestricted key read at ``address`` (``observed``: what the reader marked it)."""
    actual.add(Resource(API_KEY, address, {"permissions": None}, parent=parent, remote_id=remote_id, observed=observed))


def _with_leftover_pending_key(address: str, parent: str | None = None) -> ActualState:
    """The account plus a key a killed apply left under its pending name (no key holds its name)."""
    actual = _account()
    _add_key(actual, address, parent, "pending-id", unrecorded=True, declared_address=address)
    return actual


@pytest.mark.parametrize(
    "select",
    [lambda a: select_pods(a), lambda a: select_for_import(a, ["*"]), lambda a: select_for_import(a, ["api_key/*"])],
    ids=["export", "import *", "import api_key/*"],
)
def test_an_organisation_key_whose_secret_was_never_recorded_is_left_out_and_the_plan_is_clean(select) -> None:
    lost = api_key_address("lost")
    actual = _with_leftover_pending_key(lost)
    selection = select(actual)
    tree = export_tree(selection.state)
    assert "lost" not in (tree.get("api_keys") or {})
    assert _changes(tree, actual) == []  # the zero-changes promise holds
    assert (
        f"{lost} is left out: its secret was never recorded (a killed apply left it under its pending "
        "name), so it cannot be adopted; mailctl leaves it alone while it is undeclared, and replaces it "
        "with a new key if you declare it"
    ) in selection.notes


def test_a_pod_key_whose_secret_was_never_recorded_is_left_out_and_the_note_says_apply_deletes_it() -> None:
    lost = api_key_address("lost", pod="t1")
    actual = _with_leftover_pending_key(lost, parent=pod_address("t1"))
    selection = select_for_import(actual, ["pod/t1"])
    tree = export_tree(selection.state)
    assert "lost" not in tree["pods"]["t1"]["api_keys"]
    assert any(
        note.startswith(f"{lost} is left out: its secret was never recorded") and "the next apply deletes it" in note
        for note in selection.notes
    )
    assert _changes(tree, actual) == [f"delete {lost}"]  # what the header then warns about


def test_a_leftover_pending_key_beside_the_real_one_is_left_out_with_the_reason() -> None:
    real, leftover = api_key_address("org-reader"), api_key_address("org-reader#pending-id")
    actual = _account()
    actual.add(
        Resource(
            API_KEY,
            leftover,
            {"permissions": None},
            remote_id="pending-id",
            observed={"unrecorded": True, "declared_address": real},
        )
    )
    selection = select_for_import(actual, ["api_key/org-reader"])
    assert set(selection.state.resources) == {real}
    assert (
        f"{leftover} is left out: its secret was never recorded (a killed apply left it under its "
        "pending name), so it cannot be adopted; the next apply deletes it"
    ) in selection.notes


def test_manage_rules_of_the_f_config_are_printed_and_the_check_plans_against_everything() -> None:
    """The ignored inbox is left out of the config, but its rule is printed with it: planned
    alone against the whole account, nothing is deleted. A pod prefix comes along only when every
    pod is printed (it would delete the others)."""
    from mailctl.export import carried_rules, without_ignored
    from mailctl.resources import ManagePolicy

    actual = _account()
    conv = inbox_address("t1", "conv-1@agentmail.to")
    actual.add(Resource(INBOX, conv, {}, parent=pod_address("t1"), remote_id=conv))
    manage = ManagePolicy(pod_client_id_prefixes=("t",), ignore=("pod/*/inbox/conv-*",), protect=("pod/t1",))
    selectable, ignored = without_ignored(actual, manage)
    assert ignored == [conv] and conv in actual.resources

    section, notes = carried_rules(manage, every_pod=True)
    assert section == {"pods": {"client_id_prefix": "t"}, "ignore": ["pod/*/inbox/conv-*"], "protect": ["pod/t1"]}
    assert _changes(export_tree(select_pods(selectable).state, section), actual) == []

    section, notes = carried_rules(manage, every_pod=False)
    assert "pods" not in section and any(n.startswith("manage.pods of the -f config is not copied") for n in notes)
    assert _changes(export_tree(select_pods(selectable, ["t1"]).state, section), actual) == []
    assert _changes(export_tree(select_pods(selectable, ["t1"]).state), actual) == [f"delete {conv}"]


def _with_lone_replaced_keys() -> ActualState:
    """Old halves of create-first replacements whose create failed: `old#mailctl-replaced` in t1
    and `orgrep#mailctl-replaced` in the organisation, with no key under `old` or `orgrep`."""
    actual = _account()
    for address, parent in ((api_key_address("old", pod="t1"), pod_address("t1")), (api_key_address("orgrep"), None)):
        _add_key(actual, address, parent, address, replaced=True, declared_address=address)
    return actual


@pytest.mark.parametrize(
    "select",
    [lambda a: select_pods(a), lambda a: select_for_import(a, ["pod/t1", "api_key/orgrep"])],
    ids=["export", "import"],
)
def test_a_lone_replaced_key_is_declared_under_its_name_and_the_plan_renames_it_back(select) -> None:
    """It is the declared key (README, Create before destroy): it was left out as "shares its
    name with another key", which no key did, and in a pod the plan then deleted it."""
    old, orgrep = api_key_address("old", pod="t1"), api_key_address("orgrep")
    actual = _with_lone_replaced_keys()
    selection = select(actual)
    tree = export_tree(selection.state)
    assert "old" in tree["pods"]["t1"]["api_keys"] and "orgrep" in tree["api_keys"]
    assert sorted(_changes(tree, actual)) == [f"update {orgrep}", f"update {old}"]  # renamed back: same key
    assert not any("shares its name" in note for note in selection.notes)
    for address, name in ((old, "old"), (orgrep, "orgrep")):
        assert (
            f"{address} is declared: it is the old half of a replacement that did not finish (named "
            f"`{name}#mailctl-replaced`) and no key holds its name; the next apply renames it back "
            "(the same key, no new secret)"
        ) in selection.notes


def test_the_old_half_of_a_replacement_beside_its_new_key_is_left_out_with_the_true_reason() -> None:
    actual = _account()
    leftover = api_key_address("org-reader#old-id")
    _add_key(actual, leftover, None, "old-id", replaced=True, declared_address=api_key_address("org-reader"))
    selection = select_pods(actual)
    assert leftover not in selection.state.resources
    assert (
        f"{leftover} is left out: it is the old half of a replacement that did not finish (the new key "
        "holds its name); the next apply deletes it"
    ) in selection.notes
    assert _changes(export_tree(selection.state), actual) == [f"delete {leftover}"]


def test_an_organisation_webhook_brings_the_pods_and_inboxes_it_filters_on() -> None:
    """Its `pods`/`inboxes` must name declared ones: the import failed to validate ("pod t2 is
    not declared"). The pods come whole (with the domain an inbox of t1 uses)."""
    actual = _account()
    hook = {"url": "https://h.test/", "event_types": ["message.received"], "enabled": True}
    actual.add(Resource(WEBHOOK, "webhook/by-pod", {**hook, "pods": ["t2"], "inboxes": []}, remote_id="w1"))
    by_inbox = {**hook, "pods": [], "inboxes": ["a@agentmail.to"]}
    actual.add(Resource(WEBHOOK, "webhook/by-inbox", by_inbox, remote_id="w2"))
    for patterns, pods in ((["webhook/by-pod"], ["t2"]), (["webhook/by-inbox"], ["t1"]), (["webhook/*"], ["t1", "t2"])):
        selection = select_for_import(actual, patterns)
        tree = export_tree(selection.state)
        assert sorted(tree["pods"]) == pods
        assert _changes(tree, actual) == []
        for pod in pods:
            assert (
                f"pod/{pod} is imported whole: a selected webhook filters on it (or an inbox in it), and "
                "it must be declared; mailctl deletes the undeclared children of a declared pod"
            ) in selection.notes
    assert "domain/org.test" in select_for_import(actual, ["webhook/by-inbox"]).state.resources


@pytest.mark.parametrize(
    ("pattern", "address"),
    [
        ("pod/t1/inbox/A@AgentMail.To", inbox_address("t1", "a@agentmail.to")),
        ("pod/t1/inbox/B@ORG.*", inbox_address("t1", "b@org.test")),
        ("domain/Org.Test", domain_address("org.test")),
        ("list/receive/block/A.Example", list_entry_address("receive", "block", "a.example")),
    ],
)
def test_import_matches_addresses_domains_and_list_entries_in_any_case(pattern: str, address: str) -> None:
    """As `--target` does: "nothing exists at pod/t-1/inbox/MD@agentmail.to" while md@ existed."""
    assert address in select_for_import(_account(), [pattern]).state.resources


def test_import_keeps_the_case_of_client_ids_and_key_names() -> None:
    assert not select_for_import(_account(), ["pod/T1"]).state.resources
    assert not select_for_import(_account(), ["api_key/Org-Reader"]).state.resources


def test_a_superseded_key_whose_name_clash_is_an_api_key_id_is_not_called_mid_rotation() -> None:
    """A key addressed by its id X (its name cannot be declared) beside a key named X: the reader
    marks the older one superseded, but nothing is being rotated."""
    actual = _account()
    _add_key(actual, api_key_address("x1", pod="t1"), pod_address("t1"), "x1")
    held_by_id = api_key_address("x1#k-old", pod="t1")  # named x1; the newer key x1 is addressed by its id
    _add_key(actual, held_by_id, pod_address("t1"), "k-old", superseded=True)
    _add_key(actual, api_key_address("k9", pod="t1"), pod_address("t1"), "k-named-k9")
    by_id = api_key_address("k9#k9", pod="t1")  # addressed by its id k9, which another key is named
    _add_key(actual, by_id, pod_address("t1"), "k9", superseded=True)
    notes = select_pods(actual).notes
    assert not any("mid-rotation" in n for n in notes if "x1" in n or "k9" in n)
    assert (
        f"{by_id} is left out: it is addressed by its api_key_id (its name cannot be declared), and a key "
        "named `k9` holds that address; mailctl leaves it alone (unmanaged) until one of them is renamed "
        "(`mailctl rotate --retire-old` of pod/t1/api_key/k9 would delete it as an older key)"
    ) in notes
    assert (
        f"{held_by_id} is left out: another key, addressed by its api_key_id `x1` (its name cannot be "
        "declared), holds this key's name; mailctl leaves it alone (unmanaged) until one of them is renamed "
        "(`mailctl rotate --retire-old` of pod/t1/api_key/x1 would delete it as an older key)"
    ) in notes
    assert any("backend#old-id is left out: superseded" in n for n in notes)  # a real rotation still is
