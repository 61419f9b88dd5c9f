"""Config written back as YAML: the loaded configuration merged (``render``), or any config tree.

The output is itself a valid mailctl config that loads into the same resources.
"""

from __future__ import annotations

from typing import Any

import yaml

from mailctl.config.loader import Document, yaml12_number
from mailctl.kinds import CONFIG_ORDER
from mailctl.text import RUNNER_COMMAND, escapes, shown

# Top-level keys, in the order files are written: policy and renames, then what the organisation declares.
SECTIONS = ("manage", "settings", "moved", *(spec.section for spec in CONFIG_ORDER if None in spec.parents))


def merged(documents: list[Document]) -> dict[str, Any]:
    """Every config document's sections merged (the loader has already ruled out conflicts)."""
    out: dict[str, Any] = {"version": 1}
    for doc in documents:
        for section in SECTIONS:
            if doc.data.get(section) is not None:
                out[section] = _merge(out.get(section), doc.data[section])
    return out


def _merge(into: Any, value: Any) -> Any:
    if into is None:
        return value
    if isinstance(into, dict) and isinstance(value, dict):
        result = dict(into)
        for key, item in value.items():
            result[key] = _merge(result.get(key), item)
        return result
    if isinstance(into, (list, str)) and isinstance(value, (list, str)):  # prefixes, plain list entries, moved
        items = (into if isinstance(into, list) else [into]) + (value if isinstance(value, list) else [value])
        try:
            return list(dict.fromkeys(items))
        except TypeError:  # moved blocks are mappings (and few)
            return [item for i, item in enumerate(items) if item not in items[:i]]
    if isinstance(into, list) != isinstance(value, list):  # list entries, `[entry]` in one file, `{entry: }` in another
        return _merge(_as_mapping(into), _as_mapping(value))
    return into


def _as_mapping(entries: Any) -> Any:
    """A plain list of list entries as the mapping form it stands for (``[a]``: ``{a: null}``)."""
    return dict.fromkeys(entries) if isinstance(entries, list) else entries


class _PlainDumper(yaml.SafeDumper):
    """Never writes anchors/aliases (mailctl rejects them), keeps declaration order, and writes a
    string holding control or bidi characters or a lookalike space double-quoted with them escaped
    (``"\\u202e"``, ``"\\_"``): PyYAML counts them as printable and would write them raw into a file
    people review, where they reorder the text around them or pass for a space."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def write_double_quoted(self, text: str, split: bool = True) -> None:
        if not escapes(text):
            return super().write_double_quoted(text, split)
        allow_unicode, self.allow_unicode = self.allow_unicode, False  # escape all non-ASCII here
        try:
            super().write_double_quoted(text, split)
        finally:
            self.allow_unicode = allow_unicode


def _string(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # Text YAML 1.2 reads as a number (1e3) is quoted: PyYAML (YAML 1.1) would write it plain.
    style = '"' if escapes(data) or RUNNER_COMMAND in data else "'" if yaml12_number(data) is not None else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_PlainDumper.add_representer(str, _string)


def dump_yaml(data: dict[str, Any]) -> str:
    """Config as YAML the loader accepts: no anchors, declaration order kept; ``##[`` (which a CI
    log would run: ``mailctl.text``) only inside double quotes, written ``##\\x5b``, the same text."""
    text = yaml.dump(
        data, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )
    return text.replace(RUNNER_COMMAND, "##\\x5b") if RUNNER_COMMAND in text else text


def to_yaml(documents: list[Document], files: list[str]) -> str:
    header = "".join(f"# from {shown(file)}\n" for file in files)  # a line break would end the comment
    return f"# Rendered by `mailctl render`: templates expanded, files merged.\n{header}{dump_yaml(merged(documents))}"
