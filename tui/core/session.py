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
from typing import Any, Callable, Protocol

from tui.core.backend import BackendError, OllamaBackend, StreamDelta, StreamDone
from tui.core.conversation import Turn, TurnState
from tui.core.metrics import TokenMeter

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
) -> Turn:
    """Stream the model's reply into `turn`; it ends DONE, FAILED (its `error` says why) or STOPPED.

    Cancelling the task closes the HTTP stream, so the server stops generating;
    the turn is then STOPPED and the cancellation propagates. Whatever streamed is
    kept on the turn, and saved, in every case. `redact` blanks credentials out of
    an error before it is kept or saved.
    """
    turn.state = TurnState.STREAMING
    if recording is not None:
        recording.start(turn, options or {})
    try:
        await backend.uses_think_field(turn.model)  # /api/show before the clock starts (a missing model fails here)
        meter.sent_at = meter.now()
        if on_sent is not None:
            on_sent()
        async for event in backend.chat(turn.model, messages, options=options, keep_alive=keep_alive):
            if isinstance(event, StreamDelta):
                meter.record(reasoning=bool(event.reasoning), answer=bool(event.answer))
                turn.reasoning += event.reasoning
                turn.answer += event.answer
                if recording is not None:
                    recording.append(event.reasoning, event.answer)
                if on_delta is not None:
                    on_delta(event.reasoning, event.answer)
            elif isinstance(event, StreamDone):
                meter.finish(event.stats)
                turn.stats = event.stats
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
    return turn
