#!/usr/bin/env python3
"""A small mutation run for the safety-critical modules: which deliberate breakage do the tests miss?

Each mutation in ``.ci/mutations.toml`` replaces one exact piece of text in one module (the sink
``secrets.py``, the two-phase create in ``api/writer.py``, the rails in ``plan/safety.py``, the
lock ``api/lock.py``) and runs the tests listed for that module. A failing run *kills* the
mutation; a passing one means it *survived*: no test notices that breakage.

The checkout is never touched. The last commit (``--worktree``: the working tree, uncommitted
edits included) is copied to a temporary directory once, every mutation is written there and
undone there, and the tests run there with ``PYTHONPATH`` pointing at the copy's ``src`` (checked
before the run, together with the tests passing unmutated). Others can keep working meanwhile.

    python .ci/mutate.py                 # every mutation; exit 1 if any survived or went stale
    python .ci/mutate.py --list          # what would run
    python .ci/mutate.py sink-no-fsync safety-replacement-not-a-delete   # only these

A mutation whose text is no longer found exactly once is *stale* (the code moved): fix its
``find`` in the list rather than let it pass silently.

``--sweep FILE TEST...`` makes the mutations instead of reading them: every statement of FILE
replaced by ``pass`` and every ``if`` negated, one at a time, against the given tests. Slower
and blunter than the list (a fast path with a slow one behind it survives, rightly), it finds
the lines no test depends on; each survivor is then judged by hand:

    python .ci/mutate.py --sweep src/mailctl/plan/reads.py tests/unit/plan/test_read_scope.py
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIST = ROOT / ".ci" / "mutations.toml"
FAILED = re.compile(r"^(?:FAILED|ERROR) (.+?)(?: - |$)", re.MULTILINE)  # an id may hold spaces: up to " - "


@dataclass(frozen=True)
class Mutation:
    id: str
    file: str
    find: str
    replace: str
    why: str
    tests: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    mutation: Mutation
    verdict: str  # killed, survived, stale, timeout
    seconds: float
    detail: str  # the first failing test, or why stale


def load(path: Path) -> list[Mutation]:
    data = tomllib.loads(path.read_text())
    tests: dict[str, list[str]] = data["tests"]
    return [
        Mutation(m["id"], m["file"], m["find"], m["replace"], m["why"], tuple(m.get("tests", tests[m["file"]])))
        for m in data["mutation"]
    ]


def copy_tree(destination: Path, worktree: bool) -> None:
    """The last commit (``git archive HEAD``), or with ``worktree`` the working tree as git sees it
    (tracked and untracked files, ignored ones left out: others' unfinished edits included)."""
    if not worktree:
        archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(destination)], input=archive, check=True)
        return
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)


