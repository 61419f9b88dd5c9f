"""``--changed-since REF`` for plan, apply, drift and graph: target what the config changed since REF.

The option wraps the command: before the command runs, it loads the config at REF and in the
working tree, diffs the two (``mailctl.plan.changed``), prints on stderr what it selected and
why, and hands the command the selected addresses as its ``targets``. The command then plans as
with ``--target``. With no difference it says so and exits 0 without planning; with ``--format
github`` that answer is also the step summary and ``changes=0``, and an error of the option
(REF unknown, the config at REF broken) is annotated like the command's own.

With ``--target``, the two intersect: a changed address is kept when a ``--target`` glob
matches it (or a scope it is in), so ``--changed-since origin/main --target 'pod/eu-*'`` plans
what the pull request changed among the eu pods.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from mailctl.cli import github
from mailctl.cli.common import keep_loaded, load_desired
from mailctl.errors import EXIT_OK, UsageError
from mailctl.text import shown

if TYPE_CHECKING:
    from mailctl.plan.changed import Selection

F = Callable[..., Any]
_NOTHING = "no declared resource differs"
SHOWN = 20  # addresses listed on stderr; the rest are counted


def changed_since_option(func: F) -> F:
    """Add ``--changed-since REF``; the command must take ``files`` and ``targets``."""

    @functools.wraps(func)
    def command(*args: Any, changed_since: str | None = None, **kwargs: Any) -> Any:
        if changed_since is not None:
            if kwargs.get("planfile_path"):
                raise UsageError("a saved PLANFILE already fixes the targets: drop --changed-since")
            for_github = kwargs.get("fmt") == github.FORMAT
            with github.errors_as_annotations(for_github):  # the step files' errors too
                targets = tuple(kwargs.get("targets", ()))
                selected = select(changed_since, tuple(kwargs["files"]), targets)
                if selected is None and for_github:
                    _publish_nothing(func.__name__, changed_since)
            if selected is None:
                sys.exit(EXIT_OK)
            kwargs["targets"] = selected
        return func(*args, **kwargs)

    return click.option(
        "--changed-since",
        "changed_since",
        metavar="REF",
        default=None,
        help="Only what the config changed since git revision REF (e.g. origin/main): the addresses "
        "added, removed or edited, templates rendered. With --target: what both select.",
    )(command)


def select(ref: str, files: tuple[str, ...], targets: tuple[str, ...]) -> tuple[str, ...] | None:
    """The ``--target`` patterns for what changed since ``ref`` (None when nothing did)."""
    from mailctl.config import changed_since
    from mailctl.plan.changed import Selection, changed

    revision = changed_since.resolve(ref, list(files))
    before = changed_since.load_at(revision, list(files))
    after = load_desired(files)
    keep_loaded(files, after)  # the command plans the state that was diffed
    if before is None:
        absent = f"the config did not exist at {ref} (none of its files are in that commit)"
        selection = Selection(everything=absent)
    else:
        selection = changed(before, after)
    if targets and selection.everything is None:
        selection = _within(selection, targets)
    _report(f"--changed-since {revision}", selection, targets)
    if selection.empty:
        return None
    if selection.everything is not None:
        return targets
    from mailctl.plan.targeting import Derived

    flags = (("--changed-since", ref), *(("--target", t) for t in targets))
    return tuple(Derived(target, flags) for target in selection.targets())


def _publish_nothing(command: str, ref: str) -> None:
    """The step summary and ``changes=0`` of a run that found nothing to plan."""
    from mailctl.plan.render import code

    option = code(f"--changed-since {ref}")
    github.publish(f"### mailctl {command}\n\n**{_NOTHING}**: nothing to {command} ({option})", 0)


def _within(selection: Selection, targets: tuple[str, ...]) -> Selection:
    from mailctl.plan.changed import Selection
    from mailctl.resources import address_matches

    def kept(reasons: dict[str, str]) -> dict[str, str]:
        return {a: why for a, why in reasons.items() if any(address_matches(a, t) for t in targets)}

    return Selection(kept(selection.reasons), kept(selection.patterns), None, selection.notes)


def _report(head: str, selection: Selection, targets: tuple[str, ...]) -> None:
    def say(text: str) -> None:
        click.echo(shown(text), err=True)

    within = f" within --target {' '.join(targets)}" if targets else ""
    for note in selection.notes:
        say(f"{head}: {note}")
    if selection.everything is not None:
        say(f"{head}: {selection.everything}; planning {'--target ' + ' '.join(targets) if targets else 'everything'}")
        return
    if selection.empty:
        say(f"{head}: {_NOTHING}{within}; nothing to plan")
        return
    lines = [*selection.reasons.items(), *selection.patterns.items()]
    say(f"{head}: {len(lines)} address{'' if len(lines) == 1 else 'es'} selected{within}:")
    for address, why in lines[:SHOWN]:
        say(f"  {address}: {why}")
    if len(lines) > SHOWN:
        say(f"  ... and {len(lines) - SHOWN} more")
