"""What one fleet refresh costs as the fleet grows: wall time and CPU per refresh, 1 → 50 hosts.

The fleet screen polls every host every 2 s; the target is that 50 configured hosts
are all polled within one such interval on a 2-core machine. The hosts are simulated
(half vLLM nodes, each with a DCGM exporter of 2 GPUs, half Ollama boxes with a model
loaded), served from a separate process so that the CPU figures are the poller's
own (`time.process_time` of this process: the event loop and the NVML thread). The
first refresh of a fleet is reported apart ("cold"): it detects each host's engine
and opens its HTTP clients once; the refreshes after it reuse them.

    python benchmarks/bench_fleet.py [--hosts 1,5,10,25,50] [--refreshes 10]

The machine is shared: CPU figures are noisy, the medians are the ones to read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
import harness  # noqa: E402, F401  (its own config/history folders, like every benchmark)

from tui.core.fleet import DEFAULT_INTERVAL, FleetPoller  # noqa: E402
from tui.core.hosts import HostProfile  # noqa: E402

SERVE = """
import json, sys
from tui.demo import SimulatedOllama
from tui.demo.dcgm import SimulatedDcgm
from tui.demo.engines import SimulatedEngine
hosts = []
for i in range(int(sys.argv[1])):
    if i % 2 == 0:
        engine, dcgm = SimulatedEngine("vllm").start(), SimulatedDcgm(hostname=f"node-{i}").start()
        engine.load.waiting = 0
        hosts.append({"name": f"vllm-{i}", "url": engine.url, "gpu_metrics": dcgm.url})
    else:
        ollama = SimulatedOllama().start()
        ollama.mark_loaded("deepseek-r1:7b", -1, 4096)
        hosts.append({"name": f"ollama-{i}", "url": ollama.url})
print(json.dumps(hosts), flush=True)
sys.stdin.read()  # serve until the benchmark closes our stdin
"""


def start_hosts(count: int) -> tuple[subprocess.Popen[str], list[HostProfile]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", SERVE, str(count)], cwd=ROOT, env=env, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdout is not None
    hosts = [HostProfile(**entry) for entry in json.loads(process.stdout.readline())]
    return process, hosts


async def measure(hosts: list[HostProfile], refreshes: int) -> tuple[tuple[float, float], list[tuple[float, float]]]:
    """(cold wall, cold CPU) and (wall, CPU) of each later refresh, in seconds."""
    poller = FleetPoller(hosts)
    await poller.prepare()  # the openai import: once per process, not per refresh
    figures = []
    try:
        for _ in range(refreshes + 1):
            wall, cpu = time.perf_counter(), time.process_time()
            rows = await poller.poll_all()
            figures.append((time.perf_counter() - wall, time.process_time() - cpu))
            down = [row.name for row in rows if not row.reachable]
            if down:
                raise SystemExit(f"hosts did not answer: {down}")
            await asyncio.sleep(0.2)
    finally:
        await poller.aclose()
    return figures[0], figures[1:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="1,5,10,25,50", help="fleet sizes to measure (default 1,5,10,25,50)")
    parser.add_argument("--refreshes", type=int, default=10, help="warm refreshes per size (default 10)")
    args = parser.parse_args()
    sizes = [int(part) for part in args.hosts.split(",")]
    print(f"refresh interval {DEFAULT_INTERVAL:g} s; {os.cpu_count()} CPUs (shared: CPU figures are noisy)")
    print(f"{'hosts':>5}  {'cold wall':>9}  {'cold CPU':>8}  {'wall p50':>8}  {'wall max':>8}  "
          f"{'CPU p50':>7}  {'CPU/host':>8}")
    worst = 0.0
    for size in sizes:
        process, hosts = start_hosts(size)
        try:
            (cold_wall, cold_cpu), warm = asyncio.run(measure(hosts, args.refreshes))
        finally:
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=30)
        walls, cpus = [w for w, _ in warm], [c for _, c in warm]
        worst = max(worst, max(walls))
        cpu = statistics.median(cpus)
        print(f"{size:>5}  {cold_wall * 1000:>7.0f}ms  {cold_cpu * 1000:>6.0f}ms  "
              f"{statistics.median(walls) * 1000:>6.0f}ms  {max(walls) * 1000:>6.0f}ms  "
              f"{cpu * 1000:>5.0f}ms  {cpu / size * 1000:>6.1f}ms")
    ok = worst < DEFAULT_INTERVAL
    print(f"slowest warm refresh {worst * 1000:.0f} ms: {'within' if ok else 'OVER'} the {DEFAULT_INTERVAL:g} s interval")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
