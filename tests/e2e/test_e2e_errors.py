"""Error paths a user hits first: each a clear message and exit 1, never a traceback.

(`Mailctl` fails any run that raises or prints a traceback, so these only check the message.)
"""

from __future__ import annotations

import socket

from e2e_harness import FIXTURES, load_fixture

from mailctl.api.retry import Backoff


def test_no_key_and_no_sandbox_is_a_clear_error(mailctl, write_config):
    config = write_config(load_fixture("tenants.yaml"))
    for run in (
        mailctl("plan", "-f", config, key=False, endpoint=False),
        mailctl("apply", "-f", config, "--auto-approve", key=False),
        mailctl.subprocess("drift", "-f", config, key=False, endpoint=False),
    ):
        assert run.exit_code == 1
        assert run.stderr.strip() == (
            "Error: no API key: set AGENTMAIL_API_KEY, or use --sandbox PATH to run against a local sandbox"
        )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_endpoint_is_a_clear_error(mailctl, write_config, monkeypatch):
    # Connection failures are retried with backoff; skip only the waits, not the retries.
    monkeypatch.setattr(Backoff, "delay", lambda self, attempt, retry_after=None: 0.0)
    port = _closed_port()
    url = f"http://127.0.0.1:{port}"
    run = mailctl("plan", "-f", write_config(load_fixture("tenants.yaml")), "--endpoint", url, endpoint=False)
    assert run.exit_code == 1  # the message names the port too (issue 8); no "0 " status
    assert run.stderr.startswith(f"Error: connection_error: cannot reach 127.0.0.1:{port}: connection refused")


def test_bad_config_is_exit_1_naming_file_and_line(mailctl):
    bad = FIXTURES / "bad.yaml"
    for run in (mailctl("plan", "-f", bad), mailctl.subprocess("apply", "-f", bad, "--auto-approve")):
        assert run.exit_code == 1
        assert (
            f"{bad}:6:7: pods.e2e-broken.inboxes.not-an-address: `not-an-address` is not a valid email "
            "address" in run.stderr
        )
    assert mailctl("validate", "-f", bad).exit_code == 1


def test_wrong_api_key_is_unauthorized_without_echoing_the_key(mailctl, write_config, secret_watch):
    canary = "am_canary_" + "5" * 24
    secret_watch.secrets.add(canary)  # the watch fails the run if it is printed
    run = mailctl.subprocess("plan", "-f", write_config(load_fixture("tenants.yaml")), key=canary)
    assert run.exit_code == 1
    assert run.stderr.startswith("Error: 401 ")
