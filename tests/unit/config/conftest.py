"""Fixture: write config files into a temporary directory and load them."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from mailctl.config import load
from mailctl.errors import ConfigError
from mailctl.resources import DesiredState


class ConfigDir:
    def __init__(self, root: Path):
        self.root = root

    def write(self, name: str, text: str) -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return str(path)

    def load(self, *names: str) -> DesiredState:
        return load([str(self.root / n) for n in names])

    def problems(self, *names: str) -> list[str]:
        """The problems of an invalid config, as printed, with the directory left out."""
        with pytest.raises(ConfigError) as caught:
            self.load(*names)
        return [str(p).replace(f"{self.root}/", "") for p in caught.value.problems]


@pytest.fixture
def cfg(tmp_path: Path) -> ConfigDir:
    return ConfigDir(tmp_path)


WriteAndLoad = Callable[[str], DesiredState]
