"""The hardware panel as a user sees it, mounted alone in a tiny app.

Snapshots are built through `tui.core.hardware` from the stand-in NVML with fixed
CPU and memory figures, loaded models as `/api/ps` would give them, and a
`TokenMeter` on a fake clock, so every figure on screen is known in advance.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest
from textual.app import App, ComposeResult

from tests.fake_nvml import GIB, FakeNvml, FakeProcess, no_library, one_gpu, two_gpus
from tui.core.backend import LoadedModel
from tui.core.hardware import (
    CpuSnapshot,
    HardwareSampler,
    HardwareSnapshot,
    MemorySnapshot,
    ProcessSnapshot,
    read_gpus,
)
from tui.core.metrics import GenerationStats, TokenMeter
from tui.widgets.hardware_panel import HardwarePanel
from tui.widgets.panel_section import PanelSection

MIB = 1024**2
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
RUNNER_PID = 4242
CPU = CpuSnapshot(count=8, percent=23.0, per_core=(0.0, 10.0, 30.0, 50.0, 70.0, 90.0, 100.0, 5.0),
                  load_average=(2.1, 1.8, 1.5))
MEMORY = MemorySnapshot(total_bytes=64 * GIB, available_bytes=50 * GIB, used_bytes=14 * GIB,
                        swap_total_bytes=8 * GIB, swap_used_bytes=0)
OLLAMA = (ProcessSnapshot(101, "ollama serve", 300 * MIB, 1.0),
          ProcessSnapshot(RUNNER_PID, "ollama runner", 5 * GIB, 98.0))
R1_7B = LoadedModel("deepseek-r1:7b", size=5_600_000_000, size_vram=5_600_000_000, context_length=4096,
                    expires_at=NOW + timedelta(minutes=4))
R1_32B_SPLIT = LoadedModel("deepseek-r1:32b", size=21_000_000_000, size_vram=12_390_000_000,
                           context_length=4096, expires_at=NOW + timedelta(minutes=4))


def snapshot(nvml: FakeNvml, *, taken_at: float = 1000.0, memory: MemorySnapshot = MEMORY,
             processes: tuple[ProcessSnapshot, ...] = OLLAMA) -> HardwareSnapshot:
    gpus, error = read_gpus(nvml)
    return HardwareSnapshot(taken_at, tuple(gpus), error, CPU, memory, processes)


def runner_gpu(**overrides: object) -> FakeNvml:
    """One RTX 4090 on which the Ollama runner holds 5.2 GiB."""
    return one_gpu(processes=[FakeProcess(RUNNER_PID, int(5.2 * GIB))], **overrides)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def finished_meter(stats: GenerationStats | None, *, reasoning: int = 150, answer: int = 50) -> TokenMeter:
    """A turn on a fake clock: first token at 0.31 s, then one token every 20 ms."""
    clock = FakeClock()
    meter = TokenMeter(clock=clock)
    clock.now = 0.31
    for index in range(reasoning + answer):
        meter.record(reasoning=index < reasoning, answer=index >= reasoning)
        if index % 10 == 0:
            meter.sample_rate()
        clock.now += 0.02
    meter.finish(stats)
    return meter


STATS = GenerationStats(eval_count=1025, eval_duration_ns=22_630_000_000, prompt_eval_count=24,
                        prompt_eval_duration_ns=19_830_000, load_duration_ns=2_100_000_000)


class PanelHost(App[None]):
    def __init__(self, panel: HardwarePanel) -> None:
        super().__init__()
        self.panel = panel

    def compose(self) -> ComposeResult:
        yield self.panel


def make_panel(feed: Callable[[HardwarePanel], None] | None = None, **kwargs: object) -> HardwarePanel:
    panel = HardwarePanel(wall_clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]
    if feed is not None:
        feed(panel)
    return panel


def visible(app: App[None]) -> str:
    return "\n".join(strip.text.rstrip() for strip in app.screen._compositor.render_strips())


async def shown(panel: HardwarePanel, size: tuple[int, int] = (44, 60)) -> str:
    """Mount `panel` alone and return the screen's text."""
    app = PanelHost(panel)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        return visible(app)


