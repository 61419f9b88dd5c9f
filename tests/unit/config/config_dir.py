"""ConfigDir: write config files into a directory and load them (imported by the config tests;
a uniquely named module, so it never collides with another suite's conftest)."""

from __future__ import annotations

import textwrap
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
