"""``Project(config=DICT)``: a config given as Python data is validated like a file. Plain data is
taken as its plain value whatever it looks like in YAML; anything else is a ``ConfigError`` naming
the field and the Python type, never a traceback; huge or deep input is refused fast."""

from __future__ import annotations

import collections
import decimal
import enum
import math
import time
import types
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from mailctl import Project
from mailctl.errors import ConfigError

INBOX = "pod/t-a/inbox/a@agentmail.to"


class Tier(enum.StrEnum):
    GOLD = "gold"


class Count(enum.IntEnum):
    THREE = 3


def _config(inbox: Any = None, name: Any = "Acme") -> dict[str, Any]:
    inbox = {"display_name": "Support"} if inbox is None else inbox
    return {"version": 1, "pods": {"t-a": {"name": name, "inboxes": {"a@agentmail.to": inbox}}}}


def _load(config: Any, tmp_path: Path) -> Any:
    return Project(config=config, sandbox=tmp_path / "sb.db").load()


def _problems(config: Any, tmp_path: Path) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        _load(config, tmp_path)
    assert all(p.file == "<config>" and p.line >= 1 for p in caught.value.problems)
    return [(p.path, p.message) for p in caught.value.problems]


@pytest.mark.parametrize("text", ["1e3", "0o17", "0x1f", "1:30", "017", "yes", "no", "null", "~", "true", "1_000"])
def test_a_string_is_text_whatever_it_looks_like_in_yaml(tmp_path, text):
    state = _load(_config({"display_name": text, "metadata": {"k": text}}), tmp_path)
    assert state.resources[INBOX].attrs["display_name"] == text
    assert state.resources[INBOX].attrs["metadata"] == {"k": text}


def test_one_object_used_in_two_places_is_taken_twice(tmp_path):
    shared = {"display_name": "Support", "metadata": {"tier": "gold"}}
    config = {
        "version": 1,
        "pods": {
            "t-a": {"name": "A", "inboxes": {"a@agentmail.to": shared}},
            "t-b": {"name": "B", "inboxes": {"b@agentmail.to": shared}},
        },
    }
    state = _load(config, tmp_path)
    assert state.resources["pod/t-b/inbox/b@agentmail.to"].attrs["metadata"] == {"tier": "gold"}


def test_mappings_and_subclasses_of_plain_types_are_taken_as_their_plain_values(tmp_path):
    metadata = collections.defaultdict(str, {"tier": Tier.GOLD, "n": Count.THREE, "f": 2.5, "big": 1e30})
    inbox = types.MappingProxyType({"display_name": Tier.GOLD, "metadata": metadata})
    config = collections.OrderedDict(version=1, pods={"t-a": {"name": "Acme", "inboxes": {"a@agentmail.to": inbox}}})
    attrs = _load(config, tmp_path).resources[INBOX].attrs
    assert attrs["display_name"] == "gold" and type(attrs["display_name"]) is str
    assert attrs["metadata"] == {"tier": "gold", "n": 3, "f": 2.5, "big": 1e30}
    assert type(attrs["metadata"]["n"]) is int


def test_characters_yaml_would_fold_or_refuse_arrive_exactly(tmp_path):
    text = 'a\u2028b\u2029c\x85d\te "q" \\ \ufeff \x7f é 😀'
    assert _load(_config({"display_name": text}), tmp_path).resources[INBOX].attrs["display_name"] == text


@pytest.mark.parametrize(
    ("value", "python_type"),
    [
        (decimal.Decimal("1.5"), "decimal.Decimal"),
        (uuid.UUID(int=1), "uuid.UUID"),
        (Path("/tmp"), "PosixPath"),
        ({"gold"}, "set"),
        (b"gold", "bytes"),
        (object(), "object"),
        (1 + 2j, "complex"),
    ],
)
def test_a_value_that_is_not_plain_data_is_a_config_error_naming_the_field_and_type(tmp_path, value, python_type):
    [(path, message)] = _problems(_config({"display_name": "S", "metadata": {"k": value}}), tmp_path)
    assert path == "pods.t-a.inboxes.a@agentmail.to.metadata.k"
    assert python_type in message and "YAML" not in message and "tag" not in message


def test_a_key_that_is_not_text_is_a_config_error_naming_its_type(tmp_path):
    [(path, message)] = _problems(_config({"display_name": "S", "metadata": {1: "x"}}), tmp_path)
    assert path == "pods.t-a.inboxes.a@agentmail.to.metadata" and "int" in message and "quote" not in message


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_a_number_that_is_not_finite_is_a_config_error(tmp_path, number):
    [(path, message)] = _problems(_config({"display_name": "S", "metadata": {"k": number}}), tmp_path)
    assert path.endswith("metadata.k") and "finite" in message


@pytest.mark.parametrize(("config", "got"), [([1, 2], "list"), ("version: 1", "str"), (5, "int")])
def test_a_config_that_is_not_a_mapping_is_a_config_error(tmp_path, config, got):
    [(path, message)] = _problems(config, tmp_path)
    assert path == "" and "the top level must be a mapping" in message and got in message


def test_nesting_deeper_than_a_file_may_is_refused_without_recursing(tmp_path):
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(5000):
        inner["x"] = {}
        inner = inner["x"]
    started = time.monotonic()
    [(path, message)] = _problems(_config({"display_name": "S", "metadata": deep}), tmp_path)
    assert "nested more than 40 levels deep" in message and path.startswith("pods.t-a.inboxes")
    assert time.monotonic() - started < 2


def test_a_config_that_contains_itself_is_refused(tmp_path):
    config = _config()
    config["pods"]["t-a"]["inboxes"]["a@agentmail.to"]["metadata"] = config
    assert "nested more than 40 levels deep" in _problems(config, tmp_path)[0][1]


def test_data_larger_than_a_config_file_may_be_is_refused_fast(tmp_path):
    started = time.monotonic()
    [(_, message)] = _problems(_config(name="x" * 10_000_000), tmp_path)
    assert "larger than 5000000 bytes" in message
    bomb: list[Any] = ["x" * 100]
    for _ in range(30):
        bomb = [bomb] * 10  # 10**30 leaves, one object each level
    [(_, message)] = _problems(_config({"display_name": "S", "metadata": {"k": bomb}}), tmp_path)
    assert "larger than 5000000 bytes" in message
    assert time.monotonic() - started < 3


def test_a_large_fleet_as_a_dict_loads_about_as_fast_as_the_same_file(tmp_path):
    fleet = {
        "version": 1,
        "pods": {
            f"tenant-{i}": {
                "name": f"Tenant {i}",
                "inboxes": {f"t{i}@agentmail.to": {"display_name": "Support"}},
                "api_keys": {"backend": {}},
            }
            for i in range(3000)
        },
    }
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(fleet))
    started = time.monotonic()
    from_file = Project(files=[path], sandbox=tmp_path / "sb.db").load()
    file_seconds = time.monotonic() - started
    started = time.monotonic()
    from_dict = _load(fleet, tmp_path)
    dict_seconds = time.monotonic() - started
    assert from_dict.resources.keys() == from_file.resources.keys()
    assert dict_seconds < 1.5 * file_seconds + 0.3


def test_a_lone_surrogate_is_a_config_error_naming_the_field(tmp_path):
    problems = _problems(_config({"display_name": "a\ud800", "metadata": {"k\udfff": "v"}}), tmp_path)
    assert [path for path, _ in problems] == [
        "pods.t-a.inboxes.a@agentmail.to.display_name",
        "pods.t-a.inboxes.a@agentmail.to.metadata.k\udfff",
    ]
    assert all("surrogate" in message for _, message in problems)
