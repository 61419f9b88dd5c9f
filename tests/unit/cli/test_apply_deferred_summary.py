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
        _finish(_deferred(), None, False, 60.0, ())


def test_a_wait_cut_short_by_ctrl_c_does_not_claim_the_full_limit() -> None:
    with pytest.raises(DeferredWork) as caught:
        _finish(_deferred(), signal.SIGINT, False, 60.0, ())
    assert "the --wait-for-domains wait was cut short by Ctrl-C" in str(caught.value)
    assert "after --wait-for-domains 60" not in str(caught.value)


def test_work_left_for_another_shard_counts_own_changes_and_names_that_shard_not_dns() -> None:
    result = ApplyResult(
        [
            StepResult("domain/shared.example", "create", DEFERRED, "not created yet", shard="1/3", awaited=True),
            StepResult(INBOX, "create", DEFERRED, "waits for create of domain/shared.example", shard="1/3"),
        ]
    )
    with pytest.raises(DeferredWork) as caught:
        _finish(result, None, False, 0.0, ("mailctl/",))
    message = str(caught.value)
    assert message.startswith("apply left work undone: 1 change(s) deferred, waiting for domain/shared.example")
    assert "shard 1/3" in message and "DNS" not in message and "--wait-for-domains" not in message


def test_the_dns_hint_carries_the_config_paths() -> None:
    with pytest.raises(DeferredWork, match=r"`mailctl dns -f mailctl/ -f extra\.yaml`"):
        _finish(_deferred(), None, False, 0.0, ("mailctl/", "extra.yaml"))
