"""Streaming cost of the real app under a pty: throughput, CPU, and bytes sent to the terminal.

Targets (issue 9): end to end ≥ 3,000 tokens/s unthrottled; ≤ 20% of one core
and ≤ 200 bytes written to the terminal per token at 300 tokens/s.

    python benchmarks/bench_stream.py [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import AppInPty, SimProcess, median, print_table  # noqa: E402

from tui.demo import synthetic_reply, tokens  # noqa: E402


def token_count(reasoning_tokens: int, answer_tokens: int) -> int:
    reply = synthetic_reply(reasoning_tokens, answer_tokens)
    return len(tokens(reply.reasoning)) + len(tokens(reply.answer))


def one_run(rate: float, reasoning_tokens: int, answer_tokens: int, cols: int, rows: int) -> dict[str, float]:
    sim = SimProcess(rate, reasoning_tokens, answer_tokens)
    app = AppInPty(["--host", sim.url, "--model", "deepseek-r1:7b"], cols=cols, rows=rows)
    try:
        app.wait_for_text(b"models installed")
        app.wait_quiet(0.5)
        mark = len(app.output.text)
        cpu_before = app.cpu_seconds()
        sent = app.write("benchmark prompt\r")
        # The figures line is drawn right after the last token: the end of the turn on screen.
        # (Waiting for silence instead would count the panel's once-a-second updates.)
        last = app.wait_for_text(b"answer tokens", timeout=600, start=mark)
        cpu = app.cpu_seconds() - cpu_before
        tokens = token_count(reasoning_tokens, answer_tokens)
        elapsed = last - sent
        return {
            "tokens_per_s": tokens / elapsed,
            "cpu_share": cpu / elapsed,
            "bytes_per_token": app.output.bytes_between(sent, last) / tokens,
        }
    finally:
        app.close()
        sim.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cols", type=int, default=120)
    parser.add_argument("--rows", type=int, default=40)
    args = parser.parse_args()

    paced = [one_run(300, 2400, 600, args.cols, args.rows) for _ in range(args.runs)]
    flat_out = [one_run(0, 8000, 2000, args.cols, args.rows) for _ in range(args.runs)]

    def runs(values: list[float], fmt: str) -> str:
        return f"{fmt.format(median(values))} (runs: {', '.join(fmt.format(v) for v in values)})"

    throughput = [r["tokens_per_s"] for r in flat_out]
    cpu = [r["cpu_share"] * 100 for r in paced]
    bytes_per_token = [r["bytes_per_token"] for r in paced]
    print(f"terminal {args.cols}x{args.rows}, {args.runs} runs each\n")
    print_table([
        ("throughput, unthrottled (tokens/s, end to end)", ">= 3000", runs(throughput, "{:.0f}"),
         f"{median(throughput) / 3000:.2f}x (higher is better)"),
        ("CPU at 300 tokens/s (% of one core)", "<= 20", runs(cpu, "{:.1f}"),
         f"{median(cpu) / 20:.2f} (lower is better)"),
        ("terminal bytes per token at 300 tokens/s", "<= 200", runs(bytes_per_token, "{:.0f}"),
         f"{median(bytes_per_token) / 200:.2f} (lower is better)"),
    ])


if __name__ == "__main__":
    main()
