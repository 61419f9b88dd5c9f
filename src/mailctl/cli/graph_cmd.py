"""`mailctl graph`: the declared resources (offline), or a plan, as DOT or Mermaid."""

from __future__ import annotations

import click

from mailctl.cli.changed_since_option import changed_since_option
from mailctl.cli.common import config_option, connection_options, load_and_plan, load_desired, target_options
from mailctl.plan.graph_formats import DOT, FORMATS


@click.command("graph")
@config_option
@connection_options
@target_options
@changed_since_option
@click.option(
    "--plan",
    "of_plan",
    is_flag=True,
    help="Draw the plan instead (reads the API: implied by --endpoint and --sandbox).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=DOT,
    show_default=True,
    help="dot: for Graphviz (`| dot -Tsvg`). mermaid: renders in GitHub comments and Markdown.",
)
def graph(
    files: tuple[str, ...],
    endpoint: str | None,
    sandbox: str | None,
    targets: tuple[str, ...],
    excludes: tuple[str, ...],
    of_plan: bool,
    fmt: str,
) -> None:
    """Print the graph of the declared resources, offline like validate: scope -> what it holds
    (solid), resource -> what it uses (dashed). With --plan, --endpoint or --sandbox: the plan,
    each change with its action, A -> B when B waits for A.

    \b
    Examples:
      mailctl graph -f mailctl/ | dot -Tsvg > mailctl.svg
      mailctl graph -f mailctl/ --format mermaid --target 'pod/tenant-a*'
      mailctl graph -f mailctl/ --sandbox sandbox.db --format mermaid   # the plan
      mailctl graph -f mailctl/ --changed-since origin/main --format mermaid
    """
    from mailctl.plan import graph as graphs
    from mailctl.plan.targeting import canonical, validate_patterns

    if of_plan or endpoint is not None or sandbox is not None:
        drawn = graphs.plan_graph(load_and_plan(files, endpoint, sandbox, targets, excludes).plan)
    else:
        validate_patterns(list(targets), "--target")
        validate_patterns(list(excludes), "--exclude")
        drawn = graphs.select(graphs.declared_graph(load_desired(files)), canonical(targets), canonical(excludes))
    for note in drawn.notes:
        click.echo(f"Note: {note}", err=True)
    click.echo(graphs.render(drawn, fmt))
