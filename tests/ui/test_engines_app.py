"""The app on vLLM, SGLang and llama.cpp (simulated, over a real socket): the same chat, reasoning split and
panel as on Ollama, the engine named, its load in the panel, Ctrl+O across hosts, errors on the turn."""

from __future__ import annotations

import pytest

from tests.apphelpers import screen_text, send_and_wait, wait_connected, wait_for, wait_for_text
from tui.app import R1App
from tui.core.config import Settings
from tui.core.conversation import TurnState
from tui.core.engines import make_backend
from tui.core.hosts import HostProfile
from tui.demo import Faults, Reply
from tui.demo.engines import SimulatedEngine

REPLY = Reply(reasoning="Six sevens: 42. Checked with 7*6.", answer="**42**")


def engine_app(url: str, *, engine: str = "auto", model: str | None = None, hosts=None, **settings) -> R1App:
    """The app as `r1tui --host URL` starts it: on the Ollama backend, detecting the engine on connect."""
    settings.setdefault("show_panel", False)
    backend = make_backend(url, "ollama" if engine == "auto" else engine, stall_timeout=30.0)
    return R1App(backend, Settings(hosts=hosts or {}, **settings), engine=engine, requested_model=model,
                 history=False)


@pytest.mark.parametrize("flavour, version, label", [
    ("vllm", "0.12.0", "vLLM 0.12.0"),  # sends the reasoning under two names at once
    ("sglang", "0.5.4", "SGLang 0.5.4"),
    ("llama.cpp", "b6715", "llama.cpp b6715"),
])
async def test_a_chat_on_each_engine_splits_reasoning_once_and_names_the_engine(flavour, version, label):
    with SimulatedEngine(flavour, version=version, reply=REPLY) as sim:
        app = engine_app(sim.url)
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_connected(pilot)
            assert app.backend.engine == flavour
            assert app.model == next(iter(sim.models))  # the one served model, without --model
            await wait_for_text(pilot, f"({label}", "1 model served")
            await send_and_wait(pilot, "6*7?")
            turn = app.screen.conversation.turns[-1]
            assert turn.state is TurnState.DONE
            assert turn.reasoning == REPLY.reasoning and turn.answer == REPLY.answer
            text = screen_text(app)
            assert text.count("Six sevens: 42") == 1


async def test_the_panel_shows_the_engines_queue_and_kv_cache_use():
    with SimulatedEngine("vllm", reply=REPLY) as sim:
        sim.load.waiting, sim.load.kv_cache_usage = 3, 0.93
        app = engine_app(sim.url, show_panel=True)
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_connected(pilot)
            # The served model comes from its own poll, which may land after the engine's load.
            text = await wait_for_text(pilot, "vLLM 0.16.0", "3 waiting", "KV", "93%", "max_model_len 32,768")
            assert "100% CPU" not in text  # a served model is not an Ollama model spilled to CPU


async def test_llama_cpp_without_metrics_says_how_to_turn_them_on():
    with SimulatedEngine("llama.cpp", metrics=False) as sim:
        app = engine_app(sim.url, show_panel=True)
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_connected(pilot)
            await wait_for_text(pilot, "--metrics")


async def test_an_engine_error_mid_stream_lands_on_the_turn_and_the_next_prompt_works():
    with SimulatedEngine("vllm", reply=REPLY) as sim:
        app = engine_app(sim.url)
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_connected(pilot)
            sim.faults = Faults(error_after_tokens=3, error_message="KV cache exhausted: request preempted")
            await send_and_wait(pilot, "first")
            failed = app.screen.conversation.turns[-1]
            assert failed.state is TurnState.FAILED and failed.reasoning
            await wait_for_text(pilot, "KV cache exhausted: request preempted")
            await send_and_wait(pilot, "second")
            assert app.screen.conversation.turns[-1].state is TurnState.DONE


