"""The model picker and background pulls, driven like a user would, through the simulated server.

GPU and RAM figures are injected (a 24 GiB card with 0.6 GiB in use, 23 GiB of
RAM), so verdicts do not depend on the machine running the tests.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
import pytest
from textual.widgets import DataTable, Select, Static

from tests.apphelpers import make_app, screen_text, send_and_wait, wait_connected, wait_for
from tui.core.backend import ModelDetails, OllamaBackend
from tui.core.hardware import GpuSnapshot
from tui.core.pulls import DiskSpace, PullManager, PullState
from tui.screens.confirm import ConfirmPullScreen
from tui.screens.picker import (
    ConfirmDeleteScreen,
    MachineFigures,
    ModelDetailsScreen,
    ModelPickerScreen,
    details_text,
)
from tui.demo import Faults, SimModel, SimulatedOllama

GIB = 1024**3
RTX_4090 = MachineFigures((GpuSnapshot(0, "NVIDIA GeForce RTX 4090", 24 * GIB, int(0.6 * GIB)),), None, 23 * GIB)
NO_GPU = MachineFigures((), "no NVIDIA GPU: NVML Shared Library Not Found", 23 * GIB)
BIG = "deepseek-r1:32b"  # in the simulated registry, not installed: 19.9 GB
BIG_BYTES = 19_851_336_256


def notices(app: Any) -> list[str]:
    """Toasts raised so far (Textual keeps them on the app; they render on a later frame)."""
    return [notification.message for notification in app._notifications]


def cpu_share(verdict: str) -> int:
    """"partial: 11% on CPU" → 11."""
    return int(verdict.split()[1].rstrip("%"))


def installed_on_server(sim: SimulatedOllama) -> set[str]:
    return {m["name"] for m in httpx.get(f"{sim.url}/api/tags").json()["models"]}


class Picker:
    """The real app with the picker pushed over the chat, and the pull manager the app would own."""

    def __init__(self, sim: SimulatedOllama, machine: MachineFigures = RTX_4090) -> None:
        self.app = make_app(sim.url)
        self.pulls = PullManager(self.app.backend, min_interval=0.05)
        # Plenty of free disk, whatever the machine running the tests has: pulls are confirmed with y.
        self.screen = ModelPickerScreen(self.app.backend, self.pulls, machine,
                                        disk_space=lambda: DiskSpace(2_000_000_000_000, Path("/srv/ollama/models")))
        self.results: list[str | None] = []
        self.frames: list[str] = []

    async def open(self, pilot: Any) -> None:
        await wait_connected(pilot)
        self.app.push_screen(self.screen, callback=self.results.append)
        await wait_for(pilot, lambda: self.screen.loaded and self.screen.is_current)
        # Subscribed after the screen: sees the pulls area as the screen just drew it, on every change,
        # so progress is checked however fast the pull runs next to other tests.
        self.pulls.subscribe(lambda pull: self.frames.append(self.pulls_area() + "\n" + self.cell(BIG, "installed")))
        await pilot.pause()

    async def pull(self, pilot: Any) -> None:
        """p on the selected tag, then y in the dialog that asks first."""
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(self.app.screen, ConfirmPullScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: self.screen.is_current)

    def pulls_area(self) -> str:
        return str(self.screen.query_one("#pulls-text", Static).content)

    @property
    def table(self) -> DataTable[Any]:
        return self.screen.query_one(DataTable)

    def cell(self, tag: str, column: str) -> str:
        return str(self.table.get_cell(tag, column))

    def select(self, tag: str) -> None:
        self.table.move_cursor(row=self.table.get_row_index(tag), animate=False)

    def text(self) -> str:
        return screen_text(self.app)


@pytest.fixture
async def picker(sim: SimulatedOllama) -> AsyncIterator[Picker]:
    harness = Picker(sim)
    yield harness
    await harness.pulls.aclose()


# -- the list ----------------------------------------------------------------------------


async def test_lists_installed_tags_verdicts_and_the_recommendation(picker: Picker) -> None:
    async with picker.app.run_test(size=(120, 40)) as pilot:
        await picker.open(pilot)
        for tag in ("deepseek-r1:1.5b", "deepseek-r1:7b", "deepseek-r1:8b", "deepseek-r1:14b"):
            assert picker.cell(tag, "installed") == "yes"
        assert picker.cell(BIG, "installed") == ""
        assert picker.cell("deepseek-r1:7b", "verdict") == "fits on GPU"
        assert picker.cell("deepseek-r1:70b", "verdict").startswith("partial: ")
        assert picker.cell("deepseek-r1:70b", "verdict").endswith("% on CPU")
        assert picker.cell("deepseek-r1:671b", "verdict") == "does not fit"
        assert picker.cell("deepseek-r1:7b", "quality") == "55.5 / 92.8"
        text = picker.text()
        assert "★ recommended: deepseek-r1:32b — largest that fits fully in 23.4 GiB at 8k context" in text
        assert "★ 32b" in text  # the row itself is marked
        assert "NVIDIA GeForce RTX 4090 · 23.4 GiB free of 24.0" in text
        assert "partial offload" in text  # the 70b's warning
        assert picker.screen.selected_tag() == BIG  # the cursor starts on the pick


async def test_a_loaded_model_fits_in_the_memory_it_already_holds(sim: SimulatedOllama) -> None:
    """8 GiB card with deepseek-r1:7b loaded: NVML counts its memory as used, yet the 7b plainly fits."""
    sim.mark_loaded("deepseek-r1:7b", "5m", 8192)
    held = sim.loaded["deepseek-r1:7b"]["size_vram"]
    used = int(0.6 * GIB) + held
    machine = MachineFigures((GpuSnapshot(0, "NVIDIA GeForce RTX 3070", 8 * GIB, used),), None, 23 * GIB)
    picker = Picker(sim, machine)
    try:
        async with picker.app.run_test(size=(120, 40)) as pilot:
            await picker.open(pilot)
            assert [m.name for m in picker.screen.loaded_models] == ["deepseek-r1:7b"]
            assert picker.cell("deepseek-r1:7b", "verdict") == "fits on GPU"
            # The others are judged against what is really free beside the loaded 7b.
            assert picker.cell("deepseek-r1:8b", "verdict").startswith("partial: ")
            assert picker.cell("deepseek-r1:1.5b", "verdict") == "fits on GPU"
    finally:
        await picker.pulls.aclose()


async def test_installed_models_outside_the_catalog_are_listed_with_estimates(sim: SimulatedOllama) -> None:
    sim.models["r1-custom:7b"] = SimModel("r1-custom:7b", 4_683_075_271, "7.6B")  # built from a Modelfile
    picker = Picker(sim)
    async with picker.app.run_test(size=(120, 40)) as pilot:
        await picker.open(pilot)
        assert picker.cell("r1-custom:7b", "installed") == "yes"
        assert picker.cell("r1-custom:7b", "verdict") == "fits on GPU"
        # the server's architecture figures give the same estimate as the catalog's 7b
        assert picker.cell("r1-custom:7b", "memory") == picker.cell("deepseek-r1:7b", "memory")


async def test_context_and_kv_cache_change_every_estimate_live(picker: Picker) -> None:
    async with picker.app.run_test(size=(120, 40)) as pilot:
        await picker.open(pilot)
        at_8k = picker.cell(BIG, "memory")
        assert picker.cell(BIG, "verdict") == "fits on GPU"
        await pilot.press("right_square_bracket", "right_square_bracket")  # 8k → 16k → 32k
        assert picker.screen.ctx == 32768
        at_32k = picker.cell(BIG, "memory")
        assert float(at_32k.split()[0]) > float(at_8k.split()[0]) + 5  # 6 GiB more KV cache
        verdict_f16 = picker.cell(BIG, "verdict")
        assert verdict_f16.startswith("partial: ")
        assert "★ recommended: deepseek-r1:14b — largest that fits fully in 23.4 GiB at 32k context" in picker.text()
        await pilot.press("k")  # f16 → q8_0 roughly halves the KV cache
        assert picker.screen.kv_cache == "q8_0"
        assert float(picker.cell(BIG, "memory").split()[0]) < float(at_32k.split()[0]) - 3
        verdict_q8 = picker.cell(BIG, "verdict")
        assert cpu_share(verdict_q8) < cpu_share(verdict_f16)  # fewer layers left on the CPU
        # the dropdown drives the same estimate
        picker.screen.query_one("#ctx", Select).value = 2048
        await pilot.pause()
        assert picker.screen.ctx == 2048
        assert float(picker.cell(BIG, "memory").split()[0]) < float(at_8k.split()[0])


async def test_enter_uses_an_installed_tag_for_chat(picker: Picker) -> None:
    async with picker.app.run_test(size=(120, 40)) as pilot:
        await picker.open(pilot)
        picker.select(BIG)
        await pilot.press("enter")  # not installed: stays, says why
        await wait_for(pilot, lambda: any("not installed: press p" in n for n in notices(picker.app)))
        assert picker.results == [] and picker.screen.is_current
        picker.select("deepseek-r1:14b")
        await pilot.press("enter")
        await wait_for(pilot, lambda: picker.results == ["deepseek-r1:14b"])


async def test_without_a_gpu_it_says_so_and_recommends_for_ram(sim: SimulatedOllama) -> None:
    picker = Picker(sim, NO_GPU)
    async with picker.app.run_test(size=(120, 40)) as pilot:
        await picker.open(pilot)
        text = picker.text()
        assert ("no NVIDIA GPU: NVML Shared Library Not Found — recommending for CPU with 23 GiB RAM as the limit"
                in text)
        pick = str(picker.screen.query_one("#recommendation", Static).content)
        assert "largest that fits in 20.7 GiB of RAM (2.3 GiB of 23.0 kept free) at 8k context" in pick
        assert "reaches 5 tokens/s" in pick  # picked for a usable speed, not only for fitting
        assert picker.cell("deepseek-r1:7b", "verdict") == "CPU only, ~4.3 tok/s"
        assert picker.cell("deepseek-r1:70b", "verdict") == "does not fit"


# -- pulls ----------------------------------------------------------------------------------


async def test_pull_shows_live_progress_and_ends_installed(sim: SimulatedOllama, picker: Picker) -> None:
    sim.pull_bytes_per_second = 20e9  # the 19.9 GB layer in about a second
    async with picker.app.run_test(size=(120, 40)) as pilot:
        await picker.open(pilot)
        picker.select(BIG)
        await picker.pull(pilot)
        await wait_for(pilot, lambda: picker.cell(BIG, "installed") == "yes")
        live = [frame for frame in picker.frames if "ETA" in frame and "↓ deepseek-r1:32b" in frame]
        assert live, picker.frames  # a summary line with bar, bytes, speed and ETA while it ran
        assert any("GB/s" in frame and "GB / 19.9 GB" in frame for frame in live)
        assert any(frame.splitlines()[-1].endswith("%") for frame in live)  # the row's installed column
        layer = [line for frame in live for line in frame.splitlines() if line.startswith("    ")]
        assert any("/ 19.9 GB" in line and "GB/s" in line for line in layer)  # the weights layer on its own line
        assert "✓ pulled deepseek-r1:32b (19.9 GB)" in picker.text()
        assert BIG in installed_on_server(sim)
        picker.select(BIG)
        await pilot.press("enter")  # usable for chat straight away
        await wait_for(pilot, lambda: picker.results == [BIG])


async def test_cancel_keeps_the_partial_download_and_a_repull_resumes(sim: SimulatedOllama, picker: Picker) -> None:
    sim.pull_bytes_per_second = 2e9  # slow enough that the cancel lands mid-pull however busy the machine is
    async with picker.app.run_test(size=(120, 40)) as pilot:
        await picker.open(pilot)
        picker.select(BIG)
        await picker.pull(pilot)
        await wait_for(pilot, lambda: (p := picker.pulls.get(BIG)) is not None and p.completed_bytes > 5e8)
        await pilot.press("c")
        await wait_for(pilot, lambda: picker.pulls.get(BIG).state is PullState.CANCELLED)
        stopped_at = picker.pulls.get(BIG).completed_bytes
        await wait_for(pilot, lambda: "■ pull of deepseek-r1:32b cancelled at" in picker.text())
        assert BIG not in installed_on_server(sim)
        sim.pull_bytes_per_second = 40e9
        await picker.pull(pilot)
        pull = await picker.pulls.wait(BIG)
        assert any("resumed at" in frame for frame in picker.frames)
        assert pull.state is PullState.DONE
        assert pull.tracker.resumed_bytes >= stopped_at * 0.9  # picked up where it stopped, not from zero
        await wait_for(pilot, lambda: picker.cell(BIG, "installed") == "yes")


async def test_error_mid_pull_lands_on_that_pull_and_the_app_keeps_working(sim: SimulatedOllama,
                                                                          picker: Picker) -> None:
    sim.pull_bytes_per_second = 20e9
    sim.faults = Faults(pull_error_after_bytes=6_000_000_000)
    async with picker.app.run_test(size=(120, 40)) as pilot:
        await picker.open(pilot)
        picker.select(BIG)
        await picker.pull(pilot)
        await wait_for(pilot, lambda: picker.cell(BIG, "installed") == "failed")
        text = picker.text()
        assert "✖ pull of deepseek-r1:32b failed after 6.0 GB of 19.9 GB" in text
        assert "no space left on device" in text and "free disk space on the server" in text
        # a tag the registry doesn't have fails on its own row, the first failure stays
        picker.select("deepseek-r1:7b-qwen-distill-q8_0")
        await picker.pull(pilot)
        await wait_for(pilot, lambda: "is not a tag the registry knows" in picker.text())
        assert "no space left on device" in picker.text()
        # and the app carries on: back to the chat, which still answers
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(picker.app.screen, ModelPickerScreen))
        await send_and_wait(pilot, "Still there?")
        assert picker.app.screen.conversation.turns[-1].answer


async def test_pull_keeps_running_after_the_picker_closes(sim: SimulatedOllama, picker: Picker) -> None:
    sim.pull_bytes_per_second = 20e9
    async with picker.app.run_test(size=(120, 40)) as pilot:
        await picker.open(pilot)
        picker.select(BIG)
        await picker.pull(pilot)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(picker.app.screen, ModelPickerScreen))
        pull = await picker.pulls.wait(BIG)
        assert pull.state is PullState.DONE and BIG in installed_on_server(sim)


# -- delete and details --------------------------------------------------------------------------


async def test_delete_asks_first_then_removes_the_model(sim: SimulatedOllama, picker: Picker) -> None:
    async with picker.app.run_test(size=(120, 40)) as pilot:
        await picker.open(pilot)
        picker.select("deepseek-r1:7b")
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(picker.app.screen, ConfirmDeleteScreen))
        assert "Delete deepseek-r1:7b (4.7 GB) from the server?" in picker.text()
        await pilot.press("n")
        await wait_for(pilot, lambda: picker.screen.is_current)
        assert "deepseek-r1:7b" in installed_on_server(sim)
        await pilot.press("delete")
        await wait_for(pilot, lambda: isinstance(picker.app.screen, ConfirmDeleteScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: picker.cell("deepseek-r1:7b", "installed") == "")
        assert "deepseek-r1:7b" not in installed_on_server(sim)


async def test_details_show_what_the_server_says(picker: Picker) -> None:
    async with picker.app.run_test(size=(120, 40)) as pilot:
        await picker.open(pilot)
        picker.select("deepseek-r1:7b")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(picker.app.screen, ModelDetailsScreen))
        await pilot.pause()
        text = picker.text()
        assert "capabilities    completion, thinking" in text
        assert "quantization    Q4_K_M" in text and "context length  131072" in text
        assert "MIT License" in text
        assert "{{- range $i, $_ := .Messages }}" in text  # the template, literally
        await pilot.press("escape")
        await wait_for(pilot, lambda: picker.screen.is_current)


def test_details_are_shown_inert() -> None:
    details = ModelDetails("evil:1b", capabilities=("completion",), template="[bold]x[/bold]\x1b]52;c;ZXZpbA==\x07",
                           license="\x1b[31mred\x1b[0m")
    sections = dict(details_text("evil:1b", details, None))
    assert sections["template"] == "[bold]x[/bold]␛]52;c;ZXZpbA==␇"
    assert sections["license"] == "␛[31mred␛[0m"


# -- the manager on its own --------------------------------------------------------------------


async def test_manager_reports_every_state_and_the_end_exactly_once(sim: SimulatedOllama) -> None:
    sim.pull_bytes_per_second = 40e9
    backend = OllamaBackend(sim.url)
    seen: list[tuple[PullState, int]] = []
    manager = PullManager(backend, lambda pull: seen.append((pull.state, pull.completed_bytes)), min_interval=0.0)
    try:
        manager.start(BIG)
        assert manager.start(BIG) is manager.get(BIG)  # a second start while running is the same pull
        pull = await manager.wait(BIG)
    finally:
        await backend.aclose()
    assert pull.state is PullState.DONE and pull.error is None
    assert pull.total_bytes == BIG_BYTES + 387 + 1065 + 148
    assert [state for state, _ in seen].count(PullState.DONE) == 1 and seen[-1][0] is PullState.DONE
    progress = [done for state, done in seen if state is PullState.RUNNING]
    assert len(progress) > 5 and progress == sorted(progress)


async def test_manager_never_raises_for_an_unreachable_server() -> None:
    server = SimulatedOllama().start()
    url = server.url
    server.stop()
    backend = OllamaBackend(url)
    manager = PullManager(backend)
    try:
        manager.start(BIG)
        pull = await manager.wait(BIG)
    finally:
        await backend.aclose()
    assert pull.state is PullState.FAILED
    assert pull.error == (f"pull of {BIG} failed: cannot reach the Ollama server at {url}"
                          " — is `ollama serve` running?")


async def test_a_broken_listener_does_not_stop_the_download(sim: SimulatedOllama) -> None:
    sim.pull_bytes_per_second = 100e9
    backend = OllamaBackend(sim.url)

    def broken(pull: Any) -> None:
        raise RuntimeError("screen gone")

    manager = PullManager(backend, broken)
    try:
        manager.start("deepseek-r1:70b")
        pull = await asyncio.wait_for(manager.wait("deepseek-r1:70b"), 30)
    finally:
        await backend.aclose()
    assert pull.state is PullState.DONE


# -- snapshots ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_picker_snapshot(snap_compare, sim: SimulatedOllama, size: tuple[int, int]) -> None:
    harness = Picker(sim)

    async def run_before(pilot: Any) -> None:
        await harness.open(pilot)

    assert snap_compare(harness.app, terminal_size=size, run_before=run_before)
