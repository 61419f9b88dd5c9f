"""API keys in a live fleet (issue 16), end to end over HTTP: a rename with ``moved:`` keeps the
key (same id, same secret), and a replacement creates the new key before deleting the old one,
so a failure at either step never leaves consumers without a working key.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from e2e_harness import SandboxProcess, actions, changes_by_address

KEY = "pod/e2e-acme/api_key/backend"
EXPIRY = "2031-01-01T00:00:00Z"


def config(key_name: str = "backend", expires_at: str = EXPIRY, moved: list[dict[str, str]] | None = None) -> dict:
    data: dict[str, Any] = {
        "version": 1,
        "pods": {
            "e2e-acme": {
                "name": "Acme",
                "inboxes": {"acme-bot@agentmail.to": {}},
                "api_keys": {key_name: {"permissions": {"inbox_read": True}, "expires_at": expires_at}},
            }
        },
    }
    if moved:
        data["moved"] = moved
    return data


def keys(sandbox: SandboxProcess) -> dict[str, str]:
    """name -> api_key_id of the pod keys, as the API lists them."""
    rows = sandbox.http.get("/v0/api-keys").json()["api_keys"]
    return {r["name"]: r["api_key_id"] for r in rows if r.get("pod_id")}


def works(sandbox: SandboxProcess, secret: str) -> bool:
    me = httpx.get(f"{sandbox.url}/v0/auth/me", headers={"Authorization": f"Bearer {secret}"})
    return me.status_code == 200


def arm(sandbox: SandboxProcess, method: str, route: str, times: int) -> None:
    """The next ``times`` calls of the route fail with a 409 (not retried) before writing."""
    sandbox.control(
        "POST", "faults", {"method": method, "route": route, "status": 409, "code": "injected", "times": times}
    )


def test_a_key_renamed_with_moved_keeps_its_id_and_secret_and_the_block_stays_harmless(
    mailctl, sandbox, secret_watch, write_config
):
    mailctl.apply(write_config(config()))
    [record] = secret_watch.secrets_file(mailctl.workdir / "secrets.json")
    before = keys(sandbox)["backend"]

    renamed = write_config(config("acme-backend", moved=[{"from": KEY, "to": "pod/e2e-acme/api_key/acme-backend"}]))
    plan = mailctl.plan_json(renamed)
    change = changes_by_address(plan)["pod/e2e-acme/api_key/acme-backend"]
    assert actions(plan) == {"pod/e2e-acme/api_key/acme-backend": "update"}
    assert change["moved_from"] == KEY
    assert change["diff"] == [
        {"path": "name", "before": "backend", "after": "acme-backend", "forces_replacement": False}
    ]
    assert plan["refusals"] == [] and KEY not in plan["unmanaged"]
    text = mailctl("plan", "-f", renamed).stdout
    assert "will be updated in place (moved from pod/e2e-acme/api_key/backend: renamed in place)" in text
    assert '~ name = "backend" -> "acme-backend"' in text

    run = mailctl("apply", "-f", renamed, "--auto-approve")  # no --secrets-out: no secret is minted
    assert run.exit_code == 0, run.output
    assert keys(sandbox) == {"acme-backend": before}
    assert works(sandbox, record["secret"])
    again = mailctl("plan", "-f", renamed, "--detailed-exitcode")  # the block stays, harmlessly
    assert again.exit_code == 0, again.output


def test_a_key_replacement_whose_create_fails_leaves_the_old_key_working(mailctl, sandbox, secret_watch, write_config):
    mailctl.apply(write_config(config()))
    [old] = secret_watch.secrets_file(mailctl.workdir / "secrets.json")
    replaced = write_config(config(expires_at="2032-01-01T00:00:00Z"))
    assert actions(mailctl.plan_json(replaced)) == {KEY: "replace"}

    arm(sandbox, "POST", "/v0/pods/{pod_id}/api-keys", times=3)
    failed = mailctl("apply", "-f", replaced, "--auto-approve", "--secrets-out", "secrets.json")
    assert failed.exit_code == 1, failed.output
    assert f"delete {KEY}: depends on create of {KEY}" in failed.stdout  # the old one is never deleted first
    assert list(keys(sandbox).values()) == [old["api_key_id"]]
    assert works(sandbox, old["secret"])

    plan = changes_by_address(mailctl.plan_json(replaced))  # any machine sees the unfinished replacement
    assert plan[KEY]["action"] == "replace"
    assert plan[KEY]["reason"] == "left marked by a replacement that did not finish"
    sandbox.control("DELETE", "faults")
    mailctl.apply(replaced)
    new = secret_watch.secrets_file(mailctl.workdir / "secrets.json")[-1]
    assert keys(sandbox) == {"backend": new["api_key_id"]} and new["api_key_id"] != old["api_key_id"]
    assert works(sandbox, new["secret"]) and not works(sandbox, old["secret"])
    assert mailctl("plan", "-f", replaced, "--detailed-exitcode").exit_code == 0


def test_a_replacement_whose_old_key_delete_fails_is_finished_by_the_next_apply(
    mailctl, sandbox, secret_watch, write_config
):
    mailctl.apply(write_config(config()))
    [old] = secret_watch.secrets_file(mailctl.workdir / "secrets.json")
    replaced = write_config(config(expires_at="2032-01-01T00:00:00Z"))

    arm(sandbox, "DELETE", "/v0/pods/{pod_id}/api-keys/{api_key_id}", times=1)
    failed = mailctl("apply", "-f", replaced, "--auto-approve", "--secrets-out", "secrets.json")
    assert failed.exit_code == 1, failed.output
    new = secret_watch.secrets_file(mailctl.workdir / "secrets.json")[-1]
    assert keys(sandbox) == {"backend": new["api_key_id"], "backend#mailctl-replaced": old["api_key_id"]}
    assert works(sandbox, new["secret"]) and works(sandbox, old["secret"])

    leftover = f"{KEY}#{old['api_key_id']}"
    plan = mailctl.plan_json(replaced)
    assert actions(plan) == {leftover: "delete"}
    assert changes_by_address(plan)[leftover]["reason"] == "replaced by a new key; the old one's delete did not finish"
    assert any("not counted by the safety thresholds" in n for n in plan["notes"])
    run = mailctl("apply", "-f", replaced, "--auto-approve")
    assert run.exit_code == 0, run.output
    assert keys(sandbox) == {"backend": new["api_key_id"]}
    assert mailctl("plan", "-f", replaced, "--detailed-exitcode").exit_code == 0


def test_thresholds_count_a_key_replacement_as_a_delete(mailctl, sandbox, write_config):
    data = config()
    data["pods"]["e2e-acme"]["api_keys"] = {f"k{i}": {"expires_at": EXPIRY} for i in range(10)}
    data["settings"] = {"safety": {"max_delete_fraction": 0.3, "max_update_fraction": 1.0}}
    mailctl.apply(write_config(data))  # 12 managed resources
    before = keys(sandbox)
    for i in range(4):  # 4 of 12 replaced: 33% deleted, within the (raised) update limit
        data["pods"]["e2e-acme"]["api_keys"][f"k{i}"]["expires_at"] = "2032-01-01T00:00:00Z"

    plan = mailctl.plan_json(write_config(data))
    assert [(r["rule"], r["message"].split(" (")[0]) for r in plan["refusals"]] == [
        ("threshold", "the plan would delete 4 of 12 existing managed resources")
    ]
    refused = mailctl("apply", "-f", write_config(data), "--auto-approve", "--secrets-out", "s.json")
    assert refused.exit_code == 1, refused.output
    assert keys(sandbox) == before


def org_keys(sandbox: SandboxProcess) -> dict[str, str]:
    rows = sandbox.http.get("/v0/api-keys").json()["api_keys"]
    return {r["name"]: r["api_key_id"] for r in rows if not r.get("pod_id") and r["name"] != "sandbox bootstrap key"}


def test_an_organisation_key_moved_while_its_expiry_changes_is_replaced_and_the_old_one_deleted(
    mailctl, sandbox, secret_watch, write_config
):
    mailctl.apply(write_config({"version": 1, "api_keys": {"ci-reader": {"expires_at": EXPIRY}}}))
    [old] = secret_watch.secrets_file(mailctl.workdir / "secrets.json")
    moved = {
        "version": 1,
        "api_keys": {"ci-inbox-reader": {"expires_at": "2032-01-01T00:00:00Z"}},
        "moved": [{"from": "api_key/ci-reader", "to": "api_key/ci-inbox-reader"}],
    }
    plan = mailctl.plan_json(write_config(moved))
    assert actions(plan) == {"api_key/ci-inbox-reader": "replace"}
    change = changes_by_address(plan)["api_key/ci-inbox-reader"]
    assert change["moved_from"] == "api_key/ci-reader"
    assert change["reason"] == "moved from api_key/ci-reader; expires_at forces replacement"
    assert "api_key/ci-reader" not in plan["unmanaged"]  # it is the one this plan deletes

    mailctl.apply(write_config(moved))
    new = secret_watch.secrets_file(mailctl.workdir / "secrets.json")[-1]
    assert org_keys(sandbox) == {"ci-inbox-reader": new["api_key_id"]}  # no key left behind
    assert works(sandbox, new["secret"]) and not works(sandbox, old["secret"])
    assert mailctl("plan", "-f", write_config(moved), "--detailed-exitcode").exit_code == 0


def pod_keys(sandbox: SandboxProcess) -> list[tuple[str, str]]:
    """(name, api_key_id) of every pod key, several of one name mid-rotation."""
    rows = sandbox.http.get("/v0/api-keys").json()["api_keys"]
    return sorted((r["name"], r["api_key_id"]) for r in rows if r.get("pod_id"))


def test_a_key_moved_while_its_rotation_is_open_is_refused_until_the_older_key_is_retired(
    mailctl, sandbox, secret_watch, write_config
):
    v1 = write_config(config(), "v1.yaml")
    mailctl.apply(v1)
    [first] = secret_watch.secrets_file(mailctl.workdir / "secrets.json")
    rotated = mailctl("rotate", KEY, "-f", v1, "--secrets-out", "secrets.json")
    assert rotated.exit_code == 0, rotated.output
    newest = secret_watch.secrets_file(mailctl.workdir / "secrets.json")[-1]
    older = f"{KEY}#{first['api_key_id']}"
    rotation = [("backend", first["api_key_id"]), ("backend", newest["api_key_id"])]
    assert pod_keys(sandbox) == sorted(rotation)

    to = "pod/e2e-acme/api_key/acme-backend"
    for expires_at in (EXPIRY, "2032-01-01T00:00:00Z"):  # a rename, and a rename that replaces
        v2 = write_config(config("acme-backend", expires_at, moved=[{"from": KEY, "to": to}]), "v2.yaml")
        plan = mailctl.plan_json(v2)
        assert older in plan["unmanaged"]  # still left alone: never deleted by a plan
        [refusal] = plan["refusals"]
        assert refusal["rule"] == "open_rotation" and refusal["lifted_by"] is None
        assert refusal["addresses"] == [to]
        assert f"{KEY} has 1 older key(s) still in rotation ({older})" in refusal["message"]
        assert f"mailctl rotate {KEY} --retire-old" in refusal["message"]
        run = mailctl("apply", "-f", v2, "--auto-approve", "--force", "--secrets-out", "secrets.json")
        assert run.exit_code == 1, run.output
        assert "refusing to apply (nothing was changed)" in run.stderr
        assert pod_keys(sandbox) == sorted(rotation)  # nothing renamed, nothing orphaned
        assert works(sandbox, first["secret"]) and works(sandbox, newest["secret"])

    # Consumers switched: the rotation is finished, then the move goes through and converges.
    v2 = write_config(config("acme-backend", moved=[{"from": KEY, "to": to}]), "v2.yaml")
    retired = mailctl("rotate", KEY, "-f", v1, "--retire-old")
    assert retired.exit_code == 0, retired.output
    plan = mailctl.plan_json(v2)
    assert actions(plan) == {to: "update"} and plan["refusals"] == []
    run = mailctl("apply", "-f", v2, "--auto-approve")
    assert run.exit_code == 0, run.output
    assert pod_keys(sandbox) == [("acme-backend", newest["api_key_id"])]
    assert works(sandbox, newest["secret"])
    again = mailctl.plan_json(v2)
    assert again["changes"] == [] and again["notes"] == [] and again["refusals"] == []


@pytest.mark.parametrize("guard", ["protect", "prevent_destroy"])
def test_a_key_whose_secret_was_never_recorded_is_replaced_under_a_guard(mailctl, sandbox, write_config, guard):
    """A killed apply leaves `NAME#mailctl-pending` (nobody holds its secret). Guarded by
    manage.protect or prevent_destroy, its replacement was refused for ever: no re-run converged."""
    data: dict[str, Any] = {
        "version": 1,
        "manage": {"pods": {"client_id_prefix": "tenant-"}},
        "pods": {"tenant-vip": {"name": "VIP", "api_keys": {"backend": {}}}},
    }
    mailctl.apply(write_config(data))
    pod_id = next(p.pod_id for p in sandbox.sdk().pods.list().pods if p.client_id == "tenant-vip")
    sandbox.sdk().pods.api_keys.create(pod_id, request={"name": "worker#mailctl-pending"})
    data["pods"]["tenant-vip"]["api_keys"]["worker"] = {"prevent_destroy": True} if guard == "prevent_destroy" else {}
    if guard == "protect":
        data["manage"]["protect"] = ["pod/tenant-vip"]
    path = write_config(data)
    plan = mailctl.plan_json(path)
    assert plan["refusals"] == []
    assert changes_by_address(plan)["pod/tenant-vip/api_key/worker"]["reason"] == "secret never recorded"
    mailctl.apply(path)
    assert actions(mailctl.plan_json(path)) == {}
