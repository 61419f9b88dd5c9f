"""Progress while apply waits: what it waits for at once, then at most every N seconds."""

from __future__ import annotations

import pytest

from mailctl.cli.wait_progress import DomainWaitReporter, LockWaitReporter, ShardWaitReporter


def test_domain_wait_says_what_and_how_long_then_throttles_then_reports_verification(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = DomainWaitReporter(600, every=3600)
    report("mail.a.example", "VERIFYING", 0.0)
    report("mail.a.example", "VERIFYING", 2.0)  # within the interval: silent
    report("mail.b.example", "PENDING", 0.1)  # another domain: announced on its own
    report("mail.a.example", "VERIFIED", 4.0)
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "Waiting up to 600s for domain mail.a.example to verify (now VERIFYING); inboxes on it are created once it does.",  # noqa: E501
        "Waiting up to 600s for domain mail.b.example to verify (now PENDING); inboxes on it are created once it does.",
        "Domain mail.a.example verified after 4s.",
    ]


def test_a_domain_verified_at_the_first_look_is_not_reported(capsys: pytest.CaptureFixture[str]) -> None:
    DomainWaitReporter(600)("mail.a.example", "VERIFIED", 0.0)
    assert capsys.readouterr().err == ""


def test_progress_lines_repeat_once_the_interval_has_passed(capsys: pytest.CaptureFixture[str]) -> None:
    domains, locks = DomainWaitReporter(60, every=0), LockWaitReporter(30, every=0)
    domains("d.example", "VERIFYING", 0.0)
    domains("d.example", "VERIFYING", 12.0)
    locks("the organisation lock", "mailctl lock ci@runner pid 7 since 2026-01-01T10:00:00Z [ab]", 0.0)
    locks("the organisation lock", "mailctl lock ci@runner pid 7 since 2026-01-01T10:00:00Z [ab]", 11.0)
    locks("the lock of shard 2/4", "mailctl lock ci@other pid 8 since 2026-01-01T10:00:00Z [cd]", 0.0)
    err = capsys.readouterr().err
    assert "Still waiting for domain d.example to verify (VERIFYING): 12s of 60s." in err
    assert "Waiting up to 30s for the organisation lock, held by mailctl lock ci@runner pid 7" in err
    assert "Still waiting for the organisation lock held by mailctl lock ci@runner pid 7" in err and "11s of 30s" in err
    assert "Waiting up to 30s for the lock of shard 2/4, held by mailctl lock ci@other pid 8" in err


def test_a_shard_wait_says_when_what_it_waited_for_is_found(capsys: pytest.CaptureFixture[str]) -> None:
    """As a domain's verification is reported: the wait's end is on the log where it began, not
    only in the report at the end of the apply."""
    report = ShardWaitReporter(300, every=3600)
    report("pod/t", "not created yet, made by shard 3/3", 0.0)
    report("pod/t", "found, made by shard 3/3", 14.2)
    report("pod/u", "found, made by shard 2/3", 0.0)  # there at the first look: nothing was waited for
    assert capsys.readouterr().err.splitlines() == [
        "Waiting up to 300s for pod/t (not created yet, made by shard 3/3); what needs it starts once it is ready.",
        "Found pod/t after 14s (made by shard 3/3).",
    ]


def test_the_reporter_knows_the_status_the_writer_ends_a_shard_wait_with() -> None:
    from mailctl.api import writer
    from mailctl.cli import wait_progress

    assert wait_progress.FOUND == writer.FOUND
