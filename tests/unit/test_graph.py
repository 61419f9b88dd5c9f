"""`mailctl graph` output, offline: the edges of the declared graph and of a plan, read back from
the DOT and Mermaid text with regexes (and checked with Graphviz's `dot` when it is installed),
and addresses that cannot break out of their labels."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from mailctl.cli.main import cli
from mailctl.config import load
from mailctl.plan.graph import declared_graph, plan_graph, render_dot, render_mermaid, visible
from mailctl.plan.planner import plan
from mailctl.resources import POD, ActualState, DesiredState, ManagePolicy, Resource

CONFIG: dict[str, Any] = {
    "version": 1,
    "domains": {"shared.example.com": {"subdomains_enabled": True}},
    "webhooks": {"audit": {"url": "https://hooks.example/audit", "event_types": ["domain.verified"], "pods": ["acme"]}},
    "pods": {
        "acme": {
            "name": "Acme",
            "domains": {"mail.acme.test": {}},
            "webhooks": {
                "events": {
                    "url": "https://hooks.example/pod",
                    "event_types": ["message.received"],
                    "inboxes": ["support@mail.acme.test"],
                }
            },
            "inboxes": {
                "support@mail.acme.test": {"api_keys": {"agent": {}}},
                "hello@eu.shared.example.com": {},
                "bot@agentmail.to": {},
            },
        }
    },
}
ACME = "pod/acme"
SUPPORT = "pod/acme/inbox/support@mail.acme.test"
HELLO = "pod/acme/inbox/hello@eu.shared.example.com"
BOT = "pod/acme/inbox/bot@agentmail.to"

HOLDS = {
    (ACME, "pod/acme/domain/mail.acme.test"),
    (ACME, SUPPORT),
    (ACME, HELLO),
    (ACME, BOT),
    (ACME, "pod/acme/webhook/events"),
    (SUPPORT, f"{SUPPORT}/api_key/agent"),
}
USES = {
    (SUPPORT, "pod/acme/domain/mail.acme.test"),
    (HELLO, "domain/shared.example.com"),  # a subdomain uses its declared parent domain
    ("pod/acme/webhook/events", SUPPORT),
    ("webhook/audit", ACME),
}

_DOT_NODE = re.compile(r'^  (n\d+) \[label="((?:[^"\\]|\\.)*)"')
_DOT_EDGE = re.compile(r"^  (n\d+) -> (n\d+)( \[style=dashed\])?;$")
_MERMAID_NODE = re.compile(r'^  (n\d+)\["([^"]*)"\]$')
_MERMAID_EDGE = re.compile(r"^  (n\d+) (-->|-\.->) (n\d+)$")


def _dot_edges(text: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(solid edges, dashed edges) as (label, label) pairs; every line must be understood."""
    labels: dict[str, str] = {}
    solid, dashed = set(), set()
    for line in text.splitlines()[4:-1]:
        if node := _DOT_NODE.match(line):
            labels[node[1]] = re.sub(r"\\n\(\w+\)$", "", node[2])
        elif edge := _DOT_EDGE.match(line):
            (dashed if edge[3] else solid).add((labels[edge[1]], labels[edge[2]]))
        else:
            raise AssertionError(f"not a DOT node or edge: {line!r}")
    return solid, dashed


