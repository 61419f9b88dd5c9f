"""The export/import workflow's reads and checks: what exists, and whether printed config plans
with no changes against it. Choosing and writing the config is ``mailctl.export``."""

from __future__ import annotations

from mailctl.api.client import AgentMailClient
from mailctl.api.reader import StateReader
from mailctl.config import load_texts
from mailctl.errors import ConfigError, UsageError
from mailctl.kinds import SPECS
from mailctl.plan import planner
from mailctl.plan.changes import Change
from mailctl.resources import ActualState, DesiredState

# Kinds other resources live in (pods, inboxes): every one of them may hold allow/block lists.
_SCOPE_KINDS = {parent for spec in SPECS.values() for parent in spec.parents if parent is not None}


def read_account(client: AgentMailClient) -> ActualState:
    """Everything that exists, lists included (they have no organisation-wide view: every scope)."""
    reader = StateReader(client)
    state = reader.read(DesiredState())
    scopes: set[str | None] = {a for a, r in state.resources.items() if r.kind in _SCOPE_KINDS}
    reader.read_lists(state, scopes | {None})
    return state


def check_texts(texts: dict[str, str], actual: ActualState) -> list[Change]:
    """The changes `mailctl plan` would show for ``texts`` alone (labelled by where they will be
    written) against all of ``actual``, what they leave out included; a UsageError if they do
    not load."""
    try:
        desired = load_texts(texts).state
    except ConfigError as exc:
        raise UsageError(
            "the exported config does not validate (some names cannot be expressed in "
            f"mailctl config); nothing was written:\n{exc}"
        ) from None
    return planner.plan(desired, actual).changes
