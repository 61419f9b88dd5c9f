"""A glob no address can ever match (``kinds.unmatchable``): refused by ``--target`` and by
``manage.protect`` / ``manage.ignore``, where a rule that matches nothing protects nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mailctl.cli.main import cli
from mailctl.kinds import unmatchable
from mailctl.resources import address_matches


@pytest.mark.parametrize(
    "pattern",
    [
        "pod/tenant-a",
        "pod/tenant-a/",  # a trailing / is ignored
        "pod/*",
        "*",
        "*/conv-*",
        "pod/t/inbox/a@agentmail.to/api_key/k",
        "pod/t/api_key/ops [prod]",
        "domain/mail.example.com",
        "list/receive",  # every receive entry
        "list/receive/block/spam.example",
        "pod/t/list/send/allow/x.example",
        "webhook/audit",
        "p*d/t",
    ],
)
def test_an_address_or_a_glob_that_can_match_is_fine(pattern: str):
    assert unmatchable(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "why", "address"),
    [
        ("", "it is empty", "pod/t"),
        ("/pod/t", "it starts with /", "pod/t"),
        ("pod//tenant-globex", "it has an empty part (//)", "pod/tenant-globex"),
        ("tenant-globex", "`tenant-globex` is not a kind", "pod/tenant-globex"),
        ("./pod/tenant-globex", "it has a . or .. part", "pod/tenant-globex"),
        ("pod/../pod/t", "it has a . or .. part", "pod/t"),
        (" pod/t", "a part starts or ends with a space", "pod/t"),
        ("pod/t ", "a part starts or ends with a space", "pod/t"),
        ("pods/t", "`pods` is not a kind", "pod/t"),
        ("inbox/a@agentmail.to", "`inbox` is not a kind at the top", "pod/t/inbox/a@agentmail.to"),
        ("pod/t/pod/u", "`pod` is not a kind inside a pod", "pod/t"),
        ("pod", "`pod` names no pod", "pod/t"),
        ("pod/t/inbox", "`inbox` names no inbox", "pod/t/inbox/a@agentmail.to"),
    ],
)
def test_a_glob_that_can_never_match_says_why(pattern: str, why: str, address: str):
    assert why in (unmatchable(pattern) or "")
    assert not address_matches(address, pattern)  # it would match nothing, silently


def _mailctl(*args: str) -> tuple[int, str]:
    run = CliRunner().invoke(cli, list(args), env={"AGENTMAIL_API_KEY": None})
    return run.exit_code, run.stderr


@pytest.mark.parametrize("rule", ["protect", "ignore"])
def test_validate_locates_a_manage_rule_that_can_never_match(tmp_path: Path, rule: str):
    config = tmp_path / "m.yaml"
    rules = "    - pod/tenant-a\n    - pod//tenant-globex\n"
    config.write_text(f"version: 1\nmanage:\n  {rule}:\n{rules}pods:\n  t: {{}}\n")
    code, err = _mailctl("validate", "-f", str(config))
    assert code == 1, err
    why = "`pod//tenant-globex` can never match an address: it has an empty part"
    assert f"{config}:5:7: manage.{rule}[1]: {why}" in err


@pytest.mark.parametrize("pattern", ["tenant-globex", "pod", "./pod/x"])
def test_target_refuses_a_glob_that_can_never_match(tmp_path: Path, pattern: str):
    (tmp_path / "m.yaml").write_text("version: 1\npods:\n  t: {}\n")
    config, db = str(tmp_path / "m.yaml"), str(tmp_path / "s.db")
    code, err = _mailctl("plan", "-f", config, "--sandbox", db, "--target", pattern)
    assert code == 1, err
    assert "expected an address such as pod/tenant-a or pod/tenant-*" in err
