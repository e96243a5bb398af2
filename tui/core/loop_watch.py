"""Is the reasoning going round in circles? A cheap watch over the words as they stream.

R1 distills sometimes loop: "Wait, let me re-check…" and the same paragraph again,
for thousands of tokens, until the context fills. What tells a loop from ordinary
long reasoning is not a repeated phrase ("Wait," "Let me check" recur in every
good chain of thought) but long stretches of text seen before word for word. So:
every run of `ngram` consecutive words is hashed; over the last `window` words we
count how many end a run already seen earlier in the reasoning. Ordinary reasoning,
even very long, rarely repeats twelve words in a row; a loop repeats nearly all of
them. The turn is flagged when that share passes `threshold` (and stays flagged:
the user decides, with "answer now").

Cost per word: one tuple hash and a dict look-up; memory: one int per distinct run.
"""

from __future__ import annotations

from collections import deque

__all__ = ["LOOP_NGRAM", "LOOP_THRESHOLD", "LOOP_WINDOW", "LoopWatch"]

LOOP_NGRAM = 12  # words in a run: long enough that ordinary reasoning rarely repeats one exactly
LOOP_WINDOW = 300  # the recent words judged (a loop's period is usually well under this)
LOOP_THRESHOLD = 0.6  # share of those words that end an already-seen run


class LoopWatch:
    """Feed reasoning text as it arrives; `looping` turns True once it repeats itself."""

    def __init__(self, ngram: int = LOOP_NGRAM, window: int = LOOP_WINDOW, threshold: float = LOOP_THRESHOLD) -> None:
        self.ngram = ngram
        self.window = window
        self.threshold = threshold
        self.looping = False
        self.words_seen = 0
        self._recent_words: deque[str] = deque(maxlen=ngram)
        self._seen_runs: set[int] = set()
        self._repeated: deque[bool] = deque(maxlen=window)
        self._repeats_in_window = 0
        self._partial = ""  # a word cut by the chunk boundary

    @property
    def repeated_share(self) -> float:
        """The share of the recent window's words that end a run of words seen before."""
        return self._repeats_in_window / self.window

    def feed(self, text: str) -> bool:
        """Add streamed reasoning; True when this text made the watch flag a loop (once)."""
        if not text:
            return False
        text = self._partial + text
        pieces = text.split()
        self._partial = ""
        if pieces and not text[-1].isspace():
            self._partial = pieces.pop()
        was_looping = self.looping
        for word in pieces:
            self._add(word.lower())
        return self.looping and not was_looping

    def _add(self, word: str) -> None:
        self.words_seen += 1
        self._recent_words.append(word)
        if len(self._recent_words) < self.ngram:
            return
        run = hash(tuple(self._recent_words))
        repeated = run in self._seen_runs
        self._seen_runs.add(run)
        if len(self._repeated) == self.window and self._repeated[0]:
            self._repeats_in_window -= 1
        self._repeated.append(repeated)
        self._repeats_in_window += repeated
        if len(self._repeated) == self.window and self.repeated_share >= self.threshold:
            self.looping = True
