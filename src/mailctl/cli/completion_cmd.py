"""`mailctl completion SHELL`: print the shell completion script (click's completion machinery)."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_MAILCTL_COMPLETE"  # the variable click's generated scripts call mailctl with


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for bash, zsh or fish.

    \b
    Examples:
      eval "$(mailctl completion bash)"        # in ~/.bashrc
      mailctl completion fish > ~/.config/fish/completions/mailctl.fish
    """
    root = ctx.find_root().command
    completer = get_completion_class(shell)
    assert completer is not None  # every name in SHELLS is one click ships
    click.echo(completer(root, {}, "mailctl", COMPLETE_VAR).source())
