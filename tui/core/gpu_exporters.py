"""A remote host's GPUs from the metrics exporter it already runs: NVIDIA's DCGM exporter or nvitop's.

Why: the fleet view shows the GPUs of every host, but NVML only sees this
machine's. GPU boxes that serve models usually run an exporter for Prometheus
already, so r1tui reads that page (`[hosts.NAME] gpu_metrics = "http://node:9400/metrics"`)
instead of asking for SSH. Parsed with `prometheus_client`'s own text parser; the
metric and label names are the exporters' own:

- DCGM exporter (`etc/default-counters.csv`): `DCGM_FI_DEV_GPU_UTIL` (%),
  `DCGM_FI_DEV_FB_USED` / `DCGM_FI_DEV_FB_FREE` (MiB; `DCGM_FI_DEV_FB_RESERVED`
  and `DCGM_FI_DEV_FB_TOTAL` where configured), `DCGM_FI_DEV_POWER_USAGE` (W),
  `DCGM_FI_DEV_GPU_TEMP` (°C); labels `gpu`, `UUID`, `device`, `modelName`, `Hostname`;
- nvitop-exporter (prometheus_client gauges with units): `gpu_utilization_Percentage`,
  `gpu_memory_used_MiB`, `gpu_memory_total_MiB`, `gpu_power_usage_W`,
  `gpu_temperature_C`; labels `index`, `devicename`, `uuid`, `hostname`.

Each GPU becomes the same `GpuSnapshot` NVML gives for this machine, so the
fleet view renders local and remote GPUs alike. A figure the page lacks (or
reports as NaN) is None, never a made-up zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tui.core.hardware import GpuSnapshot

__all__ = ["DCGM", "NVITOP", "GpuMetricsReader", "GpuReading", "parse_gpu_metrics"]

DCGM = "dcgm"
NVITOP = "nvitop"
_MIB = 1024**2

# exporter -> figure -> metric name
_DCGM_NAMES = {
    "util": "DCGM_FI_DEV_GPU_UTIL",
    "used_mib": "DCGM_FI_DEV_FB_USED",
    "free_mib": "DCGM_FI_DEV_FB_FREE",
    "reserved_mib": "DCGM_FI_DEV_FB_RESERVED",
    "total_mib": "DCGM_FI_DEV_FB_TOTAL",
    "power": "DCGM_FI_DEV_POWER_USAGE",
    "temp": "DCGM_FI_DEV_GPU_TEMP",
}
_NVITOP_NAMES = {
    "util": "gpu_utilization_Percentage",
    "used_mib": "gpu_memory_used_MiB",
    "free_mib": "gpu_memory_free_MiB",
    "total_mib": "gpu_memory_total_MiB",
    "power": "gpu_power_usage_W",
    "temp": "gpu_temperature_C",
}
# exporter -> (index label, name label, uuid label)
_LABELS = {DCGM: ("gpu", "modelName", "UUID"), NVITOP: ("index", "devicename", "uuid")}


@dataclass
class _Gpu:
    index: int
    name: str = ""
    figures: dict[str, float] = field(default_factory=dict)


def _number(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else float(value)


def parse_gpu_metrics(text: str) -> tuple[str, list[GpuSnapshot]]:
    """(which exporter, its GPUs by index) from one `/metrics` page; ("", []) when it has no GPU metrics.

    Raises ValueError when the page is not Prometheus text. MIG instances (DCGM's
    `GPU_I_ID` label) are left out: the physical GPU is what fills up.
    """
    wanted = {name: (DCGM, figure) for figure, name in _DCGM_NAMES.items()}
    wanted.update({name: (NVITOP, figure) for figure, name in _NVITOP_NAMES.items()})
    gpus: dict[tuple[str, str], _Gpu] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            hit = wanted.get(sample.name)
            if hit is None or sample.labels.get("GPU_I_ID"):
                continue
            exporter, figure = hit
            index_label, name_label, uuid_label = _LABELS[exporter]
            raw_index = sample.labels.get(index_label, "")
            if not raw_index.isdigit():
                continue
            key = (exporter, sample.labels.get(uuid_label) or raw_index)
            gpu = gpus.setdefault(key, _Gpu(int(raw_index)))
            gpu.name = gpu.name or sample.labels.get(name_label, "")
            value = _number(sample.value)
            if value is not None:
                gpu.figures[figure] = value
    exporter = DCGM if any(key[0] == DCGM for key in gpus) else NVITOP if gpus else ""
    chosen = sorted((gpu for key, gpu in gpus.items() if key[0] == exporter), key=lambda gpu: gpu.index)
    return exporter, [_snapshot(gpu) for gpu in chosen]


def _snapshot(gpu: _Gpu) -> GpuSnapshot:
    figures = gpu.figures
    used = figures.get("used_mib")
    total = figures.get("total_mib")
    if total is None and used is not None and "free_mib" in figures:
        total = used + figures["free_mib"] + figures.get("reserved_mib", 0.0)
    return GpuSnapshot(
        index=gpu.index,
        name=gpu.name,
        vram_total_bytes=int((total or 0) * _MIB),
        vram_used_bytes=int((used or 0) * _MIB),
        utilization_percent=figures.get("util"),
        temperature_c=figures.get("temp"),
        power_watts=figures.get("power"),
    )


@dataclass(frozen=True)
class GpuReading:
    """One read of an exporter: which one it is, its GPUs, or why there are none."""

    exporter: str = ""
    gpus: list[GpuSnapshot] = field(default_factory=list)
    problem: str = ""


class GpuMetricsReader:
    """Reads one exporter's page; the client is the caller's (no credentials: an exporter needs none)."""

    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http = http
        self.url = url

    async def read(self) -> GpuReading:
        """The exporter's GPUs, or a reading whose `problem` the user can act on; never raises for HTTP's sake."""
        try:
            response = await self.http.get(self.url)
        except httpx.TimeoutException:
            return GpuReading(problem=f"the GPU exporter at {self.url} did not answer in time")
        except httpx.HTTPError as exc:
            return GpuReading(problem=f"the GPU exporter at {self.url} is unreachable ({type(exc).__name__})")
        if response.status_code != 200:
            return GpuReading(problem=f"the GPU exporter at {self.url} answered {response.status_code}")
        try:
            exporter, gpus = parse_gpu_metrics(response.text)
        except ValueError:
            return GpuReading(problem=f"{self.url} is not a Prometheus metrics page")
        if not exporter:
            return GpuReading(problem=f"{self.url} has no DCGM or nvitop GPU metrics")
        return GpuReading(exporter, gpus)
