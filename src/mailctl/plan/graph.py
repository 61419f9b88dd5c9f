"""``mailctl graph``: the declared resources, or a plan, as a graph for people to look at (DOT for
Graphviz, Mermaid for GitHub comments). Pure: a ``DesiredState`` or a ``Plan`` in, text out.

- The declared graph has an edge from each scope to what it holds (pod -> inbox -> key, pod ->
  domain) and a dashed one from a resource to what it uses (inbox -> its domain, webhook -> the
  pods and inboxes it subscribes to).
- The plan graph has one node per change, marked with its action (a replacement two: its delete
  and its create), and an edge A -> B when B's step waits for A's (``mailctl.plan.steps``):
  creates run parent first, deletes children first.
  An edge that two others imply (A -> B -> C makes A -> C) is left out.

Node ids are generated (``n0``, ``n1``...); addresses appear only in quoted labels, escaped for
each format, with control, format (bidi, zero-width) and separator characters shown as ``\\uXXXX``
so that no address can break out of its label or disguise itself.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from mailctl.kinds import names_index, referenced, spec_of
from mailctl.plan.changes import CREATE, DELETE, REPLACE, Plan
from mailctl.plan.graph_formats import DOT, MERMAID
from mailctl.plan.steps import dependencies, steps_of
from mailctl.plan.targeting import _closure, matched_by  # one closure for plans and graphs
from mailctl.resources import DesiredState, Resource

_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # control, format, surrogate, private, unassigned
_COLOURS = {"create": "#1a7f37", "update": "#9a6700", "replace": "#8250df", "delete": "#cf222e"}


@dataclass(frozen=True, order=True)
class Edge:
    source: str
    target: str
    uses: bool = False  # a reference (dashed), not containment or order


@dataclass
class Graph:
    nodes: dict[str, str | None] = field(default_factory=dict)  # address -> action (plan graphs)
    edges: set[Edge] = field(default_factory=set)
    labels: dict[str, str] = field(default_factory=dict)  # node -> what it shows, where not its address
    notes: list[str] = field(default_factory=list)  # for stderr: targets that matched nothing
    of_plan: bool = False


# ---------------------------------------------------------------------------------------------
# Building


def _half(address: str, phase: str) -> str:
    return f"{address}\x00{phase}"  # no address holds a NUL: never another node's name


def declared_graph(desired: DesiredState) -> Graph:
    resources = desired.resources
    graph = Graph(nodes=dict.fromkeys(sorted(resources)))
    index = names_index(resources.values())
    for address, resource in resources.items():
        if resource.parent is not None and resource.parent in resources:
            graph.edges.add(Edge(resource.parent, address))
        for used in _uses(resource, resources, index):
            graph.edges.add(Edge(address, used, uses=True))
    return graph


def _uses(resource: Resource, resources: dict[str, Resource], index: dict[tuple[str, str], str]) -> list[str]:
    """What ``resource`` is created on (an inbox: the declared domain it is on, the nearest first)
    and what its attributes name (a webhook's pods and inboxes), among the declared resources."""
    on = next((a for a in spec_of(resource.kind).uses(resource) if a in resources), None)
    named = [a for a in referenced(resource, index) if a in resources]
    return ([on] if on is not None else []) + named


def plan_graph(plan: Plan) -> Graph:
    """One node per change; a replacement two, its delete and its create, which run apart (the
    deletes children first, the creates parent first: one node each would draw a cycle)."""
    graph = Graph(notes=list(plan.notes), of_plan=True)
    halves = {c.address for c in plan.changes if c.action == REPLACE}
    for change in plan.changes:
        if change.address in halves:
            for phase in (DELETE, CREATE):
                node = _half(change.address, phase)
                graph.nodes[node], graph.labels[node] = str(change.action), f"{change.address} ({phase})"
        else:
            graph.nodes[change.address] = str(change.action)

    def node_of(step: tuple[str, str]) -> str:
        address, phase = step
        return _half(address, phase) if address in halves else address

    waits: dict[str, set[str]] = {node: set() for node in graph.nodes}
    for step, prerequisites in dependencies(steps_of(plan)).items():
        waits[node_of(step)] |= {node_of(before) for before in prerequisites} - {node_of(step)}
    for address, befores in waits.items():
        # A -> C is left out when A -> B -> C is drawn (a key waits for its pod through its inbox).
        direct = {a for a in befores if not any(a in waits[b] for b in befores if b != a)}
        graph.edges |= {Edge(before, address) for before in direct}
    return graph


def select(graph: Graph, targets: list[str], excludes: list[str]) -> Graph:
    """--target / --exclude on a declared graph, as on a plan: a target takes what matches, what
    is under it and what it needs (its scopes, what it uses); an exclusion drops what matches,
    what is under it and what needs it."""
    needs: dict[str, set[str]] = {}
    needed_by: dict[str, set[str]] = {}
    for edge in graph.edges:
        dependent, prerequisite = (edge.source, edge.target) if edge.uses else (edge.target, edge.source)
        needs.setdefault(dependent, set()).add(prerequisite)
        needed_by.setdefault(prerequisite, set()).add(dependent)
    kept = set(graph.nodes)
    notes = list(graph.notes)
    if targets:
        matched = matched_by(graph.nodes, targets)
        notes += [f"--target {t} matches no declared resource" for t, found in matched.items() if not found]
        kept = _closure(set().union(*matched.values()), lambda address: needs.get(address, ()))
    if excludes:
        dropped = set().union(*matched_by(graph.nodes, excludes).values())
        kept -= _closure(dropped, lambda address: needed_by.get(address, ()))
    return Graph(
        nodes={a: action for a, action in graph.nodes.items() if a in kept},
        edges={e for e in graph.edges if e.source in kept and e.target in kept},
        notes=notes,
        of_plan=graph.of_plan,
    )


# ---------------------------------------------------------------------------------------------
# Rendering


def render(graph: Graph, fmt: str) -> str:
    return {DOT: render_dot, MERMAID: render_mermaid}[fmt](graph)


def render_dot(graph: Graph) -> str:
    ids = _ids(graph)
    lines = [
        "digraph mailctl {",
        f"  // {_legend(graph)}",
        "  rankdir=LR;",
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
    ]
    for address, action in graph.nodes.items():
        label = _dot_text(graph.labels.get(address, address)) + (f"\\n({action})" if action is not None else "")
        colour = f', color="{_COLOURS[action]}", fontcolor="{_COLOURS[action]}"' if action in _COLOURS else ""
        lines.append(f'  {ids[address]} [label="{label}"{colour}];')
    for edge in sorted(graph.edges):
        lines.append(f"  {ids[edge.source]} -> {ids[edge.target]}{' [style=dashed]' if edge.uses else ''};")
    lines.append("}")
    return "\n".join(lines)


def render_mermaid(graph: Graph) -> str:
    ids = _ids(graph)
    lines = ["flowchart LR", f"  %% {_legend(graph)}"]
    for address, action in graph.nodes.items():
        suffix = f"<br>({action})" if action is not None else ""
        lines.append(f'  {ids[address]}["{_mermaid_text(graph.labels.get(address, address))}{suffix}"]')
    for edge in sorted(graph.edges):
        lines.append(f"  {ids[edge.source]} {'-.->' if edge.uses else '-->'} {ids[edge.target]}")
    by_action: dict[str, list[str]] = {}
    for address, action in graph.nodes.items():
        if action in _COLOURS:
            by_action.setdefault(action, []).append(ids[address])
    for action, members in by_action.items():
        lines.append(f"  classDef {action} stroke:{_COLOURS[action]},color:{_COLOURS[action]}")
        lines.append(f"  class {','.join(members)} {action}")
    return "\n".join(lines)


def _ids(graph: Graph) -> dict[str, str]:
    return {address: f"n{i}" for i, address in enumerate(graph.nodes)}


def _legend(graph: Graph) -> str:
    if graph.of_plan:
        changes = f"{len(graph.nodes)} change(s)" if graph.nodes else "no changes"
        return f"mailctl plan graph, {changes}: A -> B means B's step waits for A's"
    return "mailctl config graph: solid = holds, dashed = uses"


def visible(text: str) -> str:
    """``text`` with backslashes doubled and every hidden character (control, bidi, zero-width,
    separators, lone surrogates) and every space but U+0020 written as ``\\uXXXX``: what a reviewer
    sees is what is there."""
    out = []
    for char in text:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif unicodedata.category(char) in _HIDDEN or char != " " and unicodedata.category(char) == "Zs":
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out)


def _dot_text(text: str) -> str:
    """The inside of a DOT quoted string that Graphviz shows as ``visible(text)``: its escapes
    (``\\n``, ``\\N``...) and entities (``&amp;``) are neutralised."""
    return visible(text).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")


def _mermaid_text(text: str) -> str:
    """Text for a quoted Mermaid label: quotes, markup, entity starts and ``%`` (Mermaid reads a
    ``%%{init: ...}%%`` directive anywhere, quoted labels included) as Mermaid entity codes."""
    out = visible(text).replace("#", "#35;").replace("%", "#37;")
    for char, code in (('"', "#quot;"), ("&", "#38;"), ("<", "#lt;"), (">", "#gt;"), ("`", "#96;")):
        out = out.replace(char, code)
    return out
