"""vLLM, SGLang and llama.cpp through the real `openai` client against the simulated engines:
detection, the reasoning split per engine and version, figures, errors, keys and the fixed-model verbs."""

from __future__ import annotations

import pytest

from tui.core.backend import BackendError, StreamDelta, StreamDone
from tui.core.conversation import Turn, TurnState
from tui.core.engines import detect_engine, engine_label, make_backend
from tui.core.metrics import TokenMeter
from tui.core.openai_backend import OpenAICompatBackend
from tui.core.session import stream_turn
from tui.demo import Faults, Reply, SimulatedOllama
from tui.demo.engines import SimulatedEngine

REPLY = Reply(reasoning="First, 6 times 7. That is 42, checked twice.", answer="The answer is **42**.")


async def collect(backend, model: str, **kwargs) -> tuple[str, str, StreamDone]:
    reasoning = answer = ""
    done = None
    async for event in backend.chat(model, [{"role": "user", "content": "6*7?"}], **kwargs):
        if isinstance(event, StreamDelta):
            reasoning += event.reasoning
            answer += event.answer
        else:
            done = event
    assert done is not None
    return reasoning, answer, done


def model_of(sim: SimulatedEngine) -> str:
    return next(iter(sim.models))


@pytest.mark.parametrize("flavour, version, expected", [
    ("vllm", "0.16.0", ("vllm", "0.16.0")),
    ("sglang", "0.5.4", ("sglang", "0.5.4")),
    ("llama.cpp", "b6715", ("llama.cpp", "b6715-1a2b3c4")),
])
async def test_each_engine_is_recognised_with_its_version(flavour, version, expected):
    with SimulatedEngine(flavour, version=version) as sim:
        info = await detect_engine(sim.url)
    assert (info.engine, info.version) == expected


async def test_ollama_is_recognised_and_gets_the_native_backend():
    with SimulatedOllama() as sim:
        info = await detect_engine(sim.url)
        backend = make_backend(sim.url, info.engine)
    assert info.engine == "ollama" and info.version == sim.effective_version
    assert backend.engine == "ollama" and backend.manages_models
    await backend.aclose()


async def test_nothing_listening_is_unreachable_not_a_guess():
    with pytest.raises(BackendError) as caught:
        await detect_engine("http://127.0.0.1:9", timeout=2)
    assert caught.value.kind == "unreachable"


def test_engine_names_read_as_their_users_write_them():
    assert [engine_label(e) for e in ("vllm", "sglang", "llama.cpp", "ollama")] == [
        "vLLM", "SGLang", "llama.cpp", "Ollama"]


@pytest.mark.parametrize("flavour, version", [
    ("vllm", "0.16.0"),  # delta.reasoning
    ("vllm", "0.12.0"),  # the same text under reasoning and reasoning_content
    ("vllm", "0.9.2"),  # reasoning_content
    ("sglang", None),
    ("llama.cpp", None),
])
async def test_reasoning_is_split_from_the_engines_own_field_and_never_shown_twice(flavour, version):
    with SimulatedEngine(flavour, version=version, reply=REPLY) as sim:
        backend = make_backend(sim.url, flavour)
        reasoning, answer, _ = await collect(backend, model_of(sim))
        await backend.aclose()
    assert reasoning == REPLY.reasoning
    assert answer == REPLY.answer


async def test_a_server_without_reasoning_parser_is_split_at_the_closing_tag():
    with SimulatedEngine("vllm", reasoning_parser=False, reply=REPLY) as sim:
        backend = make_backend(sim.url, "vllm")
        reasoning, answer, _ = await collect(backend, model_of(sim))
        await backend.aclose()
    assert reasoning.strip() == REPLY.reasoning
    assert answer == REPLY.answer
    assert "think>" not in reasoning + answer


async def test_served_models_come_from_v1_models_with_their_context_length():
    with SimulatedEngine("vllm") as sim:
        backend = make_backend(sim.url, "vllm")
        models = await backend.list_models()
        loaded = await backend.ps()
        await backend.aclose()
    assert [m.name for m in models] == ["deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"]
    assert models[0].parameter_size == "32B"
    assert loaded[0].context_length == 32768


async def test_the_engines_counts_become_the_turns_figures():
    with SimulatedEngine("vllm", reply=REPLY) as sim:
        backend = make_backend(sim.url, "vllm")
        _, _, done = await collect(backend, model_of(sim))
        request = sim.requests[-1][2]
        await backend.aclose()
    assert request["stream_options"] == {"include_usage": True}
    assert done.stats.eval_count > 0 and done.stats.prompt_eval_count > 0
    assert 0 < done.stats.reasoning_count < done.stats.eval_count
    assert done.stats.done_reason == "stop"
    assert done.stats.eval_rate is not None


async def test_llama_cpp_timings_give_its_own_rate():
    with SimulatedEngine("llama.cpp", reply=REPLY) as sim:
        backend = make_backend(sim.url, "llama.cpp")
        _, _, done = await collect(backend, model_of(sim))
        await backend.aclose()
    assert done.stats.prompt_eval_duration_ns == int(done.stats.prompt_eval_count * 0.2 * 1e6)


async def test_a_length_limit_is_reported_as_such():
    with SimulatedEngine("vllm", reply=REPLY) as sim:
        backend = make_backend(sim.url, "vllm")
        _, _, done = await collect(backend, model_of(sim), options={"num_predict": 5})
        request = sim.requests[-1][2]
        await backend.aclose()
    assert request["max_tokens"] == 5
    assert done.stats.done_reason == "length"


