"""A key left marked by a create-first replacement that stopped early (NAME#mailctl-replaced), when
the config no longer asks for the replacement: apply renames it back, same key, no new secret."""

from __future__ import annotations

CONFIG = {"version": 1, "api_keys": {"revert-k": {"expires_at": "2031-01-01T00:00:00Z"}}}


def _keys(sandbox) -> dict[str, str]:
    rows = sandbox.http.get("/v0/api-keys", params={"limit": 100}).json()["api_keys"]
    return {r["api_key_id"]: r["name"] for r in rows if r["name"].startswith("revert-k")}


def test_a_marked_key_whose_replacement_is_no_longer_wanted_is_renamed_back(mailctl, sandbox, write_config):
    config = write_config(CONFIG)
    mailctl.apply(config)
    [(key_id, _)] = _keys(sandbox).items()
    # what a run killed between marking the old key and creating its successor leaves behind
    sandbox.http.patch(f"/v0/api-keys/{key_id}", json={"name": "revert-k#mailctl-replaced"})
    plan = mailctl.plan_json(config)
    [change] = plan["changes"]
    assert (change["action"], change["address"]) == ("update", "api_key/revert-k")
    run = mailctl("apply", "-f", config, "--auto-approve")  # no --secrets-out: nothing is minted
    assert run.exit_code == 0, run.output
    assert _keys(sandbox) == {key_id: "revert-k"}
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0
