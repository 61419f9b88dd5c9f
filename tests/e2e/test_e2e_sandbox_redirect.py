"""An endpoint that answers with a redirect: mailctl does not follow it (the key would travel to
wherever it points), and its one-line error names the target so the user can judge it (issue 17)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from e2e_harness import load_fixture

from mailctl.cli.main import cli

KEY = "am_redirect_test_key_0123456789abcdef"
TARGET = "https://elsewhere.example/v0/pods"


class _Redirect(BaseHTTPRequestHandler):
    target = TARGET

    def _answer(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


# httpx refuses to make a URL of the second (a control character): no answer to read, still a redirect.
@pytest.fixture(params=[TARGET, "http://elsewhere.example/\x01"], ids=["valid", "invalid"])
def redirecting(request: pytest.FixtureRequest) -> Iterator[str]:
    handler = type("Redirect", (_Redirect,), {"target": request.param})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_redirect_is_not_followed_and_the_error_names_its_target(redirecting: str, tmp_path: Path) -> None:
    config = tmp_path / "mailctl.yaml"
    config.write_text(yaml.safe_dump(load_fixture("tenants.yaml"), sort_keys=False))
    result = CliRunner().invoke(
        cli, ["plan", "-f", str(config), "--endpoint", redirecting], env={"AGENTMAIL_API_KEY": KEY}
    )
    assert result.exit_code == 1
    assert "answered with a redirect to" in result.stderr and "does not follow redirects" in result.stderr
    assert "cannot reach" not in result.stderr and "\x01" not in result.stderr
    assert "Traceback" not in result.stdout + result.stderr and KEY not in result.stdout + result.stderr