def _mermaid_edges(text: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    labels: dict[str, str] = {}
    solid, dashed = set(), set()
    for line in text.splitlines()[2:]:
        if node := _MERMAID_NODE.match(line):
            labels[node[1]] = node[2].split("<br>")[0]
        elif edge := _MERMAID_EDGE.match(line):
            (dashed if edge[2] == "-.->" else solid).add((labels[edge[1]], labels[edge[3]]))
        elif not line.startswith(("  classDef ", "  class ")):
            raise AssertionError(f"not a Mermaid node or edge: {line!r}")
    return solid, dashed


def _desired(tmp_path: Path, config: dict[str, Any] = CONFIG) -> DesiredState:
    path = tmp_path / "mailctl.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return load([str(path)])


def _check_with_graphviz(dot: str) -> None:
    if shutil.which("dot") is None:
        return  # Graphviz is optional: the regexes above already read every line
    done = subprocess.run(["dot", "-Tplain"], input=dot, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr, done.stderr


def test_declared_graph_draws_scopes_holding_resources_and_resources_using_others(tmp_path):
    desired = _desired(tmp_path)
    dot = render_dot(declared_graph(desired))
    assert _dot_edges(dot) == (HOLDS, USES)
    assert _mermaid_edges(render_mermaid(declared_graph(desired))) == (HOLDS, USES)
    assert len(re.findall(r"^  n\d+ \[", dot, re.M)) == len(desired.resources)  # unlinked ones too
    _check_with_graphviz(dot)


def test_graph_command_works_offline_and_narrows_to_a_target(tmp_path):
    path = tmp_path / "mailctl.yaml"
    path.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    env = {"AGENTMAIL_API_KEY": None, "AGENTMAIL_BASE_URL": "http://127.0.0.1:9"}  # never contacted
    whole = CliRunner().invoke(cli, ["graph", "-f", str(path)], env=env)
    assert whole.exit_code == 0, whole.output
    assert _dot_edges(whole.stdout) == (HOLDS, USES)

    narrowed = CliRunner().invoke(
        cli, ["graph", "-f", str(path), "--format", "mermaid", "--target", "pod/acme/webhook/*"], env=env
    )
    assert narrowed.exit_code == 0, narrowed.output
    # the webhook, its pod (where it lives) and the inbox it subscribes to, with that inbox's scope and domain
    assert _mermaid_edges(narrowed.stdout) == (
        {(ACME, "pod/acme/webhook/events"), (ACME, SUPPORT), (ACME, "pod/acme/domain/mail.acme.test")},
        {("pod/acme/webhook/events", SUPPORT), (SUPPORT, "pod/acme/domain/mail.acme.test")},
    )

    excluded = CliRunner().invoke(cli, ["graph", "-f", str(path), "--exclude", "pod/acme/domain/*"], env=env)
    assert excluded.exit_code == 0, excluded.output
    # the domain goes, with the inbox on it, what that inbox holds and the webhook that needs it
    assert _dot_edges(excluded.stdout) == (
        {(ACME, HELLO), (ACME, BOT)},
        {(HELLO, "domain/shared.example.com"), ("webhook/audit", ACME)},
    )

    nothing = CliRunner().invoke(cli, ["graph", "-f", str(path), "--target", "pod/nobody"], env=env)
    assert nothing.exit_code == 0 and "--target pod/nobody matches no declared resource" in nothing.stderr


def test_graph_plan_flag_reads_the_api_so_it_needs_a_key_or_sandbox(tmp_path):
    path = tmp_path / "mailctl.yaml"
    path.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    run = CliRunner().invoke(cli, ["graph", "-f", str(path), "--plan"], env={"AGENTMAIL_API_KEY": None})
    assert run.exit_code == 1 and "digraph" not in run.stdout
    assert "AGENTMAIL_API_KEY" in run.stderr


def test_graph_command_reports_config_errors_like_validate(tmp_path):
    path = tmp_path / "mailctl.yaml"
    path.write_text("version: 1\npods:\n  acme: {nmae: Acme}\n")
    run = CliRunner().invoke(cli, ["graph", "-f", str(path)])
    assert run.exit_code == 1
    assert f"{path}:3:" in run.stderr and "nmae" in run.stderr and "digraph" not in run.stdout


def test_plan_graph_marks_actions_and_draws_the_order_steps_run_in(tmp_path):
    desired = _desired(tmp_path)
    creates = plan_graph(plan(desired, ActualState()))
    assert set(creates.nodes.values()) == {"create"}
    solid, dashed = _dot_edges(render_dot(creates))
    assert not dashed
    assert (ACME, BOT) in solid and (SUPPORT, f"{SUPPORT}/api_key/agent") in solid
    assert (ACME, "pod/acme/domain/mail.acme.test") in solid
    assert ("pod/acme/domain/mail.acme.test", SUPPORT) in solid  # the domain is made before its inbox
    assert ("pod/acme/webhook/events", SUPPORT) not in solid and (SUPPORT, "pod/acme/webhook/events") in solid
    # edges two others imply are left out: pod -> domain -> inbox, pod -> inbox -> key
    assert (ACME, SUPPORT) not in solid and (ACME, f"{SUPPORT}/api_key/agent") not in solid
    assert 'n0 [label="domain/shared.example.com\\n(create)", color="#1a7f37"' in render_dot(creates)
    _check_with_graphviz(render_dot(creates))

    gone = ActualState()
    for address, resource in desired.resources.items():
        gone.add(Resource(resource.kind, address, dict(resource.attrs), parent=resource.parent, remote_id=address))
    gone.resources[ACME].observed.client_id = "acme"
    deletes = plan_graph(plan(DesiredState(manage=ManagePolicy(("acme",))), gone))
    assert deletes.nodes[ACME] == "delete"
    solid, _ = _mermaid_edges(render_mermaid(deletes))
    assert (SUPPORT, ACME) in solid and (f"{SUPPORT}/api_key/agent", SUPPORT) in solid  # children go first
    assert "classDef delete" in render_mermaid(deletes)


HOSTILE = [
    'evil"] ; n0 -> n1 [label="x',  # quotes
    "a\\nb\\N\\G",  # DOT's label escapes
    "line\nbreak\r\x00\x1b[31m",  # control characters
    "admin\u202e\u2066moc.live\u2069\u200b@x",  # bidi overrides, isolates, zero-width
    "lone\udcff surrogate\u2028sep",
    "#quot; & <b>bold</b> `code` %% end",  # Mermaid entities, HTML, markdown, comments
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_addresses_stay_inside_their_labels_and_show_what_they_hide(name):
    address = f"list/receive/block/{name}"
    state = ActualState()
    state.add(Resource(POD, "pod/acme", {}, remote_id="p"))
    state.add(Resource("list", address, {}, remote_id="x"))
    graph = declared_graph(DesiredState(resources=state.resources))
    dot, mermaid = render_dot(graph), render_mermaid(graph)
    for text in (dot, mermaid):
        text.encode("utf-8")  # no lone surrogate reaches the output
        assert all(c == "\n" or c.isprintable() for c in text), repr(text)
    labels = [m[2] for line in dot.splitlines() if (m := _DOT_NODE.match(line))]
    assert len(labels) == 2 and len(dot.splitlines()) == 7  # header (4), two nodes, closing brace
    assert len(mermaid.splitlines()) == 4 and all(_MERMAID_NODE.match(x) for x in mermaid.splitlines()[2:])
    assert visible(address) in labels[0].replace("\\\\", "\\").replace('\\"', '"').replace("&amp;", "&")
    _check_with_graphviz(dot)


def test_visible_writes_hidden_characters_as_escapes_and_keeps_letters():
    assert visible("caf\u00e9@m\u00fcller.example") == "caf\u00e9@m\u00fcller.example"
    assert visible("a\u202eb\\c\x00") == "a\\u202eb\\\\c\\u0000"
    assert visible("\U000e0041") == "\\U000e0041"  # a tag character (format, invisible)


def test_graph_changed_since_draws_what_the_config_changed_and_what_that_needs(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    path = repo / "mailctl.yaml"
    path.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q"], ["add", "mailctl.yaml"], ["commit", "-q", "-m", "config"]):
        subprocess.run([*git, *args], cwd=repo, check=True, capture_output=True, timeout=60)
    edited = yaml.safe_load(yaml.safe_dump(CONFIG))
    edited["pods"]["acme"]["inboxes"]["support@mail.acme.test"]["display_name"] = "Support"
    path.write_text(yaml.safe_dump(edited, sort_keys=False))

    run = CliRunner().invoke(
        cli, ["graph", "-f", str(path), "--changed-since", "HEAD"], env={"AGENTMAIL_API_KEY": None}
    )
    assert run.exit_code == 0, run.output
    assert f"{SUPPORT}: " in run.stderr  # what was selected, and why
    # the edited inbox, what is under it, and what it needs: its pod and its domain
    assert _dot_edges(run.stdout) == (
        {(ACME, SUPPORT), (ACME, "pod/acme/domain/mail.acme.test"), (SUPPORT, f"{SUPPORT}/api_key/agent")},
        {(SUPPORT, "pod/acme/domain/mail.acme.test")},
    )


def test_a_mermaid_directive_in_a_name_is_not_a_directive(tmp_path: Path):
    """Mermaid reads ``%%{init: ...}%%`` anywhere in the text, quoted labels included."""
    graph = declared_graph(_desired(tmp_path, {"version": 1, "api_keys": {"%%{init: {'theme':'dark'}}%%": {}}}))
    [label] = [line for line in render_mermaid(graph).splitlines() if "init" in line]
    assert "%" not in label and "#37;#37;{init" in label


def test_a_replacement_is_drawn_as_its_two_halves_in_the_order_they_run(tmp_path):
    """A replaced pod and what it holds: the deletes run children first, the creates parent first.
    One node per change drew pod <-> inbox both ways (a cycle), and with a key under the inbox no
    edge at all (every edge of the cycle implied by another)."""
    desired = _desired(tmp_path)
    have = ActualState()
    for address, resource in desired.resources.items():
        have.add(Resource(resource.kind, address, dict(resource.attrs), parent=resource.parent, remote_id=address))
    have.resources[ACME].attrs["name"] = "Old name"  # immutable: the pod and all in it are replaced
    graph = plan_graph(plan(desired, have))
    key = f"{SUPPORT}/api_key/agent"
    shown = {graph.labels.get(node, node): action for node, action in graph.nodes.items()}
    assert shown[f"{ACME} (delete)"] == "replace" and shown[f"{ACME} (create)"] == "replace"
    solid, _ = _dot_edges(render_dot(graph))

    def reaches(start: str, end: str) -> bool:
        seen, todo = {start}, [start]
        while todo:
            here = todo.pop()
            for a, b in solid:
                if a == here and b not in seen:
                    seen.add(b)
                    todo.append(b)
        return end in seen

    assert (f"{key} (delete)", f"{SUPPORT} (delete)") in solid and reaches(f"{SUPPORT} (delete)", f"{ACME} (delete)")
    assert reaches(f"{ACME} (create)", f"{SUPPORT} (create)") and (f"{SUPPORT} (create)", f"{key} (create)") in solid
    assert not reaches(f"{SUPPORT} (create)", f"{ACME} (create)")
    assert not [(a, b) for a, b in solid if (b, a) in solid]  # no cycle
    _check_with_graphviz(render_dot(graph))
    assert "classDef replace" in render_mermaid(graph)
