"""Suggested commands never print the credentials of an --endpoint URL (they land in CI logs)."""

from __future__ import annotations

import pytest

from mailctl.cli.hints import without_userinfo


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:proxy-pw@proxy:8080/base", "http://***@proxy:8080/base"),
        ("https://token@proxy", "https://***@proxy"),  # a user name alone may be the secret
        ("http://user:p@ss@proxy/a@b", "http://***@proxy/a@b"),  # the last "@" of the authority ends it
        ("user:pw@proxy:8080", "***@proxy:8080"),  # no scheme
        ("http://proxy/?next=a@b", "http://proxy/?next=a@b"),  # an "@" after the authority is no userinfo
        ("https://api.agentmail.to", "https://api.agentmail.to"),
    ],
)
def test_the_endpoint_in_a_hint_shows_no_userinfo(url, shown):
    assert without_userinfo(url) == shown


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://alice:S3cretPw@proxy.example/v0",
        "https://alice:S3cretPw@proxy.example/v0/",
        "ftp://alice:S3cretPw@127.0.0.1",
    ],
)
def test_an_endpoint_refused_is_quoted_without_its_credentials(tmp_path, endpoint: str) -> None:
    from click.testing import CliRunner

    from mailctl.cli.main import cli

    (tmp_path / "m.yaml").write_text("version: 1\n")
    run = CliRunner().invoke(
        cli, ["plan", "-f", str(tmp_path / "m.yaml"), "--endpoint", endpoint], env={"AGENTMAIL_API_KEY": "am_x"}
    )
    assert run.exit_code == 1, run.output
    assert "S3cretPw" not in run.output and "***@" in run.output