def flat(text: str) -> str:
    """The screen's text as one line, so a sentence that wrapped still reads whole."""
    return " ".join(line.strip(" ▏") for line in text.splitlines() if line.strip(" ▏"))


def tok_s(text: str, after: str) -> float:
    match = re.search(re.escape(after) + r".*?([\d.]+) tok/s", text, re.DOTALL)
    assert match, text
    return float(match.group(1))


# -- GPUs ------------------------------------------------------------------------


async def test_one_gpu_shows_name_vram_util_temperature_power_and_ollamas_share() -> None:
    text = await shown(make_panel(lambda p: p.show_hardware(snapshot(runner_gpu()))))

    assert "0 · GeForce RTX 4090" in text
    assert "25% 6.0/24.0 GiB" in text
    assert "util 87% · 64°C · 312/450 W" in text
    assert "ollama holds 5.2 GiB" in text


async def test_two_gpus_each_get_their_own_figures() -> None:
    text = await shown(make_panel(lambda p: p.show_hardware(snapshot(two_gpus()))))

    assert "GPUs (2)" in text
    assert re.search(r"0 · A100-SXM4-80GB\n.*51% 41.0/80.0 GiB\n.*util 95% · 58°C · 280/400 W", text)
    assert re.search(r"1 · A100-SXM4-80GB\n.*1% 1.0/80.0 GiB\n.*util 0% · 33°C · 61/400 W", text)


async def test_without_a_gpu_it_says_why_and_still_shows_cpu_and_ram() -> None:
    text = await shown(make_panel(lambda p: p.show_hardware(snapshot(no_library()))))

    assert "no NVIDIA GPU: NVML Shared Library Not Found" in flat(text)
    assert "CPU  23% of 8 cores" in text
    assert "22% 14.0/64.0 GiB" in text
    assert "VRAM" not in text


async def test_a_gpu_lost_mid_run_turns_into_the_reason_and_cpu_ram_stay() -> None:
    nvml = runner_gpu()
    sampler = HardwareSampler(nvml=nvml, nvml_retry_seconds=60.0)
    panel = make_panel()
    app = PanelHost(panel)
    async with app.run_test(size=(44, 60)) as pilot:
        panel.show_hardware(sampler.sample_once())
        await pilot.pause()
        assert "GeForce RTX 4090" in visible(app)

        nvml.break_now()
        lost = sampler.sample_once()
        panel.show_hardware(lost)
        await pilot.pause()
        text = visible(app)
    sampler.stop()
    assert "no NVIDIA GPU: GPU is lost" in flat(text)
    assert "GeForce RTX 4090" not in text
    # CPU and RAM keep their figures from the same sample.
    assert lost.gpus == () and lost.memory.total_bytes > 0
    assert f" CPU {lost.cpu.percent:3.0f}% of {lost.cpu.count} cores" in text
    memory = lost.memory
    assert f"{memory.used_bytes / 2**30:.1f}/{memory.total_bytes / 2**30:.1f} GiB" in text


async def test_figures_change_in_place_as_new_samples_arrive() -> None:
    panel = make_panel(lambda p: p.show_hardware(snapshot(runner_gpu(), taken_at=1000.0)))
    app = PanelHost(panel)
    async with app.run_test(size=(44, 60)) as pilot:
        await pilot.pause()
        assert "25% 6.0/24.0 GiB" in visible(app)
        panel.show_hardware(snapshot(runner_gpu(used=12 * GIB, utilization=3), taken_at=1001.0))
        await pilot.pause()
        text = visible(app)
    assert "50% 12.0/24.0 GiB" in text and "util 3%" in text
    assert "6.0/24.0" not in text and "util 87%" not in text


async def test_ollama_vram_is_left_out_rather_than_shown_as_zero_when_nvml_lists_no_process() -> None:
    text = await shown(make_panel(lambda p: p.show_hardware(snapshot(one_gpu(processes=[])))))

    assert "GeForce RTX 4090" in text
    assert "ollama holds" not in text


