"""`mailctl dns`'s lines that the mutation sweep of ``dns_cmd.py`` found unpinned: each test names
the line whose deletion (or negated ``if``) it catches
(``.ci/mutate.py --sweep src/mailctl/cli/dns_cmd.py tests/unit/cli/test_dns_cmd_sweep.py``)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from mailctl.cli.main import cli

ENV = {"AGENTMAIL_API_KEY": "am_unused"}


def test_a_zone_for_a_domain_not_created_yet_says_to_apply_first(tmp_path: Path) -> None:
    """Deleting ``_zone``'s ``parts.append("; DOMAIN: not created yet: ...")`` printed nothing at
    all for a declared domain that does not exist yet: a zone file silently short of a domain."""
    config = tmp_path / "mailctl.yaml"
    config.write_text("version: 1\ndomains:\n  org.dns.test: {}\n  other.dns.test: {}\n")
    run = CliRunner().invoke(
        cli, ["dns", "-f", str(config), "--sandbox", str(tmp_path / "sandbox.db"), "--format", "zone"], env=ENV
    )
    assert run.exit_code == 0, run.output
    assert run.stdout == (
        "; org.dns.test: not created yet: run `mailctl apply` first\n\n"
        "; other.dns.test: not created yet: run `mailctl apply` first\n"
    )


def test_text_for_a_domain_not_created_yet_says_records_come_after_apply(tmp_path: Path) -> None:
    """Deleting ``_text``'s ``lines.append("  not created yet: ...")`` left a bare NOT_CREATED
    status with no records and no word of what to do about it; deleting its ``lines.append("")``
    ran the domains together with no blank line between them."""
    config = tmp_path / "mailctl.yaml"
    config.write_text("version: 1\ndomains:\n  org.dns.test: {}\n  other.dns.test: {}\n")
    run = CliRunner().invoke(cli, ["dns", "-f", str(config), "--sandbox", str(tmp_path / "sandbox.db")], env=ENV)
    assert run.exit_code == 0, run.output
    assert run.stdout == (
        "org.dns.test (domain/org.dns.test): NOT_CREATED\n"
        "  not created yet: run `mailctl apply`, then records are known\n"
        "\n"
        "other.dns.test (domain/other.dns.test): NOT_CREATED\n"
        "  not created yet: run `mailctl apply`, then records are known\n"
    )
