"""Start-up: `r1tui --version` and the first frame of the TUI.

Targets (issue 9): `--version` ≤ 0.3 s; first frame ≤ 1.0 s.

    python benchmarks/bench_startup.py [--runs 5] [--sizes 160x50,80x24]

With its own config, history and state folders (harness.SCRATCH), TERM=xterm-256color.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ROOT, AppInPty, SimProcess, loose, median, print_table, sizes_argument  # noqa: E402


def version_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tui", "--version"], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def first_frame_seconds(url: str, cols: int, rows: int) -> float:
    app = AppInPty(["--host", url, "--model", "deepseek-r1:7b"], cols=cols, rows=rows)
    try:
        # The prompt box's placeholder: the screen is drawn (its first letter may come styled apart).
        seen = app.wait_for_pattern(loose("Ask DeepSeek-R1"), timeout=30)
        return seen - app.started
    finally:
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    sizes_argument(parser)
    args = parser.parse_args()
    version = [version_seconds() for _ in range(args.runs)]
    sim = SimProcess(0, 10, 10)
    try:
        frames = {(cols, rows): [first_frame_seconds(sim.url, cols, rows) for _ in range(args.runs)]
                  for cols, rows in args.sizes}
    finally:
        sim.stop()

    def runs(values: list[float]) -> str:
        return f"{median(values):.2f} s (runs: {', '.join(f'{v:.2f}' for v in values)})"

    print_table([
        ("r1tui --version", "<= 0.3 s", runs(version), f"{median(version) / 0.3:.2f} (lower is better)"),
        *[(f"first frame of the TUI at {cols}x{rows}", "<= 1.0 s", runs(values),
           f"{median(values) / 1.0:.2f} (lower is better)") for (cols, rows), values in frames.items()],
    ])


if __name__ == "__main__":
    main()
