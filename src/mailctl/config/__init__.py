"""mailctl's config: YAML files (and templates stamped out per tenant) -> a validated DesiredState.

from mailctl.config import load
desired = load(["mailctl.yaml"])       # raises mailctl.errors.ConfigError with every problem
"""

from __future__ import annotations

from mailctl.config.pipeline import LoadedConfig, load_config, load_texts
from mailctl.resources import DesiredState


def load(paths: list[str]) -> DesiredState:
    """Load config files (a directory means every *.yaml/*.yml below it; none means ./mailctl.yaml)."""
    return load_config(paths).state


__all__ = ["LoadedConfig", "load", "load_config", "load_texts"]
