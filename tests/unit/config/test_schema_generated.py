"""The config schema is generated from the kind descriptions (issue 18 point 3).

The repository's copy is exactly the output (regenerate: `mailctl schema > schemas/mailctl.schema.json`);
an attribute added to a KindSpec is in the schema and accepted by validate with no other edit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from extra_attributes import inbox_with

from mailctl import kinds
from mailctl.config import load_texts, schema, schema_gen
from mailctl.errors import ConfigError
from mailctl.kinds import Attribute
from mailctl.kinds.api_key import PERMISSIONS
from mailctl.kinds.webhook import EVENT_TYPES
from mailctl.resources import Kind
from mailctl.sandbox.backend.api_keys import PERMISSION_FLAGS
from mailctl.sandbox.backend.webhook_rules import EVENT_TYPES as SANDBOX_EVENT_TYPES

REPO = Path(__file__).resolve().parents[3]


def test_the_repository_schema_is_exactly_the_generated_one() -> None:
    generated = schema_gen.text()
    assert (REPO / "schemas" / "mailctl.schema.json").read_text(encoding="utf-8") == generated, (
        "schemas/mailctl.schema.json is stale: run `mailctl schema > schemas/mailctl.schema.json`"
    )
    assert (REPO / "src" / "mailctl" / "config" / "mailctl.schema.json").read_text(encoding="utf-8") == generated


def test_validate_checks_with_the_generated_schema() -> None:
    assert schema.schema() == schema_gen.generate()


def test_every_kind_section_appears_in_every_scope_it_may_be_declared_in() -> None:
    defs = schema_gen.generate()["$defs"]
    scope_bodies = {None: defs["configFile"], Kind.POD: defs["pod"], Kind.INBOX: defs["inbox"]}
    for spec in kinds.CONFIG_ORDER:
        for scope, body in scope_bodies.items():
            assert (spec.section in body["properties"]) == (scope in spec.parents), (spec.kind, scope)


def test_an_attribute_scoped_to_the_organisation_is_unknown_in_a_pod() -> None:
    defs = schema_gen.generate()["$defs"]
    assert "pods" in defs["orgWebhook"]["properties"]
    assert "pods" not in defs["podWebhook"]["properties"]
    assert "inboxes" not in defs["inboxWebhook"]["properties"]


@pytest.fixture
def inbox_with_signature() -> Iterator[None]:
    signature = Attribute(
        "signature", schema={"type": "string", "maxLength": 20}, description="Appended to every message."
    )
    with inbox_with(signature):
        yield


INBOX_WITH_SIGNATURE = 'version: 1\npods:\n  t:\n    inboxes:\n      a@agentmail.to: {signature: "%s"}\n'


@pytest.mark.usefixtures("inbox_with_signature")
def test_an_attribute_added_to_a_kind_is_in_the_schema_and_accepted_by_validate() -> None:
    inbox = schema_gen.generate()["$defs"]["inbox"]["properties"]["signature"]
    assert inbox == {"type": "string", "maxLength": 20, "description": "Appended to every message."}
    state = load_texts({"a.yaml": INBOX_WITH_SIGNATURE % "Best, Acme"}).state
    assert state.resources["pod/t/inbox/a@agentmail.to"].attrs["signature"] == "Best, Acme"
    with pytest.raises(ConfigError) as caught:
        load_texts({"a.yaml": INBOX_WITH_SIGNATURE % ("x" * 21)})
    assert [str(p) for p in caught.value.problems] == [
        "a.yaml:5:35: pods.t.inboxes.a@agentmail.to.signature: must be at most 20 characters long"
    ]


def test_without_the_added_attribute_it_is_an_unknown_field() -> None:
    with pytest.raises(ConfigError) as caught:
        load_texts({"a.yaml": INBOX_WITH_SIGNATURE % "Best"})
    assert "unknown field `signature`" in str(caught.value.problems[0])


def test_the_schema_is_valid_json_schema_2020_12() -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(json.loads(schema_gen.text()))


def test_the_config_vocabulary_matches_the_sandbox() -> None:
    assert set(PERMISSIONS) == PERMISSION_FLAGS
    assert set(EVENT_TYPES) == SANDBOX_EVENT_TYPES
