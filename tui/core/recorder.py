"""Saving a conversation to history while it streams, off the event loop, without losing text.

Why a recorder between the stream and the store:
- SQLite waits up to its busy timeout when another r1tui holds the lock; on the
  event loop that froze the screen (Esc took 11 s). Every write here runs on one
  worker thread, in order.
- A write that fails (locked, disk full) keeps its text and is retried at the next
  tick, so a turn started while the file was locked is still saved once it frees.
- The user hears about it: once when saving starts failing, once when it recovers,
  and about every turn that could not be saved in the end.

The stream calls `append` for every chunk (a list append: nothing blocks); a tick
every `interval` seconds commits what has gathered as one small insert. `finish`
queues the final write and returns at once: a locked file may take seconds to
free, and the turn on screen must not wait for it.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from tui.core.conversation import Turn
from tui.core.store import HistoryStore, StoreError

__all__ = ["HistoryRecorder"]

SAVE_INTERVAL_SECONDS = 0.5
FINISH_ATTEMPTS = 3


@dataclass
class _TurnInProgress:
    turn: Turn
    options: dict[str, Any]
    turn_id: int | None = None


class HistoryRecorder:
    """Writes one conversation's turns to `store` as they stream; `report` tells the user of trouble."""

    def __init__(self, store: HistoryStore | None, report: Callable[[str], None], *,
                 conversation_id: int | None = None, system_prompt: str = "",
                 interval: float = SAVE_INTERVAL_SECONDS) -> None:
        self.store = store
        self.conversation_id = conversation_id
        self.system_prompt = system_prompt
        self._report = report
        self._interval = interval
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history")
        self._current: _TurnInProgress | None = None
        self._reasoning: list[str] = []
        self._answer: list[str] = []
        self._ticker: asyncio.Task[None] | None = None
        self._finishing: set[asyncio.Task[bool]] = set()
        self._failing = False

    # -- the stream's side ------------------------------------------------------------

    def start(self, turn: Turn, options: dict[str, Any]) -> None:
        """A turn was sent: it is saved at the next tick (with its prompt), then its text as it arrives."""
        if self.store is None:
            return
        self._current = _TurnInProgress(Turn(prompt=turn.prompt, model=turn.model), dict(options))
        self._ticker = asyncio.get_running_loop().create_task(self._tick_until_finished())

    def append(self, reasoning: str, answer: str) -> None:
        if self._current is not None and (reasoning or answer):
            if reasoning:
                self._reasoning.append(reasoning)
            if answer:
                self._answer.append(answer)

    async def finish(self, turn: Turn) -> None:
        """Queue the finished turn's final write (whole text, state, figures); retried in the background."""
        current = self._current
        if current is None:
            return
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        self._current = None
        self._reasoning.clear()  # the final write holds the whole text
        self._answer.clear()
        task = asyncio.get_running_loop().create_task(self._finish_with_retries(current, turn))
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)

    async def saved(self) -> bool:
        """Wait for every queued final write; False when one could not be saved (tests, and exit)."""
        results = await asyncio.gather(*self._finishing) if self._finishing else []
        return all(results)

    async def _finish_with_retries(self, current: _TurnInProgress, turn: Turn) -> bool:
        for attempt in range(FINISH_ATTEMPTS):
            if await self._write(current, finished=turn):
                return True
            if attempt + 1 < FINISH_ATTEMPTS:
                await asyncio.sleep(self._interval)
        self._report(f"This turn was not saved to history ({turn.prompt[:40]!r}): the history file stayed "
                     "unwritable. The chat itself goes on.")
        return False

    async def flush(self) -> None:
        """Commit what has gathered now (tests, and before the app exits)."""
        if self._current is not None:
            await self._write(self._current)

    def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        self._executor.shutdown(wait=True)

    # -- the worker's side -------------------------------------------------------------

    async def _tick_until_finished(self) -> None:
        await self.saved()  # an earlier turn still retrying its final write goes into history first
        while True:
            await asyncio.sleep(self._interval)
            if self._current is not None:
                await self._write(self._current)

    async def _write(self, current: _TurnInProgress, finished: Turn | None = None) -> bool:
        reasoning, answer = "".join(self._reasoning), "".join(self._answer)
        self._reasoning.clear()
        self._answer.clear()
        loop = asyncio.get_running_loop()
        try:
            await asyncio.shield(loop.run_in_executor(self._executor, self._write_now, current, reasoning, answer,
                                                      finished))
        except (StoreError, LookupError) as error:
            if (reasoning or answer) and current is self._current:  # for the next try, ahead of newer text
                self._reasoning.insert(0, reasoning)
                self._answer.insert(0, answer)
            if not self._failing:
                self._failing = True
                self._report(f"History not saved yet: {error} — retrying; nothing is lost while r1tui runs.")
            return False
        if self._failing:
            self._failing = False
            self._report("History is being saved again.")
        return True

    def _write_now(self, current: _TurnInProgress, reasoning: str, answer: str, finished: Turn | None) -> None:
        """On the worker thread: create what is missing, then append (or finish) in order."""
        store = self.store
        if store is None:
            return
        if self.conversation_id is None:
            self.conversation_id = store.new_conversation(current.turn.model, self.system_prompt)
        if current.turn_id is None:
            current.turn_id = store.start_turn(self.conversation_id, current.turn, current.options)
        if finished is not None:
            store.finish_turn(current.turn_id, finished)  # the whole text: the gathered chunks are in it
        else:
            store.append(current.turn_id, reasoning, answer)
