"""A simulated NVIDIA DCGM exporter: the `/metrics` page `dcgm-exporter` serves, over real HTTP.

Why it exists: the fleet view reads a remote host's GPUs from the exporter the
host runs (`[hosts.NAME] gpu_metrics = "http://node:9400/metrics"`), and no GPU
node runs in tests, benchmarks or a newcomer's trial. The page is written by
`prometheus_client`, with dcgm-exporter's metric names, help texts (from its
`etc/default-counters.csv`), units (memory in MiB, power in W, temperature in °C)
and labels (`gpu`, `UUID`, `device`, `modelName`, `Hostname`).

Every figure is a plain attribute of a `SimGpu`, and may be changed while it runs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from tui.demo.http_sim import HttpSimulator, serve_until_interrupted

__all__ = ["SimGpu", "SimulatedDcgm", "h100_pair"]

_LABELS = ["gpu", "UUID", "device", "modelName", "Hostname"]


@dataclass
class SimGpu:
    """One GPU as DCGM reports it (memory in MiB, as the exporter writes it)."""

    name: str = "NVIDIA H100 80GB HBM3"
    total_mib: int = 81559
    used_mib: int = 0
    util_percent: float = 0.0
    power_watts: float = 70.0
    temp_c: float = 32.0
    uuid: str = ""


def h100_pair(used_mib: int = 71_000, util_percent: float = 87.0) -> list[SimGpu]:
    """A vLLM node with tensor parallelism over two H100s: both nearly full (vLLM reserves 90 %)."""
    return [SimGpu(used_mib=used_mib, util_percent=util_percent, power_watts=512.3, temp_c=64.0,
                   uuid="GPU-5fd4bd6f-6e3b-1e0c-9a1b-2f0c9d6a7e01"),
            SimGpu(used_mib=used_mib, util_percent=util_percent - 4, power_watts=498.9, temp_c=61.0,
                   uuid="GPU-a0e1c9b2-7d44-4c6e-8f3a-1b2c3d4e5f60")]


class SimulatedDcgm(HttpSimulator):
    """A real HTTP server on 127.0.0.1 answering `GET /metrics` like dcgm-exporter (default port 9400).

    `wave` makes utilisation rise and fall over a minute (for the demo's sparklines);
    `status` other than 200 answers every request with that status.
    """

    def __init__(self, gpus: list[SimGpu] | None = None, *, hostname: str = "gpu-node-1", host: str = "127.0.0.1",
                 port: int = 0, wave: bool = False) -> None:
        self.gpus = gpus if gpus is not None else h100_pair()
        for index, gpu in enumerate(self.gpus):
            gpu.uuid = gpu.uuid or f"GPU-00000000-0000-0000-0000-{index:012d}"
        self.hostname = hostname
        self.wave = wave
        self.status = 200
        self.requests = 0
        self._started = time.monotonic()
        self._listen_on(host, port)

    @property
    def url(self) -> str:
        """The exporter's metrics URL, as `gpu_metrics` takes it."""
        return f"{self.base_url}/metrics"

    def utilisation(self, gpu: SimGpu) -> float:
        if not self.wave:
            return gpu.util_percent
        phase = (time.monotonic() - self._started) / 60.0 * 2 * math.pi
        return round(max(0.0, min(100.0, gpu.util_percent * (0.6 + 0.4 * math.sin(phase)))))

    def metrics_text(self) -> bytes:
        registry = CollectorRegistry()
        registry.register(_DcgmCollector(self))
        return generate_latest(registry)


class _DcgmCollector:
    def __init__(self, sim: SimulatedDcgm) -> None:
        self.sim = sim

    def collect(self) -> Iterator[Any]:
        sim = self.sim

        def labels(index: int, gpu: SimGpu) -> list[str]:
            return [str(index), gpu.uuid, f"nvidia{index}", gpu.name, sim.hostname]

        def gauge(name: str, doc: str, value_of: Any) -> GaugeMetricFamily:
            family = GaugeMetricFamily(name, doc, labels=_LABELS)
            for index, gpu in enumerate(sim.gpus):
                family.add_metric(labels(index, gpu), value_of(gpu))
            return family

        yield gauge("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", lambda g: g.temp_c)
        yield gauge("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", lambda g: g.power_watts)
        yield gauge("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", sim.utilisation)
        yield gauge("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).",
                    lambda g: max(0, g.total_mib - g.used_mib))
        yield gauge("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", lambda g: g.used_mib)


class _DcgmHandler(BaseHTTPRequestHandler):
    sim: SimulatedDcgm
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    def do_GET(self) -> None:  # noqa: N802
        self.sim.requests += 1
        path = self.path.split("?", 1)[0]
        if self.sim.status != 200:
            body, status = b"exporter error\n", self.sim.status
        elif path == "/metrics":
            body, status = self.sim.metrics_text(), 200
        else:
            body, status = b"404 page not found\n", 404
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


SimulatedDcgm.handler = _DcgmHandler  # defined after the class that serves it
SimulatedDcgm.thread_name = "sim-dcgm"


def main(argv: list[str] | None = None) -> None:
    """`python -m tui.demo.dcgm [--port 9400] [--gpus 2]`: serve until interrupted."""
    import argparse

    parser = argparse.ArgumentParser(description="Run a simulated NVIDIA DCGM exporter.")
    parser.add_argument("--port", type=int, default=9400)
    parser.add_argument("--gpus", type=int, default=2)
    parser.add_argument("--hostname", default="gpu-node-1")
    args = parser.parse_args(argv)
    gpus = (h100_pair() * ((args.gpus + 1) // 2))[: args.gpus]
    sim = SimulatedDcgm([SimGpu(**{**vars(gpu), "uuid": ""}) for gpu in gpus], hostname=args.hostname,
                        port=args.port, wave=True).start()
    print(f"simulated DCGM exporter serving {sim.url}", flush=True)
    serve_until_interrupted(sim)


if __name__ == "__main__":
    main()
