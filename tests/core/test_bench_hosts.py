"""`r1tui bench --models local:TAG,big:MODEL`: one run across hosts and engines, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tui.demo import Reply
from tui.demo.engines import SimulatedEngine

ROOT = Path(__file__).resolve().parents[2]
REPLY = Reply(reasoning="Add them.", answer="The answer is $\\boxed{4}$.")


def write_config(text: str) -> None:
    folder = Path(os.environ["XDG_CONFIG_HOME"]) / "r1tui"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(text)


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", "bench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=os.environ.copy())


def test_one_bench_compares_a_local_tag_with_a_model_on_a_vllm_node(sim):
    sim.reply = REPLY
    with SimulatedEngine("vllm", reply=REPLY) as node:
        write_config(f'[hosts.local]\nurl = "{sim.url}"\n\n[hosts.big]\nurl = "{node.url}"\nengine = "vllm"\n')
        result = bench("--host", "local", "--models", "deepseek-r1:7b,big:deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
                       "--prompt", "2+2?", "--json")
        asked = [body.get("model") for method, path, body, _ in node.requests if path == "/v1/chat/completions"]
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [r["model"] for r in report["results"]] == ["deepseek-r1:7b", "big:deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"]
    assert all(r["error"] is None and r["answer_tokens"] > 0 for r in report["results"])
    assert asked == ["deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"]  # the node got its own model name, no host prefix
    assert [s["engine"] for s in report["servers"]] == ["ollama", "vllm"]
    assert {entry["model"] for entry in report["summary"]} == {r["model"] for r in report["results"]}
    assert "(vLLM 0.16.0)" in result.stderr


def test_a_model_the_node_does_not_serve_stops_before_anything_runs(sim):
    with SimulatedEngine("vllm") as node:
        write_config(f'[hosts.big]\nurl = "{node.url}"\n')  # engine detected
        result = bench("--host", sim.url, "--models", "deepseek-r1:7b,big:deepseek-r1:70b", "--prompt", "2+2?")
    assert result.returncode == 1
    assert "does not serve deepseek-r1:70b" in result.stderr and "DeepSeek-R1-Distill-Qwen-32B" in result.stderr
    assert not any(path == "/api/chat" for _, path, _ in sim.requests)
