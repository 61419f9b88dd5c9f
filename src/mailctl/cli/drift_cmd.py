"""`mailctl drift`: a read-only drift report for cron jobs and monitors."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mailctl.cli.common import config_option, connection_options, load_desired, make_plan, open_client
from mailctl.errors import EXIT_CHANGES, EXIT_OK, UsageError
from mailctl.plan.drift import DriftReport, render


@click.command("drift")
@config_option
@connection_options
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True)
@click.option("--out", "out", metavar="FILE", help="Write the report to FILE instead of stdout.")
def drift(files: tuple[str, ...], endpoint: str | None, sandbox: str | None, fmt: str, out: str | None) -> None:
    """Report how the actual state differs from the config. Exit 0: no drift, 2: drift, 1: error."""
    desired = load_desired(files)
    with open_client(endpoint, sandbox) as client:
        planned = make_plan(client, desired, (), ())
    report = DriftReport.from_plan(planned.plan)
    text = render(report, fmt)
    if out:
        try:
            Path(out).write_text(text + "\n")
        except OSError as exc:
            raise UsageError(f"cannot write {out}: {exc.strerror}") from None
    else:
        click.echo(text)
    sys.exit(EXIT_CHANGES if report.has_drift else EXIT_OK)
