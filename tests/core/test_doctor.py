"""`r1tui doctor`: run as a user would, against the simulated server and a dead port."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.fake_nvml import GIB, FakeProcess, no_library, one_gpu, two_gpus
from tui.core.backend import OllamaBackend
from tui.commands.doctor import collect, render_text
from tui.core.units import ps_size as human_bytes
from tui.demo import SimulatedOllama

ROOT = Path(__file__).resolve().parents[2]


def run_doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "doctor", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=env,
    )


def load(sim: SimulatedOllama, model: str, keep_alive: Any = None) -> None:
    async def go() -> None:
        backend = OllamaBackend(sim.url)
        try:
            await backend.load(model, keep_alive=keep_alive)
        finally:
            await backend.aclose()

    asyncio.run(go())


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_json_matches_the_servers_api_ps_exactly(sim: SimulatedOllama) -> None:
    sim.vram_fraction = 0.41  # partly offloaded to the CPU
    load(sim, "deepseek-r1:7b")
    load(sim, "deepseek-r1:1.5b", keep_alive=-1)
    server_view = httpx.get(f"{sim.url}/api/ps").json()["models"]

    done = run_doctor("--json", "--host", sim.url)

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # exactly one JSON object, nothing else on stdout
    assert report["server"] == {**report["server"], "url": sim.url, "reachable": True,
                                "version": sim.effective_version, "local": True}
    by_name = {m["name"]: m for m in report["loaded_models"]}
    assert set(by_name) == {entry["model"] for entry in server_view}
    for entry in server_view:
        shown = by_name[entry["model"]]
        assert shown["size_bytes"] == entry["size"]
        assert shown["size_vram_bytes"] == entry["size_vram"]
        assert shown["context_length"] == entry["context_length"]
        assert datetime.fromisoformat(shown["expires_at"]) == datetime.fromisoformat(entry["expires_at"])
    assert by_name["deepseek-r1:7b"]["processor"] == "59%/41% CPU/GPU"


def test_json_has_the_contracted_shape_and_types(sim: SimulatedOllama) -> None:
    load(sim, "deepseek-r1:7b")
    report = json.loads(run_doctor("--json", "--host", sim.url).stdout)

    assert isinstance(report["server"]["url"], str) and isinstance(report["server"]["reachable"], bool)
    assert isinstance(report["server"]["version"], str)
    assert isinstance(report["gpus"], list)
    assert report["gpu_error"] is None or isinstance(report["gpu_error"], str)
    assert bool(report["gpus"]) != bool(report["gpu_error"])  # GPUs, or the reason there are none
    for gpu in report["gpus"]:
        assert {type(gpu[k]) for k in ("index", "vram_total_bytes", "vram_used_bytes")} == {int}
        assert isinstance(gpu["name"], str)
    assert report["cpu"]["count"] == psutil.cpu_count() and isinstance(report["cpu"]["percent"], float)
    assert report["ram"]["total_bytes"] == psutil.virtual_memory().total
    assert isinstance(report["ram"]["available_bytes"], int)
    (model,) = report["loaded_models"]
    assert {type(model[k]) for k in ("size_bytes", "size_vram_bytes", "context_length")} == {int}


def test_server_down_is_a_finding_not_a_crash() -> None:
    url = closed_port_url()
    done = run_doctor("--json", "--host", url)

    assert done.returncode == 1, done.stderr  # a script can tell; the JSON is still printed
    report = json.loads(done.stdout)
    assert report["server"]["url"] == url
    assert report["server"]["reachable"] is False and report["server"]["version"] is None
    assert "Cannot reach" in report["server"]["error"]
    assert report["loaded_models"] == []
    # The machine's own figures are still there.
    assert report["ram"]["total_bytes"] > 0 and report["cpu"]["count"] >= 1


def test_help_says_what_the_exit_status_means() -> None:
    text = " ".join(run_doctor("--help").stdout.split())
    assert "exit status 0 when the Ollama server answered, 1 when it could not be reached" in text


def test_host_defaults_to_ollama_host(sim: SimulatedOllama) -> None:
    done = run_doctor("--json", env={**os.environ, "OLLAMA_HOST": sim.url})

    assert json.loads(done.stdout)["server"]["url"] == sim.url


def test_text_report_lists_models_like_ollama_ps(sim: SimulatedOllama) -> None:
    sim.vram_fraction = 0.41
    load(sim, "deepseek-r1:7b")
    size = sim.loaded["deepseek-r1:7b"]["size"]

    done = run_doctor("--host", sim.url)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("Server") and sim.url in line and "reachable" in line for line in lines)
    header = next(line for line in lines if line.startswith("NAME"))
    row = next(line for line in lines if line.startswith("deepseek-r1:7b"))
    assert header.split() == ["NAME", "SIZE", "VRAM", "PROCESSOR", "CONTEXT", "UNTIL"]
    assert human_bytes(size) in row and "59%/41% CPU/GPU" in row and "4096" in row
    # Columns line up: each header starts where its value starts.
    assert row.index("59%/41%") == header.index("PROCESSOR")
    assert "note: the hardware figures" not in done.stdout  # the server is on this machine


def test_text_report_when_server_is_down() -> None:
    done = run_doctor("--host", closed_port_url())

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "NOT reachable" in done.stdout and "RAM" in done.stdout


def test_gpus_come_from_nvml(sim: SimulatedOllama) -> None:
    report = collect(sim.url, nvml=two_gpus())

    assert report["gpu_error"] is None
    assert [(g["index"], g["name"], g["vram_total_bytes"], g["vram_used_bytes"]) for g in report["gpus"]] == [
        (0, "NVIDIA A100-SXM4-80GB", 80 * GIB, 41 * GIB),
        (1, "NVIDIA A100-SXM4-80GB", 80 * GIB, 1 * GIB),
    ]
    json.dumps(report)  # everything in it is JSON-ready
    text = render_text(report)
    assert "41.0 /  80.0 GiB" in text and "1.0 /  80.0 GiB" in text


def test_no_gpu_gives_nvmls_reason(sim: SimulatedOllama) -> None:
    report = collect(sim.url, nvml=no_library())

    assert report["gpus"] == []
    assert report["gpu_error"] == "no NVIDIA GPU: NVML Shared Library Not Found"
    assert "no NVIDIA GPU: NVML Shared Library Not Found" in render_text(report)


def test_ollama_vram_is_matched_by_pid(sim: SimulatedOllama, monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.core import hardware

    me = os.getpid()
    monkeypatch.setattr(hardware, "_is_ollama", lambda name: name == psutil.Process(me).name())
    report = collect(sim.url, nvml=one_gpu(processes=[FakeProcess(me, 5 * GIB)]))

    (gpu,) = report["gpus"]
    assert gpu["ollama_vram_bytes"] == 5 * GIB
    assert any(p["pid"] == me for p in report["ollama_processes"])


def test_remote_server_gets_a_note_that_hardware_is_local(sim: SimulatedOllama) -> None:
    report = collect(sim.url, nvml=no_library())
    report["server"]["local"] = False  # as if --host named another machine

    assert "hardware figures below are of this machine" in render_text(report)


def test_until_column_reads_like_ollama_ps() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    report = {
        "server": {"url": "http://127.0.0.1:11434", "reachable": True, "version": "0.12.6", "local": True},
        "gpus": [], "gpu_error": "no NVIDIA GPU: Driver Not Loaded",
        "cpu": {"count": 1, "percent": 0.0, "load_average": None},
        "ram": {"total_bytes": GIB, "available_bytes": GIB},
        "loaded_models": [
            {"name": "a", "size_bytes": 5_000_000_000, "size_vram_bytes": 5_000_000_000, "context_length": 4096,
             "processor": "100% GPU", "expires_at": (now + timedelta(minutes=4)).isoformat()},
            {"name": "b", "size_bytes": 1_117_322_599, "size_vram_bytes": 0, "context_length": 2048,
             "processor": "100% CPU", "expires_at": (now + timedelta(days=3000)).isoformat()},
        ],
    }
    text = render_text(report, now=now)

    assert "4 minutes from now" in text and "forever" in text
    assert "5 GB" in text and "1.1 GB" in text


@pytest.mark.parametrize("value, shown", [
    (0, "0 B"), (999, "999 B"), (1_000, "1 KB"), (4_683_075_271, "4.7 GB"), (19_851_336_256, "19 GB"),
])
def test_sizes_use_ollamas_decimal_units(value: int, shown: str) -> None:
    assert human_bytes(value) == shown
