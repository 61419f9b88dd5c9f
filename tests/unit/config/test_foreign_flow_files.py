"""A config file written as a flow mapping (JSON, or ``--- {...}``) is recognised by its keys as
a block one is; other tools' JSON-style files are still skipped, each with its reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailctl.config.files import foreign_reason


@pytest.mark.parametrize(
    "text",
    [
        '{"version": 1, "pods": {"t-a": {"name": "A"}}}\n',
        '# generated\n{\n  "version": 1,\n  "pods": {}\n}\n',
        "%YAML 1.1\n--- {version: 1, domains: {}}\n",
        "---\n{kind: template, name: t, pod: {client_id: x}}\n",
    ],
)
def test_a_flow_mapping_of_mailctl_keys_is_a_mailctl_file(tmp_path: Path, text: str):
    (tmp_path / "c.yaml").write_text(text)
    assert foreign_reason(str(tmp_path / "c.yaml")) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"compilerOptions": {"strict": true}}\n', "top-level key `compilerOptions` is not mailctl's"),
        ('{"kind": "Deployment", "name": "web"}\n', "`kind: Deployment` is not a mailctl kind"),
        ('{"version": 1, "pods": {\n', "no mailctl top-level key"),  # not even YAML
        ('{"name": "x"}\n', "no mailctl top-level key"),  # names nothing of mailctl's
    ],
)
def test_another_tools_flow_mapping_is_skipped_with_its_reason(tmp_path: Path, text: str, reason: str):
    (tmp_path / "c.yaml").write_text(text)
    assert reason in (foreign_reason(str(tmp_path / "c.yaml")) or "")
