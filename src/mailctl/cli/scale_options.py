"""Options for large organisations: --parallelism auto|N, --max-parallelism, --shard K/N."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from mailctl.errors import UsageError

if TYPE_CHECKING:
    from mailctl.api.client import AgentMailClient
    from mailctl.plan.shards import Shard

F = Callable[..., Any]
AUTO = "auto"
DEFAULT_MAX_PARALLELISM = 64
PARALLELISM_CAP = 256


def parse_shard(ctx: click.Context, param: click.Parameter, value: str | None) -> Shard | None:
    if value is None:
        return None
    from mailctl.plan.shards import Shard

    try:
        return Shard.parse(value)
    except UsageError as exc:  # -> click's usage error (exit 1, names the option)
        raise click.BadParameter(str(exc).removeprefix(f"--shard {value!r}: ")) from None


def _parse_parallelism(ctx: click.Context, param: click.Parameter, value: str) -> int | None:
    """None for auto, else the fixed number of changes at once."""
    text = value.strip().lower()
    if text == AUTO:
        return None
    try:
        number = int(text)
    except ValueError:
        number = 0
    if not 1 <= number <= PARALLELISM_CAP:
        raise click.BadParameter(f"{value!r}: expected auto or a whole number from 1 to {PARALLELISM_CAP}")
    return number


def shard_option(func: F) -> F:
    return click.option(
        "--shard",
        "shard",
        metavar="K/N",
        default=None,
        callback=parse_shard,
        help="Only shard K of N: the pods whose client_id hashes to K (stable on every machine); "
        "organisation-level resources belong to shard 1. The N shards can apply at once.",
    )(func)


def parallelism_options(func: F) -> F:
    func = click.option(
        "--max-parallelism",
        "max_parallelism",
        metavar="N",
        default=DEFAULT_MAX_PARALLELISM,
        show_default=True,
        type=click.IntRange(1, PARALLELISM_CAP),
        help="Upper bound for --parallelism auto.",
    )(func)
    func = click.option(
        "--parallelism",
        "parallelism",
        metavar="auto|N",
        default=AUTO,
        show_default=True,
        callback=_parse_parallelism,
        help="Requests in flight: auto adapts to the API's latency and rate limit (grows while "
        "answers stay fast, backs off on 429); N fixes it.",
    )(func)
    return func


def paced(client: AgentMailClient, parallelism: int | None, max_parallelism: int) -> AgentMailClient:
    """``client``, its requests paced by ``--parallelism`` / ``--max-parallelism`` (and still by
    ``--rate-limit``)."""
    from mailctl.api.pacing import Pacer

    budget = client.pacer.budget if client.pacer is not None else None
    client.pacer = Pacer(fixed=parallelism, maximum=max_parallelism, budget=budget)
    return client


def workers(parallelism: int | None, max_parallelism: int) -> int:
    """How many changes the applier runs at once (the pacer bounds the requests they send)."""
    return parallelism if parallelism is not None else max_parallelism
