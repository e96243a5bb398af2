"""Start-up: `r1tui --version` and the first frame of the TUI.

Targets (issue 9): `--version` ≤ 0.3 s; first frame ≤ 1.0 s.

    python benchmarks/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ROOT, AppInPty, SimProcess, median, print_table  # noqa: E402


def version_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tui", "--version"], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def first_frame_seconds(url: str) -> float:
    app = AppInPty(["--host", url, "--model", "deepseek-r1:7b"])
    try:
        seen = app.wait_for_text(b"Ask DeepSeek-R1", timeout=30)  # the prompt box: the screen is drawn
        return seen - app.started
    finally:
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    version = [version_seconds() for _ in range(args.runs)]
    sim = SimProcess(0, 10, 10)
    try:
        frames = [first_frame_seconds(sim.url) for _ in range(args.runs)]
    finally:
        sim.stop()

    def runs(values: list[float]) -> str:
        return f"{median(values):.2f} s (runs: {', '.join(f'{v:.2f}' for v in values)})"

    print_table([
        ("r1tui --version", "<= 0.3 s", runs(version), f"{median(version) / 0.3:.2f} (lower is better)"),
        ("first frame of the TUI", "<= 1.0 s", runs(frames), f"{median(frames) / 1.0:.2f} (lower is better)"),
    ])


if __name__ == "__main__":
    main()
