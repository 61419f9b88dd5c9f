"""A small in-process sandbox rig for the webhook / list / mail rule tests: raw JSON over WSGI."""

from __future__ import annotations

from typing import Any

import httpx

from mailctl.sandbox.app import create_app

KEY = "am_unit_mail_rules_key_0123456789"


class Rig:
    def __init__(self, page_size: int = 50) -> None:
        self.app = create_app(api_keys=(KEY,), page_size=page_size)
        self.http = httpx.Client(transport=httpx.WSGITransport(app=self.app), base_url="http://sandbox")

    def call(self, method: str, path: str, json: Any = None, key: str = KEY, **params: Any) -> httpx.Response:
        return self.http.request(
            method, path, json=json, params=params or None, headers={"Authorization": f"Bearer {key}"}
        )

    def ok(self, method: str, path: str, json: Any = None, key: str = KEY, **params: Any) -> Any:
        response = self.call(method, path, json, key, **params)
        assert response.status_code in (200, 204), response.text
        return response.json() if response.status_code == 200 else None

    def error(self, response: httpx.Response, status: int, code: str) -> dict[str, Any]:
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        assert body["code"] == code, body
        return body

    def pod(self, name: str = "p") -> str:
        return str(self.ok("POST", "/v0/pods", {"name": name})["pod_id"])

    def inbox(self, username: str, pod: str | None = None) -> str:
        path = f"/v0/pods/{pod}/inboxes" if pod else "/v0/inboxes"
        return str(self.ok("POST", path, {"username": username})["inbox_id"])

    def key(self, scope_path: str = "", permissions: dict[str, bool] | None = None) -> str:
        body: dict[str, Any] = {"name": "k"}
        if permissions is not None:
            body["permissions"] = permissions
        return str(self.ok("POST", f"/v0{scope_path}/api-keys", body)["api_key"])

    def send(self, inbox: str, key: str = KEY, **fields: Any) -> httpx.Response:
        return self.call(
            "POST", f"/v0/inboxes/{inbox}/messages/send", {"subject": "hi", "text": "hello", **fields}, key
        )
