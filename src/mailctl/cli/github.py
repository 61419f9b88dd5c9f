"""``--format github``: GitHub Actions workflow commands and the job's step summary.

Workflow commands are lines on stdout that the runner turns into annotations:
``::error file=F,line=L,col=C::message`` (on the file and line of a pull request) and
``::warning::message``. Their escaping is GitHub's: in the message ``%``, CR and LF become
``%25``, ``%0D``, ``%0A``; in property values ``:`` and ``,`` also become ``%3A`` and ``%2C``.

When ``$GITHUB_STEP_SUMMARY`` names a file, the Markdown report (plan or drift) is appended to it;
when ``$GITHUB_OUTPUT`` does, ``changes=N`` is appended so a step can read how many changes (or
drifted resources) there are.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from mailctl.errors import MAX_SHOWN_PROBLEMS, ConfigError, MailctlError, Problem, UsageError
from mailctl.text import shown

if TYPE_CHECKING:
    from mailctl.plan.changes import Change, Plan
    from mailctl.plan.drift import DriftReport

FORMAT = "github"
STEP_SUMMARY = "GITHUB_STEP_SUMMARY"
OUTPUT = "GITHUB_OUTPUT"
WORKSPACE = "GITHUB_WORKSPACE"  # the repository top: what annotations' file= is read from


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(kind: str, message: str, **properties: Any) -> str:
    """``::kind key=value,...::message``, properties in the order given, None ones left out.
    Hidden characters (controls, bidi) are shown as escapes: annotations are read by people."""
    props = ",".join(f"{key}={escape_property(shown(value))}" for key, value in properties.items() if value is not None)
    text = escape_data(shown(message, keep="\n"))
    return f"::{kind}{' ' + props if props else ''}::{text}"


def workspace_file(path: str | None) -> str | None:
    """A file as the runner reads ``file=``: from the repository top (``$GITHUB_WORKSPACE``), where
    mailctl may run below it (the action's ``working-directory``); a file outside it as given."""
    top = os.environ.get(WORKSPACE)
    if not path or not top:
        return path
    relative = os.path.relpath(os.path.abspath(path), os.path.abspath(top))
    return path if relative == os.pardir or relative.startswith(os.pardir + os.sep) else relative


def problem_annotation(problem: Problem) -> str:
    # One line, as in the text report: a line break from the config is an escape there, never a break.
    message = f"{shown(problem.path)}: {shown(problem.message)}" if problem.path else shown(problem.message)
    located = problem.line > 0
    return workflow_command(
        "error",
        message,
        file=workspace_file(problem.file or None),
        line=problem.line if located else None,
        col=problem.column if located and problem.column > 0 else None,
    )


def error_annotations(exc: MailctlError) -> list[str]:
    """A config error as one ``::error`` per problem, on its file and line; any other error as one."""
    if not isinstance(exc, ConfigError):
        return [workflow_command("error", str(exc))]
    problems = exc.problems[:MAX_SHOWN_PROBLEMS]
    # The report is a header, one line per shown problem, then "... and N more problems" when
    # some were not shown: count the lines rather than read them, as a file name can read alike.
    rest = str(exc).splitlines()[1 + len(problems) :]
    return [problem_annotation(p) for p in problems] + [workflow_command("error", line) for line in rest]


@contextmanager
def errors_as_annotations(enabled: bool) -> Iterator[None]:
    """With ``--format github``, print each error as annotations first; the CLI still reports
    and exits as for any other format (the error is re-raised)."""
    try:
        yield
    except MailctlError as exc:
        if enabled:
            click.echo("\n".join(error_annotations(exc)))
        raise


def warning(message: str, change: Change | None = None) -> str:
    """``::warning::``, on the line that declares ``change``'s resource when there is one."""
    source = change.desired.source if change is not None and change.desired is not None else None
    if source is None:
        return workflow_command("warning", message)
    return workflow_command("warning", message, file=workspace_file(source.file), line=source.line, col=source.column)


def drift_warning(category: str, change: Change) -> str:
    from mailctl.plan.drift import diff_text

    details = "; ".join(diff_text(d) for d in change.diff)
    return warning(f"drift: {shown(change.address)} {category}" + (f" ({details})" if details else ""), change)


def report_plan(plan: Plan) -> None:
    """What apply would refuse as errors, deferred work (the plan's notes) as warnings, the plan
    (refusals first) as the summary."""
    from mailctl.plan.render import render_markdown as plan_markdown

    lines = [workflow_command("error", f"apply will refuse this plan ({r.rule}): {r.message}") for r in plan.refusals]
    lines += [warning(note) for note in plan.notes]
    if lines:
        click.echo("\n".join(lines))
    publish(plan_markdown(plan), len(plan.changes))


def report_drift(report: DriftReport) -> None:
    """One warning per drifted resource, at its declaration when it has one; the report as the summary."""
    from mailctl.plan.drift import CHANGED, MISSING, UNDECLARED
    from mailctl.plan.drift import render_markdown as drift_markdown

    lines = [
        drift_warning(category, change)
        for category, changes in ((CHANGED, report.changed), (MISSING, report.missing), (UNDECLARED, report.undeclared))
        for change in changes
    ]
    if lines:
        click.echo("\n".join(lines))
    publish(drift_markdown(report), report.summary()["total"])


def publish(markdown: str, changes: int, environ: Mapping[str, str] = os.environ) -> None:
    """Append the report to the step summary and ``changes=N`` to the step outputs, if set."""
    _append(environ.get(STEP_SUMMARY), markdown.rstrip("\n") + "\n\n")
    _append(environ.get(OUTPUT), f"changes={changes}\n")


def _append(path: str | None, text: str) -> None:
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as file:
            file.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
