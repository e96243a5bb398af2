"""The fleet screen (F8) in the real app: every host as it answers, and Enter opens the chat there."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.apphelpers import ScreenHost, make_app, screen_text, unsafe_output, wait_connected, wait_for, wait_for_text
from tui.core.hosts import HostProfile
from tui.demo import SimulatedOllama, hostile_models
from tui.demo.dcgm import SimulatedDcgm
from tui.demo.engines import SimulatedEngine
from tui.demo.silent import SilentHost
from tui.keymap import CHAT_BINDINGS
from tui.screens.chat import ChatScreen
from tui.screens.fleet import FleetLine, FleetScreen
from tui.screens.help import help_text


@pytest.fixture
def hosts(sim: SimulatedOllama, engine_sim: SimulatedEngine) -> Iterator[dict[str, HostProfile]]:
    """The issue's trial: a vLLM node with a 2-GPU DCGM exporter, the Ollama box the app is on,
    a host that is down and one that hangs."""
    with SimulatedDcgm() as dcgm, SilentHost() as silent:
        sim.mark_loaded("deepseek-r1:8b", "5m", 4096)
        yield {
            "vllm-node": HostProfile("vllm-node", engine_sim.url, gpu_metrics=dcgm.url),
            "workstation": HostProfile("workstation", sim.url),
            "lab-down": HostProfile("lab-down", "http://127.0.0.1:1"),
            "hung-box": HostProfile("hung-box", silent.url),
        }


def line(app, host: str, model: str | None = None) -> FleetLine:
    return next(w for w in app.screen.query(FleetLine) if w.host == host and w.model == model)


async def open_fleet(pilot, app) -> str:
    await wait_connected(pilot)
    await pilot.press("f8")
    await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
    return await wait_for_text(pilot, "vllm-node  vLLM 0.16.0", "GPU1 NVIDIA H100 80GB HBM3",
                               "workstation  Ollama 0.12.6", "deepseek-r1:8b",
                               "lab-down", "unreachable: connection refused",
                               "hung-box", "unreachable: timed out", timeout=30)


async def test_f8_shows_every_host_and_why_the_others_are_unreachable(sim, hosts) -> None:
    app = make_app(sim.url, hosts=hosts)
    async with app.run_test(size=(120, 40)) as pilot:
        shown = await open_fleet(pilot, app)
        assert "● workstation" in shown  # the host the chat is on
        assert "4 hosts · 2 reachable" in shown
        assert app.screen.query_one("Sparkline") is not None
        assert unsafe_output(app) == []


async def test_enter_on_the_vllm_row_opens_the_chat_there(sim, engine_sim, hosts) -> None:
    app = make_app(sim.url, hosts=hosts)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_fleet(pilot, app)
        line(app, "vllm-node").focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen))
        await wait_for(pilot, lambda: app.backend.url == engine_sim.url)


async def test_enter_on_a_model_of_this_host_switches_model_not_host(sim, hosts) -> None:
    app = make_app(sim.url, hosts=hosts)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_fleet(pilot, app)
        before = app.backend
        line(app, "workstation", "deepseek-r1:8b").focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.model == "deepseek-r1:8b")
        assert app.backend is before and isinstance(app.screen, ChatScreen)


async def test_esc_goes_back_without_changing_anything(sim, hosts) -> None:
    app = make_app(sim.url, hosts=hosts)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_fleet(pilot, app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert app.backend.url == sim.url and app.model == "deepseek-r1:7b"


async def test_down_and_up_move_between_hosts_and_models(sim, hosts) -> None:
    app = make_app(sim.url, hosts=hosts)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_fleet(pilot, app)
        assert app.focused is line(app, "workstation")  # it opens on the current host
        await pilot.press("down")
        assert app.focused is line(app, "workstation", "deepseek-r1:8b")
        await pilot.press("up", "up")
        assert app.focused is line(app, "vllm-node", "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B")


async def test_the_fleet_key_is_in_the_footer_f1_and_the_palette(sim) -> None:
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_connected(pilot)
        app.clear_notifications()  # a toast may sit over the footer's right end
        await wait_for(pilot, lambda: "f8 Fleet" in screen_text(app))
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert "Fleet" in titles
    assert "F8" in help_text(CHAT_BINDINGS).plain


async def test_a_host_shows_its_models_from_its_first_answer(sim: SimulatedOllama) -> None:
    sim.mark_loaded("deepseek-r1:14b", "5m", 8192)
    host = ScreenHost(lambda: FleetScreen([HostProfile("ws", sim.url)], interval=600))  # one poll only
    async with host.run_test(size=(100, 30)) as pilot:
        await wait_for_text(pilot, "ws  Ollama 0.12.6", "▸ deepseek-r1:14b · 100% GPU · ctx 8192")


async def test_host_supplied_names_stay_inert(hosts) -> None:
    hostile = SimulatedOllama(models=hostile_models()).start()
    try:
        name = next(iter(hostile.models))
        hostile.mark_loaded(name, "5m", 2048)
        app = make_app(hostile.url, hosts={"evil": HostProfile("evil", hostile.url)}, model=name)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_connected(pilot)
            await pilot.press("f8")
            await wait_for_text(pilot, "evil  Ollama", "deepseek-r1:7b␛", timeout=30)
            assert unsafe_output(app) == []
    finally:
        hostile.stop()
