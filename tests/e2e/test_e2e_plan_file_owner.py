"""A saved plan holds the desired state apply executes: a plan file another local user owns, can
write, or reached through their link is refused before anything happens (adversarial run)."""

from __future__ import annotations

import os

import pytest

CONFIG = {"version": 1, "pods": {"pf-a": {"name": "A"}}}

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root (CI runs as root)")


def _saved_plan(mailctl, write_config):
    config = write_config(CONFIG)
    saved = mailctl.workdir / "tf.plan"
    assert mailctl("plan", "-f", config, "--out", saved).exit_code == 0
    return saved


def _pods(sandbox) -> list[str]:
    return sorted(p.client_id or "" for p in sandbox.sdk().pods.list(limit=100).pods)


def test_a_plan_file_owned_by_another_user_is_refused_and_nothing_changes(mailctl, sandbox, write_config):
    saved = _saved_plan(mailctl, write_config)
    before = _pods(sandbox)
    os.chown(saved, 65534, 65534)
    run = mailctl("apply", saved)
    assert run.exit_code == 1 and "owned by uid 65534" in run.stderr and "nothing was changed" in run.stderr
    assert _pods(sandbox) == before


def test_a_world_writable_plan_file_is_refused(mailctl, sandbox, write_config):
    saved = _saved_plan(mailctl, write_config)
    before = _pods(sandbox)
    saved.chmod(0o666)
    run = mailctl("apply", saved)
    assert run.exit_code == 1 and "writable by every user" in run.stderr
    assert _pods(sandbox) == before


def test_a_plan_file_reached_through_another_users_link_is_refused(mailctl, sandbox, write_config, tmp_path):
    saved = _saved_plan(mailctl, write_config)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    link = shared / "tf.plan"
    link.symlink_to(saved)
    os.lchown(link, 65534, 65534)
    run = mailctl("apply", link)
    assert run.exit_code == 1 and "symlink" in run.stderr
    assert "pf-a" not in _pods(sandbox)


def test_my_own_plan_file_applies(mailctl, sandbox, write_config):
    saved = _saved_plan(mailctl, write_config)
    assert mailctl("apply", saved).exit_code == 0
    assert "pf-a" in _pods(sandbox)
