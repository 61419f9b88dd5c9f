"""The lines of ``ops/planning.py`` no test depended on
(``.ci/mutate.py --sweep src/mailctl/ops/planning.py tests/unit/cli tests/unit/plan ...``: 34
mutations, 6 survivors): the checks of ``--target``/``--exclude`` patterns and their canonical
form, which every plan, apply and drift goes through; the pods listed while a targeted plan's
config loads; a shard's part of the pace. The sixth, ``narrowed_read``'s ``return None`` for a
whole plan, is equivalent: the narrowed read of everything makes the same requests (counted on
250 tenants). Against an embedded sandbox (``--sandbox``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailctl.api.connect import connect
from mailctl.api.pacing import Pacer
from mailctl.api.reader import StateReader
from mailctl.cli.main import cli

ENV = {"AGENTMAIL_API_KEY": "am_unused"}
CONFIG = {
    "version": 1,
    "pods": {"tenant-a": {"inboxes": {"bot@agentmail.to": {}}}, "tenant-b": {"inboxes": {"other@agentmail.to": {}}}},
}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "mailctl.yaml"
    path.write_text(json.dumps(CONFIG))  # JSON is YAML
    return path


def _pods(db: Path) -> list[str]:
    api = connect(None, str(db), ENV["AGENTMAIL_API_KEY"])
    try:
        return sorted(p["client_id"] for p in api.list_all("/v0/pods", "pods") if p.get("client_id"))
    finally:
        api.close()


@pytest.mark.parametrize("command", [["plan"], ["apply", "--auto-approve"], ["drift"]])
@pytest.mark.parametrize(
    ("option", "pattern"), [("--target", ""), ("--target", "/pod/tenant-a"), ("--exclude", "pod//tenant-a")]
)
def test_a_pattern_that_is_no_address_is_refused_before_anything_changes(
    tmp_path: Path, config: Path, command: list[str], option: str, pattern: str
) -> None:
    """``targeting.validate_patterns`` in ``make_plan``: without it a target that can match no
    address (``''``, ``/pod/...``) matched nothing, and plan and apply said "No changes" and
    exited 0."""
    db = tmp_path / "sandbox.db"
    before = _pods(db)
    run = CliRunner().invoke(cli, [*command, "-f", str(config), "--sandbox", str(db), option, pattern], env=ENV)
    assert run.exit_code == 1, run.output
    assert f"{option} {pattern!r}: expected an address such as pod/tenant-a or pod/tenant-*" in run.output
    assert "Traceback" not in run.output
    assert _pods(db) == before


def test_a_target_is_read_as_addresses_are_written_an_inbox_address_in_any_case(tmp_path: Path, config: Path) -> None:
    """``targeting.canonical`` in ``make_plan``: an inbox address is case-insensitive and its
    address is written in lower case; without it a target typed as ``BOT@AgentMail.to`` selected
    nothing."""
    run = CliRunner().invoke(
        cli,
        [
            "plan",
            "-f",
            str(config),
            "--sandbox",
            str(tmp_path / "sandbox.db"),
            "--json",
            "--target",
            "pod/tenant-a/inbox/BOT@AgentMail.to",
        ],
        env=ENV,
    )
    assert run.exit_code == 0, run.output
    planned = [c["address"] for c in json.loads(run.stdout)["changes"]]
    assert planned == ["pod/tenant-a", "pod/tenant-a/inbox/bot@agentmail.to"]


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_a_targeted_plan_starts_listing_the_pods_before_the_config_is_loaded(
    tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """``reader.start_listing(pods_only=True)`` in ``load_and_plan``: a narrowed plan lists the
    pods (all its targets are matched against) while the config loads, as a whole plan lists
    everything; without it a targeted plan read nothing until the config had loaded."""
    import mailctl.cli.common as common

    events: list[object] = []
    start = StateReader.start_listing

    def recording_start(self: StateReader, **options: bool) -> None:
        events.append(options)
        start(self, **options)

    load = common.load_desired
    monkeypatch.setattr(StateReader, "start_listing", recording_start)
    monkeypatch.setattr(common, "load_desired", lambda files: (events.append("config"), load(files))[1])
    db = str(tmp_path / "sandbox.db")
    run = CliRunner().invoke(cli, [command, "-f", str(config), "--sandbox", db, "--target", "pod/tenant-a"], env=ENV)
    assert run.exit_code in (0, 2), run.output  # drift: tenant-a does not exist yet
    assert events == [{"pods_only": True}, "config"]
    assert "pod/tenant-a" in run.output and "pod/tenant-b" not in run.output


def test_a_shard_plan_tells_the_pacer_its_part_of_the_config(
    tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``share_pace(client, desired, shard)`` in ``load_and_plan``: the N shards of one config
    each plan at their part of one client's pace (and, with --rate-limit, spend their part of
    it); without it each shard of ``plan --shard`` ramped up as if it were alone."""
    told: list[tuple[list[float], int]] = []
    monkeypatch.setattr(Pacer, "share", lambda self, works, own: told.append((list(works), own)))
    db = str(tmp_path / "sandbox.db")
    run = CliRunner().invoke(cli, ["plan", "-f", str(config), "--sandbox", db, "--shard", "2/3"], env=ENV)
    assert run.exit_code in (0, 2), run.output
    assert len(told) == 1 and told[0][1] == 1 and len(told[0][0]) == 3
