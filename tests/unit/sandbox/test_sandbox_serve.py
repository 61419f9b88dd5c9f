"""`mailctl sandbox serve` and the in-thread server helper, over real HTTP."""

from __future__ import annotations

import select
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from mailctl.cli.main import cli
from mailctl.sandbox.app import DEV_API_KEY, create_app
from mailctl.sandbox.server import run_in_thread


def test_serve_prints_one_listening_line_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("mailctl")
    proc = subprocess.Popen(
        [str(exe), "sandbox", "serve", "--port", "0", "--db", str(tmp_path / "s.db")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    try:
        assert proc.stdout is not None
        assert select.select([proc.stdout], [], [], 60)[0], "no listening line within 60 s"
        line = proc.stdout.readline()
        assert line.startswith("AgentMail sandbox listening on http://127.0.0.1:")
        url = line.split()[-1]
        response = httpx.get(f"{url}/v0/auth/me", headers={"Authorization": f"Bearer {DEV_API_KEY}"})
        assert response.json()["scope_type"] == "organization"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert out == "" and DEV_API_KEY in err  # the dev key is announced on stderr


def test_state_in_a_db_file_survives_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "state.db")
    first = create_app(db=db, api_keys=("am_k",))
    url, stop = run_in_thread(first)
    try:
        httpx.post(f"{url}/v0/pods", json={"name": "kept"}, headers={"Authorization": "Bearer am_k"})
    finally:
        stop()
        first.store.close()
    url, stop = run_in_thread(create_app(db=db, api_keys=("am_k",)))
    try:
        pods = httpx.get(f"{url}/v0/pods", headers={"Authorization": "Bearer am_k"}).json()["pods"]
    finally:
        stop()
    assert sorted(p["name"] for p in pods) == ["Default Pod", "kept"]


@pytest.mark.parametrize("key", ["", "   ", " am_unit_padded_key", "am_unit_padded_key\t"])
def test_serve_refuses_an_api_key_no_request_could_send(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Bearer token never is empty nor starts or ends with whitespace (the sandbox strips it):
    such an --api-key started a sandbox whose every request was a 401."""
    served: list[object] = []
    monkeypatch.setattr("mailctl.sandbox.server.serve", lambda *args, **kwargs: served.append(args))
    run = CliRunner().invoke(
        cli, ["sandbox", "serve", "--port", "0", "--api-key", key], env={"AGENTMAIL_API_KEY": None}
    )
    assert run.exit_code == 1, run.output
    assert "--api-key" in run.output and "usage:" in run.output.lower()
    assert served == []
