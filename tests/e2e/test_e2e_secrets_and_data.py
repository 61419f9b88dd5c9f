"""Key secrets go to the --secrets-out file only; deleting an inbox says how much mail goes with it."""

from __future__ import annotations

import httpx
from e2e_harness import changes_by_address, load_fixture

SCOPES = {
    "api_key/org-reader": "organization",
    "pod/e2e-acme/api_key/acme-backend": "pod",
    "pod/e2e-acme/inbox/support@mail.acme.test/api_key/support-agent": "inbox",
    "pod/e2e-globex/api_key/globex-ci": "pod",
}


def test_new_key_secrets_reach_only_the_0600_secrets_file(mailctl, sandbox, secret_watch, write_config):
    runs_before = len(secret_watch.outputs)
    data = load_fixture("tenants.yaml")
    mailctl.apply(write_config(data))
    records = secret_watch.secrets_file(mailctl.workdir / "secrets.json")  # mode 0600, JSON, watched
    assert {r["address"] for r in records} == set(SCOPES)
    for record in records:  # the canaries are real, working keys
        me = httpx.get(f"{sandbox.url}/v0/auth/me", headers={"Authorization": f"Bearer {record['secret']}"})
        assert me.status_code == 200 and me.json()["scope_type"] == SCOPES[record["address"]]
        assert record["secret"].startswith(record["prefix"])

    data["pods"]["e2e-initech"]["api_keys"] = {"initech-bot": {}}
    mailctl.apply(write_config(data))
    assert len(secret_watch.secrets_file(mailctl.workdir / "secrets.json")) == 5  # appended

    mailctl("plan", "-f", write_config(data), "--out", "saved.plan")
    mailctl("drift", "-f", write_config(data), "--format", "json")
    del data["api_keys"]["org-reader"]
    mailctl("plan", "-f", write_config(data), "--format", "markdown")
    saved = (mailctl.workdir / "saved.plan").read_text()
    assert not any(secret in saved for secret in secret_watch.secrets)
    assert len(secret_watch.outputs) == runs_before + 5  # each run above was checked against every secret


def test_deleting_an_inbox_that_holds_mail_shows_what_is_lost(mailctl, sandbox, write_config):
    data = load_fixture("tenants.yaml")
    mailctl.apply(write_config(data))
    sdk = sandbox.sdk()
    for subject in ("Quarterly numbers", "Lunch?"):
        sdk.inboxes.messages.send("acme-bot@agentmail.to", to="globex-bot@agentmail.to", subject=subject, text="hello")
    sdk.inboxes.drafts.create("globex-bot@agentmail.to", to=["acme-bot@agentmail.to"], subject="Re: Lunch?")

    del data["pods"]["e2e-globex"]["inboxes"]["globex-bot@agentmail.to"]
    config = write_config(data)
    plan = changes_by_address(mailctl.plan_json(config))
    assert plan["pod/e2e-globex/inbox/globex-bot@agentmail.to"]["data_at_risk"] == {
        "threads": 2,
        "messages": 2,
        "drafts": 1,
    }
    text = mailctl("plan", "-f", config)
    assert "# holds 2 threads, 2 messages, 1 drafts: deleted with it, permanently" in text.stdout
    markdown = mailctl("plan", "-f", config, "--format", "markdown")
    assert "⚠️ holds 2 threads, 2 messages, 1 drafts" in markdown.stdout
