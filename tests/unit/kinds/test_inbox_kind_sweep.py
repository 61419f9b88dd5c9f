"""What ``kinds/inbox.py`` decides, checked where it shows: the inbox rows read back from the API
(which pods they land under), and which domain an inbox is created on (the edges of
``mailctl graph``, whether the domains listing is read at all). Each test names the deletion or
negation of ``.ci/mutate.py --sweep src/mailctl/kinds/inbox.py`` that it catches."""

from __future__ import annotations

import yaml

from mailctl.config import load_texts
from mailctl.kinds import Owners, spec_of
from mailctl.plan.graph import declared_graph
from mailctl.plan.reads import needs_domains
from mailctl.resources import INBOX, DesiredState

T = "2026-01-01T00:00:00Z"


def _row(email: str, pod_id: str | None, client_id: str | None = None) -> dict:
    return {
        "inbox_id": email,
        "pod_id": pod_id,
        "client_id": client_id,
        "display_name": "Support",
        "created_at": T,
        "updated_at": T,
    }


def _read(rows: list[dict], pods: dict[str, str]) -> list:
    read = spec_of(INBOX).read_rows
    assert read is not None
    return list(read(rows, Owners(pods, {})))


def _desired(inboxes: dict, domains: dict | None = None, org_domains: dict | None = None) -> DesiredState:
    config: dict = {"version": 1, "pods": {"acme": {"name": "Acme", "inboxes": inboxes}}}
    if domains:
        config["pods"]["acme"]["domains"] = domains
    if org_domains:
        config["domains"] = org_domains
    return load_texts({"c.yaml": yaml.safe_dump(config)}).state


def test_inbox_rows_land_under_their_pod_and_rows_of_unseen_pods_are_left_out():
    """Catches inbox:16 delete (the pod lookup), inbox:17 negate (``if pod is None``), inbox:18
    delete (the ``continue`` for the lock pod's inboxes) and inbox:19 delete (the ``yield``)."""
    rows = [
        _row("Lock@agentmail.to", "p-lock"),
        _row("Support@Mail.Acme.test", "p1", client_id="c-1"),
        _row("orphan@agentmail.to", None),
    ]
    found = _read(rows, {"p1": "acme"})
    assert [r.address for r in found] == ["pod/acme/inbox/support@mail.acme.test"]
    (inbox,) = found
    assert inbox.parent == "pod/acme"
    assert inbox.remote_id == "Support@Mail.Acme.test"
    assert inbox.observed.client_id == "c-1"
    assert inbox.attrs.get("display_name") == "Support"


def test_an_inbox_on_a_pod_domain_is_drawn_as_using_it():
    """Catches inbox:35 negate (custom domains treated as ``agentmail.to``: no domain used),
    inbox:37 and inbox:38 delete (the labels and candidate names never computed) and inbox:39
    delete (nothing returned)."""
    desired = _desired({"support@mail.acme.test": {}}, domains={"mail.acme.test": {}})
    uses = {(e.source, e.target) for e in declared_graph(desired).edges if e.uses}
    assert uses == {("pod/acme/inbox/support@mail.acme.test", "pod/acme/domain/mail.acme.test")}


def test_an_inbox_on_a_subdomain_uses_the_nearest_enclosing_domain_the_pods_before_the_orgs():
    """Catches inbox:38 delete and inbox:39 delete, and pins their order: the nearest enclosing
    domain first, the pod's before the organisation's, and never the bare top-level domain."""
    desired = _desired(
        {"hello@eu.shared.example.com": {}},
        domains={"example.com": {"subdomains_enabled": True}},
        org_domains={"shared.example.com": {"subdomains_enabled": True}},
    )
    inbox = desired.resources["pod/acme/inbox/hello@eu.shared.example.com"]
    assert spec_of(INBOX).uses(inbox) == (
        "pod/acme/domain/eu.shared.example.com",
        "domain/eu.shared.example.com",
        "pod/acme/domain/shared.example.com",
        "domain/shared.example.com",
        "pod/acme/domain/example.com",
        "domain/example.com",
    )
    uses = {(e.source, e.target) for e in declared_graph(desired).edges if e.uses}
    assert uses == {("pod/acme/inbox/hello@eu.shared.example.com", "domain/shared.example.com")}


def test_inboxes_on_the_shared_agentmail_domain_need_no_domain_listing():
    """Catches inbox:35 negate and inbox:36 delete (an ``agentmail.to`` inbox taken to be on a
    domain ``agentmail.to``, so a plan of such pods would list the domains for nothing)."""
    desired = _desired({"bot@agentmail.to": {}})
    inbox = desired.resources["pod/acme/inbox/bot@agentmail.to"]
    assert spec_of(INBOX).uses(inbox) == ()
    assert not needs_domains(list(desired.resources.values()))
    on_a_domain = _desired({"support@mail.acme.test": {}}, org_domains={"mail.acme.test": {}})
    inboxes = [r for r in on_a_domain.resources.values() if r.kind == INBOX]
    assert needs_domains(inboxes)
