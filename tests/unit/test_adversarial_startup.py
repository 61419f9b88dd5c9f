"""An adversarial run against start-up: Ctrl-C in the first tens of milliseconds. Until
``mailctl.cli.main`` has loaded (it sets the excepthook and then takes over the signals), a
Ctrl-C is a ``KeyboardInterrupt`` traceback; so everything the console script imports before it
(the ``mailctl`` package, ``mailctl.cli``) must be as light as that module. Seen on 2 busy cores:
a Ctrl-C 30 ms after spawn printed a traceback from inside ``import typing`` (10 ms of the
``mailctl`` package's import)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("typing", "enum", "re", "collections", "functools")


def test_the_console_entry_imports_nothing_heavy_before_it_handles_signals() -> None:
    probe = (
        "import sys; before = set(sys.modules); import mailctl.cli.main; "
        f"print(sorted(m for m in {HEAVY!r} if m in set(sys.modules) - before))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]", done.stdout
