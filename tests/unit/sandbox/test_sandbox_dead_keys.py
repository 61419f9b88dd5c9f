"""A key that no longer works (expired, deleted) is 401 before anything else: it spends none of
its organisation's rate-limit budget and shows up in none of its statistics (issue 17)."""

from __future__ import annotations

import httpx

from mailctl.sandbox.app import SandboxApp, create_app
from mailctl.sandbox.backend.core import API_KEY

KEY = "am_unit_dead_keys_root_0123456"


def _client(app: SandboxApp, key: str) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="http://sandbox", headers={"Authorization": f"Bearer {key}"}
    )


def _expire(app: SandboxApp, api_key_id: str) -> None:
    with app.store.transaction() as tx:
        row = tx.get(API_KEY, api_key_id)
        assert row is not None
        row.body["expires_at"] = "2001-01-01T00:00:00.000Z"
        tx.update(row)


def test_an_expired_key_is_401_spends_no_budget_and_is_counted_nowhere() -> None:
    app = create_app(api_keys=(KEY,))
    root = _client(app, KEY)
    created = root.post("/v0/api-keys", json={"name": "short"}).json()
    short = _client(app, created["api_key"])
    assert short.get("/v0/pods").status_code == 200
    _expire(app, created["api_key_id"])
    root.patch("/_sandbox/config", json={"rate_limit": 0.5})
    app.orgs.get(app.org_id).stats.clear()
    for _ in range(3):
        response = short.get("/v0/pods")
        assert (response.status_code, response.json()["code"]) == (401, "api_key_expired")
    assert root.get("/v0/pods").status_code == 200  # the organisation's budget is untouched
    stats = app.orgs.get(app.org_id).stats.snapshot()
    assert stats["by_route"].get("GET /v0/pods") == 1 and "401" not in stats["by_status"]
