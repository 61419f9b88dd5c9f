"""`mailctl render`: print the configuration with templates expanded and files merged."""

from __future__ import annotations

import click

from mailctl.cli.common import config_option


@click.command()
@config_option
def render(files: tuple[str, ...]) -> None:
    """Print the config with templates expanded, as one YAML document.

    Templates are stamped out per tenant and all files merged. The config is validated first; the
    output is itself a valid config.

    \b
    Examples:
      mailctl render -f examples/saas
      mailctl render -f examples/saas > rendered.yaml
    """
    from mailctl.config import load_config
    from mailctl.config.dump import to_yaml

    loaded = load_config(list(files))
    click.echo(to_yaml(loaded.documents, loaded.files), nl=False)
