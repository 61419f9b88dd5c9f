"""`mailctl plan`: read the actual state, diff it against the config, print what apply would do."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from mailctl.cli import github, hints
from mailctl.cli.changed_since_option import changed_since_option
from mailctl.cli.common import (
    check_out_path,
    config_option,
    connection_options,
    load_and_plan,
    non_empty_path,
    target_options,
)
from mailctl.cli.scale_options import shard_option
from mailctl.errors import EXIT_CHANGES, EXIT_OK, UsageError
from mailctl.text import shown

if TYPE_CHECKING:
    from mailctl.plan.shards import Shard


@click.command("plan")
@config_option
@connection_options
@target_options
@changed_since_option
@shard_option
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (format_version 1).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown", "github"]),
    default="text",
    show_default=True,
    help="Output format; markdown suits pull-request comments; github adds workflow annotations and the step summary.",
)
@click.option(
    "--out", "out", metavar="PLANFILE", callback=non_empty_path, help="Save the plan for `mailctl apply PLANFILE`."
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes (0: none, 1: error).")
def plan(
    files: tuple[str, ...],
    endpoint: str | None,
    sandbox: str | None,
    targets: tuple[str, ...],
    excludes: tuple[str, ...],
    shard: Shard | None,
    as_json: bool,
    fmt: str,
    out: str | None,
    detailed_exitcode: bool,
) -> None:
    """Show what `apply` would change. Reads only; changes nothing.

    \b
    Examples:
      mailctl plan -f mailctl/ --detailed-exitcode     # exit 0: no changes, 2: changes
      mailctl plan -f mailctl/ --format markdown > plan.md
    """
    from mailctl.plan import planfile
    from mailctl.plan.render import render_json, render_markdown, render_text

    format_given = click.get_current_context().get_parameter_source("fmt") != ParameterSource.DEFAULT
    if as_json and format_given and fmt != "json":
        raise UsageError(f"--json and --format {fmt} ask for two formats: give one of them")
    fmt = "json" if as_json else fmt
    if shard is not None and out:
        raise UsageError(
            "--out cannot save a sharded plan (other shards change the state it records): "
            "apply each shard with `mailctl apply --shard K/N`"
        )
    with github.errors_as_annotations(fmt == github.FORMAT):  # the step files' errors too
        check_out_path(out)
        planned = load_and_plan(files, endpoint, sandbox, targets, excludes, shard)
        if out:
            planned.plan.refusals += planfile.unsaved_values(planned.plan)
            planfile.save(
                out, planned.plan, planned.desired, planned.actual, list(targets), list(excludes), list(files)
            )
        renderer = {"text": render_text, "json": render_json, "markdown": render_markdown, "github": render_text}[fmt]
        click.echo(renderer(planned.plan))
        if fmt == github.FORMAT:
            github.report_plan(planned.plan)
        if out and fmt in ("text", github.FORMAT):
            saved = f"Saved the plan to {out}. Apply exactly this plan with: {hints.command('apply', out)}"
            click.echo(f"\n{shown(saved)}")  # a file name may hold control characters
    sys.exit(EXIT_CHANGES if detailed_exitcode and planned.plan.has_changes else EXIT_OK)
