"""Files -> validated documents -> one DesiredState; every problem collected, raised once.

Steps: read each file (YAML problems), validate it against the schema, sort the valid ones into
config, template and tenants documents, render tenants through their templates (and validate the
result like hand-written config), then build resources from every config document. Cross-references
are only checked when everything before was clean, so a broken file cannot cause false alarms.
"""

from __future__ import annotations

import difflib
import gc
import sys
from collections.abc import Callable, Container, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from mailctl.config import schema
from mailctl.config.build import Builder
from mailctl.config.expand import render_tenants
from mailctl.config.files import MAILCTL_KINDS, Skipped, expand_paths
from mailctl.config.loader import Document, parse_text, read_document
from mailctl.config.templates import Template, kind_of_document, parse_template
from mailctl.errors import MAX_SHOWN_PROBLEMS, ConfigError, Problem
from mailctl.resources import DesiredState


@dataclass
class LoadedConfig:
    """The result of a successful load: what was read, and what it declares."""

    files: list[str]
    documents: list[Document]  # config documents, including those rendered from templates
    state: DesiredState = field(default_factory=DesiredState)
    skipped: list[Skipped] = field(default_factory=list)  # found in directories, not read


@dataclass
class _Run:
    """Every problem found; only the first MAX_SHOWN_PROBLEMS (by position) are kept, the rest
    counted, so a file with 100,000 mistakes costs about what a valid one of that size does."""

    kept: dict[Problem, None] = field(default_factory=dict)  # an ordered set
    more: int = 0
    complete: bool = True  # False once any document had to be left out
    unread: list[str] = field(default_factory=list)  # files that could not be parsed at all

    def add(self, problems: Iterable[Problem], more: int = 0) -> bool:
        """Record problems (and a count of others); True if there were none."""
        clean = not more
        self.more += more
        for problem in problems:
            clean = False
            self.kept[problem] = None
        if len(self.kept) > 2 * MAX_SHOWN_PROBLEMS:
            self._trim()
        if not clean:
            self.complete = False
        return clean

    def _trim(self) -> None:
        first = sorted(self.kept, key=lambda p: (p.file, p.line, p.column, p.path, p.message))
        self.more += max(0, len(first) - MAX_SHOWN_PROBLEMS)
        self.kept = dict.fromkeys(first[:MAX_SHOWN_PROBLEMS])

    def validate(self, doc: Document, skip: Container[schema.Position] = ()) -> schema.Checked:
        """Schema-check ``doc`` and record its problems, but those at a position in ``skip``
        (reported already, and still making it invalid: ``Checked.valid``)."""
        checked = schema.validate(doc, limit=MAX_SHOWN_PROBLEMS, skip=skip)
        self.add(checked.problems, checked.more)
        return checked

    def raise_if_any(self) -> None:
        if self.kept or self.more:
            self._trim()
            raise ConfigError(list(self.kept), self.more)


def warn_skipped(skipped: Skipped) -> None:
    """Files a directory holds that mailctl leaves alone are named on stderr, never silently."""
    print(skipped, file=sys.stderr, flush=True)


def load_config(paths: list[str], on_skip: Callable[[Skipped], None] | None = warn_skipped) -> LoadedConfig:
    """Read, validate and merge config files. Raises ConfigError listing every problem."""
    found = expand_paths(paths, on_skip)
    return _load(found.files, read_document, found.problems, found.skipped)


def load_texts(texts: dict[str, str]) -> LoadedConfig:
    """Validate and merge config given as text, each labelled with the name its problems should
    carry (say, the file it is about to be written to). Nothing touches the disk."""
    return _load(list(texts), lambda label: parse_text(texts[label], label), [], [])


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a load builds its (acyclic) data: each collection scans
    every object alive, and a 10,000-tenant load makes millions, so it cost a third of the load.
    Whatever cycles a load leaves are collected as usual once it is switched back on.

    What the load made is long-lived, so it is moved to the oldest generation unscanned
    (freeze, then unfreeze), as a young collection would after scanning it: that first young
    collection walked every object of the load, about a tenth of a 10,000-tenant load. Cycles
    left among them are freed by the next full collection instead."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _load(
    files: list[str],
    read: Callable[[str], tuple[Document | None, list[Problem]]],
    problems: list[Problem],
    skipped: list[Skipped],
) -> LoadedConfig:
    with _collector_paused():
        return _load_all(files, read, problems, skipped)


