"""What reading the state learns beyond the resources themselves, for the plan to report.

The API layer collects these while reading (``mailctl.api.facts``); the plan puts them on its
changes and notes (``mailctl.plan.pipeline``). Neither layer imports the other: both import this.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StateFacts:
    # inbox id (its address) -> {"threads": n, "messages": n, "drafts": n}: what deleting it destroys
    inbox_data: dict[str, dict[str, int]] = field(default_factory=dict)
    # existing domain's address -> verification status (None: it vanished while being read)
    domain_status: dict[str, str | None] = field(default_factory=dict)
