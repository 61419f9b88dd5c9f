"""`mailctl render`: print the configuration with templates expanded and files merged."""

from __future__ import annotations

import click

from mailctl.cli.common import config_option
from mailctl.config import load_config
from mailctl.config.dump import to_yaml


@click.command()
@config_option
def render(files: tuple[str, ...]) -> None:
    """Print the expanded config (templates stamped out per tenant) as one YAML document.

    The config is validated first; the output is itself a valid config.
    """
    loaded = load_config(list(files))
    click.echo(to_yaml(loaded.documents, loaded.files), nl=False)
