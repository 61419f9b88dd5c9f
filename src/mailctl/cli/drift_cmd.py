"""`mailctl drift`: a read-only drift report for cron jobs and monitors."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

import click

from mailctl.cli import github
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

if TYPE_CHECKING:
    from mailctl.plan.shards import Shard

OPENMETRICS = "openmetrics"


@click.command("drift")
@config_option
@connection_options
@target_options
@changed_since_option
@shard_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown", "github", OPENMETRICS]),
    default="text",
    show_default=True,
    help="github: the text report, plus a warning annotation per drifted "
    "resource and the Markdown report in the step summary. openmetrics: gauges for Prometheus "
    "(with --out, for node_exporter's textfile collector).",
)
@click.option(
    "--out", "out", metavar="FILE", callback=non_empty_path, help="Write the report to FILE instead of stdout."
)
def drift(
    files: tuple[str, ...],
    endpoint: str | None,
    sandbox: str | None,
    targets: tuple[str, ...],
    excludes: tuple[str, ...],
    shard: Shard | None,
    fmt: str,
    out: str | None,
) -> None:
    """Report how reality differs from the config (read-only).

    Exit 0: no drift, 2: drift, 1: error. --target, --exclude, --shard and --changed-since narrow
    the check (and what it reads) as they narrow a plan; the report says what it covered.

    \b
    Examples:
      mailctl drift -f mailctl/ --format json --out drift.json
      mailctl drift -f mailctl/ --format github    # in a scheduled GitHub workflow
      mailctl drift -f mailctl/ --target pod/tenant-acme   # one tenant
      mailctl drift -f mailctl/ --format openmetrics --out /var/lib/node_exporter/textfile/mailctl.prom
    """
    from mailctl import atomic
    from mailctl.plan.drift import DriftReport, render
    from mailctl.plan.openmetrics import render_openmetrics
    from mailctl.plan.targeting import matching_nothing
    from mailctl.text import shown

    with github.errors_as_annotations(fmt == github.FORMAT):  # --out and the step files' errors too
        check_out_path(out)
        planned = load_and_plan(files, endpoint, sandbox, targets, excludes, shard)
        for pattern in matching_nothing(targets, {*planned.desired.resources, *planned.actual.resources}):
            click.echo(
                f"Warning: --target {shown(pattern)} matches nothing declared or existing: this report "
                "checked nothing there",
                err=True,
            )
        report = DriftReport.from_plan(planned.plan)
        if fmt == OPENMETRICS:
            text = render_openmetrics(report, time.time(), str(shard) if shard else None)
        else:
            text = render(report, "text" if fmt == github.FORMAT else fmt)
        if out:
            try:
                atomic.write_text(out, text + "\n")
            except OSError as exc:
                raise UsageError(f"cannot write {out}: {exc.strerror}") from None
        else:
            click.echo(text)
        if fmt == github.FORMAT:
            github.report_drift(report)
    sys.exit(EXIT_CHANGES if report.has_drift else EXIT_OK)
