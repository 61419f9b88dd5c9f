"""Which declared domains `mailctl dns` reports on (ops/dns.py), offline."""

from __future__ import annotations

import pytest

from mailctl.errors import UsageError
from mailctl.ops.dns import declared_domains
from mailctl.resources import DOMAIN, POD, DesiredState, Resource


def _desired() -> DesiredState:
    desired = DesiredState()
    desired.add(Resource(DOMAIN, "domain/org.example"))
    desired.add(Resource(POD, "pod/a"))
    desired.add(Resource(DOMAIN, "pod/a/domain/mail.a.example", parent="pod/a"))
    return desired


def test_every_named_domain_must_be_declared_even_beside_one_that_is():
    with pytest.raises(UsageError, match=r"no declared domain matches nope\.com$"):
        declared_domains(_desired(), ("org.example", "nope.com"))
    with pytest.raises(UsageError, match=r"no declared domain matches nope\.com, NOPE2\.com$"):
        declared_domains(_desired(), ("nope.com", "Org.Example", "NOPE2.com"))


def test_named_domains_are_matched_case_insensitively_and_none_named_means_all():
    assert list(declared_domains(_desired(), ("MAIL.A.example",))) == ["pod/a/domain/mail.a.example"]
    assert set(declared_domains(_desired())) == {"domain/org.example", "pod/a/domain/mail.a.example"}
    with pytest.raises(UsageError, match="no declared domain matches$"):
        declared_domains(DesiredState())
