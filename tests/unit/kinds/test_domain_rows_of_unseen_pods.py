"""A domain row of a pod the pods listing did not show (created while the lists were read, by
another shard applying at the same time) is not taken for an organisation-level domain."""

from __future__ import annotations

from mailctl.kinds import Owners, spec_of
from mailctl.resources import DOMAIN

T = "2026-01-01T00:00:00Z"


def _row(domain: str, pod_id: str | None) -> dict:
    return {
        "domain_id": domain,
        "domain": domain,
        "pod_id": pod_id,
        "feedback_enabled": True,
        "created_at": T,
        "updated_at": T,
    }


def test_a_domain_of_an_unseen_pod_is_left_out_and_org_domains_stay():
    read = spec_of(DOMAIN).read_rows
    assert read is not None
    rows = [_row("new.example", "p-new"), _row("org.example", None), _row("mine.example", "p1")]
    addresses = [r.address for r in read(rows, Owners({"p1": "tenant-a"}, {}))]
    assert addresses == ["domain/org.example", "pod/tenant-a/domain/mine.example"]
