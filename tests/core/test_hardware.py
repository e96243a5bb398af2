"""Hardware sampling with a stand-in NVML: what the panel and `doctor` will show."""

from __future__ import annotations

from dataclasses import replace

import dataclasses
import os
import threading
import time

import psutil
import pytest

from tests.fake_nvml import (
    GIB,
    NVML_ERROR_DRIVER_NOT_LOADED,
    FakeGpu,
    FakeNvml,
    FakeProcess,
    no_library,
    one_gpu,
    two_gpus,
)
from tui.core import hardware
from tui.core.hardware import (
    CpuSnapshot,
    GpuProcess,
    GpuSnapshot,
    HardwareSampler,
    HardwareSnapshot,
    MemorySnapshot,
    ProcessSnapshot,
    read_gpus,
)


def test_one_gpu_reports_every_figure_in_user_units() -> None:
    gpus, error = read_gpus(one_gpu())

    assert error is None
    assert gpus == [GpuSnapshot(
        index=0, name="NVIDIA GeForce RTX 4090", vram_total_bytes=24 * GIB, vram_used_bytes=6 * GIB,
        utilization_percent=87.0, temperature_c=64.0, power_watts=312.0, power_limit_watts=450.0,
        processes=(),
    )]
    assert gpus[0].vram_free_bytes == 18 * GIB


def test_two_gpus_each_with_its_own_index_and_figures() -> None:
    gpus, error = read_gpus(two_gpus())

    assert error is None
    assert [(g.index, g.name, g.vram_used_bytes) for g in gpus] == [
        (0, "NVIDIA A100-SXM4-80GB", 41 * GIB),  # bytes from older bindings are decoded
        (1, "NVIDIA A100-SXM4-80GB", 1 * GIB),
    ]
    assert gpus[0].utilization_percent == 95.0 and gpus[1].utilization_percent == 0.0
    assert gpus[1].power_watts == 61.0


def test_no_library_says_why_in_nvml_words() -> None:
    nvml = no_library()
    gpus, error = read_gpus(nvml)

    assert gpus == []
    assert error == "no NVIDIA GPU: NVML Shared Library Not Found"


def test_driver_not_loaded_is_reported_not_raised() -> None:
    gpus, error = read_gpus(FakeNvml([FakeGpu()], init_error=NVML_ERROR_DRIVER_NOT_LOADED))

    assert gpus == [] and error == "no NVIDIA GPU: Driver Not Loaded"


def test_nvml_with_zero_devices_is_no_gpu() -> None:
    gpus, error = read_gpus(FakeNvml([]))

    assert gpus == [] and error is not None and error.startswith("no NVIDIA GPU:")


def test_unsupported_optional_figures_are_none_and_the_gpu_still_shows() -> None:
    nvml = one_gpu(utilization=None, temperature=None, power_mw=None, power_limit_mw=None, processes=None)
    gpus, error = read_gpus(nvml)

    assert error is None
    (gpu,) = gpus
    assert (gpu.utilization_percent, gpu.temperature_c, gpu.power_watts, gpu.power_limit_watts) == (None,) * 4
    assert gpu.processes == ()
    assert gpu.vram_used_bytes == 6 * GIB


def test_gpu_processes_get_psutil_names_and_unknown_memory_stays_unknown() -> None:
    me = os.getpid()
    nvml = one_gpu(processes=[FakeProcess(me, 5 * GIB), FakeProcess(2**22 + 7, None)])
    (gpu,), _ = read_gpus(nvml)

    assert gpu.processes[0] == GpuProcess(me, psutil.Process(me).name(), 5 * GIB)
    # A pid from another namespace: no name here, and no invented VRAM figure.
    assert gpu.processes[1] == GpuProcess(2**22 + 7, "", None)


def test_read_gpus_releases_nvml() -> None:
    nvml = one_gpu()
    read_gpus(nvml)

    assert nvml.init_calls == 1 and nvml.shutdown_calls == 1 and not nvml.initialised


def test_snapshot_has_cpu_and_ram_of_this_machine() -> None:
    snapshot = HardwareSampler(nvml=one_gpu()).sample_once()

    assert snapshot.cpu.count == psutil.cpu_count()
    assert len(snapshot.cpu.per_core) == psutil.cpu_count()
    assert 0.0 <= snapshot.cpu.percent <= 100.0
    assert snapshot.memory.total_bytes == psutil.virtual_memory().total
    assert 0 < snapshot.memory.available_bytes <= snapshot.memory.total_bytes
    assert snapshot.memory.used_bytes == snapshot.memory.total_bytes - snapshot.memory.available_bytes
    assert abs(snapshot.taken_at - time.time()) < 5


def test_cpu_percent_reflects_load_between_samples() -> None:
    sampler = HardwareSampler(nvml=no_library())
    sampler.sample_once()
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:  # keep one core busy
        pass
    busy = sampler.sample_once().cpu

    # One core's worth of work shows in the per-core view (the thread may hop cores) and the total.
    assert sum(busy.per_core) > 50.0
    assert busy.percent >= 100.0 / busy.count * 0.5


