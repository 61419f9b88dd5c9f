"""plan and drift start the organisation-wide lists while the config loads; what they report
does not change: a bad config is still the error shown, even when no connection can be made."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mailctl.api.reader import StateReader
from mailctl.cli.main import cli

BAD = "version: 1\npods:\n  t:\n    nmae: typo\n"


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_a_bad_config_is_reported_even_without_an_api_key(tmp_path: Path, monkeypatch, command: str) -> None:
    monkeypatch.delenv("AGENTMAIL_API_KEY", raising=False)
    (tmp_path / "mailctl.yaml").write_text(BAD)
    result = CliRunner().invoke(
        cli, [command, "-f", str(tmp_path / "mailctl.yaml"), "--endpoint", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 1
    assert "mailctl.yaml:4" in result.output, result.output


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_the_lists_are_started_before_the_config_is_loaded(tmp_path: Path, monkeypatch, command: str) -> None:
    events: list[str] = []
    start = StateReader.start_listing

    def recording_start(self: StateReader) -> None:
        events.append("listing")
        start(self)

    import mailctl.cli.common as common

    load = common.load_desired
    monkeypatch.setattr(StateReader, "start_listing", recording_start)
    monkeypatch.setattr(common, "load_desired", lambda files: (events.append("config"), load(files))[1])
    (tmp_path / "mailctl.yaml").write_text("version: 1\npods:\n  t:\n    name: T\n")
    result = CliRunner().invoke(
        cli, [command, "-f", str(tmp_path / "mailctl.yaml"), "--sandbox", str(tmp_path / "sb.db")]
    )
    assert result.exit_code in (0, 2), result.output
    assert events == ["listing", "config"]
    assert "pod/t" in result.output


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_a_bad_config_never_closes_the_client_under_the_listing_still_running(
    tmp_path: Path, monkeypatch, command: str
) -> None:
    # Closing the embedded sandbox while the background listing still queried it made the sandbox
    # print a traceback ("Cannot operate on a closed database") after the config error.
    import threading

    from mailctl.api.client import AgentMailClient

    release, listing_done, closed_while_listing = threading.Event(), threading.Event(), []
    list_organisation = StateReader._list_organisation

    def slow_listing(self: StateReader):  # type: ignore[no-untyped-def]
        release.wait(10)
        try:
            return list_organisation(self)
        finally:
            listing_done.set()

    close = AgentMailClient.close

    def recording_close(self: AgentMailClient) -> None:
        closed_while_listing.append(not listing_done.is_set())
        close(self)

    monkeypatch.setattr(StateReader, "_list_organisation", slow_listing)
    monkeypatch.setattr(AgentMailClient, "close", recording_close)
    (tmp_path / "mailctl.yaml").write_text(BAD)
    result = CliRunner().invoke(
        cli, [command, "-f", str(tmp_path / "mailctl.yaml"), "--sandbox", str(tmp_path / "sb.db")]
    )
    assert result.exit_code == 1 and "mailctl.yaml:4" in result.output, result.output
    assert closed_while_listing == []  # not closed yet: the listing still runs
    release.set()
    assert listing_done.wait(10)
    for _ in range(100):  # the client is closed once the listing has ended
        if closed_while_listing:
            break
        threading.Event().wait(0.05)
    assert closed_while_listing == [False]
