"""apply's last line for deferred work says how the --wait-for-domains wait ended."""

from __future__ import annotations

import signal

import pytest

from mailctl.apply import DEFERRED, ApplyResult, StepResult
from mailctl.cli.apply_cmd import _finish
from mailctl.errors import DeferredWork

INBOX = "pod/a/inbox/help@mail.a.example"


def _deferred() -> ApplyResult:
    return ApplyResult([StepResult(INBOX, "create", DEFERRED, "domain mail.a.example is not verified")])


def test_a_full_wait_says_the_domain_is_still_not_verified_after_the_limit() -> None:
    with pytest.raises(DeferredWork, match=r"still not verified after --wait-for-domains 60\)"):
        _finish(_deferred(), None, False, 60.0)


def test_a_wait_cut_short_by_ctrl_c_does_not_claim_the_full_limit() -> None:
    with pytest.raises(DeferredWork) as caught:
        _finish(_deferred(), signal.SIGINT, False, 60.0)
    assert "the --wait-for-domains wait was cut short by Ctrl-C" in str(caught.value)
    assert "after --wait-for-domains 60" not in str(caught.value)
