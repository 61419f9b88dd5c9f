"""The AgentMail sandbox: a local emulator of the AgentMail REST API (SQLite-backed WSGI app).

    from mailctl.sandbox import create_app
    app = create_app(api_keys=("am_test",), page_size=5)

Layers: ``app`` (WSGI, knobs) -> ``routes`` (the one route table) -> ``backend`` (rules)
-> ``store`` (SQLite). ``server`` runs it over HTTP (a thread per connection, h11).
"""

from mailctl.sandbox.app import DEV_API_KEY, SandboxApp, create_app

__all__ = ["DEV_API_KEY", "SandboxApp", "create_app"]
