"""The fleet poller against simulated hosts over real HTTP: each row field, each failure, and concurrency."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

from tests.conftest import PROXY_TOKEN
from tests.fake_nvml import GIB, FakeGpu, FakeNvml, no_library
from tui.core.fleet import FleetPoller, HostRow, fleet_hosts, fleet_json
from tui.core.hosts import HostProfile
from tui.demo import SimulatedOllama
from tui.demo.dcgm import SimGpu, SimulatedDcgm
from tui.demo.engines import SimulatedEngine
from tui.demo.silent import SilentHost

REFUSED = "http://127.0.0.1:1"  # nothing listens on port 1


@pytest.fixture
def dcgm() -> Iterator[SimulatedDcgm]:
    with SimulatedDcgm() as exporter:
        yield exporter


@pytest.fixture
def silent() -> Iterator[SilentHost]:
    with SilentHost() as host:
        yield host


async def poll(*hosts: HostProfile, timeout: float = 5.0, nvml: object = None, rounds: int = 1,
               between=None) -> list[HostRow]:
    """The rows of the last of `rounds` polls; `between()` runs between two rounds."""
    poller = FleetPoller(hosts, timeout=timeout, nvml=nvml or no_library())
    try:
        rows: list[HostRow] = []
        for index in range(rounds):
            if index and between is not None:
                between()
            rows = await poller.poll_all()
        return rows
    finally:
        await poller.aclose()


# -- what a reachable host shows --------------------------------------------------------------


async def test_a_vllm_node_shows_its_engine_model_load_and_exporter_gpus(engine_sim: SimulatedEngine,
                                                                         dcgm: SimulatedDcgm) -> None:
    engine_sim.running_streams, engine_sim.load.waiting, engine_sim.load.kv_cache_usage = 2, 1, 0.37
    (row,) = await poll(HostProfile("node", engine_sim.url, gpu_metrics=dcgm.url))
    assert (row.reachable, row.error, row.engine, row.version) == (True, "", "vllm", "0.16.0")
    (model,) = row.models
    assert (model.name, model.context_length) == ("deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", 32768)  # max_model_len
    assert (row.requests_running, row.requests_waiting) == (2, 1)
    assert row.kv_cache_usage == pytest.approx(0.37)
    assert row.gpu_source == "dcgm"
    assert [(g.index, g.name, g.utilization_percent) for g in row.gpus] == [
        (0, "NVIDIA H100 80GB HBM3", 87.0), (1, "NVIDIA H100 80GB HBM3", 83.0)]
    assert row.gpus[0].power_watts == 512.3 and row.gpus[0].temperature_c == 64.0


async def test_vllm_tokens_per_second_come_from_two_polls(engine_sim: SimulatedEngine) -> None:
    def generate() -> None:
        engine_sim.load.generation_tokens_total += 400

    (row,) = await poll(HostProfile("node", engine_sim.url), rounds=2, between=generate)
    assert row.generation_tps is not None and row.generation_tps > 0
    assert row.tps_history == (row.generation_tps,)


@pytest.mark.parametrize("engine_sim", ["sglang", "llama.cpp"], indirect=True)
async def test_engines_that_report_their_own_rate_show_it_at_once(engine_sim: SimulatedEngine) -> None:
    engine_sim.load.recent_tps = 88.5
    (row,) = await poll(HostProfile("box", engine_sim.url))
    assert row.engine == engine_sim.flavour
    assert row.generation_tps == pytest.approx(88.5)
    assert row.models and row.models[0].context_length > 0


async def test_an_ollama_host_shows_its_loaded_models_with_their_gpu_cpu_split(sim: SimulatedOllama) -> None:
    sim.vram_fraction = 0.6
    sim.mark_loaded("deepseek-r1:7b", "5m", 4096)
    (row,) = await poll(HostProfile("ws", sim.url))
    assert (row.engine, row.version) == ("ollama", "0.12.6")
    (model,) = row.models
    assert (model.name, model.processor, model.context_length) == ("deepseek-r1:7b", "40%/60% CPU/GPU", 4096)
    assert row.requests_running is None and row.kv_cache_usage is None  # Ollama reports neither: not zero
    assert "deepseek-r1:7b spilled to CPU (40%/60% CPU/GPU)" in row.flags


async def test_a_host_on_this_machine_shows_the_nvml_gpus(sim: SimulatedOllama) -> None:
    nvml = FakeNvml([FakeGpu(name="NVIDIA GeForce RTX 4090", total=24 * GIB, used=6 * GIB, utilization=55)])
    (row,) = await poll(HostProfile("local", sim.url), nvml=nvml)
    assert row.gpu_source == "nvml"
    assert [(g.name, g.vram_used_bytes, g.utilization_percent) for g in row.gpus] == [
        ("NVIDIA GeForce RTX 4090", 6 * GIB, 55.0)]


async def test_a_remote_host_without_an_exporter_says_how_to_get_its_gpus() -> None:
    (row,) = await poll(HostProfile("lab", "http://gpu-box.invalid:8000"))
    assert row.reachable is False and row.error == "host name not resolved"
    assert row.gpus == () and "gpu_metrics" in row.gpu_error  # this machine's GPUs are not the lab's


async def test_a_configured_engine_is_not_detected_again(engine_sim: SimulatedEngine) -> None:
    (row,) = await poll(HostProfile("node", engine_sim.url, engine="vllm"))
    assert row.engine == "vllm"
    assert not any(path in ("/api/version", "/get_server_info", "/props") for _, path, *_ in engine_sim.requests)


# -- flags ---------------------------------------------------------------------------------------


async def test_gpus_near_full_are_flagged(engine_sim: SimulatedEngine) -> None:
    with SimulatedDcgm([SimGpu(used_mib=79_800), SimGpu(used_mib=40_000)]) as full:
        (row,) = await poll(HostProfile("node", engine_sim.url, gpu_metrics=full.url))
    assert row.flags == ("GPU0 memory 98% full",)


async def test_a_growing_queue_and_a_full_kv_cache_are_flagged(engine_sim: SimulatedEngine) -> None:
    engine_sim.load.waiting = 2

    def more_waiting() -> None:
        engine_sim.load.waiting, engine_sim.load.kv_cache_usage = 6, 0.97

    (row,) = await poll(HostProfile("node", engine_sim.url), rounds=2, between=more_waiting)
    assert row.flags == ("queue growing: 6 waiting", "KV cache 97% full")


async def test_a_quiet_host_has_no_flags(engine_sim: SimulatedEngine, dcgm: SimulatedDcgm) -> None:
    (row,) = await poll(HostProfile("node", engine_sim.url, gpu_metrics=dcgm.url))
    assert row.flags == ()


async def test_gpu_utilisation_is_remembered_for_the_sparkline(engine_sim: SimulatedEngine,
                                                               dcgm: SimulatedDcgm) -> None:
    def busier() -> None:
        for gpu in dcgm.gpus:
            gpu.util_percent += 10

    (row,) = await poll(HostProfile("node", engine_sim.url, gpu_metrics=dcgm.url), rounds=3, between=busier)
    assert row.util_history == (85.0, 95.0, 105.0)  # the mean of the two GPUs, oldest first


# -- failures --------------------------------------------------------------------------------------


async def test_a_host_that_is_down_says_refused() -> None:
    (row,) = await poll(HostProfile("down", REFUSED))
    assert row.reachable is False
    assert row.error == "connection refused: nothing listens on that port"


async def test_a_host_that_never_answers_times_out_without_delaying_the_others(
        sim: SimulatedOllama, silent: SilentHost) -> None:
    poller = FleetPoller([HostProfile("hung", silent.url), HostProfile("ws", sim.url)], timeout=4.0,
                         nvml=no_library())
    await poller.prepare()
    arrived: dict[str, float] = {}
    started = time.monotonic()
    try:
        rows = await poller.poll_all(lambda row: arrived.setdefault(row.name, time.monotonic() - started))
    finally:
        await poller.aclose()
    hung, ws = rows
    assert ws.reachable and arrived["ws"] < arrived["hung"]
    assert hung.reachable is False and hung.error == "timed out: no answer within 4 s"
    assert silent.connections >= 1  # it did accept the connection
    assert 4.0 <= arrived["hung"] < 8.0  # its own timeout, not the sum of everyone's


@pytest.fixture
def slow_host() -> Iterator[str]:
    """An Ollama look-alike that takes 1.5 s over every answer: each request is within a 2 s timeout,
    but a poll makes several in a row."""

    class Slow(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            time.sleep(1.5)
            body = json.dumps({"version": "0.12.6", "models": []}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Quiet(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # the poller hangs up on it: that is the point

    server = Quiet(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_the_timeout_bounds_the_whole_poll_not_each_request(slow_host: str) -> None:
    (row,) = await poll(HostProfile("slow", slow_host), timeout=2.0)
    assert row.reachable is False and row.error == "timed out: no answer within 2 s"
    assert row.poll_seconds < 3.5


async def test_tls_to_a_plain_http_server_is_a_tls_error(sim: SimulatedOllama) -> None:
    (row,) = await poll(HostProfile("tls", sim.url.replace("http://", "https://")))
    assert row.reachable is False and row.error.startswith("TLS error: ")


async def test_a_refused_token_is_401_and_never_shown(engine_sim: SimulatedEngine, monkeypatch) -> None:
    engine_sim.api_key = "the-right-key"
    monkeypatch.setenv("NODE_TOKEN", "wrong-token-XYZ")
    (row,) = await poll(HostProfile("node", engine_sim.url, token_env="NODE_TOKEN"))
    assert row.reachable is False and row.error.startswith("401 unauthorized")
    assert "wrong-token-XYZ" not in json.dumps(fleet_json([row]))


async def test_a_proxy_that_echoes_the_token_never_gets_it_shown(auth_proxy, monkeypatch) -> None:
    url, seen = auth_proxy
    monkeypatch.setenv("LAB_TOKEN", "not-" + PROXY_TOKEN)
    (row,) = await poll(HostProfile("lab", url, token_env="LAB_TOKEN", engine="ollama"))
    assert seen and row.reachable is False and "401" in row.error
    assert "not-" + PROXY_TOKEN not in json.dumps(fleet_json([row]))


async def test_a_dead_gpu_exporter_does_not_make_the_host_unreachable(engine_sim: SimulatedEngine) -> None:
    (row,) = await poll(HostProfile("node", engine_sim.url, gpu_metrics="http://127.0.0.1:1/metrics"))
    assert row.reachable is True and row.gpus == () and "unreachable" in row.gpu_error


async def test_watch_polls_fast_hosts_again_while_a_hung_one_is_still_waiting(
        sim: SimulatedOllama, silent: SilentHost) -> None:
    poller = FleetPoller([HostProfile("hung", silent.url), HostProfile("ws", sim.url)], timeout=30.0,
                         nvml=no_library())
    seen: list[str] = []
    task = asyncio.ensure_future(poller.watch(lambda row: seen.append(row.name), interval=0.1))
    try:
        deadline = time.monotonic() + 20
        while seen.count("ws") < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await poller.aclose()
    assert seen.count("ws") >= 3 and "hung" not in seen


# -- which hosts, and the JSON contract ------------------------------------------------------------


def test_the_current_server_is_listed_first_unless_it_is_configured() -> None:
    configured = {"lab": HostProfile("lab", "http://lab:11434"), "ws": HostProfile("ws", "http://127.0.0.1:11434")}
    assert [h.name for h in fleet_hosts(configured, "http://127.0.0.1:11434")] == ["lab", "ws"]
    assert [h.name for h in fleet_hosts(configured, "http://other:8000")] == ["other:8000", "lab", "ws"]


async def test_the_json_has_the_contracted_keys(engine_sim: SimulatedEngine, dcgm: SimulatedDcgm) -> None:
    rows = await poll(HostProfile("node", engine_sim.url, gpu_metrics=dcgm.url), HostProfile("down", REFUSED))
    data = json.loads(json.dumps(fleet_json(rows)))
    node, down = data["hosts"]
    assert {"name", "url", "reachable", "error", "engine", "version", "models", "requests_running",
            "requests_waiting", "kv_cache_usage", "generation_tps", "gpus"} <= set(node)
    assert {"index", "name", "util_percent", "vram_used_bytes", "vram_total_bytes", "power_watts",
            "temp_c"} <= set(node["gpus"][0])
    assert node["reachable"] is True and node["error"] is None and 0 <= node["kv_cache_usage"] <= 1
    assert down["reachable"] is False and "refused" in down["error"] and down["models"] == []
