"""Model output made inert: every control, zero-width and bidi character becomes visible."""

from __future__ import annotations

import pytest

from tui.core.sanitize import inert

# Each of these is invisible or reorders text on a terminal; each must show as <U+XXXX>.
INVISIBLE = [
    0x200B, 0x200C, 0x200D,  # zero-width space, non-joiner, joiner
    0x2060,  # word joiner
    0xFEFF,  # byte order mark / zero-width no-break space
    0x2028, 0x2029,  # line and paragraph separators
    0x061C,  # Arabic letter mark
    0x200E, 0x200F,  # left-to-right and right-to-left marks
    0x202A, 0x202B, 0x202C, 0x202D, 0x202E,  # embeddings and overrides
    0x2066, 0x2067, 0x2068, 0x2069,  # isolates
]


@pytest.mark.parametrize("code", INVISIBLE, ids=[f"U+{code:04X}" for code in INVISIBLE])
def test_each_invisible_or_bidi_character_is_shown_by_its_code(code: int) -> None:
    shown = inert(f"safe{chr(code)}text")
    assert shown == f"safe<U+{code:04X}>text"
    assert chr(code) not in shown


def test_a_trojan_source_line_shows_every_override() -> None:
    line = 'access = "user\u202e \u2066// admin\u2069 \u2066"'
    assert inert(line) == 'access = "user<U+202E> <U+2066>// admin<U+2069> <U+2066>"'


def test_escape_sequences_and_other_controls_are_control_pictures() -> None:
    assert inert("\x1b]52;c;ZXZpbA==\x07 red\x1b[31m") == "␛]52;c;ZXZpbA==␇ red␛[31m"
    assert inert("a\x7fb\x85c") == "a␡b<U+0085>c"


def test_ordinary_text_tabs_and_newlines_are_unchanged() -> None:
    text = "def f():\n\treturn 'héllo — 世界 🙂 مرحبا'\n"
    assert inert(text) == text
    assert inert("one\r\ntwo\rthree") == "one\ntwo␍three"
