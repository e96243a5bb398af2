"""One turn against a server: the single stream path of r1tui.

The chat, the compare view and `r1tui bench` all run a turn here, so splitting,
metering, the stall timeout, cancelling and history recording behave the same
everywhere, and an engine or a reasoning control added later is added once.
Screens only render what `stream_turn` reports through `on_delta` and what it
leaves on the `Turn` and its `TokenMeter`.

Figures: the meter's clock starts when the chat request goes out, after the
model's details were asked for (`/api/show` is not the model's time).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Callable, Coroutine, Protocol

from tui.core.backend import BackendError, OllamaBackend, StreamDelta, StreamDone
from tui.core.conversation import Turn, TurnState
from tui.core.metrics import TokenMeter
from tui.core.thinking_budget import BUDGET_CUT, MANUAL_CUT, ReasoningControl

__all__ = ["DeltaCallback", "TurnRecording", "copy_figures", "stream_turn"]

DeltaCallback = Callable[[str, str], None]


class TurnRecording(Protocol):
    """Where a turn's text goes as it streams (the history; see `tui.core.recorder.HistoryRecorder`)."""

    def start(self, turn: Turn, options: dict[str, Any]) -> None: ...

    def append(self, reasoning: str, answer: str) -> None: ...

    async def finish(self, turn: Turn) -> None: ...


def copy_figures(meter: TokenMeter, turn: Turn) -> None:
    """The client-side figures of a finished stream, kept on the turn (history, exports, summaries)."""
    turn.think_seconds = meter.think_seconds
    turn.ttft_seconds = meter.ttft_seconds
    turn.reasoning_tokens = meter.reasoning_tokens
    turn.answer_tokens = meter.answer_tokens


async def stream_turn(
    backend: OllamaBackend,
    turn: Turn,
    messages: list[dict[str, str]],
    *,
    meter: TokenMeter,
    options: dict[str, Any] | None = None,
    keep_alive: str | float | None = None,
    recording: TurnRecording | None = None,
    on_delta: DeltaCallback | None = None,
    on_sent: Callable[[], None] | None = None,
    redact: Callable[[str], str] = str,
    control: ReasoningControl | None = None,
) -> Turn:
    """Stream the model's reply into `turn`; it ends DONE, FAILED (its `error` says why) or STOPPED.

    Cancelling the task closes the HTTP stream, so the server stops generating;
    the turn is then STOPPED and the cancellation propagates. Whatever streamed is
    kept on the turn, and saved, in every case. `redact` blanks credentials out of
    an error before it is kept or saved.

    `control` (default: no budget, loop watch on) governs the reasoning: when it reaches
    the budget, or the user calls `control.answer_now()` while the model thinks, the
    request is closed and the answer is asked for from the reasoning so far
    (`backend.continue_after_thinking`); the turn records the cut (`thinking_cut`), a
    loop flag (`loop_flagged`), whether thinking was off, and its context size.
    """
    control = control or ReasoningControl()
    turn.state = TurnState.STREAMING
    turn.think_budget = control.budget
    # Ollama runs the model with the num_ctx sent; other engines with the length they were started with.
    turn.context_size = int((options or {}).get("num_ctx") or 0) if getattr(backend, "manages_models", True) else 0
    if recording is not None:
        recording.start(turn, options or {})

    def apply(event: StreamDelta | StreamDone) -> None:
        if isinstance(event, StreamDelta):
            meter.record(reasoning=bool(event.reasoning), answer=bool(event.answer))
            turn.extend(event.reasoning, event.answer)
            if recording is not None:
                recording.append(event.reasoning, event.answer)
            if on_delta is not None:
                on_delta(event.reasoning, event.answer)
        else:
            meter.finish(event.stats)
            turn.stats = event.stats

    try:
        await backend.uses_think_field(turn.model)  # /api/show before the clock starts (a missing model fails here)
        think = control.think
        if think is False:
            turn.thinking_off = await backend.can_turn_thinking_off(turn.model)
            think = False if turn.thinking_off else None
        meter.sent_at = meter.now()
        if on_sent is not None:
            on_sent()

        async def think_then_answer() -> bool:
            """The first request; True when it was closed at the budget (the answer is still to come)."""
            events = backend.chat(turn.model, messages, options=options, keep_alive=keep_alive, think=think)
            async with contextlib.aclosing(events):  # leaving early closes the HTTP stream: the server stops
                async for event in events:
                    apply(event)
                    if isinstance(event, StreamDelta) and event.reasoning and not turn.answer:
                        if control.watch(event.reasoning):
                            turn.loop_flagged = True
                        if control.budget_reached(meter.reasoning_tokens):
                            turn.thinking_cut = BUDGET_CUT
                            return True
            return False

        if await _until_answer_now(think_then_answer(), control, still_thinking=lambda: not turn.answer):
            turn.thinking_cut = turn.thinking_cut or MANUAL_CUT
            meter.end_reasoning()
            async for event in backend.continue_after_thinking(turn.model, messages, turn.reasoning,
                                                               options=options, keep_alive=keep_alive):
                apply(event)
        turn.state = TurnState.DONE
    except asyncio.CancelledError:
        turn.state = TurnState.STOPPED
        raise
    except BackendError as error:
        turn.state = TurnState.FAILED
        turn.error = redact(str(error))
        turn.error_kind = error.kind
    except Exception as error:  # noqa: BLE001 - a surprise ends this turn, never the app or the other turns
        turn.state = TurnState.FAILED
        turn.error = redact(f"Unexpected {type(error).__name__}: {error} — the chat goes on; please report this")
        turn.error_kind = "unexpected"
    finally:
        if meter.finished_at is None:
            meter.finish(None)
        copy_figures(meter, turn)
        if recording is not None:
            await recording.finish(turn)
    loaded_context = getattr(backend, "context_length", None)  # optional: engines without /api/ps may lack it
    if not turn.context_size and turn.state is TurnState.DONE and loaded_context is not None:
        turn.context_size = await loaded_context(turn.model)
    return turn


async def _until_answer_now(reader: Coroutine[Any, Any, bool], control: ReasoningControl,
                            still_thinking: Callable[[], bool]) -> bool:
    """Run the first request; True when its reasoning was cut (by the budget, or by "answer now").

    "Answer now" must act at once, even while no token arrives: the request runs as a
    task, raced against the user's key; cancelling it closes the HTTP stream. Pressed
    once the answer has begun, the key changes nothing.
    """
    task = asyncio.ensure_future(reader)
    waiter = asyncio.ensure_future(control.wait_for_answer_now())
    try:
        done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if task in done or not still_thinking():
            return await task
        await _cancel_and_wait(task)
        return True if task.cancelled() else task.result()  # it may have ended on its own meanwhile
    finally:
        waiter.cancel()
        if not task.done():
            await _cancel_and_wait(task)


async def _cancel_and_wait(task: asyncio.Future[Any]) -> None:
    """Cancel `task` and wait for it to close its stream; a cancellation of the caller still propagates."""
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
