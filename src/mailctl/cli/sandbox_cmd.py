"""`mailctl sandbox ...`: run the local AgentMail sandbox (placeholder until the sandbox lands)."""

import click


@click.group()
def sandbox() -> None:
    """Run the local AgentMail sandbox."""