async def test_ollama_verbs_on_an_engine_explain_instead_of_failing_silently():
    with SimulatedEngine("sglang") as sim:
        app = engine_app(sim.url)
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_connected(pilot)
            app.action_unload()
            await wait_for(pilot, lambda: any("serves the model it was started with" in n.message
                                              for n in app._notifications))
            await pilot.press("f3")  # the model library: pulls and deletes are Ollama's
            await wait_for(pilot, lambda: any("nothing to pull or delete" in n.message for n in app._notifications))
            assert type(app.screen).__name__ == "ChatScreen"
            await pilot.press("f6")  # no `ollama serve` to manage: what is known of the engine instead
            await wait_for(pilot, lambda: any("SGLang 0.5.4" in n.message and "starts and restarts only Ollama"
                                              in n.message for n in app._notifications))


async def test_ctrl_o_lists_every_hosts_models_and_switches_host_and_model_at_once(sim):
    with SimulatedEngine("vllm", reply=REPLY) as node:
        hosts = {"local": HostProfile("local", sim.url), "big": HostProfile("big", node.url, engine="vllm"),
                 "gone": HostProfile("gone", "http://127.0.0.1:9")}
        app = engine_app(sim.url, model="deepseek-r1:7b", hosts=hosts)
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_connected(pilot)
            await pilot.press("ctrl+o")
            text = await wait_for_text(pilot, "big (vLLM)", "DeepSeek-R1-Distill-Qwen-32B", "gone", "unreachable")
            assert "local (Ollama)" in text and "deepseek-r1:7b" in text
            await pilot.press("end", "enter")
            await wait_for(pilot, lambda: app.connected and app.backend.url == node.url)
            assert app.backend.engine == "vllm"
            assert app.model == "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"
            await send_and_wait(pilot, "6*7?")
            assert app.screen.conversation.turns[-1].answer == REPLY.answer


async def test_the_compare_view_runs_a_local_tag_against_a_model_on_another_host(sim):
    from textual.widgets import Input, SelectionList

    from tests.ui.test_compare import run_and_wait
    from tui.screens.compare import CompareScreen

    sim.reply = REPLY
    with SimulatedEngine("vllm", reply=REPLY) as node:
        hosts = {"big": HostProfile("big", node.url, engine="vllm")}
        app = engine_app(sim.url, model="deepseek-r1:7b", hosts=hosts)
        async with app.run_test(size=(160, 48)) as pilot:
            await wait_connected(pilot)
            screen = CompareScreen("deepseek-r1:7b")
            await app.push_screen(screen)
            await wait_for(pilot, lambda: bool(screen.installed) and bool(screen.other_hosts.specs))
            selection = screen.query_one("#compare-models", SelectionList)
            selection.deselect_all()
            spec = "big:deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"
            selection.select("deepseek-r1:7b")
            selection.select(spec)
            screen.query_one("#compare-prompt", Input).value = "6*7?"
            await run_and_wait(pilot, screen)
            names = [column.model_run.name for column in screen.columns]
            assert names == ["deepseek-r1:7b", spec]
            assert all(column.model_run.state is TurnState.DONE for column in screen.columns)
            assert any(path == "/v1/chat/completions" for _, path, _, _ in node.requests)
            assert "DeepSeek-R1-Distill-Qwen-32B @ big" in screen_text(app) or spec in screen_text(app)


async def test_on_an_engine_the_context_is_its_served_length_and_no_ollama_is_offered(tmp_path):
    from tui.core.runtime import ManagedRuntime, RuntimeConfig

    with SimulatedEngine("vllm", reply=REPLY) as sim:
        app = engine_app(sim.url, show_panel=True)
        app.runtime = ManagedRuntime(sim.url, RuntimeConfig())  # as `r1tui --host` has one
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_connected(pilot)
            await send_and_wait(pilot, "6*7?")
            turn = app.screen.conversation.turns[-1]
            assert turn.context_size == 32768  # max_model_len, not the num_ctx Ollama would get
            await wait_for_text(pilot, "/ 32,768", "max_model_len 32,768 (the engine's")
            assert not any("ollama" in n.message.lower() and "install" in n.message.lower()
                           for n in app._notifications)
