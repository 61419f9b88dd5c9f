"""mailctl: declarative provisioning for AgentMail.

``from mailctl import Project`` is the Python API (``mailctl.project``); it is imported on first
use, so the CLI's start-up does not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from mailctl.project import ApplyReport, Plan, Project, SecretRecord

__all__ = ["ApplyReport", "Plan", "Project", "SecretRecord", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("ApplyReport", "Plan", "Project", "SecretRecord"):
        from mailctl import project

        return getattr(project, name)
    raise AttributeError(f"module 'mailctl' has no attribute {name!r}")
