"""Up and Down in the prompt recall earlier prompts, as `ollama run` and a shell do.

Up on the prompt's first line steps back through earlier prompts (newest first),
Down on its last line steps forward again and, past the newest, brings back the
draft that was being typed before the first Up. Nothing typed is lost.
"""

from __future__ import annotations

from typing import Sequence

__all__ = ["PromptRecall"]


class PromptRecall:
    def __init__(self) -> None:
        self._entries: list[str] = []
        self._position: int | None = None  # index into _entries of what is shown; None: the draft
        self._draft = ""

    @property
    def recalling(self) -> bool:
        return self._position is not None

    def older(self, prompts: Sequence[str], current: str) -> str | None:
        """The prompt before the one shown (`prompts` oldest first), or None when there is none."""
        if self._position is None:
            entries: list[str] = []
            for prompt in prompts:  # oldest first; a prompt sent twice in a row is recalled once
                if prompt.strip() and (not entries or entries[-1] != prompt):
                    entries.append(prompt)
            if not entries:
                return None
            self._entries, self._draft, self._position = entries, current, len(entries)
        if self._position == 0:
            return None
        self._position -= 1
        return self._entries[self._position]

    def newer(self) -> str | None:
        """The prompt after the one shown, the draft past the newest, None when not recalling."""
        if self._position is None:
            return None
        self._position += 1
        if self._position >= len(self._entries):
            self._position = None
            return self._draft
        return self._entries[self._position]

    def reset(self) -> None:
        """The prompt was sent: the next Up starts from the newest prompt again."""
        self._position = None
        self._draft = ""
