"""An engine's load from its own /metrics (parsed by prometheus_client), per engine and metric generation."""

from __future__ import annotations

import httpx
import pytest

from tui.core.engine_metrics import EngineLoadReader, parse_engine_metrics
from tui.demo.engines import SimulatedEngine


async def read_twice(sim: SimulatedEngine, clock_values: list[float]):
    clock = iter(clock_values)
    async with httpx.AsyncClient(base_url=sim.url) as http:
        reader = EngineLoadReader(http, sim.flavour, clock=lambda: next(clock))
        first = await reader.read()
        sim.load.generation_tokens_total += 600
        second = await reader.read()
    return first, second


@pytest.mark.parametrize("flavour", ["vllm", "sglang", "llama.cpp"])
async def test_running_and_waiting_requests_are_the_engines_own_counts(flavour):
    with SimulatedEngine(flavour) as sim:
        sim.running_streams, sim.load.waiting = 2, 5
        first, _ = await read_twice(sim, [0.0, 2.0])
    assert (first.requests_running, first.requests_waiting) == (2, 5)
    assert first.problem == ""


@pytest.mark.parametrize("flavour, version", [("vllm", "0.16.0"), ("vllm", "0.9.0"), ("sglang", None)])
async def test_kv_cache_use_is_read_under_the_name_this_version_uses(flavour, version):
    with SimulatedEngine(flavour, version=version) as sim:
        sim.load.kv_cache_usage = 0.42
        text = sim.metrics_text().decode()
        first, _ = await read_twice(sim, [0.0, 1.0])
    old = "vllm:gpu_cache_usage_perc" in text
    assert old == (version == "0.9.0")
    assert first.kv_cache_usage == pytest.approx(0.42)


async def test_vllm_tokens_per_second_come_from_the_rise_of_its_counter():
    with SimulatedEngine("vllm") as sim:
        first, second = await read_twice(sim, [10.0, 12.0])
    assert first.generation_tps is None  # one read has no rate yet
    assert second.generation_tps == pytest.approx(300.0)


async def test_sglang_reports_its_throughput_itself():
    with SimulatedEngine("sglang") as sim:
        sim.load.recent_tps = 123.5
        first, _ = await read_twice(sim, [0.0, 1.0])
    assert first.generation_tps == pytest.approx(123.5)


async def test_llama_cpp_without_metrics_flag_says_how_to_get_them():
    with SimulatedEngine("llama.cpp", metrics=False) as sim:
        first, _ = await read_twice(sim, [0.0, 1.0])
    assert first.requests_running is None and "--metrics" in first.problem


def test_figures_are_summed_over_label_sets_and_missing_ones_stay_unknown():
    text = ('vllm:num_requests_running{engine="0",model_name="a"} 1.0\n'
            'vllm:num_requests_running{engine="1",model_name="a"} 2.0\n')
    load = parse_engine_metrics(text, "vllm")
    assert load.requests_running == 3
    assert load.requests_waiting is None and load.kv_cache_usage is None


async def test_a_page_that_is_not_prometheus_text_is_a_problem_not_a_crash():
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import threading

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body = b"<html>{{ not metrics"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.server_address[1]}") as http:
            load = await EngineLoadReader(http, "vllm").read()
    finally:
        server.shutdown()
    assert load.problem and load.requests_running is None
