"""What config/schema_gen.py promises, pinned where a mutation sweep found no test depending on
it: every pattern in the generated schema ends at the end of the text, a final line break
included, wherever an attribute's schema puts it (here: inside a list of alternatives)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from extra_attributes import inbox_with

from mailctl.config import load_texts, schema_gen
from mailctl.errors import ConfigError
from mailctl.kinds import Attribute

CODE = Attribute("code", schema={"anyOf": [{"type": "string", "pattern": "^[a-z]+$"}, {"type": "integer"}]})


@pytest.fixture
def inbox_with_code() -> Iterator[None]:
    """The inbox kind with one more attribute, whose pattern sits in a list (`anyOf`)."""
    with inbox_with(CODE):
        yield


INBOX = "version: 1\npods:\n  t:\n    inboxes:\n      a@agentmail.to: {code: %s}\n"


@pytest.mark.usefixtures("inbox_with_code")
def test_a_pattern_inside_a_list_of_alternatives_ends_at_the_end_of_the_text() -> None:
    code = schema_gen.generate()["$defs"]["inbox"]["properties"]["code"]
    assert code["anyOf"][0]["pattern"] == "^[a-z]+$(?!\\n)"
    assert load_texts({"a.yaml": INBOX % "abc"}).state.resources["pod/t/inbox/a@agentmail.to"].attrs["code"] == "abc"
    with pytest.raises(ConfigError) as caught:
        load_texts({"a.yaml": INBOX % '"abc\\n"'})
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.path) == ("a.yaml", 5, "pods.t.inboxes.a@agentmail.to.code")
