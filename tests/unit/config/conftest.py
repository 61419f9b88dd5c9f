"""Fixture: write config files into a temporary directory and load them."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_dir import ConfigDir


@pytest.fixture
def cfg(tmp_path: Path) -> ConfigDir:
    return ConfigDir(tmp_path)
