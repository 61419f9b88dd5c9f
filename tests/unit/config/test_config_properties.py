"""Properties of the loader: generated valid configs load into exactly the resources they declare;
any text at all either loads or fails with ConfigError, with every problem inside the file."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mailctl.config import load
from mailctl.config.dump import dump_yaml
from mailctl.errors import ConfigError

NAME = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,15}", fullmatch=True)
CLIENT_ID = st.from_regex(r"[A-Za-z0-9._~-]{1,20}", fullmatch=True)
LOCAL = st.from_regex(r"[A-Za-z0-9_+-]{1,10}(\.[A-Za-z0-9_+-]{1,5})?", fullmatch=True)
LABEL = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)
# Line/paragraph separators and control characters are left out: PyYAML's *emitter* mangles some
# of them (e.g. U+0085), which is not what this test is about.
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=40)
FLAGS = st.sampled_from(["inbox_read", "message_send", "message_read", "domain_read", "pod_read"])
PERMISSIONS = st.none() | st.dictionaries(FLAGS, st.booleans(), max_size=4)
METADATA = st.dictionaries(TEXT.filter(bool), TEXT | st.integers(-(10**6), 10**6) | st.booleans(), max_size=4)
INBOX = st.fixed_dictionaries(
    {},
    optional={
        "display_name": TEXT,
        "status": st.sampled_from(["active", "paused"]),
        "metadata": METADATA,
        "prevent_destroy": st.booleans(),
        "api_keys": st.dictionaries(NAME, st.fixed_dictionaries({"permissions": PERMISSIONS}), max_size=2),
    },
)
POD = st.fixed_dictionaries(
    {"domain": LABEL, "locals": st.lists(LOCAL, max_size=4), "inbox": INBOX},
    optional={"name": TEXT.filter(bool), "keys": st.lists(NAME, max_size=3)},
)


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A config as YAML data, and the resources (address -> attrs) it must load into."""
    pods = draw(st.dictionaries(CLIENT_ID, POD, max_size=4))
    data: dict[str, Any] = {"version": 1, "pods": {}}
    expected: dict[str, dict[str, Any]] = {}
    seen_inboxes: set[str] = set()
    for n, (client_id, pod) in enumerate(pods.items()):
        domain = f"{pod['domain']}{n}.example.com"
        body: dict[str, Any] = {"domains": {domain.upper(): {"feedback_enabled": True}}, "inboxes": {}}
        expected[f"pod/{client_id}"] = {"name": pod["name"]} if "name" in pod else {}
        if "name" in pod:
            body["name"] = pod["name"]
        expected[f"pod/{client_id}/domain/{domain}"] = {"feedback_enabled": True}
        for i, local in enumerate(pod["locals"]):
            email = f"{local}@{domain if i % 2 else 'agentmail.to'}"
            if email.lower() in seen_inboxes:
                continue
            seen_inboxes.add(email.lower())
            inbox = copy.deepcopy(pod["inbox"])  # one object per inbox: no YAML aliases
            body["inboxes"][email] = inbox
            address = f"pod/{client_id}/inbox/{email.lower()}"
            expected[address] = {k: inbox[k] for k in ("display_name", "status", "metadata") if k in inbox}
            for key, spec in inbox.get("api_keys", {}).items():
                granted = {f: True for f, on in sorted((spec["permissions"] or {}).items()) if on}
                expected[f"{address}/api_key/{key}"] = {"permissions": None if spec["permissions"] is None else granted}
        if pod.get("keys"):
            body["api_keys"] = {key: None for key in pod["keys"]}
            expected.update({f"pod/{client_id}/api_key/{key}": {"permissions": None} for key in pod["keys"]})
        data["pods"][client_id] = body
    return data, expected


def load_text(text: str) -> Any:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "mailctl.yaml"
        path.write_text(text, encoding="utf-8")
        return load([str(path)])


@settings(max_examples=60, deadline=None)
@given(configs())
def test_generated_configs_load_into_exactly_their_resources(case: tuple[dict[str, Any], dict[str, Any]]) -> None:
    data, expected = case
    # written as mailctl writes config: text YAML 1.2 reads as a number (0E0) quoted
    state = load_text(dump_yaml(data))
    assert {address: r.attrs for address, r in state.resources.items()} == expected
    for resource in state.resources.values():
        assert resource.source is not None and resource.source.line >= 1


YAMLISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=10)
    | st.sampled_from(["version", "pods", "inboxes", "yes", "~", "*a", "&a x", "1", "@", "a@b.co"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(max_size=8)
            | st.sampled_from(["version", "pods", "domains", "inboxes", "api_keys", "webhooks", "lists", "name"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=25,
)


def assert_fails_cleanly_or_loads(text: str) -> None:
    lines = text.count("\n") + 2
    try:
        load_text(text)
    except ConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.file.endswith("mailctl.yaml")
            assert 1 <= problem.line <= lines and problem.column >= 1


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_loads_or_raises_config_error(text: str) -> None:
    assert_fails_cleanly_or_loads(text)


@settings(max_examples=150, deadline=None)
@given(YAMLISH, st.sampled_from(["block", "flow"]))
def test_arbitrary_yaml_structures_load_or_raise_config_error(data: Any, style: str) -> None:
    text = yaml.safe_dump(data, default_flow_style=(style == "flow"), allow_unicode=True)
    assert_fails_cleanly_or_loads(text)
    assert_fails_cleanly_or_loads(text.replace("'", "").replace('"', ""))  # unquoted: YAML's guesses