async def test_figures_a_gpu_does_not_report_are_left_out() -> None:
    text = await shown(make_panel(lambda p: p.show_hardware(
        snapshot(one_gpu(temperature=None, power_mw=None)))))

    assert "util 87%" in text
    assert "°C" not in text and " W" not in text


async def test_vram_sparkline_covers_the_samples_seen_on_a_zero_to_total_scale() -> None:
    def feed(panel: HardwarePanel) -> None:
        for step in range(13):  # 6 GiB for a minute, then the model loads: 22 GiB
            used = 6 if step < 7 else 20
            panel.show_hardware(snapshot(runner_gpu(used=used * GIB), taken_at=1000.0 + 10 * step))

    text = await shown(make_panel(feed))

    assert "VRAM used, last 2 min (0–24.0 GiB)" in text
    assert "▃▃▃▃▃▃▃▇▇▇▇▇▇" in text  # 6/24 of the height, then 20/24


# -- CPU, RAM, Ollama's processes ---------------------------------------------------


async def test_cpu_total_per_core_blocks_load_ram_swap_and_ollama_processes() -> None:
    text = await shown(make_panel(lambda p: p.show_hardware(snapshot(no_library()))))

    assert "▁▁▃▅▆██▁" in text  # 0, 10, 30, 50, 70, 90, 100 and 5% busy: one block per core
    assert "load 2.10 1.80 1.50" in text
    assert "0% 0.0/8.0 GiB" in text  # swap
    assert re.search(r"ollama serve +0.3 GiB RSS +1% CPU", text)
    assert re.search(r"ollama runner +5.0 GiB RSS +98% CPU", text)


# -- loaded models ---------------------------------------------------------------------


async def test_loaded_models_read_like_ollama_ps() -> None:
    forever = LoadedModel("deepseek-r1:1.5b", 1_900_000_000, 1_900_000_000, 2048,
                          expires_at=datetime(2318, 1, 1, tzinfo=timezone.utc))
    text = await shown(make_panel(lambda p: p.show_loaded([R1_32B_SPLIT, forever])))

    assert re.search(r"deepseek-r1:32b\n[ ▏]+41%/59% CPU/GPU · ctx 4096\n[ ▏]+size 21 GB · in VRAM 12 GB\n"
                     r"[ ▏]+unloads in 4 min", text)
    assert re.search(r"deepseek-r1:1.5b\n[ ▏]+100% GPU · ctx 2048\n.*\n[ ▏]+stays loaded", text)


async def test_no_model_loaded_and_ps_errors_are_said_plainly_and_inertly() -> None:
    text = await shown(make_panel(lambda p: p.show_loaded([])))
    assert "no model loaded" in text

    text = await shown(make_panel(lambda p: p.show_loaded([], "cannot reach \x1b[31mhost")))
    assert "/api/ps failed: cannot reach ␛[31mhost" in text


async def test_model_names_from_the_server_are_made_inert() -> None:
    evil = LoadedModel("evil\x1b]52;c;aGk=\x07:7b", 1_000_000_000, 1_000_000_000)
    text = await shown(make_panel(lambda p: p.show_loaded([evil])))

    assert "evil␛]52;c;aGk=␇:7b" in text


# -- warnings --------------------------------------------------------------------------


async def test_a_model_partly_on_cpu_warns_about_the_speed_cost() -> None:
    text = await shown(make_panel(lambda p: p.show_loaded([R1_32B_SPLIT])))

    assert "⚠ deepseek-r1:32b: 41% of the model on CPU: expect several times fewer tokens/s" in flat(text)


async def test_a_model_fully_on_the_gpu_raises_no_warning() -> None:
    def feed(panel: HardwarePanel) -> None:
        panel.show_hardware(snapshot(runner_gpu()))
        panel.show_loaded([R1_7B])

    text = await shown(make_panel(feed))

    assert "⚠" not in text


@pytest.mark.parametrize("used_gib, warned", [(22.8, False), (23.0, True)])
async def test_vram_warning_only_above_95_percent(used_gib: float, warned: bool) -> None:
    text = await shown(make_panel(lambda p: p.show_hardware(snapshot(one_gpu(used=int(used_gib * GIB))))))

    assert ("⚠ GPU 0 VRAM 96% full" in text) is warned


