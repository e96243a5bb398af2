"""`r1tui recommend --engine vllm|sglang`: the largest distill these GPUs serve, and its launch command.

Kept apart from the Ollama recommendation (`recommend.py`): the question differs
(which HF repository, split how over which GPUs), the arithmetic is shared
(`tui.core.serve_plan`, on the fit estimator's KV-cache formula). `--json` prints
{"engine", "gpus_per_node", "gpu_gib", "nodes", "max_model_len",
"gpu_memory_utilization", "best", "command", "models": [{"repo", "tag", "weights_gib",
"tensor_parallel", "pipeline_parallel", "per_gpu_gib", "fits", "reason", "command"}]}
(keys may be added, never renamed).
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap

__all__ = ["run_serving"]


def _detected_gpus() -> tuple[int, int] | None:
    """(count, memory of the smallest) of this machine's NVIDIA GPUs, or None without any."""
    from tui.core.hardware import read_gpus

    gpus, _ = read_gpus()
    if not gpus:
        return None
    return len(gpus), min(gpu.vram_total_bytes for gpu in gpus)


def shell_lines(command: str, width: int | None) -> str:
    """A command to copy into a shell: one line when it fits, else one flag per line with `\\`
    continuations (never wrapped mid-flag, so what is copied still runs)."""
    if width is None or len(command) <= width:
        return command
    head, *flags = command.split(" --")
    return " \\\n    --".join([head, *flags])


def run_serving(args: argparse.Namespace, width: int | None) -> int:
    from tui.core.serve_plan import DEFAULT_MAX_MODEL_LEN, DEFAULT_UTILIZATION, launch_command, plan_serving
    from tui.core.units import GIB

    if args.gpus is not None:
        count, gpu_bytes, source = args.gpus[0], int(args.gpus[1] * GIB), "given"
    else:
        detected = _detected_gpus()
        if detected is None:
            print("r1tui recommend: no NVIDIA GPU found on this machine; say what the servers have, "
                  "e.g. --gpus 4x80 (4 GPUs of 80 GiB per node)", file=sys.stderr)
            return 2
        count, gpu_bytes = detected
        source = "detected"
    max_model_len = args.ctx or DEFAULT_MAX_MODEL_LEN
    utilization = args.gpu_memory_utilization or DEFAULT_UTILIZATION
    plans, best = plan_serving(count, gpu_bytes, nodes=args.nodes, max_model_len=max_model_len,
                               utilization=utilization)
    other = "sglang" if args.engine == "vllm" else "vllm"
    if args.json:
        print(json.dumps({
            "engine": args.engine, "gpus_per_node": count, "gpu_gib": round(gpu_bytes / GIB, 2), "nodes": args.nodes,
            "max_model_len": max_model_len, "gpu_memory_utilization": utilization,
            "best": best.repo if best else None,
            "command": launch_command(best, args.engine, utilization) if best else None,
            "models": [{"repo": p.repo, "tag": p.entry.tag, "weights_gib": round(p.weights_bytes / GIB, 1),
                        "tensor_parallel": p.tensor_parallel, "pipeline_parallel": p.pipeline_parallel,
                        "per_gpu_gib": round(p.per_gpu_need_bytes / GIB, 1), "fits": p.fits, "reason": p.reason,
                        "command": launch_command(p, args.engine, utilization) if p.fits else None}
                       for p in plans],
        }))
        return 0
    nodes = f" × {args.nodes} nodes" if args.nodes > 1 else ""
    lines = [f"GPUs: {count} × {gpu_bytes / GIB:.0f} GiB per node{nodes} ({source})   max-model-len: {max_model_len}"
             f"   gpu-memory-utilization: {utilization:.2f}   weights: BF16", ""]
    rows = [("", "MODEL", "WEIGHTS", "SPLIT", "PER GPU", "VERDICT")]
    for plan in plans:
        split = f"TP {plan.tensor_parallel}" + (f" × PP {plan.pipeline_parallel}" if plan.pipeline_parallel > 1 else "")
        rows.append(("*" if plan is best else "", plan.repo, f"{plan.weights_bytes / GIB:.1f} GiB",
                     split if plan.fits else "-", f"{plan.per_gpu_need_bytes / GIB:.1f} GiB",
                     "fits" if plan.fits else "does not fit"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines += ["  ".join(c.rjust(w) if i in (2, 4) else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
              for row in rows]
    lines.append("")

    def prose(text: str, indent: str = "  ") -> list[str]:
        return textwrap.wrap(text, width, subsequent_indent=indent, break_on_hyphens=False) if width else [text]

    if best is None:
        lines += prose("no distill fits: " + plans[0].reason if plans else "no distill fits")
        print("\n".join(lines))
        return 0
    lines += prose(f"* recommended: {best.repo} — {best.reason}")
    lines += ["", f"Serve it with {'vLLM' if args.engine == 'vllm' else 'SGLang'}:", ""]
    lines += [shell_lines(launch_command(best, args.engine, utilization), width)]
    lines += ["", f"or with {'SGLang' if other == 'sglang' else 'vLLM'}:", ""]
    lines += [shell_lines(launch_command(best, other, utilization), width)]
    if best.pipeline_parallel > 1:
        lines += [""] + prose("Across nodes: start a Ray cluster first (`ray start --head` on the first node, "
                              "`ray start --address HEAD_NODE_IP:6379` on the others) and run vllm serve on the head; "
                              "for SGLang run the command on every node with --node-rank 0, 1, …")
    lines += [""] + prose("Then point r1tui at it: r1tui --host http://NODE:8000 (vLLM) or :30000 (SGLang); "
                          "the engine is detected.")
    print("\n".join(lines))
    return 0
