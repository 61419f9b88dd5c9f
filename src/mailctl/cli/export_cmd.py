"""`mailctl export` and `mailctl import`: adopt an existing account, or single resources, as config."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from mailctl.api.reader import StateReader
from mailctl.cli import hints
from mailctl.cli.common import connection_options, open_client
from mailctl.config import load
from mailctl.errors import ConfigError, UsageError
from mailctl.export import export_tree, split_by_pod, to_yaml
from mailctl.plan.targeting import matches
from mailctl.resources import INBOX, POD, ActualState, DesiredState, Resource


def _read_everything(endpoint: str | None, sandbox: str | None) -> ActualState:
    with open_client(endpoint, sandbox) as client:
        reader = StateReader(client)
        state = reader.read(DesiredState())
        # Lists have no organisation-wide view: read them for every scope that exists.
        scopes: set[str | None] = {a for a, r in state.resources.items() if r.kind in (POD, INBOX)}
        reader.read_lists(state, scopes | {None})
        return state


def _check_round_trip(files: dict[str, str]) -> None:
    """What we write must load: fail loudly rather than hand the user a config that doesn't."""
    with tempfile.TemporaryDirectory() as tmp:
        for stem, text in files.items():
            (Path(tmp) / f"{stem}.yaml").write_text(text)
        try:
            load([tmp])
        except ConfigError as exc:
            raise UsageError("the exported config does not validate (some names cannot be expressed "
                             f"in mailctl config):\n{exc}") from None


@click.command("export")
@connection_options
@click.option("--pod", "pods", multiple=True, metavar="GLOB",
              help="Only pods whose client_id (or pod_id) matches GLOB (repeatable); "
                   "organisation-level resources are then left out.")
@click.option("-o", "--output-dir", "out_dir", metavar="DIR",
              help="Write one file per pod (plus _organization.yaml) into DIR; default: stdout.")
def export(endpoint: str | None, sandbox: str | None, pods: tuple[str, ...], out_dir: str | None) -> None:
    """Write config for what exists, so that `mailctl plan` shows no changes.

    \b
    Examples:
      mailctl export -o mailctl/
      mailctl export --pod 'tenant-*' -o mailctl/
    """
    actual = _read_everything(endpoint, sandbox)
    tree = export_tree(actual, list(pods))
    files = {stem: to_yaml(part) for stem, part in split_by_pod(tree).items()}
    if not files:
        raise UsageError("nothing to export" + (f" for --pod {' '.join(pods)}" if pods else ""))
    _check_round_trip(files)
    if not out_dir:
        click.echo(to_yaml(tree), nl=False)
        return
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    for stem, text in files.items():
        (directory / f"{stem}.yaml").write_text(text)
    click.echo(f"Wrote {len(files)} file(s) to {directory}/. Check with: {hints.command('plan', '-f', str(directory))}")


@click.command("import")
@click.argument("addresses", nargs=-1, required=True, metavar="ADDRESS...")
@connection_options
def import_(addresses: tuple[str, ...], endpoint: str | None, sandbox: str | None) -> None:
    """Print the config that adopts existing resources (ADDRESS may be a glob).

    mailctl identifies resources by name, so adding this to your config is the import: the next
    plan shows them as unchanged rather than created.

    \b
    Examples:
      mailctl import pod/tenant-acme >> mailctl/acme.yaml
      mailctl import 'pod/tenant-acme/inbox/*'
    """
    actual = _read_everything(endpoint, sandbox)
    chosen = ActualState()
    for address, resource in actual.resources.items():
        if any(matches(address, pattern) for pattern in addresses):
            chosen.add(resource)
    if not chosen.resources:
        raise UsageError(f"nothing exists at {' '.join(addresses)} (see `mailctl export` for what does)")
    for address, resource in list(chosen.resources.items()):
        parent = resource.parent
        while parent is not None and parent not in chosen.resources:  # keep the nesting path
            scope = actual.resources.get(parent)
            if scope is None:
                break
            chosen.add(Resource(scope.kind, scope.address, {}, parent=scope.parent))  # nesting only
            parent = scope.parent
    click.echo(to_yaml(export_tree(chosen)), nl=False)
