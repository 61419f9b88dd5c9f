"""`mailctl rotate`'s lines that the mutation sweep of ``ops/rotate.py`` found unpinned: each test
names the line whose deletion (or negated ``if``) it catches
(``.ci/mutate.py --sweep src/mailctl/ops/rotate.py tests/unit/test_rotate_sweep.py``).

Everything runs against an embedded sandbox (``--sandbox tmp_path/sandbox.db``); a failing DELETE
is the client's ``delete`` replaced, since an embedded sandbox forgets armed faults between runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from lock_faults import release_fails

from mailctl.api import lock
from mailctl.api.client import AgentMailClient
from mailctl.api.connect import connect
from mailctl.cli.main import cli
from mailctl.config import load
from mailctl.errors import ApiError, UsageError
from mailctl.ops.rotate import RotateResult, RotationIncomplete, declared_key, push_webhook_headers, rotate_key
from mailctl.resources import WriteOnly
from mailctl.secrets import SecretSink

ENV = {"AGENTMAIL_API_KEY": "am_unused"}
KEY = "pod/a/api_key/backend"
HOOK = "pod/a/webhook/events"
TOKEN = "hdr-token-value-sweep-7c1e"
CONFIG: dict[str, Any] = {
    "version": 1,
    "pods": {
        "a": {
            "name": "A",
            "api_keys": {"backend": {"permissions": {"inbox_read": True}}},
            "webhooks": {
                "events": {
                    "url": "https://hooks.example/h",
                    "event_types": ["message.sent"],
                    "headers": {"X-Hook-Token": {"env": "SWEEP_HDR_TOKEN"}},
                }
            },
        }
    },
}


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWEEP_HDR_TOKEN", TOKEN)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "mailctl.yaml"
    path.write_text(json.dumps(CONFIG))  # JSON is YAML
    return path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "sandbox.db"


def _mailctl(db: Path, config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "-f", str(config), "--sandbox", str(db)], env=ENV)


@pytest.fixture
def applied(db: Path, config: Path, tmp_path: Path) -> Path:
    """The config applied: the key exists (its first secret in ``first.json``), the webhook too."""
    run = _mailctl(db, config, "apply", "--auto-approve", "--secrets-out", str(tmp_path / "first.json"))
    assert run.exit_code == 0, run.output
    return config


@pytest.fixture
def client(db: Path) -> Iterator[AgentMailClient]:
    api = connect(None, str(db), ENV["AGENTMAIL_API_KEY"])
    try:
        yield api
    finally:
        api.close()


def _keys(db: Path) -> dict[str, str]:
    """api_key_id -> name of every key of pod a."""
    api = connect(None, str(db), ENV["AGENTMAIL_API_KEY"])
    try:
        [pod] = [p for p in api.list_all("/v0/pods", "pods") if p.get("client_id") == "a"] or [None]
        if pod is None:
            return {}
        rows = api.list_all(f"/v0/pods/{pod['pod_id']}/api-keys", "api_keys")
        return {row["api_key_id"]: row["name"] for row in rows}
    finally:
        api.close()


def _recorded_ids(sink: Path) -> list[str]:
    """The api_key_id of each record in the secrets file, in order: never the secrets themselves,
    so that no failing assertion can print one."""
    text = sink.read_text() if sink.exists() else ""
    return [record["api_key_id"] for record in json.loads(text or "[]")]


def _webhooks(db: Path) -> list[dict[str, Any]]:
    api = connect(None, str(db), ENV["AGENTMAIL_API_KEY"])
    try:
        pods = [p for p in api.list_all("/v0/pods", "pods") if p.get("client_id") == "a"]
        return [w for p in pods for w in api.list_all(f"/v0/pods/{p['pod_id']}/webhooks", "webhooks")]
    finally:
        api.close()


def _failing_key_deletes(monkeypatch: pytest.MonkeyPatch, after: int = 0) -> list[str]:
    """Make DELETE of an API key fail (400) once ``after`` of them went through; the paths tried."""
    tried: list[str] = []
    real = AgentMailClient.delete

    def delete(self: AgentMailClient, path: str) -> None:
        if "/api-keys/" in path:
            tried.append(path)
            if len(tried) > after:
                raise ApiError(400, "bad", "refused by the test", "DELETE", path)
        real(self, path)

    monkeypatch.setattr(AgentMailClient, "delete", delete)
    return tried


# -- RotationIncomplete ---------------------------------------------------------------------------


def test_a_failed_older_key_delete_is_reported_as_its_message_alone(
    db: Path, applied: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pins ``super().__init__(message)`` of RotationIncomplete: without it the exception's text is
    the repr of its arguments, so the user read a tuple with a ``RotateResult(...)`` dump in it."""
    _failing_key_deletes(monkeypatch)
    before = _keys(db)
    run = _mailctl(db, applied, "rotate", KEY, "--secrets-out", str(tmp_path / "new.json"), "--delete-old")
    assert run.exit_code == 1, run.output
    retire = f"mailctl rotate {KEY} --retire-old -f {applied} --sandbox {db}"
    assert f"deleting an older key of {KEY} failed (400 bad: refused by the test (DELETE /v0/pods/" in run.stderr
    assert run.stderr.rstrip().endswith(
        f"the new key exists (its secret is stored) and carries the name; 1 older key(s) are left; "
        f"delete them with `{retire}`"
    ), run.stderr
    assert "RotateResult" not in run.stderr and "('" not in run.stderr
    assert len(_keys(db)) == len(before) + 1  # the new key exists, the old one too
    assert str(RotationIncomplete("only this", RotateResult())) == "only this"


