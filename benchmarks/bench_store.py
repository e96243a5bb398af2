"""What saving a streaming turn costs: `HistoryStore.append` commits once per call.

The chat screen saves batched text at most ~30 times a second, and each call
commits so that a killed SSH session loses at most the last chunk. The target:
one append (a committed transaction, WAL + synchronous=NORMAL) well under a
frame at 30/s (33 ms); we ask for a p99 under 5 ms, and for the cost not to
grow with the length of the turn (R1 can reason for tens of thousands of tokens).

    python benchmarks/bench_store.py [--chunks 3000] [--chunk-chars 40] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
import harness  # noqa: E402, F401  (its own config/history folders, like every benchmark)

from tui.core.conversation import Turn, TurnState  # noqa: E402
from tui.core.store import HistoryStore  # noqa: E402

TARGET_P99_MS = 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=3000, help="appends in the turn (default 3000: ~100 s at 30/s)")
    parser.add_argument("--chunk-chars", type=int, default=40, help="characters per append (a batch of a few tokens)")
    parser.add_argument("--dir", default=None, help="where to put the database (default: a temporary folder)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        store = HistoryStore(Path(folder) / "history.db")
        conversation = store.new_conversation("deepseek-r1:7b")
        turn = Turn("How many primes are below 1000?", "deepseek-r1:7b")
        turn_id = store.start_turn(conversation, turn, {"temperature": 0.6})
        text = "x" * args.chunk_chars
        timings: list[float] = []
        for i in range(args.chunks):
            started = time.perf_counter()
            if i < args.chunks * 3 // 4:
                store.append(turn_id, text, "")
            else:
                store.append(turn_id, "", text)
            timings.append((time.perf_counter() - started) * 1000)
        turn.reasoning = text * (args.chunks * 3 // 4)
        turn.answer = text * (args.chunks - args.chunks * 3 // 4)
        turn.state = TurnState.DONE
        started = time.perf_counter()
        store.finish_turn(turn_id, turn)
        finish_ms = (time.perf_counter() - started) * 1000
        store.close()

    ordered = sorted(timings)
    p50 = statistics.median(ordered)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    first, last = statistics.mean(timings[: len(timings) // 10]), statistics.mean(timings[-len(timings) // 10:])
    print(f"append: {args.chunks} commits of {args.chunk_chars} chars  p50 {p50:.3f} ms  p99 {p99:.3f} ms  "
          f"max {ordered[-1]:.3f} ms   (target p99 < {TARGET_P99_MS} ms)")
    print(f"first 10% mean {first:.3f} ms, last 10% mean {last:.3f} ms (should not grow with the turn's length)")
    print(f"finish_turn with {args.chunks * args.chunk_chars / 1000:.0f} kB of text: {finish_ms:.2f} ms")
    return 0 if p99 < TARGET_P99_MS else 1


if __name__ == "__main__":
    sys.exit(main())
