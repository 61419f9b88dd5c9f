"""`mailctl export` and `mailctl import`: adopt an existing account, or single resources, as config.

Both check what they print before printing it: the config must load (problems are reported
against the file it is about to be written to, never a temporary one), and planning it alone (as
the printed hint says) against the whole account just read must show no changes. The header says
so only when that holds. With ``-f``, what its ``manage.ignore`` matches is left out and its rules
are printed with the config, so that this holds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mailctl import atomic
from mailctl.cli import hints
from mailctl.cli.common import config_option, connection_options, load_desired, open_client
from mailctl.errors import UsageError
from mailctl.text import shown

if TYPE_CHECKING:
    from mailctl.export import Selection
    from mailctl.plan.changes import Change
    from mailctl.resources import ActualState, DesiredState, ManagePolicy

STDOUT = "<stdout>"  # the label problems carry when the config goes to stdout


def _read_everything(
    endpoint: str | None, sandbox: str | None, files: tuple[str, ...]
) -> tuple[ActualState, DesiredState | None]:
    """What exists, and the ``-f`` config (None without ``-f``): its rules come along."""
    from mailctl.ops.export import read_account

    with open_client(endpoint, sandbox) as client:
        actual = read_account(client)
    return actual, load_desired(files) if files else None


def _selectable(
    actual: ActualState, manage: ManagePolicy | None, every_pod: bool
) -> tuple[ActualState, dict[str, Any], list[str]]:
    """What may be declared (``actual`` less what ``manage.ignore`` leaves alone), the ``manage``
    section to print, and the header's notes about both."""
    from mailctl.export import carried_rules, without_ignored

    if manage is None:
        return actual, {}, []
    selectable, ignored = without_ignored(actual, manage)
    section, notes = carried_rules(manage, every_pod)
    return selectable, section, notes + _ignored_notes(ignored)


def _check(texts: dict[str, str], actual: ActualState) -> list[Change]:
    """The changes planning ``texts`` alone against all of ``actual`` would show (see
    ``ops.export.check_texts``)."""
    from mailctl.ops.export import check_texts

    return check_texts(texts, actual)


def _ignored_notes(ignored: list[str]) -> list[str]:
    if not ignored:
        return []
    count = f"Unmanaged (manage.ignore: made at runtime, left out, left alone): {len(ignored)}"
    return [count] + [f"  {a}" for a in ignored]


def _header(title: str, selection: Selection, changes: list[Change]) -> list[str]:
    lines = [title]
    if not changes:
        lines.append("Checked: `mailctl plan` with this config against this account plans with no changes.")
    else:
        lines.append(f"Warning: `mailctl plan` with this config would show {len(changes)} change(s):")
        lines += [f"  {c.action} {c.address}" + (f" ({c.reason})" if c.reason else "") for c in changes]
    lines += selection.notes
    return [shown(line) for line in lines]  # YAML comment lines: a line break would end the comment


def _warn_changes(changes: list[Change]) -> None:
    if changes:
        click.echo(
            f"warning: planning this config would show {len(changes)} change(s) (listed in its "
            "header): the account holds something config cannot express as it is",
            err=True,
        )


def _refuse_directory(directory: Path) -> None:
    """``-o DIR`` must be a directory (or nothing yet) holding no mailctl config: files left from
    before would be overwritten, or read beside the export by ``plan -f DIR``."""
    from mailctl.config.files import IGNORE_FILE, expand_paths

    if os.path.lexists(directory) and not directory.is_dir():
        raise UsageError(f"-o {shown(str(directory))}: not a directory")
    if not directory.is_dir():
        return
    if os.path.lexists(directory / IGNORE_FILE):  # it would leave out files the export writes
        raise UsageError(
            f"{shown(str(directory))} holds a {IGNORE_FILE}, which could hide files the export writes (a plan "
            "of the directory would then delete what they declare): export into another directory"
        )
    config = expand_paths([str(directory)]).files
    if config:
        listed = _listed([os.path.relpath(f, directory) for f in config])
        raise UsageError(
            f"{shown(str(directory))} already holds mailctl config ({listed}): export into a new "
            "or empty directory, or move those files away first (a plan of the directory would read "
            "them beside the export)"
        )