# -- what rotate_key refuses before it changes anything ---------------------------------------


def test_rotate_key_refuses_an_address_that_is_not_a_declared_api_key_and_changes_nothing(
    db: Path, applied: Path, client: AgentMailClient, tmp_path: Path
) -> None:
    """Pins ``declared_key(desired, address)`` in ``rotate_key`` (and its ``raise``): without it the
    Python API "rotated" a webhook (a second webhook created) or reached the API for an undeclared
    address. The CLI checks first, so only a direct call shows it."""
    desired = load([str(applied)])
    sink = SecretSink(str(tmp_path / "new.json"))
    hooks_before, keys_before = _webhooks(db), _keys(db)
    for address in (HOOK, "pod/a/api_key/nope"):
        with pytest.raises(UsageError, match="is not an API key declared in the config"):
            rotate_key(client, desired, address, sink)
    assert _webhooks(db) == hooks_before and _keys(db) == keys_before
    assert not (tmp_path / "new.json").exists()


def test_declared_key_returns_the_declared_key(applied: Path) -> None:
    """Pins ``return declared`` of ``declared_key``: a caller of the Python API got None."""
    desired = load([str(applied)])
    assert declared_key(desired, KEY) is desired.resources[KEY]


def test_retire_old_with_delete_old_is_refused_and_deletes_nothing(db: Path, applied: Path, tmp_path: Path) -> None:
    """Pins ``if retire_old and delete_old: raise UsageError(...)``: the CLI passes both flags on,
    and without the refusal ``--retire-old --delete-old`` deleted the older keys anyway."""
    assert _mailctl(db, applied, "rotate", KEY, "--secrets-out", str(tmp_path / "new.json")).exit_code == 0
    before = _keys(db)
    assert len(before) == 2
    run = _mailctl(db, applied, "rotate", KEY, "--retire-old", "--delete-old")
    assert run.exit_code == 1, run.output
    assert "--retire-old and --delete-old exclude each other" in run.stderr
    assert run.stdout == ""
    assert _keys(db) == before


def test_rotate_key_without_a_sink_is_refused_before_any_key_is_made(
    db: Path, applied: Path, client: AgentMailClient
) -> None:
    """Pins ``if not retire_old and sink is None: raise UsageError(...)``: the refusal comes before
    the lock is even asked for. Without it the writer refused later, under the lock, so while an
    apply held the lock the user was told to wait for it rather than that the flag was missing."""
    before = _keys(db)
    holder = connect(None, str(db), ENV["AGENTMAIL_API_KEY"])
    try:
        with lock.ApplyLock(holder):
            with pytest.raises(UsageError, match="pass --secrets-out FILE"):
                rotate_key(client, load([str(applied)]), KEY, None)
    finally:
        holder.close()
    assert _keys(db) == before


def test_rotating_a_key_not_applied_yet_is_refused_and_makes_nothing(db: Path, config: Path, tmp_path: Path) -> None:
    """Pins ``if current is None: raise UsageError("... does not exist yet ...")`` of rotate_key."""
    run = _mailctl(db, config, "rotate", KEY, "--secrets-out", str(tmp_path / "new.json"))
    assert run.exit_code == 1, run.output
    assert f"{KEY} does not exist yet: `mailctl apply` creates it" in run.stderr
    assert _keys(db) == {}
    assert _recorded_ids(tmp_path / "new.json") == []


def test_a_rotation_says_how_many_older_keys_it_kept_and_how_to_retire_them(
    db: Path, applied: Path, tmp_path: Path
) -> None:
    """Pins ``result.kept = len(older)``: without it rotate left older keys in place without a word
    of them or of the ``--retire-old`` command that deletes them."""
    out = tmp_path / "new.json"
    retire = f"mailctl rotate {KEY} --retire-old -f {applied} --sandbox {db}"
    for kept in (1, 2):
        run = _mailctl(db, applied, "rotate", KEY, "--secrets-out", str(out))
        assert run.exit_code == 0, run.output
        assert run.stdout.splitlines() == [
            f"{KEY}: new key created; its secret is in {out}",
            f"{kept} older key(s) kept; delete them once consumers switched: {retire}",
        ]
    assert len(_keys(db)) == 3


# -- --retire-old and --delete-old ------------------------------------------------------------------


def test_retire_old_deletes_every_older_key_and_keeps_the_newest(db: Path, applied: Path, tmp_path: Path) -> None:
    """Two rotations leave two older keys: ``--retire-old`` deletes both (one line each) and keeps
    the key that carries the name, whose secret is the last record in the file."""
    out = tmp_path / "new.json"
    for _ in range(2):
        assert _mailctl(db, applied, "rotate", KEY, "--secrets-out", str(out)).exit_code == 0
    newest = _recorded_ids(out)[-1]
    assert len(_keys(db)) == 3
    run = _mailctl(db, applied, "rotate", KEY, "--retire-old")
    assert run.exit_code == 0, run.output
    assert run.stdout.count(f"{KEY}: deleted older key ") == 2
    assert _keys(db) == {newest: "backend"}


