"""Read the facts a plan asked for (``FactsNeeded``), and nothing else.

The plan decides which of its own changes need facts (``mailctl.plan.pipeline.facts_needed``):
the inboxes it deletes or replaces (what they hold) and the existing domains its inbox creates
wait on (their verification status). Each costs requests per object, so a targeted or sharded
plan reads them only for its own changes, and a plan without changes reads none.
"""

from __future__ import annotations

from mailctl.api.reader import StateReader
from mailctl.facts import FactsNeeded, StateFacts
from mailctl.resources import ActualState


def read_facts(reader: StateReader, needed: FactsNeeded, actual: ActualState) -> StateFacts:
    return StateFacts(
        inbox_data=reader.count_inbox_data(needed.held_data) if needed.held_data else {},
        domain_status=reader.domain_statuses(needed.statuses, actual) if needed.statuses else {},
        mail_unseen=reader.mail_unseen(actual) if needed.held_data else "",
    )
