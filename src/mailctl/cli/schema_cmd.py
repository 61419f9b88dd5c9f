"""`mailctl schema`: print the JSON Schema of the config format, for editors outside the repository."""

from __future__ import annotations

from importlib import resources

import click

from mailctl.config.schema import SCHEMA_RESOURCE


def schema_text() -> str:
    """The schema exactly as shipped in the package (the same bytes as schemas/mailctl.schema.json)."""
    return resources.files("mailctl.config").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")


@click.command("schema")
def schema() -> None:
    """Print the JSON Schema of mailctl config files.

    Editors that use the YAML language server check and complete config files with it.

    \b
    Examples:
      mailctl schema > mailctl.schema.json
      # then, first line of a config file:
      # yaml-language-server: $schema=./mailctl.schema.json
    """
    click.echo(schema_text(), nl=False)