def environment(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tree / "src"), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def pytest(tree: Path, tests: tuple[str, ...], timeout: float, *options: str) -> tuple[int | None, str]:
    """(exit code or None on timeout, output) of the given tests in the copy."""
    command = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", *options, *tests]
    try:
        done = subprocess.run(command, cwd=tree, env=environment(tree), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, ""
    return done.returncode, done.stdout + done.stderr


def baseline(tree: Path, tests: tuple[str, ...], timeout: float) -> tuple[str, ...]:
    """Check that the copy's own code is the one imported and run the tests unmutated; the tests
    that already fail (others' unfinished work in a shared tree) are returned, to be deselected."""
    probe = [sys.executable, "-c", "import mailctl; print(mailctl.__file__)"]
    imported = subprocess.run(probe, cwd=tree, env=environment(tree), capture_output=True, text=True).stdout
    if not Path(imported.strip()).is_relative_to(tree):
        sys.exit(f"mutate: the tests would import mailctl from {imported.strip()!r}, not from the copy")
    code, output = pytest(tree, tests, timeout)
    failing = tuple(FAILED.findall(output))
    if code not in (0, 1) or (code == 1 and not failing):  # not run, or failed in a way not listed
        sys.exit(f"mutate: the tests cannot run unmutated (exit {code}); fix them first:\n{output[-3000:]}")
    return failing


def run(mutation: Mutation, tree: Path, timeout: float, deselected: tuple[str, ...]) -> Outcome:
    path = tree / mutation.file
    original = path.read_text()
    found = original.count(mutation.find)
    if found != 1:
        return Outcome(mutation, "stale", 0.0, f"`find` occurs {found} times in {mutation.file}, not once")
    started = time.monotonic()
    path.write_text(original.replace(mutation.find, mutation.replace))
    try:
        code, output = pytest(tree, mutation.tests, timeout, "-x", *(f"--deselect={t}" for t in deselected))
    finally:
        path.write_text(original)
    seconds = time.monotonic() - started
    if code is None:
        return Outcome(mutation, "timeout", seconds, f"the tests hung past {timeout:g} s (counted as killed)")
    if code == 0:
        return Outcome(mutation, "survived", seconds, mutation.why)
    first = FAILED.search(output)
    return Outcome(mutation, "killed", seconds, first[1] if first else f"pytest exit {code}")


def sweep(file: str, tests: tuple[str, ...]) -> list[Mutation]:
    """A mutation per statement of ``file`` (``pass`` instead) and per ``if`` (its test negated);
    definitions, imports, docstrings and loops as a whole are left alone. Each ``find`` is the
    statement with as many lines around it as make it unique in the file."""
    source = (ROOT / file).read_text()
    lines = source.splitlines(keepends=True)
    spans: list[tuple[int, int, str, str]] = []  # (first line, last line, kind, replacement of those lines)
    for parent in ast.walk(ast.parse(source)):
        if isinstance(parent, ast.Module | ast.ClassDef):
            continue  # module and class bodies: definitions and constants
        for field in ("body", "orelse", "finalbody"):
            body = getattr(parent, field, None)
            for node in body if isinstance(body, list) else []:  # a lambda's body is one expression
                first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
                if isinstance(node, ast.If):
                    condition = ast.get_source_segment(source, node.test) or ""
                    line = lines[node.test.lineno - 1]
                    if condition and "\n" not in condition and line.count(condition) == 1:
                        negated = line.replace(condition, f"not ({condition})", 1)
                        spans.append((node.test.lineno - 1, node.test.lineno - 1, "negate", negated))
                elif not isinstance(
                    node, ast.FunctionDef | ast.ClassDef | ast.Import | ast.ImportFrom | ast.Pass | ast.For | ast.While
                ) and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
                    indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
                    spans.append((first, last, "delete", indent + "pass\n" + "\n" * (last - first)))
    out = []
    for first, last, kind, replacement in sorted(spans):
        before, after = first, last + 1
        while source.count("".join(lines[before:after])) != 1 and (before > 0 or after < len(lines)):
            before, after = max(0, before - 1), min(len(lines), after + 1)
        find = "".join(lines[before:after])
        replace = "".join(lines[before:first]) + replacement + "".join(lines[last + 1 : after])
        statement = " ".join(line.strip() for line in lines[first : last + 1])
        out.append(Mutation(f"{Path(file).stem}:{first + 1}:{kind}", file, find, replace, statement[:100], tests))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ids", nargs="*", help="run only these mutations")
    parser.add_argument("--list", action="store_true", help="print the mutations and their tests, run nothing")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per test run (default 900)")
    parser.add_argument(
        "--worktree", action="store_true", help="mutate the working tree, uncommitted edits included (default: HEAD)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy (its path is printed)")
    parser.add_argument(
        "--sweep",
        nargs="+",
        metavar=("FILE", "TEST"),
        help="mutate every statement and if of FILE (a path in the checkout) against the TESTs given",
    )
    args = parser.parse_args()
    if args.sweep and len(args.sweep) < 2:
        parser.error("--sweep takes a file and at least one test")
    mutations = sweep(args.sweep[0], tuple(args.sweep[1:])) if args.sweep else load(LIST)
    unknown = set(args.ids) - {m.id for m in mutations}
    if unknown:
        parser.error(f"no such mutation: {', '.join(sorted(unknown))}")
    chosen = [m for m in mutations if not args.ids or m.id in args.ids]
    if args.list:
        for m in chosen:
            found = (ROOT / m.file).read_text().count(m.find)
            stale = "" if found == 1 else f"  STALE: `find` occurs {found} times"
            print(f"{m.id:42} {m.file:26} {' '.join(m.tests)}{stale}\n{'':42} {m.why}")
        return 0
    started = time.monotonic()
    tree = Path(tempfile.mkdtemp(prefix="mailctl-mutate-"))
    try:
        copy_tree(tree, args.worktree)
        failing = baseline(tree, tuple(dict.fromkeys(t for m in chosen for t in m.tests)), args.timeout)
        for test in failing:
            print(f"left out: {test} fails without any mutation", flush=True)
        print(f"{len(chosen)} mutation(s), copy in {tree} ({time.monotonic() - started:.0f} s so far)", flush=True)
        outcomes = []
        for mutation in chosen:
            outcome = run(mutation, tree, args.timeout, failing)
            outcomes.append(outcome)
            print(f"{outcome.verdict:8} {mutation.id:42} {outcome.seconds:6.1f}s  {outcome.detail}", flush=True)
    finally:
        if args.keep:
            print(f"copy kept in {tree}")
        else:
            shutil.rmtree(tree, ignore_errors=True)
    counts = {v: sum(o.verdict == v for o in outcomes) for v in ("killed", "timeout", "survived", "stale")}
    print(", ".join(f"{n} {v}" for v, n in counts.items()) + f" in {time.monotonic() - started:.0f} s")
    return 1 if counts["survived"] or counts["stale"] else 0


if __name__ == "__main__":
    sys.exit(main())
