"""The AgentMail sandbox: a local emulator of the AgentMail REST API (SQLite-backed WSGI app).

    from mailctl.sandbox import create_app
    app = create_app(api_keys=("am_test",), page_size=5)

Layers: ``app`` (WSGI, knobs) -> ``routes`` (the one route table) -> ``backend`` (rules)
-> ``store`` (SQLite). ``server`` runs it over HTTP (a thread per connection, h11).

The names below are imported on first use, not with the package: ``mailctl --help`` reads
:mod:`mailctl.sandbox.server_defaults` without loading the app, its store and routes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mailctl.sandbox.app import DEV_API_KEY, SandboxApp, create_app

__all__ = ["DEV_API_KEY", "SandboxApp", "create_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from mailctl.sandbox import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
