"""A hostile config cannot rewrite what a reviewer sees (issue 17 point 4): control characters
(ESC, NUL, BEL, DEL, C1) and bidirectional controls (U+202E...) in a pod name, an inbox display
name, a metadata key and value, and in names the API returns, reach stdout and stderr only as
escapes (``\\x1b``, ``\\u202e``), in every format for people, over HTTP against the sandbox. JSON
output stays exact."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

# Never raw on a terminal: C0 (but the line feed), DEL, C1, bidi controls, line/paragraph separators.
HIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
EVIL = "Evil\u202eCorp\x1b[2J\x07\x7f\x85\u2066"
KEY = "ti\u202eer\x1b[8m"
VALUE = "gold\x1b]0;pwned\x07\u200f"
NAME = "Zoë 支持\u202e\x1b[31m"


def _config() -> dict[str, Any]:
    return {
        "version": 1,
        "manage": {"pods": {"client_id_prefix": "t-"}},
        "pods": {
            "t-evil": {
                "name": EVIL,
                "inboxes": {"evil-bot@agentmail.to": {"display_name": NAME, "metadata": {KEY: VALUE}}},
            }
        },
    }


def _clean(run: Any, *escapes: str) -> None:
    """No hidden character raw in stdout or stderr; each escape that shows one is there."""
    for stream in (run.stdout, run.stderr):
        assert not HIDDEN.search(stream), f"raw hidden character in: {stream!r}"
    for escape in escapes:
        assert escape in run.output, f"{escape!r} missing from: {run.output!r}"


@pytest.mark.parametrize("fmt", ["text", "markdown", "github"])
def test_plans_show_hidden_characters_of_names_and_values_as_escapes(mailctl, write_config, fmt: str) -> None:
    run = mailctl("plan", "-f", write_config(_config()), "--format", fmt)
    assert run.exit_code == 0, run.output
    _clean(run, *(() if fmt == "markdown" else ("\\u202e", "Zoë 支持")))  # Markdown lists creates without values


def test_plan_json_keeps_the_exact_values(mailctl, write_config) -> None:
    plan = mailctl.plan_json(write_config(_config()))
    after = {c["address"]: c["after"] for c in plan["changes"]}
    assert after["pod/t-evil"]["name"] == EVIL
    assert after["pod/t-evil/inbox/evil-bot@agentmail.to"]["metadata"] == {KEY: VALUE}


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_validate_errors_escape_the_keys_and_values_they_quote(mailctl, write_config, fmt: str) -> None:
    config = _config()
    config["pods"]["t-evil"][f"na\x1b[2Jme{KEY}"] = "x"  # an unknown field, quoted by the error
    config["pods"]["t-evil"]["inboxes"]["evil-bot@agentmail.to"]["status"] = f"pa\x07used{VALUE}"
    run = mailctl("validate", "-f", write_config(config), "--format", fmt)
    assert run.exit_code == 1, run.output
    _clean(run, "na\\x1b[2Jme", "pa\\x07used", "\\u202e")


def test_apply_progress_and_drift_show_hidden_characters_as_escapes(mailctl, write_config, sandbox) -> None:
    config = write_config(_config())
    applied = mailctl.apply(config)
    _clean(applied)
    sdk = sandbox.sdk()
    sdk.inboxes.update("evil-bot@agentmail.to", display_name=f"edited\u202e\x1b[2J{VALUE}")
    sdk.pods.create(name="Hand\u202emade\x1b[31m")  # no client_id: listed unmanaged with its name
    for fmt in ("text", "markdown", "github"):
        run = mailctl("drift", "-f", config, "--format", fmt)
        assert run.exit_code == 2, run.output
        _clean(run, "edited\\u202e")
    _clean(mailctl("plan", "-f", config), "Hand\\u202emade", "edited\\u202e")
    _clean(mailctl("plan", "-f", config, "--format", "markdown"), "edited\\u202e")
    report = json.loads(mailctl("drift", "-f", config, "--format", "json").stdout)
    assert report["changed"][0]["diff"][0]["before"] == f"edited\u202e\x1b[2J{VALUE}"
