"""`--format markdown` (the pull-request comment) showed names unlike the text plan: a refusal's
own code span got Markdown escapes a code span prints literally (`pod/t-x/api\\_key/\\*`), a
name's backticks opened code spans in which its HTML escapes printed as `&lt;b&gt;`, and a line
break inside a code span was written `<br>`, which a code span prints as four characters (so
metadata keys "k\\nz" and "k<br>z" printed alike)."""

from __future__ import annotations

PROTECTED = {
    "version": 1,
    "manage": {"pods": {"client_id_prefix": "t-"}, "protect": ["pod/t-x/api_key/*"]},
}


def _protect_refusal(mailctl, write_config, key: str) -> str:
    """The Markdown line of the `protect` refusal once the protected key ``key`` is undeclared."""
    mailctl.apply(write_config({**PROTECTED, "pods": {"t-x": {"name": "X", "api_keys": {key: {}}}}}))
    run = mailctl("plan", "-f", write_config({**PROTECTED, "pods": {"t-x": {"name": "X"}}}), "--format", "markdown")
    assert run.exit_code == 0, run.output
    return next(line for line in run.stdout.splitlines() if line.startswith("> - **protect**"))


def test_the_protect_rule_shows_in_a_code_span_without_escapes(mailctl, sandbox, write_config):
    line = _protect_refusal(mailctl, write_config, "plain-key")
    assert "`pod/t-x/api_key/*`" in line, line
    assert "pod/t-x/api\\_key/plain-key is protected" in line, line  # outside the span: escaped text


def test_a_backtick_in_a_name_is_escaped_text_not_a_code_span(mailctl, sandbox, write_config):
    line = _protect_refusal(mailctl, write_config, "a`<b>`z")
    assert "pod/t-x/api\\_key/a\\`&lt;b&gt;\\`z is protected" in line, line
    assert "`pod/t-x/api_key/*`" in line, line


def test_a_line_break_in_a_metadata_key_shows_as_the_text_plan_shows_it(mailctl, sandbox, write_config):
    inbox = {"version": 1, "pods": {"t-n": {"name": "N", "inboxes": {"n@agentmail.to": {"metadata": {"k": "v"}}}}}}
    mailctl.apply(write_config(inbox))
    inbox["pods"]["t-n"]["inboxes"]["n@agentmail.to"]["metadata"].update({"k\nz": "v", "k<br>z": "w"})
    config = write_config(inbox)
    text = mailctl("plan", "-f", config).stdout
    assert "metadata.k\\nz" in text and "metadata.k<br>z" in text, text
    markdown = mailctl("plan", "-f", config, "--format", "markdown").stdout
    row = next(line for line in markdown.splitlines() if "inbox/n@agentmail.to" in line)
    assert "`metadata.k\\nz`" in row and "`metadata.k<br>z`" in row, row
