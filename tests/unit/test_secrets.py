"""The secret sink: 0600, atomic appends, refuses garbage before anything is created."""

from __future__ import annotations

import json
import stat
import threading

import pytest

from mailctl.errors import UsageError
from mailctl.secrets import SecretSink


def test_secrets_are_appended_as_a_json_array_with_mode_0600(tmp_path):
    sink = SecretSink(tmp_path / "s.json")
    sink.check_writable()
    sink.store("api_key/a", {"api_key_id": "1", "prefix": "am_x", "api_key": "am_secret_1"})
    sink.store("api_key/b", {"api_key_id": "2", "prefix": "am_y", "api_key": "am_secret_2"})
    path = tmp_path / "s.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    records = json.loads(path.read_text())
    assert [r["secret"] for r in records] == ["am_secret_1", "am_secret_2"]
    assert sink.written == ["api_key/a", "api_key/b"]


def test_concurrent_stores_lose_nothing(tmp_path):
    sink = SecretSink(tmp_path / "s.json")
    threads = [threading.Thread(target=sink.store, args=(f"k{i}", {"api_key": f"s{i}"})) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(json.loads((tmp_path / "s.json").read_text())) == 20


def test_an_existing_file_that_is_not_ours_is_refused_up_front(tmp_path):
    (tmp_path / "s.json").write_text("not json")
    with pytest.raises(UsageError, match="not a mailctl secrets file"):
        SecretSink(tmp_path / "s.json").check_writable()


def test_a_missing_directory_is_refused_up_front(tmp_path):
    with pytest.raises(UsageError, match="not writable"):
        SecretSink(tmp_path / "nope" / "s.json").check_writable()
