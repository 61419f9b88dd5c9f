"""mailctl: declarative provisioning for AgentMail.

``from mailctl import Project`` is the Python API (``mailctl.project``); it is imported on first
use, so the CLI's start-up does not pay for it.
"""

from __future__ import annotations

# Not typing's TYPE_CHECKING: importing typing takes 10 ms, and the console script imports this
# package before mailctl.cli.main can handle Ctrl-C (a traceback in that time). mypy knows the name.
TYPE_CHECKING = False

__version__ = "0.1.0"

if TYPE_CHECKING:
    from typing import Any

    from mailctl.project import ApplyReport, Plan, Project, SecretRecord

__all__ = ["ApplyReport", "Plan", "Project", "SecretRecord", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("ApplyReport", "Plan", "Project", "SecretRecord"):
        from mailctl import project

        return getattr(project, name)
    raise AttributeError(f"module 'mailctl' has no attribute {name!r}")