def test_snapshots_are_immutable() -> None:
    snapshot = HardwareSampler(nvml=one_gpu(processes=[FakeProcess(1, GIB)])).sample_once()

    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.gpu_error = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.gpus[0].vram_used_bytes = 0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.cpu.percent = 0.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.memory.total_bytes = 0  # type: ignore[misc]
    # Collections are tuples: nothing the UI holds can change under it.
    assert isinstance(snapshot.gpus, tuple) and isinstance(snapshot.gpus[0].processes, tuple)
    assert isinstance(snapshot.cpu.per_core, tuple) and isinstance(snapshot.ollama_processes, tuple)


def test_error_mid_run_keeps_cpu_and_ram_then_recovers() -> None:
    nvml = one_gpu()
    sampler = HardwareSampler(nvml=nvml, nvml_retry_seconds=0.0)

    assert sampler.sample_once().gpus  # healthy
    nvml.break_now()
    broken = sampler.sample_once()

    assert broken.gpus == ()
    assert broken.gpu_error == "no NVIDIA GPU: GPU is lost"
    assert broken.cpu.count >= 1 and broken.memory.total_bytes > 0
    assert not nvml.initialised  # the failed session was shut down

    nvml.recover()
    healed = sampler.sample_once()

    assert healed.gpu_error is None and healed.gpus[0].vram_used_bytes == 6 * GIB
    assert nvml.init_calls == 2  # re-initialised, not restarted
    sampler.stop()


def test_nvml_stays_initialised_across_samples() -> None:
    nvml = one_gpu()
    sampler = HardwareSampler(nvml=nvml)
    for _ in range(5):
        sampler.sample_once()

    assert nvml.init_calls == 1 and nvml.initialised
    sampler.stop()
    assert not nvml.initialised


def test_missing_library_is_not_retried_every_sample() -> None:
    nvml = no_library()
    sampler = HardwareSampler(nvml=nvml, nvml_retry_seconds=60.0)
    errors = {sampler.sample_once().gpu_error for _ in range(5)}

    assert errors == {"no NVIDIA GPU: NVML Shared Library Not Found"}
    assert nvml.init_calls == 1


def test_worker_thread_keeps_sampling_through_an_nvml_failure() -> None:
    nvml = FakeNvml([FakeGpu()], fail_after=20)  # a few healthy samples, then the driver fails
    seen: list[HardwareSnapshot] = []
    got_enough = threading.Event()

    def on_sample(snapshot: HardwareSnapshot) -> None:
        seen.append(snapshot)
        if len(seen) >= 8:
            got_enough.set()

    sampler = HardwareSampler(interval=0.02, nvml=nvml, on_sample=on_sample, nvml_retry_seconds=0.0)
    with sampler:
        assert got_enough.wait(10), "the sampler stopped producing snapshots"
    assert not sampler.running

    assert seen[0].gpus and seen[0].gpu_error is None
    assert seen[-1].gpus == () and seen[-1].gpu_error == "no NVIDIA GPU: GPU is lost"
    assert all(s.memory.total_bytes > 0 and s.cpu.count >= 1 for s in seen)
    assert sampler.latest is seen[-1]


def test_a_failing_callback_does_not_stop_sampling() -> None:
    calls: list[int] = []
    done = threading.Event()

    def on_sample(snapshot: HardwareSnapshot) -> None:
        calls.append(1)
        if len(calls) >= 3:
            done.set()
        raise RuntimeError("app already closed")

    with HardwareSampler(interval=0.02, nvml=no_library(), on_sample=on_sample):
        assert done.wait(10)


def test_the_history_keeps_only_its_window_oldest_first() -> None:
    """What the panel's sparkline and swap warning read: the last `seconds` of samples, nothing older."""
    from tui.core.hardware_watch import HardwareHistory

    nvml = one_gpu()
    sampler = HardwareSampler(interval=1.0, nvml=nvml)
    history = HardwareHistory(seconds=3.0)
    for used in range(1, 11):
        nvml.gpus[0].used = used * GIB
        snapshot = sampler.sample_once()
        history.add(replace(snapshot, taken_at=float(used)))
    assert [p.vram_used for p in history.points] == [u * GIB for u in range(7, 11)]
    history.add(replace(snapshot, taken_at=400.0))  # e.g. the laptop slept
    assert [p.taken_at for p in history.points] == [400.0]


def test_ollama_vram_is_what_nvml_lists_for_ollama_pids() -> None:
    runner = ProcessSnapshot(pid=4242, name="ollama runner", rss_bytes=GIB, cpu_percent=3.0)
    gpu = GpuSnapshot(0, "GPU", 24 * GIB, 7 * GIB, processes=(
        GpuProcess(4242, "ollama runner", 5 * GIB), GpuProcess(77, "python", GIB)))
    snapshot = HardwareSnapshot(
        taken_at=0.0, gpus=(gpu,), gpu_error=None,
        cpu=CpuSnapshot(1, 0.0, (0.0,), None), memory=MemorySnapshot(1, 1, 0, 0, 0),
        ollama_processes=(runner,))

    assert snapshot.ollama_vram_bytes(gpu) == 5 * GIB
    assert dataclasses.replace(snapshot, ollama_processes=()).ollama_vram_bytes(gpu) is None


