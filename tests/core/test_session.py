"""The one stream path, against the simulated server: what it leaves on the turn in each ending."""

from __future__ import annotations

import asyncio

import pytest

from tui.core.backend import OllamaBackend
from tui.core.conversation import Turn, TurnState
from tui.core.metrics import TokenMeter
from tui.core.session import stream_turn
from tui.demo import Faults, Reply, SimulatedOllama

REPLY = Reply(reasoning="Two and two.", answer="Four.")


class Recording:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.chunks: list[tuple[str, str]] = []
        self.finished: list[TurnState] = []

    def start(self, turn: Turn, options: dict) -> None:
        self.started.append(turn.prompt)

    def append(self, reasoning: str, answer: str) -> None:
        self.chunks.append((reasoning, answer))

    async def finish(self, turn: Turn) -> None:
        self.finished.append(turn.state)


async def run(sim: SimulatedOllama, **kwargs) -> tuple[Turn, Recording]:
    backend = OllamaBackend(sim.url, stall_timeout=10)
    turn, recording = Turn("2+2?", "deepseek-r1:7b"), Recording()
    try:
        await stream_turn(backend, turn, [{"role": "user", "content": "2+2?"}], meter=TokenMeter(),
                          recording=recording, **kwargs)
    finally:
        await backend.aclose()
    return turn, recording


async def test_a_turn_streams_splits_meters_and_records(sim: SimulatedOllama) -> None:
    sim.reply = REPLY
    turn, recording = await run(sim)
    assert (turn.state, turn.reasoning.strip(), turn.answer) == (TurnState.DONE, "Two and two.", "Four.")
    assert turn.reasoning_tokens > 0 and turn.answer_tokens > 0 and turn.stats is not None
    assert recording.started == ["2+2?"] and recording.finished == [TurnState.DONE]
    assert "".join(a for _, a in recording.chunks) == "Four."


async def test_an_error_mid_stream_fails_the_turn_keeps_the_text_and_redacts(sim: SimulatedOllama) -> None:
    sim.reply = REPLY
    sim.faults = Faults(error_after_tokens=3, error_message="boom token-abc")
    turn, recording = await run(sim, redact=lambda text: text.replace("token-abc", "[redacted]"))
    assert turn.state is TurnState.FAILED and "boom [redacted]" in (turn.error or "")
    assert turn.reasoning and recording.finished == [TurnState.FAILED]


async def test_a_surprise_in_a_consumer_fails_the_turn_instead_of_raising(sim: SimulatedOllama) -> None:
    sim.reply = REPLY

    def broken(reasoning: str, answer: str) -> None:
        raise KeyError("a widget that went away")

    turn, recording = await run(sim, on_delta=broken)
    assert turn.state is TurnState.FAILED and turn.error_kind == "unexpected"
    assert "KeyError" in (turn.error or "") and recording.finished == [TurnState.FAILED]


async def test_cancelling_stops_the_turn_and_still_records_it(sim: SimulatedOllama) -> None:
    sim.reply, sim.rate = Reply(reasoning="thinking " * 200, answer="x"), 50.0
    backend = OllamaBackend(sim.url)
    turn, recording = Turn("2+2?", "deepseek-r1:7b"), Recording()
    task = asyncio.ensure_future(stream_turn(backend, turn, [{"role": "user", "content": "2+2?"}],
                                             meter=TokenMeter(), recording=recording))
    await asyncio.sleep(0.6)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await backend.aclose()
    assert turn.state is TurnState.STOPPED and turn.reasoning.startswith("thinking")
    assert recording.finished == [TurnState.STOPPED]