def test_a_retire_failing_midway_says_how_many_older_keys_are_left_and_creates_nothing(
    db: Path, applied: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second of two deletes failing: the first is reported done, one key left, and no claim
    that a new key was made (``made`` is empty when ``--retire-old`` created none)."""
    out = tmp_path / "new.json"
    for _ in range(2):
        assert _mailctl(db, applied, "rotate", KEY, "--secrets-out", str(out)).exit_code == 0
    tried = _failing_key_deletes(monkeypatch, after=1)
    run = _mailctl(db, applied, "rotate", KEY, "--retire-old")
    assert run.exit_code == 1, run.output
    assert len(tried) == 2
    assert run.stdout.count("deleted older key") == 1
    assert "1 older key(s) are left" in run.stderr and "the new key exists" not in run.stderr
    assert len(_keys(db)) == 2


# -- pushing a webhook's header values --------------------------------------------------------------


def test_push_with_a_value_unknown_is_refused_and_sends_nothing(
    applied: Path, client: AgentMailClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pins ``if unknown or not sent: raise UsageError(...)``: a value read back from a plan file
    is unknown (None); without the refusal the header was pushed as null, wiping the real value."""
    desired = load([str(applied)])
    desired.resources[HOOK].write_only["headers"] = {"X-Hook-Token": WriteOnly(env="SWEEP_HDR_TOKEN")}
    patched: list[str] = []
    monkeypatch.setattr(client, "patch", lambda path, *a, **k: patched.append(path))
    with pytest.raises(UsageError, match="the values of X-Hook-Token are not known"):
        push_webhook_headers(client, desired, HOOK)
    assert patched == []


def test_push_hides_the_values_it_sends_from_every_error(
    applied: Path, client: AgentMailClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An API whose validation error quotes the request body echoed the header value."""
    hidden: list[str] = []
    monkeypatch.setattr(client, "hide", lambda values: hidden.extend(values))
    push_webhook_headers(client, load([str(applied)]), HOOK)
    assert TOKEN in hidden


def test_pushing_to_a_webhook_not_applied_yet_is_refused(db: Path, config: Path) -> None:
    """Pins ``if current is None: raise UsageError(...)`` of push_webhook_headers: without it the
    push failed on a missing id instead of saying `mailctl apply` creates the webhook."""
    run = _mailctl(db, config, "rotate", HOOK)
    assert run.exit_code == 1, run.output
    assert f"{HOOK} does not exist yet: `mailctl apply` creates it" in run.stderr
    assert _webhooks(db) == []


def test_push_sends_the_value_and_names_it_but_never_shows_it(db: Path, applied: Path) -> None:
    run = _mailctl(db, applied, "rotate", HOOK)
    leaked = TOKEN in run.output
    assert not leaked, "the header value was printed"  # checked first: the asserts below print the output
    assert run.exit_code == 0, run.output
    assert run.stdout == f"{HOOK}: sent the current values of headers X-Hook-Token\n"


# -- a lock left held after the work is done ----------------------------------------------------------


def test_a_lock_left_held_after_a_rotation_still_reports_the_new_key(
    db: Path, applied: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rotation is done (new key made, its secret stored) when releasing the lock fails:
    rotate must still say so, then fail naming the unlock command. It printed the lock error
    alone, so the user re-ran rotate and minted a third key (the finding behind
    RotationIncomplete, by another path)."""
    release_fails(monkeypatch)
    out = tmp_path / "new.json"
    run = _mailctl(db, applied, "rotate", KEY, "--secrets-out", str(out))
    assert run.exit_code == 1, run.output
    assert "may still be held" in run.stderr and "mailctl unlock" in run.stderr
    assert len(_recorded_ids(out)) == 1 and len(_keys(db)) == 2  # the work was done
    assert f"{KEY}: new key created; its secret is in {out}" in run.stdout


def test_a_lock_left_held_after_a_push_still_reports_what_was_sent(
    db: Path, applied: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same for a webhook's header values: what was sent is said, then the lock error."""
    release_fails(monkeypatch)
    run = _mailctl(db, applied, "rotate", HOOK)
    assert run.exit_code == 1, run.output
    assert "may still be held" in run.stderr and "mailctl unlock" in run.stderr
    assert run.stdout == f"{HOOK}: sent the current values of headers X-Hook-Token\n"
    assert TOKEN not in run.output


def test_a_lock_left_held_after_nothing_was_done_is_the_error_alone(
    db: Path, applied: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retire with no older key to delete did nothing: the lock error is all there is to say."""
    release_fails(monkeypatch)
    run = _mailctl(db, applied, "rotate", KEY, "--retire-old")
    assert run.exit_code == 1, run.output
    assert "may still be held" in run.stderr and run.stdout == ""
