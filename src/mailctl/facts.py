"""Facts a plan reports but never diffs, and which of them a plan needs read.

The plan says which facts its own changes need (``FactsNeeded``: ``mailctl.plan.pipeline``), the
API layer reads exactly those (``mailctl.api.facts``), and the plan is finished with them
(``StateFacts``). Neither layer imports the other: both import this.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailctl.resources import Resource


@dataclass(frozen=True)
class FactsNeeded:
    # ids of the existing resources the plan destroys that may hold mail (inboxes)
    held_data: list[str] = field(default_factory=list)
    # existing resources (custom domains) that planned creates wait on: their verification status
    statuses: list[Resource] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.held_data or self.statuses)


@dataclass(frozen=True)
class StateFacts:
    # inbox id (its address) -> {"threads": n, "messages": n, "drafts": n}: what deleting it destroys
    inbox_data: dict[str, dict[str, int]] = field(default_factory=dict)
    # existing domain's address -> verification status (None: it vanished while being read)
    domain_status: dict[str, str | None] = field(default_factory=dict)
    # why the run's key may not be shown all of an inbox's mail, so that counts are a floor ("": it is)
    mail_unseen: str = ""
