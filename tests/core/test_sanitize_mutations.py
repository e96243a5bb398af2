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


def test_each_class_gets_its_own_stand_in() -> None:
    # C0 up to 0x1F as control pictures; space (0x20) is text; DEL as ␡; C1 (0x80…) by code point.
    assert inert("\x00\x1f \x7f\x80\x9f") == "\u2400\u241f \u2421<U+0080><U+009F>"
    assert inert("a b\x1b") == "a b\u241b"


def test_windows_line_ends_stay_line_breaks_when_cleaning() -> None:
    """CRLF is a line break, not a carriage return to show; a lone CR is shown."""
    assert inert("one\r\ntwo\x1b\rthree") == "one\ntwo\u241b\u240dthree"
