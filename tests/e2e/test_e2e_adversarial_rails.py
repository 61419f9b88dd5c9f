"""An adversarial run against the safety rails, over HTTP (issue 17's "done when"): ways a careless
operator's config could get apply to destroy what ``manage.protect`` or the data-loss gate guard.

Every refusal is checked by its exit code and by reading the state back through the SDK: a rail
that refuses has changed nothing. Each apply passes ``--force --allow-data-loss``: neither may lift
a protect rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_harness import Inventory

KEY = "pod/tp/api_key/old"
VICTIM = "victim@agentmail.to"


def fleet() -> dict[str, Any]:
    return {
        "version": 1,
        "manage": {"pods": {"client_id_prefix": "t"}},
        "pods": {
            "tp": {
                "name": "TP",
                "inboxes": {VICTIM: {}},
                "api_keys": {"old": {"expires_at": "2030-01-01T00:00:00Z"}},
            },
            "tq": {"name": "TQ", "domains": {"q.example.com": {}}},
        },
    }


@pytest.fixture
def applied(mailctl, write_config) -> Path:
    path: Path = write_config(fleet())
    mailctl.apply(path)
    return path


def refused_by_protect(mailctl, sandbox, path: Path) -> None:
    """apply exits 1 naming the protect rule, whatever the flags, and nothing changed."""
    before = Inventory.read(sandbox.sdk())
    keys_before = {k.api_key_id for k in sandbox.sdk().api_keys.list(limit=100).api_keys}
    run = mailctl(
        "apply",
        "-f",
        path,
        "--auto-approve",
        "--force",
        "--allow-data-loss",
        "--secrets-out",
        mailctl.workdir / "s.json",
    )
    assert run.exit_code == 1, run.output
    assert "manage.protect" in run.output and "nothing was changed" in run.output
    assert Inventory.read(sandbox.sdk()) == before
    assert {k.api_key_id for k in sandbox.sdk().api_keys.list(limit=100).api_keys} == keys_before


@pytest.mark.parametrize(
    ("glob", "edit"),
    [
        ("pod/tp/inbox/Victim@AgentMail.to", lambda c: c["pods"]["tp"].pop("inboxes")),
        ("pod/tq/domain/Q.Example.com", lambda c: c["pods"]["tq"].pop("domains")),
    ],
    ids=["inbox", "domain"],
)
def test_protect_glob_written_with_capitals_guards_the_case_insensitive_name(
    mailctl, sandbox, write_config, applied, glob, edit
):
    config = fleet()
    config["manage"]["protect"] = [glob]
    edit(config)
    refused_by_protect(mailctl, sandbox, write_config(config))


def test_protect_glob_with_a_trailing_slash_guards_the_pod(mailctl, sandbox, write_config, applied):
    config = fleet()
    config["manage"]["protect"] = ["pod/tp/"]
    del config["pods"]["tp"]
    refused_by_protect(mailctl, sandbox, write_config(config))


def test_key_replaced_from_a_protected_address_by_a_moved_block_is_refused(mailctl, sandbox, write_config, applied):
    """``moved`` from a protected key to a new name with a new expiry replaces the old key: the
    change is planned at the new address, but what it destroys is the protected one."""
    config = fleet()
    config["manage"]["protect"] = [KEY]
    config["pods"]["tp"]["api_keys"] = {"new": {"expires_at": "2031-01-01T00:00:00Z"}}
    config["moved"] = [{"from": KEY, "to": "pod/tp/api_key/new"}]
    refused_by_protect(mailctl, sandbox, write_config(config))


def test_key_renamed_from_a_protected_address_by_a_moved_block_is_allowed(mailctl, sandbox, write_config, applied):
    """A rename in place destroys nothing: protect does not stand in its way."""
    config = fleet()
    config["manage"]["protect"] = [KEY]
    config["pods"]["tp"]["api_keys"] = {"new": {"expires_at": "2030-01-01T00:00:00Z"}}
    config["moved"] = [{"from": KEY, "to": "pod/tp/api_key/new"}]
    mailctl.apply(write_config(config))
    assert sorted(k.name for k in sandbox.sdk().api_keys.list(limit=100).api_keys if k.pod_id) == ["new"]


@pytest.mark.parametrize("label", ["trash", "spam"])
def test_inbox_holding_only_mail_the_default_listing_hides_is_guarded_by_the_data_loss_gate(
    mailctl, sandbox, write_config, applied, label
):
    """Deleting an inbox destroys all its mail, also what lists leave out unless asked for
    (``include_trash``, ``include_spam``...): the gate must count it."""
    sdk = sandbox.sdk()
    sdk.inboxes.messages.send(VICTIM, to=[VICTIM], subject="invoice", text="keep me")
    for message in sdk.inboxes.messages.list(VICTIM).messages:
        sdk.inboxes.messages.update(VICTIM, message.message_id, add_labels=[label])
    assert sdk.inboxes.messages.list(VICTIM).count == 0  # hidden by default, still held
    config = fleet()
    del config["pods"]["tp"]["inboxes"]
    run = mailctl("apply", "-f", write_config(config), "--auto-approve", "--secrets-out", mailctl.workdir / "s.json")
    assert run.exit_code == 1, run.output
    assert "--allow-data-loss" in run.output
    assert sdk.inboxes.get(VICTIM).inbox_id == VICTIM