def _load_all(
    files: list[str],
    read: Callable[[str], tuple[Document | None, list[Problem]]],
    problems: list[Problem],
    skipped: list[Skipped],
) -> LoadedConfig:
    run = _Run()
    run.add(problems)
    config: list[Document] = []
    templates: dict[str, Template | None] = {}  # None: the template itself is broken
    checks: dict[str, Template] = {}  # broken templates whose parameters can still check tenants
    tenants: list[Document] = []
    valid, invalid = _valid_documents(files, read, run)
    for doc in valid:
        kind = kind_of_document(doc.data)
        if kind == "template":
            _add_template(doc, templates, run)
        else:
            (tenants if kind == "tenants" else config).append(doc)
    for doc, problems_of_doc in invalid:
        _add_broken_template(doc, problems_of_doc, templates, checks)
    for doc in tenants:
        config.extend(_render(doc, templates, checks, run))
    builder = Builder()
    for doc in config:
        builder.add(doc)
    state, found = builder.finish(check_references=run.complete)
    run.add(found)
    run.raise_if_any()
    return LoadedConfig(files, config, state, skipped)


def _valid_documents(
    files: list[str], read: Callable[[str], tuple[Document | None, list[Problem]]], run: _Run
) -> tuple[list[Document], list[tuple[Document, list[Problem]]]]:
    """The documents that pass the schema, and the templates that do not, with their problems."""
    valid = []
    invalid = []
    for file in files:
        doc, found = read(file)
        if doc is None:
            run.add(found)
            run.unread.append(file)
            continue
        misspelt = _misspelt_kind(doc)
        if misspelt is not None:  # one problem, not one per field the wrong kind does not have
            run.add([*found, misspelt])
            invalid.append((doc, [misspelt]))  # a template in all likelihood: known by its name
            continue
        yaml_positions = {(p.file, p.line, p.column) for p in found}  # one report per position
        checked = run.validate(doc, skip=yaml_positions)
        found = [p for p in found if (p.file, p.line, p.column) not in checked.replaced]
        run.add(found)
        if checked.valid:
            valid.append(doc)
        elif isinstance(doc.data, dict) and kind_of_document(doc.data) == "template":
            invalid.append((doc, [*found, *checked.problems]))  # found: where skipped ones are
    return valid, invalid


def _misspelt_kind(doc: Document) -> Problem | None:
    """``kind: templat``: the kind mailctl reads a document as, mistyped as something close."""
    kind = doc.data.get("kind") if isinstance(doc.data, dict) else None
    if not isinstance(kind, str) or kind in MAILCTL_KINDS:
        return None
    close = difflib.get_close_matches(kind, MAILCTL_KINDS, n=1)
    if close != ["template"]:
        return None
    return doc.problem(
        ("kind",), f"`{kind}` is not a kind mailctl knows (config or template); did you mean `template`?"
    )


def _add_template(doc: Document, templates: dict[str, Template | None], run: _Run) -> None:
    template, found = parse_template(doc)
    first = templates.get(template.name)
    if template.name in templates:
        where = f" at {first.source}" if first is not None else ""
        run.add([doc.problem(("name",), f"template `{template.name}` is already defined{where}")])
        return
    run.add(found)  # a parameter with a mistake is left out or loosened: its tenants still render
    templates[template.name] = template


def _add_broken_template(
    doc: Document, problems: list[Problem], templates: dict[str, Template | None], checks: dict[str, Template]
) -> None:
    """A template that fails the schema is known by its name all the same (its tenants are not
    told it does not exist); where its name and parameters are sound, they still check them."""
    name = doc.data.get("name")
    if not isinstance(name, str) or name in templates:
        return
    templates[name] = None
    if any(p.path in ("name", "parameters", "kind") for p in problems):  # parameters unchecked
        return
    loose = {p.path.split(".")[1] for p in problems if p.path.startswith("parameters.")}
    checks[name], _ = parse_template(doc, loose)  # its own problems are reported already


def _render(
    doc: Document, templates: dict[str, Template | None], checks: dict[str, Template], run: _Run
) -> list[Document]:
    name = doc.data["template"]
    if name not in templates:
        known = ", ".join(f"`{n}`" for n in sorted(templates)) or "none"
        remedy = "pass the template's file with -f too"
        if run.unread:  # the template may well be in one of them
            remedy = f"{len(run.unread)} file(s) could not be read (see above): fix them, or {remedy}"
        run.add([doc.problem(("template",), f"unknown template `{name}` (templates loaded: {known}); {remedy}")])
        return []
    template = templates[name]
    if template is None:  # its problems are reported; its tenants' own are still worth knowing
        run.complete = False
        if name in checks:
            for tenant in doc.data["tenants"]:
                run.add(checks[name].bind(doc, tenant)[1])
        return []
    rendered, found = render_tenants(doc, template)
    run.add(found)
    return [rendered] if run.validate(rendered).valid else []
