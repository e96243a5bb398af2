"""Keys the terminal sends that Textual reads as something else.

Alt+Enter: xterm, tmux and most terminals send it as ESC followed by CR. Textual's
parser reads ESC + CR as Alt plus a character, finds no "alt" name for CR, and
reports a plain Enter, so Alt+Enter sent the prompt. `AltKeysParser` reports
"alt+enter" instead; a lone Esc (ESC with nothing after it) stays "escape".
"""

from __future__ import annotations

from typing import Iterable

from textual import events
from textual._xterm_parser import XTermParser

__all__ = ["AltKeysParser", "install"]

_ALT_NAMED = {"\r": "alt+enter", "\n": "alt+enter"}


class AltKeysParser(XTermParser):
    def _sequence_to_key_events(self, sequence: str, alt: bool = False) -> Iterable[events.Key]:
        if alt and sequence in _ALT_NAMED:
            yield events.Key(_ALT_NAMED[sequence], None)
            return
        yield from super()._sequence_to_key_events(sequence, alt)


def install() -> None:
    """Make Textual's terminal drivers read keys with `AltKeysParser` (idempotent)."""
    from textual.drivers import linux_driver, linux_inline_driver

    for module in (linux_driver, linux_inline_driver):
        if getattr(module, "XTermParser", None) is XTermParser:
            module.XTermParser = AltKeysParser  # type: ignore[misc]