def _listed(names: list[str]) -> str:
    return ", ".join(shown(name) for name in names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _write(directory: Path, texts: dict[str, str]) -> None:
    there = [name for name in texts if os.path.lexists(directory / name)]  # a directory, an ignored file...
    if there:
        raise UsageError(
            f"{shown(str(directory))} already holds {_listed(there)}: export into a new or empty directory"
        )
    try:
        atomic.write_new_files(directory, texts)
    except OSError as exc:
        where = shown(exc.filename if isinstance(exc.filename, str) else str(directory))
        raise UsageError(f"cannot write {where}: {exc.strerror or exc} (nothing was written)") from None


@click.command("export")
@connection_options
@config_option
@click.option(
    "--pod",
    "pods",
    multiple=True,
    metavar="GLOB",
    help="Only pods whose client_id (or pod_id) matches GLOB (repeatable), with the "
    "organisation domains their inboxes use; other organisation-level resources are "
    "then left out.",
)
@click.option(
    "-o",
    "--output-dir",
    "out_dir",
    metavar="DIR",
    help="Write one file per pod (plus _organization.yaml) into DIR, which must hold no mailctl "
    "config yet; every file or none. Default: stdout.",
)
def export(
    endpoint: str | None, sandbox: str | None, files: tuple[str, ...], pods: tuple[str, ...], out_dir: str | None
) -> None:
    """Write config for what exists, so that `mailctl plan` shows no changes.

    \b
    Examples:
      mailctl export -o mailctl/
      mailctl export --pod 'tenant-*' -o mailctl/
    """
    from mailctl.export import carried_settings, export_tree, select_pods, split_by_pod, to_yaml

    if out_dir == "":
        raise UsageError("-o needs a directory (leave -o out to print to stdout)")
    if out_dir is not None:
        _refuse_directory(Path(out_dir))  # before reading the account
    actual, config = _read_everything(endpoint, sandbox, files)
    selectable, rules, notes = _selectable(actual, config.manage if config else None, every_pod=not pods)
    settings, settings_notes = carried_settings(config.settings if config else {})
    selection = select_pods(selectable, list(pods))
    if selection.unmatched and len(selection.unmatched) < len(pods):  # a typo beside globs that match
        raise UsageError(f"--pod {' '.join(selection.unmatched)} matches no pod (nothing was exported)")
    selection.notes.extend(settings_notes + notes)
    tree = export_tree(selection.state, rules, settings)
    parts = split_by_pod(tree)
    if not selection.state.resources:
        raise UsageError("nothing to export" + (f" for --pod {' '.join(pods)}" if pods else ""))
    title = "Exported by `mailctl export`. Review it, then commit it as the desired state."
    if out_dir is None:
        changes = _check({STDOUT: to_yaml(tree, _header(title, selection, []))}, actual)
        click.echo(to_yaml(tree, _header(title, selection, changes)), nl=False)
        _warn_changes(changes)
        return
    directory = Path(out_dir)
    paths = {stem: str(directory / f"{stem}.yaml") for stem in parts}
    changes = _check(
        {paths[stem]: to_yaml(part, _header(title, selection, [])) for stem, part in parts.items()}, actual
    )
    header = _header(title, selection, changes)
    _write(directory, {f"{stem}.yaml": to_yaml(part, header) for stem, part in parts.items()})
    check = hints.command("plan", "-f", str(directory))  # with the connection flags of this run
    click.echo(f"Wrote {len(parts)} file(s) to {shown(str(directory))}/. Check with: {shown(check)}")
    _warn_changes(changes)


@click.command("import")
@click.argument("addresses", nargs=-1, required=True, metavar="ADDRESS...")
@connection_options
@config_option
def import_(addresses: tuple[str, ...], endpoint: str | None, sandbox: str | None, files: tuple[str, ...]) -> None:
    """Print the config that adopts existing resources (ADDRESS may be a glob).

    mailctl identifies resources by name, so adding this to your config is the import: the next
    plan shows them as unchanged rather than created. Any part of a pod brings the whole pod
    (a declared pod's undeclared children would be deleted).

    \b
    Examples:
      mailctl import pod/tenant-acme >> mailctl/acme.yaml
      mailctl import 'pod/tenant-acme/inbox/*'
    """
    from mailctl.export import export_tree, select_for_import, to_yaml
    from mailctl.kinds import canonical_pattern
    from mailctl.plan.targeting import matched_by, matching_nothing

    actual, config = _read_everything(endpoint, sandbox, files)
    selectable, rules, notes = _selectable(actual, config.manage if config else None, every_pod=False)
    given = {canonical_pattern(a): a for a in addresses}  # read as --target reads them
    missing = [given[p] for p in matching_nothing(list(given), selectable.resources)]
    if missing and config is not None:  # what exists but CONFIG's manage.ignore leaves alone: say so
        found = matched_by(actual.resources, [canonical_pattern(a) for a in missing])
        ignoring = sorted({g for addresses in found.values() for a in addresses if (g := config.manage.ignores(a))})
        if ignoring:
            shown_missing = " ".join(a for a in missing if found[canonical_pattern(a)])
            raise UsageError(
                f"{shown_missing} exists, but manage.ignore `{' '.join(ignoring)}` leaves it alone: a config "
                "with that rule cannot declare it (import without -f, or narrow the rule)"
            )
    if missing:  # even beside addresses that exist: a typo among them would go unnoticed
        raise UsageError(f"nothing exists at {' '.join(missing)} (see `mailctl export` for what does)")
    selection = select_for_import(selectable, list(addresses))
    selection.notes.extend(notes)
    if not selection.state.resources:
        raise UsageError(f"nothing exists at {' '.join(addresses)} (see `mailctl export` for what does)")
    tree = export_tree(selection.state, rules)
    title = f"Imported by `mailctl import {' '.join(addresses)}`: declaring these resources adopts them."
    changes = _check({STDOUT: to_yaml(tree, _header(title, selection, []))}, actual)
    click.echo(to_yaml(tree, _header(title, selection, changes)), nl=False)
    _warn_changes(changes)