async def test_swap_growing_warns_but_old_pages_sitting_in_swap_do_not() -> None:
    parked = MemorySnapshot(64 * GIB, 50 * GIB, 14 * GIB, 8 * GIB, 2 * GIB)

    def steady(panel: HardwarePanel) -> None:
        for step in range(5):
            panel.show_hardware(snapshot(no_library(), taken_at=1000.0 + step, memory=parked))

    assert "swapping" not in await shown(make_panel(steady))

    def growing(panel: HardwarePanel) -> None:
        for step in range(5):
            memory = MemorySnapshot(64 * GIB, 1 * GIB, 63 * GIB, 8 * GIB, 2 * GIB + step * 40 * MIB)
            panel.show_hardware(snapshot(no_library(), taken_at=1000.0 + step, memory=memory))

    assert "⚠ RAM is swapping: swap grew 160 MiB in the last minute" in flat(await shown(make_panel(growing)))


# -- speed -------------------------------------------------------------------------------


@pytest.mark.parametrize("eval_count, eval_ns", [(1025, 22_630_000_000), (41, 29_900_000_000), (3000, 9_870_000_000)])
async def test_tokens_per_second_after_a_turn_is_the_servers_eval_rate(eval_count: int, eval_ns: int) -> None:
    stats = GenerationStats(eval_count=eval_count, eval_duration_ns=eval_ns)
    text = await shown(make_panel(lambda p: p.show_speed(finished_meter(stats), streaming=False)))

    expected = eval_count / (eval_ns / 1e9)
    assert tok_s(text, "Speed · last turn") == pytest.approx(expected, rel=0.01)
    assert "eval rate (server)" in text


async def test_after_a_turn_the_exact_figures_are_all_there() -> None:
    text = await shown(make_panel(lambda p: p.show_speed(finished_meter(STATS), streaming=False)))

    assert "45.3 tok/s eval rate (server)" in text
    assert "prompt 1210 tok/s · load 2.1 s" in text
    assert "first token 0.31 s · thought 3.0 s" in text
    assert "150 reasoning + 50 answer tokens" in text
    assert "tok/s over the turn (peak 50.0)" in text


async def test_while_streaming_the_live_rate_and_thinking_time_tick() -> None:
    clock = FakeClock()
    meter = TokenMeter(clock=clock)
    panel = make_panel()
    app = PanelHost(panel)
    async with app.run_test(size=(44, 60)) as pilot:
        panel.show_speed(meter, streaming=True)
        await pilot.pause()
        assert "waiting for the first token" in visible(app)

        clock.now = 0.5
        for _ in range(60):  # 25 tokens/s of reasoning
            meter.record(reasoning=True, answer=False)
            clock.now += 0.04
        panel.show_speed(meter, streaming=True)
        await pilot.pause()
        text = visible(app)
    assert "Speed · generating" in text
    assert tok_s(text, "generating") == pytest.approx(25.0, rel=0.01)
    assert "first token 0.50 s · thinking 2.4 s" in text
    assert "eval rate" not in text


async def test_a_stopped_turn_says_the_server_figures_never_came() -> None:
    meter = finished_meter(None)
    text = await shown(make_panel(lambda p: p.show_speed(meter, streaming=False)))

    assert "stopped before the server's figures" in text
    assert "eval rate" not in text
    assert "150 reasoning + 50 answer tokens" in text


# -- remote server, compact form, cheap updates ---------------------------------------------


async def test_a_remote_server_is_called_out_and_the_note_goes_away_when_local() -> None:
    panel = make_panel(lambda p: p.show_hardware(snapshot(runner_gpu())))
    app = PanelHost(panel)
    async with app.run_test(size=(44, 60)) as pilot:
        panel.set_remote("http://gpu-box:11434")
        await pilot.pause()
        remote = flat(visible(app))
        panel.set_remote(None)
        await pilot.pause()
        local = visible(app)
    assert "Server http://gpu-box:11434 is remote: the hardware figures are of this machine" in remote
    assert "(/api/ps), the source of truth for the model" in remote
    assert "remote" not in local


