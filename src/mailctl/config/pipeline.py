"""Files -> validated documents -> one DesiredState; every problem collected, raised once."""

from __future__ import annotations

from dataclasses import dataclass, field

from mailctl.config import schema
from mailctl.config.build import Builder
from mailctl.config.loader import Document, expand_paths, read_document
from mailctl.errors import ConfigError, Problem
from mailctl.resources import DesiredState


@dataclass
class LoadedConfig:
    """The result of a successful load: what was read, and what it declares."""

    files: list[str]
    documents: list[Document]  # config documents, including those rendered from templates
    state: DesiredState = field(default_factory=DesiredState)


def load_config(paths: list[str]) -> LoadedConfig:
    """Read, validate and merge config files. Raises ConfigError listing every problem."""
    files, problems = expand_paths(paths)
    yaml_positions: set[tuple[str, int, int]] = set()
    documents: list[Document] = []
    complete = not problems
    for file in files:
        doc, found = read_document(file)
        problems.extend(found)
        yaml_positions.update((p.file, p.line, p.column) for p in found)
        if doc is None:
            complete = False
            continue
        invalid = [p for p in schema.validate(doc) if (p.file, p.line, p.column) not in yaml_positions]
        problems.extend(invalid)
        if invalid or found:
            complete = False
        if not invalid:
            documents.append(doc)
    builder = Builder()
    for doc in documents:
        builder.add(doc)
    state, found = builder.finish(check_references=complete)
    problems.extend(found)
    if problems:
        raise ConfigError(_unique(problems))
    return LoadedConfig(files, documents, state)


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))
