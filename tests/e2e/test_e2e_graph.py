"""`mailctl graph` with an endpoint: the plan against the sandbox over HTTP, each change with the
action `plan --json` gives it, in the order apply would take."""

from __future__ import annotations

import copy
import re

from e2e_harness import actions, load_fixture

_NODE = re.compile(r'^  (n\d+)\["([^"<]*)<br>\((\w+)\)"\]$', re.M)
_EDGE = re.compile(r"^  (n\d+) --> (n\d+)$", re.M)


def _read(mermaid: str) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """{address: action}, {(before, after)} from the Mermaid text."""
    nodes = {m[1]: (m[2], m[3]) for m in _NODE.finditer(mermaid)}
    edges = {(nodes[a][0], nodes[b][0]) for a, b in _EDGE.findall(mermaid)}
    return dict(nodes.values()), edges


def test_plan_graph_over_http_marks_each_change_with_its_action_in_apply_order(mailctl, sandbox, write_config):
    tenants = load_fixture("tenants.yaml")
    config = write_config(tenants)
    mailctl.apply(config)

    unchanged = mailctl("graph", "-f", config, "--endpoint", sandbox.url, "--format", "mermaid")
    assert unchanged.exit_code == 0, unchanged.output
    assert "plan graph, no changes" in unchanged.stdout and _read(unchanged.stdout) == ({}, set())

    edited = copy.deepcopy(tenants)
    del edited["pods"]["e2e-initech"]  # managed by prefix: the pod and its inbox are deleted
    acme = edited["pods"]["e2e-acme"]
    acme["inboxes"]["acme-bot@agentmail.to"]["display_name"] = "Acme Robot"  # update
    acme["inboxes"]["sales@mail.acme.test"] = {"api_keys": {"sales-agent": {}}}  # create, with its key
    config = write_config(edited)

    run = mailctl("graph", "-f", config, "--endpoint", sandbox.url, "--format", "mermaid")
    assert run.exit_code == 0, run.output
    nodes, edges = _read(run.stdout)
    assert nodes == actions(mailctl.plan_json(config))
    assert nodes["pod/e2e-initech"] == "delete" and nodes["pod/e2e-acme/inbox/acme-bot@agentmail.to"] == "update"
    sales = "pod/e2e-acme/inbox/sales@mail.acme.test"
    assert (sales, f"{sales}/api_key/sales-agent") in edges  # the inbox is made before its key
    assert ("pod/e2e-initech/inbox/initech-ops@agentmail.to", "pod/e2e-initech") in edges  # children deleted first
    assert "classDef delete" in run.stdout and "classDef create" in run.stdout

    targeted = mailctl(
        "graph", "-f", config, "--endpoint", sandbox.url, "--target", "pod/e2e-initech", "--format", "dot"
    )
    assert targeted.exit_code == 0, targeted.output
    labels = re.findall(r'\[label="([^"\\]*)\\n\((\w+)\)"', targeted.stdout)
    assert sorted(labels) == [
        ("pod/e2e-initech", "delete"),
        ("pod/e2e-initech/inbox/initech-ops@agentmail.to", "delete"),
    ]

    offline = mailctl("graph", "-f", config, "--format", "mermaid")  # no endpoint: the config, no actions
    assert offline.exit_code == 0 and "<br>(" not in offline.stdout and "pod/e2e-initech" not in offline.stdout
    assert actions(mailctl.plan_json(config)) == nodes  # graph changed nothing: the same plan is pending