async def run_turn(sim: SimulatedEngine, model: str | None = None, **backend_options) -> Turn:
    backend = make_backend(sim.url, sim.flavour, **backend_options)
    turn = Turn("6*7?", model or model_of(sim))
    await stream_turn(backend, turn, [{"role": "user", "content": "6*7?"}], meter=TokenMeter())
    await backend.aclose()
    return turn


@pytest.mark.parametrize("flavour, version", [("vllm", "0.16.0"), ("vllm", "0.9.0"), ("llama.cpp", None)])
async def test_an_error_event_mid_stream_ends_the_turn_with_its_message_and_keeps_the_text(flavour, version):
    with SimulatedEngine(flavour, version=version, reply=REPLY) as sim:
        sim.faults = Faults(error_after_tokens=5, error_message="CUDA error: an illegal memory access")
        turn = await run_turn(sim)
    assert turn.state is TurnState.FAILED
    assert "CUDA error: an illegal memory access" in turn.error
    assert turn.reasoning and REPLY.reasoning.startswith(turn.reasoning)


@pytest.mark.parametrize("version", ["0.16.0", "0.9.0"])  # nested and flat error bodies
async def test_an_error_before_the_stream_says_what_the_engine_said(version):
    with SimulatedEngine("vllm", version=version) as sim:
        sim.faults = Faults(status_before_stream=400,
                            message_before_stream="This model's maximum context length is 32768 tokens.")
        turn = await run_turn(sim)
    assert turn.state is TurnState.FAILED
    assert "maximum context length is 32768" in turn.error
    assert "{" not in turn.error  # the message, not the JSON body


async def test_a_model_the_engine_does_not_serve_names_the_ones_it_does():
    with SimulatedEngine("vllm") as sim:
        turn = await run_turn(sim, model="deepseek-r1:7b")
    assert turn.error_kind == "not_found"
    assert "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B" in turn.error


async def test_a_dropped_connection_keeps_the_partial_text():
    with SimulatedEngine("sglang", reply=REPLY) as sim:
        sim.faults = Faults(drop_after_tokens=4)
        turn = await run_turn(sim)
    assert turn.state is TurnState.FAILED and turn.error_kind == "dropped"
    assert turn.reasoning


async def test_the_api_key_is_sent_to_its_host_only_and_a_missing_one_is_explained():
    with SimulatedEngine("vllm", api_key="vk-123456", reply=REPLY) as sim:
        refused = await run_turn(sim)
        sent_without = [headers.get("Authorization") for *_, headers in sim.requests]
        accepted = await run_turn(sim, headers={"Authorization": "Bearer vk-123456"})
        sent_with = sim.requests[-1][3].get("Authorization")
    assert refused.error_kind == "unauthorized" and "API key" in refused.error
    assert sent_without == [None] * len(sent_without)  # the client's placeholder key never leaves
    assert accepted.state is TurnState.DONE and sent_with == "Bearer vk-123456"


async def test_ollama_verbs_explain_that_the_engine_serves_a_fixed_model():
    with SimulatedEngine("vllm") as sim:
        backend = make_backend(sim.url, "vllm")
        assert isinstance(backend, OpenAICompatBackend) and not backend.manages_models
        for call in (backend.delete(model_of(sim)), backend.unload(model_of(sim)), backend.load(model_of(sim))):
            with pytest.raises(BackendError, match="serves the model it was started with"):
                await call
        with pytest.raises(BackendError, match="cannot pull"):
            async for _ in backend.pull("deepseek-r1:7b"):
                pass
        await backend.aclose()


async def test_sampling_options_go_under_the_openai_names():
    with SimulatedEngine("vllm", reply=REPLY) as sim:
        backend = make_backend(sim.url, "vllm")
        await collect(backend, model_of(sim), options={"temperature": 0.6, "top_p": 0.95, "top_k": 40,
                                                       "num_ctx": 8192, "seed": 7})
        request = sim.requests[-1][2]
        await backend.aclose()
    assert (request["temperature"], request["top_p"], request["top_k"], request["seed"]) == (0.6, 0.95, 40, 7)
    assert "num_ctx" not in request and "options" not in request


async def test_a_thinking_budget_cuts_the_reasoning_and_the_engine_completes_the_raw_prompt():
    from tui.core.thinking_budget import ReasoningControl

    long_reply = Reply(reasoning=" ".join(f"step{i} checks the sum again." for i in range(400)), answer="Done: 42.")
    with SimulatedEngine("vllm", reply=long_reply) as sim:
        backend = make_backend(sim.url, "vllm")
        turn = Turn("sum?", model_of(sim))
        await stream_turn(backend, turn, [{"role": "user", "content": "sum?"}], meter=TokenMeter(),
                          control=ReasoningControl(budget=50))
        second = sim.requests[-1][2]
        await backend.aclose()
    assert turn.state is TurnState.DONE and turn.thinking_cut == "budget"
    assert len(turn.reasoning.split()) < 120  # cut near the budget, not the 2,000-word reasoning
    assert turn.answer
    # A raw completion in DeepSeek's format: a chat's final assistant message would lose the reasoning
    # (the template keeps only what follows </think>), so the model must see it in the prompt itself.
    assert sim.requests[-1][1] == "/v1/completions"
    assert second["prompt"].endswith(turn.reasoning.strip() + "\n</think>\n\n")
    assert "<｜User｜>sum?<｜Assistant｜><think>" in second["prompt"]


async def test_thinking_off_is_declined_on_engines_and_the_context_is_the_served_length():
    with SimulatedEngine("sglang") as sim:
        backend = make_backend(sim.url, "sglang")
        assert await backend.can_turn_thinking_off(model_of(sim)) is False
        assert await backend.context_length(model_of(sim)) == 32768
        await backend.aclose()
