"""Each control character a model could use to act on the terminal comes out as a visible stand-in.

Kept apart from the other sanitize tests so that it pins today's stand-ins character by
character: dropping one class from the pattern must fail here.
"""

from __future__ import annotations

import pytest

from tui.core.sanitize import inert


def test_escape_is_shown_as_a_control_picture() -> None:
    shown = inert("\x1b]52;c;ZWNobyBoaQ==\x07 and \x1b[2J")
    assert "\x1b" not in shown and "\x07" not in shown
    assert shown == "\u241b]52;c;ZWNobyBoaQ==\u2407 and \u241b[2J"


@pytest.mark.parametrize("code", [0x2066, 0x2067, 0x2068, 0x2069])
def test_each_bidi_isolate_is_shown_by_its_code_point(code: int) -> None:
    """LRI, RLI, FSI, PDI can reorder what a user reads (Trojan Source): never passed through."""
    char = chr(code)
    shown = inert(f"rm -rf {char}/home{char} ok")
    assert char not in shown
    # Visible, and naming the character (the exact bracket style may change).
    assert shown.count(f"{code:04X}") == 2 and shown.startswith("rm -rf ") and shown.endswith(" ok")
    assert "/home" in shown


def test_tab_newline_and_plain_text_pass_unchanged() -> None:
    text = "a\tb\nc — ünïcode ∑ 数学"
    assert inert(text) is text
