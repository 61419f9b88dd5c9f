"""`mailctl schema`: print the JSON Schema of the config format, for editors outside the repository."""

from __future__ import annotations

import click


@click.command("schema")
def schema() -> None:
    """Print the JSON Schema of mailctl config files.

    Editors that use the YAML language server check and complete config files with it. It is
    generated from the kind descriptions; schemas/mailctl.schema.json in the repository is a copy
    (regenerate it with `mailctl schema > schemas/mailctl.schema.json`).

    \b
    Examples:
      mailctl schema > mailctl.schema.json
      # then, first line of a config file:
      # yaml-language-server: $schema=./mailctl.schema.json
    """
    from mailctl.config import schema_gen

    click.echo(schema_gen.text(), nl=False)
