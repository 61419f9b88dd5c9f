"""The fast load (a compiled yes/no schema check, jsonschema only for documents it refuses) reports
exactly what the slow one (jsonschema on every document) reports: every rendered tenant is still
checked, so a value its parameter accepts but the field it lands in refuses (an enum, a pattern, a
length, a key name reached only through ``${...}``) is found, at the tenant's row."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mailctl.config import schema
from mailctl.config.pipeline import load_texts
from mailctl.errors import ConfigError

TEMPLATE = """\
version: 1
kind: template
name: t
parameters:
  client: {type: string, required: true}
  title: {type: string, default: T}
  status: {type: string}
  key: {type: string, default: backend}
  local: {type: string, default: support}
  seats: {type: integer, default: 1}
pod:
  client_id: "${client}"
  name: "${title}"
  inboxes:
    "${local}@agentmail.to":
      status: "${status}"
      display_name: "${title}"
      metadata: {seats: "${seats}"}
  api_keys:
    "${key}": {}
"""

# Each value is accepted by its parameter's type; many are refused by the field they land in.
CLIENT = st.sampled_from(["acme", "a.b_c~d", "mailctl.lock-x", "has space", "x" * 257, "ok-1"])
TITLE = st.none() | st.sampled_from(["Acme", "", "t" * 250, "t" * 256, "t" * 257])
STATUS = st.none() | st.sampled_from(["active", "paused", "Active", "bogus"])
KEY = st.sampled_from(["backend", "with/slash", "has#hash", " lead", "k" * 128, "k" * 129])
LOCAL = st.sampled_from(["support", "sales", "bad local", "a..b", "x" * 65, "Support"])
SEATS = st.integers(-3, 3)
TENANT = st.fixed_dictionaries(
    {"client": CLIENT},
    optional={"title": TITLE, "status": STATUS, "key": KEY, "local": LOCAL, "seats": SEATS},
)
TENANTS = st.dictionaries(st.sampled_from(["t1", "t2", "t3", "t4"]), TENANT, min_size=1, max_size=4)


def _load(tenants: dict[str, Any]) -> tuple[str, Any]:
    text = yaml.safe_dump({"version": 1, "template": "t", "tenants": tenants}, sort_keys=False)
    try:
        state = load_texts({"template.yaml": TEMPLATE, "tenants.yaml": text}).state
    except ConfigError as caught:
        return "problems", str(caught)
    return "state", {a: (r.attrs, r.source, r.parent) for a, r in state.resources.items()}


def _both(tenants: dict[str, Any]) -> tuple[tuple[str, Any], tuple[str, Any]]:
    """The load with the compiled check, and with jsonschema alone (as before it)."""
    fast = _load(tenants)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schema, "_fast_check", lambda: None)
        slow = _load(tenants)
    return fast, slow


@settings(max_examples=150, deadline=None)
@given(TENANTS)
def test_the_fast_load_reports_exactly_what_the_slow_load_reports(tenants: dict[str, Any]) -> None:
    fast, slow = _both(tenants)
    assert fast == slow


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (
            {"status": "bogus"},
            "tenants.yaml:8:13: pods.bad.inboxes.support@agentmail.to.status: `bogus` is not one of: active, paused"
            " (via template `t` at template.yaml:16)",
        ),
        (
            {"title": "t" * 257},
            "tenants.yaml:8:12: pods.bad.name: must be at most 256 characters long"
            " (via template `t` at template.yaml:13)",
        ),
        (
            {"key": "with/slash"},
            "tenants.yaml:8:10: pods.bad.api_keys.with/slash: `with/slash` is not a valid API key name: 1-128"
            " characters, no '/', '#' or control characters, no leading or trailing space"
            " (rendering tenant `bad` at tenants.yaml:6)",
        ),
        (
            {"client": "mailctl.lock-x"},
            "tenants.yaml:6:3: pods.mailctl.lock-x: `mailctl.lock-x` is reserved: a client_id starting with"
            " `mailctl.lock` is mailctl's apply lock (rendering tenant `bad` at tenants.yaml:6)",
        ),
    ],
)
def test_a_value_only_the_rendered_field_refuses_is_found_at_the_tenant_row(
    values: dict[str, Any], problem: str
) -> None:
    """Alone in an otherwise valid fleet, so the compiled check alone decides the document."""
    fast, slow = _both({"good": {"client": "good"}, "bad": {"client": "bad", **values}})
    assert fast == slow
    assert fast[0] == "problems"
    assert problem in fast[1].splitlines()