async def test_compact_form_puts_each_group_on_one_line() -> None:
    def feed(panel: HardwarePanel) -> None:
        panel.show_hardware(snapshot(runner_gpu()))
        panel.show_loaded([R1_7B])
        panel.show_speed(finished_meter(STATS), streaming=False)

    panel = make_panel(feed)
    app = PanelHost(panel)
    async with app.run_test(size=(80, 24)) as pilot:
        panel.compact = True
        await pilot.pause()
        lines = [line.strip() for line in visible(app).splitlines() if line.strip()]
        height = panel.outer_size.height
    assert height == 5  # a rule above, then four lines
    assert lines[1:] == [
        "GPU0 GeForce RTX 4090 ██░░░░░░  25% 6.0/24.0 GiB · util 87% · 64°C · 312 W",
        "CPU 23% ×8 · load 2.10 · RAM ██░░░░░░  22% 14.0/64.0 GiB · swap 0.0/8.0 GiB",
        "deepseek-r1:7b · 100% GPU · 5.6 GB · ctx 4096 · unloads in 4 min",
        "45.3 tok/s (server) · prompt 1210 tok/s · first token 0.31 s · thought 3.0 s",
    ]


async def test_the_same_snapshot_twice_is_ignored_and_speed_updates_repaint_only_speed() -> None:
    first = snapshot(runner_gpu())
    panel = make_panel(lambda p: p.show_hardware(first))
    app = PanelHost(panel)
    async with app.run_test(size=(44, 60)) as pilot:
        await pilot.pause()
        updates: list[str] = []
        for static in panel.query(".hp-section").results(PanelSection):
            static.update = _counting(static, updates)  # type: ignore[method-assign]
        panel.show_hardware(first)
        assert updates == []

        panel.show_speed(finished_meter(STATS), streaming=False)
        await pilot.pause()
    assert updates == ["hp-speed"]


async def test_a_hidden_panel_draws_nothing_and_shows_the_latest_figures_when_shown() -> None:
    """Hidden (F2), each update would relayout the whole chat for nothing; shown again, it is current."""
    panel = make_panel(lambda p: p.show_hardware(snapshot(runner_gpu())))
    app = PanelHost(panel)
    async with app.run_test(size=(44, 60)) as pilot:
        await pilot.pause()
        updates: list[str] = []
        for static in panel.query(".hp-section").results(PanelSection):
            static.update = _counting(static, updates)  # type: ignore[method-assign]
        panel.display = False
        await pilot.pause()
        panel.show_hardware(snapshot(runner_gpu(utilization=12)))
        panel.show_speed(finished_meter(STATS), streaming=False)
        await pilot.pause()
        assert updates == []
        panel.display = True
        await pilot.pause()
        text = visible(app)
    assert "util 12%" in text and "45.3 tok/s eval rate (server)" in text
    assert sorted(updates) == ["hp-gpus", "hp-speed"]


def _counting(static: PanelSection, calls: list[str]) -> Callable[..., None]:
    """`static.update`, noting the section's name in `calls` each time it runs."""
    original = static.update
    name = next(c for c in static.classes if c != "hp-section")

    def update(*args: Any, **kwargs: Any) -> None:
        calls.append(name)
        original(*args, **kwargs)

    return update


# -- snapshots ---------------------------------------------------------------------------------


def _full_panel(nvml_factory: Callable[[], FakeNvml], models: list[LoadedModel],
                remote: str | None = None) -> Callable[[HardwarePanel], None]:
    def feed(panel: HardwarePanel) -> None:
        panel.set_remote(remote)
        nvml = nvml_factory()
        for step in range(30):
            panel.show_hardware(snapshot(nvml, taken_at=1000.0 + 10 * step))
        panel.show_loaded(models)
        panel.show_speed(finished_meter(STATS), streaming=False)

    return feed


