"""Deferred work is not success: an apply that leaves inboxes waiting for a domain to verify exits 1
(unless --allow-deferred), says so on its last line, and --wait-for-domains reports what it waits for."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest
from e2e_harness import SandboxProcess, mailctl_command, watched_sandbox

DOMAIN = "mail.deferred.test"
CONFIG = {
    "version": 1,
    "manage": {"pods": {"client_id_prefix": "dfr-"}},
    "pods": {
        "dfr-a": {"name": "A", "domains": {DOMAIN: {}}, "inboxes": {f"help@{DOMAIN}": {}, "dfr-a-bot@agentmail.to": {}}}
    },
}


@pytest.fixture(scope="module")
def manual(server: SandboxProcess, secret_watch) -> Iterator[SandboxProcess]:
    """A sandbox where domains verify only once their DNS is published (/_sandbox/domains/.../dns)."""
    with watched_sandbox(
        secret_watch, "manual verification", server.api_key, "--domain-verification", "manual"
    ) as process:
        yield process


@pytest.fixture
def on_manual(manual: SandboxProcess, mailctl, write_config):
    manual.reset()
    mailctl.sandbox = manual
    return write_config(CONFIG)


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_deferred_work_exits_1_with_a_last_line_naming_the_domain(mailctl, on_manual):
    run = mailctl("apply", "-f", on_manual, "--auto-approve")
    assert run.exit_code == 1, run.output
    assert "Deferred:" in run.stdout and "Apply incomplete!" in run.stdout
    last = _last_line(run.stderr)
    assert "deferred" in last and DOMAIN in last and "--allow-deferred" in last
    assert "--wait-for-domains SECONDS" in last  # it was not used: suggest it
    assert f"mailctl dns -f {on_manual} --endpoint {mailctl.sandbox.url}" in last


def test_allow_deferred_exits_0_and_still_says_what_is_deferred(mailctl, on_manual):
    run = mailctl("apply", "-f", on_manual, "--auto-approve", "--allow-deferred")
    assert run.exit_code == 0, run.output
    assert DOMAIN in _last_line(run.stderr) and "deferred" in _last_line(run.stderr)


def test_after_waiting_in_vain_it_says_so_and_no_longer_suggests_waiting(mailctl, on_manual):
    run = mailctl("apply", "-f", on_manual, "--auto-approve", "--wait-for-domains", "0.5")
    assert run.exit_code == 1, run.output
    assert f"Waiting up to 0.5s for domain {DOMAIN} to verify" in run.stderr
    assert "after waiting 0.5s" in run.output
    assert "use --wait-for-domains" not in run.output and "--wait-for-domains SECONDS" not in run.output


def test_wait_for_domains_reports_progress_and_creates_the_inbox_once_dns_is_published(mailctl, on_manual):
    manual = mailctl.sandbox
    stderr = mailctl.workdir / "apply.err"
    env = {**os.environ, "AGENTMAIL_API_KEY": manual.api_key}
    with stderr.open("w") as err:
        proc = subprocess.Popen(
            [
                *mailctl_command(),
                "apply",
                "-f",
                str(on_manual),
                "--endpoint",
                manual.url,
                "--auto-approve",
                "--wait-for-domains",
                "60",
            ],
            stdout=subprocess.PIPE,
            stderr=err,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=mailctl.workdir,
        )
    deadline = time.monotonic() + 30
    while f"Waiting up to 60s for domain {DOMAIN}" not in stderr.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    manual.control("POST", f"domains/{DOMAIN}/dns", {"published": True})
    out, _ = proc.communicate(timeout=60)
    mailctl.watch.output("mailctl apply --wait-for-domains 60", out + stderr.read_text())
    assert proc.returncode == 0, out + stderr.read_text()
    assert f"Domain {DOMAIN} verified after" in stderr.read_text()
    assert f"pod/dfr-a/inbox/help@{DOMAIN}: created" in out


def test_the_dns_command_it_suggests_works_as_printed(mailctl, on_manual):
    run = mailctl("apply", "-f", on_manual, "--auto-approve")
    assert run.exit_code == 1, run.output
    suggested = f"mailctl dns -f {on_manual} --endpoint {mailctl.sandbox.url}"
    assert suggested in run.stderr
    dns = mailctl(*suggested.split()[1:], endpoint=False)
    assert dns.exit_code == 0, dns.output
    assert DOMAIN in dns.stdout


def test_dns_says_why_a_domain_failed(mailctl, on_manual):
    """The API's `reason` beside FAILED (or INVALID): it was dropped, so `dns` showed FAILED and
    records, never why."""
    assert mailctl("apply", "-f", on_manual, "--auto-approve").exit_code == 1  # deferred: not verified
    mailctl.sandbox.control("POST", f"domains/{DOMAIN}/dns", {"status": "FAILED", "reason": "ses_dkim_failed"})
    text = mailctl("dns", "-f", on_manual)
    assert text.exit_code == 0, text.output
    assert f"{DOMAIN} (pod/dfr-a/domain/{DOMAIN}): FAILED (ses_dkim_failed)" in text.stdout
    assert '"reason": "ses_dkim_failed"' in mailctl("dns", "-f", on_manual, "--format", "json").stdout
    assert f"; {DOMAIN} (FAILED: ses_dkim_failed)" in mailctl("dns", "-f", on_manual, "--format", "zone").stdout
