"""`text.hides`: what a name must not hold (a control, bidi or invisible character), as opposed
to what `shown` merely escapes (a lookalike space) or keeps (ordinary non-ASCII)."""

from __future__ import annotations

import pytest

from mailctl.text import hides


@pytest.mark.parametrize("text", ["a\x1bb", "Evil\u202eCorp", "zero\u200bwidth", "soft\xadhyphen", "bell\x07", "\n"])
def test_hides_finds_controls_bidi_and_invisible_characters(text: str) -> None:
    """Deleting `return _HIDDEN.search(text) is not None` made `hides` answer None: every api_key
    name and --changed-since REF with a hidden character was accepted."""
    assert hides(text) is True


@pytest.mark.parametrize("text", ["Acme Corp", "Acme\xa0Corp", "Zoë 漢字", "a\u200db", ""])
def test_hides_lets_visible_text_and_lookalike_spaces_through(text: str) -> None:
    """A lookalike space is escaped when shown but prints as something: not hidden."""
    assert hides(text) is False