@pytest.mark.parametrize(
    "nvml_factory, models, remote",
    [(runner_gpu, [R1_7B], None), (two_gpus, [R1_7B], None),
     (no_library, [R1_32B_SPLIT], "http://gpu-box:11434")],  # a laptop without a GPU, talking to a server
    ids=["one-gpu", "two-gpus", "no-gpu-remote-server"],
)
def test_panel_snapshot(snap_compare, nvml_factory: Callable[[], FakeNvml], models: list[LoadedModel],
                        remote: str | None) -> None:
    app = PanelHost(make_panel(_full_panel(nvml_factory, models, remote)))
    assert snap_compare(app, terminal_size=(44, 40))


def test_compact_panel_snapshot(snap_compare) -> None:
    panel = make_panel(_full_panel(runner_gpu, [R1_7B]))
    panel.compact = True
    assert snap_compare(PanelHost(panel), terminal_size=(80, 6))


async def test_polling_the_loaded_models_redraws_the_panel_not_the_whole_screen(sim) -> None:  # type: ignore[no-untyped-def]
    """The panel polls `/api/ps` every few seconds, idle or streaming: each poll used to repaint every
    cell of the screen (1 % of a core idle, and bytes over the SSH link), not just what changed."""
    from tests.apphelpers import make_app, wait_connected

    app = make_app(sim.url, show_panel=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_connected(pilot)
        await pilot.pause()
        whole_screen: list[int] = []
        screen_refresh = app.screen.refresh

        def counting_refresh(*regions: Any, **kwargs: Any) -> Any:
            if not regions:
                whole_screen.append(1)
            return screen_refresh(*regions, **kwargs)

        app.screen.refresh = counting_refresh  # type: ignore[method-assign]
        for _ in range(3):
            app.refresh_loaded()
            await pilot.pause(0.2)
        assert whole_screen == []


def test_while_streaming_the_speed_section_keeps_one_height_from_the_first_tick_to_the_last() -> None:
    """A change of height lays out the whole screen, the streaming chat included: twice a second it must not."""
    from tui.widgets.hardware_panel import speed_section

    clock = FakeClock()
    meter = TokenMeter(clock=clock)
    heights = [speed_section(meter, streaming=True, compact=False).plain.count("\n")]  # waiting for the first token
    clock.now = 0.5
    meter.record(reasoning=True, answer=False)
    heights.append(speed_section(meter, streaming=True, compact=False).plain.count("\n"))  # the first token
    for _ in range(40):
        clock.now += 0.04
        meter.record(reasoning=False, answer=True)
    meter.sample_rate()
    shown = speed_section(meter, streaming=True, compact=False).plain
    heights.append(shown.count("\n"))  # thinking over, the rate's history drawn
    assert "tok/s over the turn (peak" in shown and "1 reasoning + 40 answer tokens" in shown
    assert len(set(heights)) == 1, heights


async def test_the_panel_shown_again_after_a_small_terminal_shows_every_line_of_each_section(sim) -> None:  # type: ignore[no-untyped-def]
    """A short, narrow terminal hides the panel (compact meanwhile); back to full size, no section is cut short."""
    from tests.apphelpers import make_app, wait_connected, wait_for

    app = make_app(sim.url, show_panel=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_connected(pilot)
        panel = app.screen.query_one(HardwarePanel)
        await wait_for(pilot, lambda: panel.query_one(".hp-cpu", PanelSection).size.height >= 5)  # a first sample

        def heights() -> dict[str, int]:
            sections = {name: panel.query_one(f".hp-{name}", PanelSection) for name in ("gpus", "cpu", "models", "speed")}
            return {name: section.size.height for name, section in sections.items()}

        before = heights()
        assert before["cpu"] >= 5 and before["gpus"] >= 2  # titled, several lines each
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not panel.display
        await pilot.resize_terminal(160, 50)
        await pilot.pause()
        await pilot.pause()
        assert panel.display and not panel.compact
        assert heights() == before
        cpu = panel.query_one(".hp-cpu", PanelSection)
        rows = [strip.text for strip in cpu.render_lines(cpu.region.reset_offset)]
        assert any("swap" in row for row in rows) and any("load" in row for row in rows)  # its last lines
