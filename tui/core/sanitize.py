"""Make untrusted model output inert before it reaches the screen.

Model output may contain ANSI/OSC escape sequences (colours, cursor moves,
clipboard writes via OSC 52, hyperlinks via OSC 8), other control characters
and bidirectional overrides. Any of these written to the terminal could style,
move or clear the screen, or act on the user's machine. Every control
character is replaced by a visible stand-in, so the rest of an escape sequence
shows as plain text. Rich markup needs no escaping here: r1tui renders model
text as `Content`/Markdown, never as markup.
"""

from __future__ import annotations

import re

__all__ = ["UNSAFE", "inert"]

# Every character `inert` replaces (public so JSON exports can escape the same set):
# C0 controls except TAB and LF, DEL, C1 controls, and the Unicode characters that are
# invisible or reorder text: the Arabic letter mark (U+061C), zero-width space, joiners and
# direction marks (U+200B-U+200F), line/paragraph separators (U+2028, U+2029), embeddings
# and overrides (U+202A-U+202E), the word joiner, invisible operators, isolates and other
# format characters (U+2060-U+206F), and the byte order mark (U+FEFF).
UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u206f\ufeff]"
)


def _stand_in(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode "control pictures": ␛ for ESC, ␍ for CR, ...
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def inert(text: str) -> str:
    """The text with every control character shown as a visible symbol instead."""
    if not UNSAFE.search(text):
        return text
    return UNSAFE.sub(_stand_in, text.replace("\r\n", "\n"))
