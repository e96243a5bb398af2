"""A remote host's GPUs from its DCGM or nvitop exporter page, parsed with prometheus_client."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import CollectorRegistry, Gauge, generate_latest

from tui.core.gpu_exporters import DCGM, NVITOP, GpuMetricsReader, parse_gpu_metrics
from tui.demo.dcgm import SimGpu, SimulatedDcgm

MIB = 1024**2

# What dcgm-exporter 3.x/4.x writes (its Go client, not prometheus_client): a counter without
# `_total`, `pci_bus_id`, reserved framebuffer, and a MIG instance of GPU 1 with `GPU_I_ID`.
REAL_DCGM_PAGE = """\
# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).
# TYPE DCGM_FI_DEV_GPU_TEMP gauge
DCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-34319582",pci_bus_id="00000000:07:00.0",device="nvidia0",modelName="NVIDIA A100-SXM4-40GB",Hostname="ub20-a100-k8s"} 33
DCGM_FI_DEV_GPU_TEMP{gpu="1",UUID="GPU-77711111",pci_bus_id="00000000:0F:00.0",device="nvidia1",modelName="NVIDIA A100-SXM4-40GB",Hostname="ub20-a100-k8s"} 41
# HELP DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION Total energy consumption since boot (in mJ).
# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter
DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="0",UUID="GPU-34319582",pci_bus_id="00000000:07:00.0",device="nvidia0",modelName="NVIDIA A100-SXM4-40GB",Hostname="ub20-a100-k8s"} 319159391
# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
# TYPE DCGM_FI_DEV_GPU_UTIL gauge
DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-34319582",pci_bus_id="00000000:07:00.0",device="nvidia0",modelName="NVIDIA A100-SXM4-40GB",Hostname="ub20-a100-k8s"} 97
DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-77711111",pci_bus_id="00000000:0F:00.0",device="nvidia1",modelName="NVIDIA A100-SXM4-40GB",Hostname="ub20-a100-k8s"} 5
DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-77711111",pci_bus_id="00000000:0F:00.0",device="nvidia1",modelName="NVIDIA A100-SXM4-40GB",Hostname="ub20-a100-k8s",GPU_I_PROFILE="1g.5gb",GPU_I_ID="3"} 80
# HELP DCGM_FI_DEV_FB_FREE Framebuffer memory free (in MiB).
# TYPE DCGM_FI_DEV_FB_FREE gauge
DCGM_FI_DEV_FB_FREE{gpu="0",UUID="GPU-34319582",pci_bus_id="00000000:07:00.0",device="nvidia0",modelName="NVIDIA A100-SXM4-40GB",Hostname="ub20-a100-k8s"} 35690
DCGM_FI_DEV_FB_FREE{gpu="1",UUID="GPU-77711111",pci_bus_id="00000000:0F:00.0",device="nvidia1",modelName="NVIDIA A100-SXM4-40GB",Hostname="ub20-a100-k8s"} 40000
# HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).
# TYPE DCGM_FI_DEV_FB_USED gauge
DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-34319582",pci_bus_id="00000000:07:00.0",device="nvidia0",modelName="NVIDIA A100-SXM4-40GB",Hostname="ub20-a100-k8s"} 4845
DCGM_FI_DEV_FB_USED{gpu="1",UUID="GPU-77711111",pci_bus_id="00000000:0F:00.0",device="nvidia1",modelName="NVIDIA A100-SXM4-40GB",Hostname="ub20-a100-k8s"} 0
# HELP DCGM_FI_DEV_FB_RESERVED Framebuffer memory reserved (in MiB).
# TYPE DCGM_FI_DEV_FB_RESERVED gauge
DCGM_FI_DEV_FB_RESERVED{gpu="0",UUID="GPU-34319582",pci_bus_id="00000000:07:00.0",device="nvidia0",modelName="NVIDIA A100-SXM4-40GB",Hostname="ub20-a100-k8s"} 425
"""


def nvitop_page(gpus: list[dict]) -> str:
    """The page nvitop-exporter serves: prometheus_client gauges declared with a unit, as in its exporter.py."""
    registry = CollectorRegistry()
    labels = ["hostname", "index", "devicename", "uuid"]
    gauges = {
        "util": Gauge("gpu_utilization", "GPU utilization (%).", unit="Percentage", labelnames=labels,
                      registry=registry),
        "total": Gauge("gpu_memory_total", "GPU memory total (MiB).", unit="MiB", labelnames=labels,
                       registry=registry),
        "used": Gauge("gpu_memory_used", "GPU memory used (MiB).", unit="MiB", labelnames=labels, registry=registry),
        "power": Gauge("gpu_power_usage", "GPU power usage (W).", unit="W", labelnames=labels, registry=registry),
        "temp": Gauge("gpu_temperature", "GPU temperature (C).", unit="C", labelnames=labels, registry=registry),
    }
    for index, gpu in enumerate(gpus):
        for key, value in gpu.items():
            if key in gauges:
                gauges[key].labels("10.0.0.7", str(index), gpu["name"], f"GPU-{index}").set(value)
    return generate_latest(registry).decode()


def test_the_simulated_dcgm_exporter_reads_back_as_its_gpus() -> None:
    sim = SimulatedDcgm([SimGpu(used_mib=70_000, util_percent=87, power_watts=512.3, temp_c=64),
                         SimGpu(name="NVIDIA L40S", total_mib=46_068, used_mib=1_000, util_percent=3)])
    exporter, gpus = parse_gpu_metrics(sim.metrics_text().decode())
    assert exporter == DCGM
    assert [(g.index, g.name) for g in gpus] == [(0, "NVIDIA H100 80GB HBM3"), (1, "NVIDIA L40S")]
    first = gpus[0]
    assert first.vram_used_bytes == 70_000 * MIB  # DCGM counts MiB
    assert first.vram_total_bytes == 81_559 * MIB  # used + free
    assert (first.utilization_percent, first.power_watts, first.temperature_c) == (87, 512.3, 64)


def test_the_real_exporters_page_counts_reserved_memory_and_leaves_mig_instances_out() -> None:
    exporter, gpus = parse_gpu_metrics(REAL_DCGM_PAGE)
    assert exporter == DCGM
    assert [g.index for g in gpus] == [0, 1]
    assert gpus[0].vram_total_bytes == (4845 + 35690 + 425) * MIB
    assert gpus[1].utilization_percent == 5  # the physical GPU's, not its MIG slice's 80
    assert gpus[1].power_watts is None  # not on the page: unknown, not zero


def test_nvitop_exporters_page_is_read_too() -> None:
    page = nvitop_page([{"name": "NVIDIA GeForce RTX 4090", "util": 42, "total": 24_564, "used": 20_000,
                         "power": 300.5, "temp": 70}])
    assert "gpu_utilization_Percentage{" in page  # the name nvitop's unit gives it
    exporter, gpus = parse_gpu_metrics(page)
    assert exporter == NVITOP
    (gpu,) = gpus
    assert (gpu.index, gpu.name, gpu.utilization_percent) == (0, "NVIDIA GeForce RTX 4090", 42)
    assert (gpu.vram_used_bytes, gpu.vram_total_bytes) == (20_000 * MIB, 24_564 * MIB)
    assert (gpu.power_watts, gpu.temperature_c) == (300.5, 70)


def test_a_nan_figure_is_unknown_not_a_number() -> None:
    page = 'DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-1"} NaN\nDCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-1"} 10\n'
    _, (gpu,) = parse_gpu_metrics(page)
    assert gpu.power_watts is None and gpu.vram_used_bytes == 10 * MIB


def test_a_page_without_gpu_metrics_has_no_exporter() -> None:
    assert parse_gpu_metrics("# TYPE up gauge\nup 1\n") == ("", [])


async def test_the_reader_says_why_it_has_no_gpus() -> None:
    with SimulatedDcgm() as sim:
        async with httpx.AsyncClient(timeout=5) as http:
            good = await GpuMetricsReader(http, sim.url).read()
            wrong_path = await GpuMetricsReader(http, sim.url.replace("/metrics", "/nope")).read()
            sim.status = 503
            failing = await GpuMetricsReader(http, sim.url).read()
    async with httpx.AsyncClient(timeout=5) as http:
        down = await GpuMetricsReader(http, "http://127.0.0.1:1/metrics").read()
    assert good.exporter == DCGM and len(good.gpus) == 2 and good.problem == ""
    assert failing.gpus == [] and "answered 503" in failing.problem
    assert "answered 404" in wrong_path.problem
    assert "unreachable" in down.problem


@pytest.mark.parametrize("text", ["<html>not metrics</html>", "{\"json\": true}"])
def test_a_page_that_is_not_prometheus_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_gpu_metrics(text)
