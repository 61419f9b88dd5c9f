"""Layers point one way: the imports of every module (read with ast, function-level ones too)
form no cycle between packages, and the API, plan and config layers import only what is below them.

resources (the model) <- config, plan; plan <- apply <- cli; api never imports plan or cli.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import mailctl

ROOT = Path(mailctl.__file__).parent

# The CLI parses flags, calls the workflows (mailctl.ops) and renders: it never assembles the
# lock, the reader, the writer, the applier or the secrets sink itself.
CLI_FORBIDDEN = {
    "mailctl.api.lock",
    "mailctl.api.writer",
    "mailctl.api.reader",
    "mailctl.api.facts",
    "mailctl.apply",
    "mailctl.secrets",
}

FORBIDDEN = {
    "cli": CLI_FORBIDDEN,
    "api": {"mailctl.plan", "mailctl.cli", "mailctl.apply"},
    "plan": {"mailctl.apply", "mailctl.api", "mailctl.cli", "click"},
    "config": {"mailctl.api", "mailctl.plan", "mailctl.cli"},
}


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(("mailctl", *parts)).removesuffix(".__init__"), path


def _imports(module: str, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)  # `from mailctl import api`
    return found


def _unit(name: str) -> str | None:
    """The package (or top-level module) a mailctl module belongs to: mailctl.plan, mailctl.apply."""
    parts = name.split(".")
    if parts[0] != "mailctl":
        return None
    return ".".join(parts[:2]) if len(parts) > 1 else "mailctl"


def _graph() -> dict[str, set[str]]:
    known = {_unit(m) for m, _ in _modules()}
    graph: dict[str, set[str]] = {}
    for module, path in _modules():
        unit = _unit(module)
        assert unit is not None
        targets = {_unit(n) for n in _imports(module, path)} & known
        graph.setdefault(unit, set()).update(t for t in targets if t is not None and t != unit)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_between_packages():
    graph = _graph()
    assert {"mailctl.api", "mailctl.plan", "mailctl.config", "mailctl.cli", "mailctl.resources"} <= set(graph)
    # the root package only carries the version: an import of mailctl itself is not a dependency on everything
    graph.pop("mailctl", None)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_api_plan_and_config_layers_import_only_what_is_below_them():
    offences = []
    for module, path in _modules():
        layer = module.split(".")[1] if "." in module else ""
        for name in _imports(module, path):
            for banned in FORBIDDEN.get(layer, ()):
                if name == banned or name.startswith(banned + "."):
                    offences.append(f"{module} imports {name}")
    assert offences == []


def test_the_root_package_imports_only_the_python_api_and_only_lazily():
    imported = {n for n in _imports("mailctl", ROOT / "__init__.py") if n.startswith("mailctl.")}
    assert {n.rpartition(".")[0] if n.count(".") > 1 else n for n in imported} <= {"mailctl.project"}
    tree = ast.parse((ROOT / "__init__.py").read_text(encoding="utf-8"))
    top_level = [n for n in tree.body if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("mailctl.")]
    assert all(isinstance(getattr(n, "test", None), ast.AST) for n in top_level if not isinstance(n, ast.If)), (
        "the root package imports mailctl.project only under TYPE_CHECKING or inside __getattr__"
    )


def test_the_cycle_finder_finds_a_cycle():  # the guard above is only as good as this
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
