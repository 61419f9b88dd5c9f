"""`mailctl validate`: check config files without touching the API."""

from __future__ import annotations

from collections import Counter

import click

from mailctl.cli.common import config_option
from mailctl.config import load_config
from mailctl.resources import KINDS


@click.command()
@config_option
def validate(files: tuple[str, ...]) -> None:
    """Check config files: syntax, schema, names and references. Exit 1 listing every problem."""
    loaded = load_config(list(files))
    counts = Counter(resource.kind for resource in loaded.state.resources.values())
    breakdown = ", ".join(f"{counts[kind]} {kind}" for kind in KINDS if counts[kind])
    click.echo(f"OK: {_count(len(loaded.files), 'file')}, {_count(len(loaded.state.resources), 'resource')}"
               + (f" ({breakdown})" if breakdown else ""))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
