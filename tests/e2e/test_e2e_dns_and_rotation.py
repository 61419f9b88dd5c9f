"""`mailctl dns` (text, zone file, JSON) and `mailctl rotate`, over HTTP."""

from __future__ import annotations

import json

from agentmail import CreateBearerApiKeyRequest

CONFIG = {
    "version": 1,
    "domains": {"org-mail.dns.test": {}},
    "pods": {
        "dns-a": {
            "name": "A",
            "domains": {"mail.dns-a.test": {"tracking_enabled": True}},
            "inboxes": {"help@mail.dns-a.test": {}},
            "api_keys": {"backend": {"permissions": {"inbox_read": True}}},
        }
    },
}


def test_dns_shows_records_as_text_zone_and_json(mailctl, write_config):
    config = write_config(CONFIG)
    before = mailctl("dns", "-f", config)
    assert before.exit_code == 0 and "NOT_CREATED" in before.stdout
    mailctl.apply(config)

    as_json = mailctl("dns", "-f", config, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    domains = {d["domain"]: d for d in json.loads(as_json.stdout)}
    assert set(domains) == {"org-mail.dns.test", "mail.dns-a.test"}
    pod_domain = domains["mail.dns-a.test"]
    assert pod_domain["address"] == "pod/dns-a/domain/mail.dns-a.test" and pod_domain["status"] == "VERIFIED"
    types = {(r["type"], r["name"]) for r in pod_domain["records"]}
    assert ("CNAME", "link.mail.dns-a.test") in types and ("MX", "mail.dns-a.test") in types

    zone = mailctl("dns", "-f", config, "--format", "zone", "mail.dns-a.test")
    assert zone.exit_code == 0 and "$ORIGIN mail.dns-a.test." in zone.stdout
    assert "org-mail.dns.test" not in zone.stdout  # only the domain asked for
    text = mailctl("dns", "-f", config)
    assert "mail.dns-a.test (pod/dns-a/domain/mail.dns-a.test): VERIFIED" in text.stdout

    unknown = mailctl("dns", "-f", config, "nope.test")
    assert unknown.exit_code == 1 and "no declared domain matches nope.test" in unknown.stderr


def _backend_key_ids(sdk) -> set[str]:
    pod = next(p for p in sdk.pods.list(limit=100).pods if p.client_id == "dns-a")
    return {k.api_key_id for k in sdk.pods.api_keys.list(pod.pod_id).api_keys if k.name == "backend"}


def test_rotation_creates_a_new_key_keeps_the_old_until_retired(mailctl, sandbox, write_config):
    config = write_config(CONFIG)
    mailctl.apply(config)
    address = "pod/dns-a/api_key/backend"
    [old_id] = _backend_key_ids(sandbox.sdk())

    refused = mailctl("rotate", address, "-f", config)
    assert refused.exit_code == 1 and "--secrets-out" in refused.stderr

    rotated = mailctl("rotate", address, "-f", config, "--secrets-out", "new.json")
    assert rotated.exit_code == 0, rotated.output
    [record] = mailctl.watch.secrets_file(mailctl.workdir / "new.json")
    assert record["address"] == address
    assert _backend_key_ids(sandbox.sdk()) == {old_id, record["api_key_id"]}  # side by side: no outage

    plan = mailctl("plan", "-f", config, "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output  # the new key carries the name; the old is left alone
    assert f"{address}#{old_id}" in plan.stdout  # ... and is listed as unmanaged

    retired = mailctl("rotate", address, "-f", config, "--retire-old")
    assert retired.exit_code == 0 and "deleted older key" in retired.stdout
    assert _backend_key_ids(sandbox.sdk()) == {record["api_key_id"]}
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0

    again = mailctl("rotate", address, "-f", config, "--retire-old")  # nothing left to retire: said so
    assert again.exit_code == 0 and "no older key" in again.stdout
    assert _backend_key_ids(sandbox.sdk()) == {record["api_key_id"]}


def test_retire_old_leaves_alone_a_key_whose_own_name_starts_with_the_declared_name_and_a_hash(
    mailctl, sandbox, write_config
):
    """A key made by hand named `backend#ci` is not an older `backend` (declared names never hold
    "#", API names may): retiring the older keys of `backend` does not delete it."""
    config = write_config(CONFIG)
    mailctl.apply(config)
    sdk = sandbox.sdk()
    pod = next(p for p in sdk.pods.list(limit=100).pods if p.client_id == "dns-a")
    other = sdk.pods.api_keys.create(pod.pod_id, request=CreateBearerApiKeyRequest(name="backend#ci"))
    address = "pod/dns-a/api_key/backend"
    [current] = _backend_key_ids(sdk)

    retired = mailctl("rotate", address, "-f", config, "--retire-old")
    assert retired.exit_code == 0, retired.output
    assert "no older key" in retired.stdout
    names = {k.api_key_id: k.name for k in sdk.pods.api_keys.list(pod.pod_id).api_keys}
    assert names.get(other.api_key_id) == "backend#ci" and names.get(current) == "backend"


def test_retire_old_with_secrets_out_is_refused_before_anything_changes(mailctl, sandbox, write_config):
    config = write_config(CONFIG)
    mailctl.apply(config)
    address = "pod/dns-a/api_key/backend"
    assert mailctl("rotate", address, "-f", config, "--secrets-out", "new.json").exit_code == 0
    mailctl.watch.secrets_file(mailctl.workdir / "new.json")
    before = _backend_key_ids(sandbox.sdk())
    assert len(before) == 2
    run = mailctl("rotate", address, "-f", config, "--retire-old", "--secrets-out", "other.json")
    assert run.exit_code == 1 and "--secrets-out" in run.stderr and "--retire-old" in run.stderr
    assert _backend_key_ids(sandbox.sdk()) == before  # the older key is still there
    assert not (mailctl.workdir / "other.json").exists()


def test_rotation_with_delete_old_swaps_the_key_in_one_step(mailctl, sandbox, write_config):
    config = write_config(CONFIG)
    mailctl.apply(config)
    address = "pod/dns-a/api_key/backend"
    run = mailctl("rotate", address, "-f", config, "--secrets-out", "new.json", "--delete-old")
    assert run.exit_code == 0, run.output
    [record] = mailctl.watch.secrets_file(mailctl.workdir / "new.json")
    assert _backend_key_ids(sandbox.sdk()) == {record["api_key_id"]}


def test_rotating_an_undeclared_key_is_a_clear_error(mailctl, write_config):
    run = mailctl("rotate", "pod/dns-a/api_key/nope", "-f", write_config(CONFIG), "--secrets-out", "x.json")
    assert run.exit_code == 1 and "is not an API key declared in the config" in run.stderr


def test_rotate_takes_the_apply_lock_and_changes_nothing_while_an_apply_holds_it(mailctl, sandbox, write_config):
    from mailctl.api import lock
    from mailctl.api.client import AgentMailClient

    config = write_config(CONFIG)
    mailctl.apply(config)
    address = "pod/dns-a/api_key/backend"
    before = _backend_key_ids(sandbox.sdk())
    with AgentMailClient(sandbox.url, sandbox.api_key) as api, lock.ApplyLock(api):
        held = mailctl("rotate", address, "-f", config, "--secrets-out", "held.json")
        assert held.exit_code == 1, held.output
        assert "holds" in held.stderr and "lock" in held.stderr
        assert _backend_key_ids(sandbox.sdk()) == before  # nothing was created
        retire = mailctl("rotate", address, "-f", config, "--retire-old")
        assert retire.exit_code == 1 and _backend_key_ids(sandbox.sdk()) == before
    rotated = mailctl("rotate", address, "-f", config, "--secrets-out", "free.json", "--lock-timeout", "5")
    assert rotated.exit_code == 0, rotated.output
    assert len(_backend_key_ids(sandbox.sdk())) == len(before) + 1
    with AgentMailClient(sandbox.url, sandbox.api_key) as api:
        assert lock.find_all(api) == []  # released


def test_delete_old_failing_after_the_new_key_says_it_exists_and_how_to_finish(mailctl, sandbox, write_config):
    """Found by QA: the older key's DELETE failing ended rotate with that error alone: nothing said
    a new key now carried the name with its secret in the file, so re-running minted a third."""
    config = write_config(CONFIG)
    mailctl.apply(config)
    address = "pod/dns-a/api_key/backend"
    fault = {
        "method": "DELETE",
        "route": "/v0/pods/{pod_id}/api-keys/{api_key_id}",
        "status": 400,
        "code": "bad",
        "times": 1,
    }
    sandbox.control("POST", "faults", {**fault, "when": "before"})
    run = mailctl("rotate", address, "-f", config, "--secrets-out", "new.json", "--delete-old")
    assert run.exit_code == 1
    assert f"{address}: new key created; its secret is in new.json" in run.stdout
    assert "--retire-old" in run.stderr and "the new key exists" in run.stderr
    [record] = mailctl.watch.secrets_file(mailctl.workdir / "new.json")
    assert len(_backend_key_ids(sandbox.sdk())) == 2  # the old one is still there
    retire = mailctl("rotate", address, "-f", config, "--retire-old")
    assert retire.exit_code == 0, retire.output
    assert _backend_key_ids(sandbox.sdk()) == {record["api_key_id"]}


HOSTILE = "\x1b[2J\u202e\nFAKE\r"  # clears the screen, reverses the line, forges a new line
IN_ZONE = "\x1b[2J\u202eFAKE\r"  # a zone file is lines: its line breaks stay, the rest is shown


def _hostile_domain_api(method: str, path: str, body: bytes) -> tuple[str, bytes]:
    """An API whose one domain's status, records and zone file carry terminal controls."""
    route = path.split("?", 1)[0]
    if route == "/v0/domains/d-1/zone-file":
        return "text/plain", f'$ORIGIN hostile.test.\nhostile.test.\tIN\tTXT\t"{IN_ZONE}"\n'.encode()
    if route == "/v0/domains/d-1":
        record = {"type": "TXT" + HOSTILE, "name": "hostile.test" + HOSTILE, "value": "v=spf1" + HOSTILE}
        domain = {"domain_id": "d-1", "domain": "hostile.test", "status": "VERIFIED" + HOSTILE}
        return "application/json", json.dumps({**domain, "records": [{**record, "status": "VALID" + HOSTILE}]}).encode()
    if route == "/v0/domains":
        return "application/json", json.dumps({"domains": [{"domain_id": "d-1", "domain": "hostile.test"}]}).encode()
    lists = {"pods": [], "inboxes": [], "domains": [], "api_keys": [], "webhooks": [], "entries": [], "count": 0}
    return "application/json", json.dumps(lists).encode()


def test_dns_shows_what_the_api_says_with_hidden_characters_escaped(tmp_path):
    from click.testing import CliRunner
    from test_e2e_broken_endpoints import KEY, http_server

    from mailctl.cli.main import cli

    config = tmp_path / "mailctl.yaml"
    config.write_text("version: 1\ndomains:\n  hostile.test: {}\n")
    env = {"AGENTMAIL_API_KEY": KEY, "AGENTMAIL_BASE_URL": None}
    with http_server(_hostile_domain_api) as url:
        runs = {
            fmt: CliRunner().invoke(cli, ["dns", "-f", str(config), "--endpoint", url, "--format", fmt], env=env)
            for fmt in ("text", "zone", "json")
        }
    for fmt in ("text", "zone"):
        out = runs[fmt].stdout
        assert runs[fmt].exit_code == 0, runs[fmt].output
        assert "\x1b" not in out and "\u202e" not in out and "\r" not in out and "\nFAKE" not in out, out
        assert "VERIFIED\\x1b[2J\\u202e\\nFAKE\\r" in out
    text, zone = runs["text"].stdout, runs["zone"].stdout
    assert "  VALID\\x1b[2J\\u202e\\nFAKE\\r TXT\\x1b[2J\\u202e\\nFAKE\\r hostile.test\\x1b[2J" in text
    assert "  v=spf1\\x1b[2J\\u202e\\nFAKE\\r\n" in text
    assert '$ORIGIN hostile.test.\nhostile.test.\tIN\tTXT\t"\\x1b[2J\\u202eFAKE\\r"' in zone
    document = json.loads(runs["json"].stdout)  # JSON stays exact
    assert document[0]["status"] == "VERIFIED" + HOSTILE and document[0]["records"][0]["value"] == "v=spf1" + HOSTILE


def test_dns_says_where_a_declared_domain_exists_when_not_at_its_declared_address(mailctl, write_config):
    """An organisation domain declared in a pod is not "not created yet": plan refuses it, and dns
    says where it is instead of sending the user to an apply that cannot make it."""
    mailctl.apply(write_config({"version": 1, "domains": {"trail.dns.test": {}}}, "org.yaml"))
    config = write_config({"version": 1, "pods": {"dns-t": {"name": "T", "domains": {"trail.dns.test": {}}}}})
    assert "already exists as domain/trail.dns.test" in mailctl("plan", "-f", config).stderr

    text = mailctl("dns", "-f", config)
    assert text.exit_code == 0, text.output
    assert "NOT_CREATED" not in text.stdout and "not created yet" not in text.stdout
    assert "trail.dns.test (pod/dns-t/domain/trail.dns.test): EXISTS_ELSEWHERE\n" in text.stdout
    assert "  exists as domain/trail.dns.test, not where it is declared" in text.stdout
    [entry] = mailctl("dns", "-f", config, "--format", "json").json()
    assert (entry["status"], entry["exists_as"], entry["records"]) == ("EXISTS_ELSEWHERE", "domain/trail.dns.test", [])
    zone = mailctl("dns", "-f", config, "--format", "zone").stdout
    assert zone.startswith("; trail.dns.test: exists as domain/trail.dns.test, not where it is declared")


def test_a_key_removed_from_the_config_mid_rotation_is_deleted_with_its_older_keys_in_one_apply(
    mailctl, sandbox, write_config
):
    """Removing a key while an older key of its name still awaits `rotate --retire-old` removes
    the whole key: one apply deletes both, and the next plan shows no changes (it took two runs)."""
    config = write_config(CONFIG)
    mailctl.apply(config)
    address = "pod/dns-a/api_key/backend"
    assert mailctl("rotate", address, "-f", config, "--secrets-out", "new.json").exit_code == 0
    assert len(_backend_key_ids(sandbox.sdk())) == 2

    without = {**CONFIG, "pods": {"dns-a": {**CONFIG["pods"]["dns-a"], "api_keys": {}}}}
    config = write_config(without)
    plan = mailctl("plan", "-f", config, "--format", "json")
    assert plan.exit_code == 0, plan.output
    deletes = [c for c in json.loads(plan.stdout)["changes"] if c["action"] == "delete"]
    assert len(deletes) == 2 and all(c["address"].startswith(address) for c in deletes), deletes
    mailctl.apply(config)
    assert _backend_key_ids(sandbox.sdk()) == set()
    again = mailctl("plan", "-f", config, "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_mid_rotation_the_older_key_stays_unmanaged_while_its_name_is_declared(mailctl, sandbox, write_config):
    config = write_config(CONFIG)
    mailctl.apply(config)
    assert mailctl("rotate", "pod/dns-a/api_key/backend", "-f", config, "--secrets-out", "new.json").exit_code == 0
    plan = mailctl("plan", "-f", config, "--detailed-exitcode")
    assert plan.exit_code == 0 and "pod/dns-a/api_key/backend#" in plan.stdout, plan.output