def test_ollama_processes_are_found_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    me = psutil.Process()
    monkeypatch.setattr(hardware, "_is_ollama", lambda name: name == me.name())
    monkeypatch.setattr(hardware, "_ollama_label", lambda process: "ollama serve")

    found = hardware.OllamaProcesses().read()

    mine = [p for p in found if p.pid == me.pid]
    assert mine and mine[0].name == "ollama serve"
    assert mine[0].rss_bytes == pytest.approx(me.memory_info().rss, rel=0.5)


@pytest.mark.parametrize("name, expected", [
    ("ollama", True), ("ollama_llama_se", True), ("ollama_llama_server", True), ("python3", False), ("llama", False),
])
def test_ollama_process_names(name: str, expected: bool) -> None:
    assert hardware._is_ollama(name) is expected


def test_real_pynvml_without_a_gpu_gives_a_reason_not_a_crash() -> None:
    import pynvml

    gpus, error = read_gpus(pynvml)  # the real module, even with R1TUI_TEST_FAKE_GPU=1

    if gpus:
        pytest.skip("this machine has an NVIDIA GPU")
    assert error is not None and error.startswith("no NVIDIA GPU: ")
    assert len(error) > len("no NVIDIA GPU: ")  # NVML's reason follows


def test_real_sampler_without_a_gpu_still_samples() -> None:
    sampler = HardwareSampler()
    snapshot = sampler.sample_once()
    sampler.stop()

    assert snapshot.memory.total_bytes > 0
    assert (snapshot.gpus and snapshot.gpu_error is None) or (not snapshot.gpus and snapshot.gpu_error)


def test_a_lost_gpu_is_retried_after_the_wait_not_every_sample() -> None:
    clock = [0.0]
    nvml = one_gpu()
    reader = hardware.NvmlReader(nvml, retry_seconds=10.0, clock=lambda: clock[0])
    assert reader.read()[1] is None
    nvml.break_now()
    assert reader.read() == ([], "no NVIDIA GPU: GPU is lost")
    nvml.recover()

    clock[0] = 5.0
    assert reader.read() == ([], "no NVIDIA GPU: GPU is lost")  # still waiting: no nvmlInit storm
    assert nvml.init_calls == 1
    clock[0] = 10.5
    gpus, error = reader.read()
    assert error is None and len(gpus) == 1 and nvml.init_calls == 2


def test_the_fake_gpu_holds_what_the_simulated_server_loads(sim) -> None:
    """As on a real card: NVML's used VRAM includes the models the server has loaded."""
    import httpx

    from tests.fake_nvml import FakeGpu, FakeNvml

    nvml = FakeNvml([FakeGpu(total=8 * GIB, used=GIB // 2, follows=sim)])
    reader = hardware.NvmlReader(nvml, retry_seconds=0.0)

    def used() -> int:
        gpus, error = reader.read()
        assert error is None
        return gpus[0].vram_used_bytes

    assert used() == GIB // 2
    httpx.post(f"{sim.url}/api/generate", json={"model": "deepseek-r1:7b", "keep_alive": "5m"}).raise_for_status()
    [row] = httpx.get(f"{sim.url}/api/ps").json()["models"]
    assert row["size_vram"] > 4 * GIB
    assert used() == GIB // 2 + row["size_vram"]
    httpx.post(f"{sim.url}/api/generate", json={"model": "deepseek-r1:1.5b", "keep_alive": "5m"}).raise_for_status()
    both = sum(m["size_vram"] for m in httpx.get(f"{sim.url}/api/ps").json()["models"])
    assert used() == GIB // 2 + both
    httpx.post(f"{sim.url}/api/generate", json={"model": "deepseek-r1:7b", "keep_alive": 0}).raise_for_status()
    assert used() == GIB // 2 + sim.loaded["deepseek-r1:1.5b"]["size_vram"]
    httpx.post(f"{sim.url}/api/generate", json={"model": "deepseek-r1:1.5b", "keep_alive": 0}).raise_for_status()
    assert used() == GIB // 2
    reader.close()


def test_under_the_fake_gpu_switch_r1tui_finds_the_fake_card(default_nvml) -> None:
    """R1TUI_TEST_FAKE_GPU=1: code that loads pynvml itself gets the stand-in; otherwise it is left alone."""
    from tui.core.hardware import read_gpus

    gpus, error = read_gpus()
    if default_nvml is None:
        return  # the real pynvml (or none) decides: nothing to check on an unknown machine
    assert error is None and [g.name for g in gpus] == ["NVIDIA GeForce RTX 4090"]
    assert gpus[0].vram_total_bytes == 24 * GIB
