"""`mailctl validate`: check config files without touching the API."""

from __future__ import annotations

from collections import Counter

import click

from mailctl.cli import github
from mailctl.cli.common import config_option


@click.command()
@config_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "github"]),
    default="text",
    show_default=True,
    help="github: each problem also as an ::error annotation on its file and line.",
)
def validate(files: tuple[str, ...], fmt: str) -> None:
    """Check config files offline: syntax, schema, names, references.

    Exit 1 listing every problem as FILE:LINE:COL: field.path: message.

    \b
    Examples:
      mailctl validate -f mailctl/
      mailctl validate -f mailctl/ --format github   # annotations in a GitHub workflow
    """
    from mailctl.config import load_config
    from mailctl.resources import KINDS

    with github.errors_as_annotations(fmt == github.FORMAT):
        loaded = load_config(list(files))
    counts = Counter(resource.kind for resource in loaded.state.resources.values())
    breakdown = ", ".join(f"{counts[kind]} {kind}" for kind in KINDS if counts[kind])
    click.echo(
        f"OK: {_count(len(loaded.files), 'file')}, {_count(len(loaded.state.resources), 'resource')}"
        + (f" ({breakdown})" if breakdown else "")
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
