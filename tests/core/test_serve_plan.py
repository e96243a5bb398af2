"""`r1tui recommend --engine vllm|sglang`: the largest distill the GPUs serve, split legally, and its command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.core.catalog import find
from tui.core.fit import kv_cache_bytes
from tui.core.serve_plan import launch_command, plan_serving
from tui.core.units import GIB
from tui.demo.engines import SimulatedEngine

ROOT = Path(__file__).resolve().parents[2]


def r1tui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env=env or os.environ.copy())


def test_four_80_gib_gpus_serve_the_70b_split_four_ways_with_room_for_several_requests():
    plans, best = plan_serving(4, 80 * GIB)
    assert best is not None and best.repo == "deepseek-ai/DeepSeek-R1-Distill-Llama-70B"
    assert (best.tensor_parallel, best.pipeline_parallel) == (4, 1)
    assert best.per_gpu_need_bytes < best.per_gpu_budget_bytes
    command = launch_command(best)
    assert command.startswith("vllm serve deepseek-ai/DeepSeek-R1-Distill-Llama-70B ")
    for flag in ("--tensor-parallel-size 4", "--max-model-len 32768", "--reasoning-parser deepseek_r1",
                 "--gpu-memory-utilization 0.90"):
        assert flag in command


def test_one_24_gib_card_cannot_hold_the_32b_in_bf16():
    plans, best = plan_serving(1, 24 * GIB)
    verdicts = {p.repo.split("/")[-1]: p.fits for p in plans}
    assert verdicts["DeepSeek-R1-Distill-Qwen-32B"] is False and verdicts["DeepSeek-R1-Distill-Llama-70B"] is False
    assert verdicts["DeepSeek-R1-Distill-Qwen-7B"] is True
    assert best is not None and best.entry.parameter_count < 10e9


def test_tensor_parallel_sizes_divide_the_attention_heads():
    # Qwen-7B has 28 heads: 8 GPUs cannot split it; the plan stays at a size vLLM accepts.
    plans, _ = plan_serving(8, 8 * GIB, max_model_len=4096)
    seven = next(p for p in plans if p.repo.endswith("Qwen-7B"))
    assert 28 % seven.tensor_parallel == 0


def test_a_model_too_big_for_one_node_is_pipelined_across_nodes():
    _, one_node = plan_serving(4, 24 * GIB, nodes=1)
    _, two_nodes = plan_serving(4, 24 * GIB, nodes=2)
    assert one_node is not None and "70B" not in one_node.repo
    assert two_nodes is not None and two_nodes.repo.endswith("Llama-70B") and two_nodes.pipeline_parallel == 2
    vllm = launch_command(two_nodes)
    assert "--pipeline-parallel-size 2" in vllm and "--distributed-executor-backend ray" in vllm
    sglang = launch_command(two_nodes, "sglang")
    assert "--nnodes 2" in sglang and "--tp 8" in sglang and "--reasoning-parser deepseek-r1" in sglang


def test_the_kv_cache_is_the_same_arithmetic_as_the_ollama_fit():
    entry = find("deepseek-r1:70b")
    assert kv_cache_bytes(entry.architecture, 32768) == 10 * GIB  # the reference's own example
    plans, _ = plan_serving(1, 1000 * GIB, max_model_len=32768)
    seventy = next(p for p in plans if p.repo.endswith("Llama-70B"))
    assert seventy.per_gpu_need_bytes >= seventy.weights_bytes + 10 * GIB


def test_a_context_beyond_the_models_own_is_refused():
    plans, best = plan_serving(8, 80 * GIB, max_model_len=200_000)
    assert best is None and all("native context" in p.reason for p in plans)


def test_the_command_prints_the_table_and_both_engines_commands():
    env = {**os.environ, "COLUMNS": "80"}
    result = r1tui("recommend", "--engine", "vllm", "--gpus", "4x80", env=env)
    assert result.returncode == 0, result.stderr
    assert "* recommended: deepseek-ai/DeepSeek-R1-Distill-Llama-70B" in result.stdout.replace("\n  ", " ")
    # Long commands are split one flag per line with shell continuations, so a copy still runs as one.
    commands = result.stdout.replace(" \\\n    --", " --")
    assert "vllm serve deepseek-ai/DeepSeek-R1-Distill-Llama-70B --tensor-parallel-size 4" in commands
    assert "python -m sglang.launch_server --model-path deepseek-ai/DeepSeek-R1-Distill-Llama-70B" in commands
    assert all(len(line) <= 80 for line in result.stdout.splitlines() if "--" in line)


def test_json_is_a_contract_with_the_command_of_the_best():
    data = json.loads(r1tui("recommend", "--engine", "sglang", "--gpus", "2x24", "--json").stdout)
    assert data["engine"] == "sglang" and data["gpus_per_node"] == 2 and data["gpu_gib"] == 24
    assert data["best"] == "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B"
    assert data["command"].startswith("python -m sglang.launch_server")
    assert {"repo", "tag", "weights_gib", "tensor_parallel", "pipeline_parallel", "per_gpu_gib", "fits",
            "reason", "command"} <= set(data["models"][0])


@pytest.mark.skipif(os.environ.get("R1TUI_TEST_FAKE_GPU", "") not in ("", "0"),
                    reason="the fake GPU is injected in-process, not in this subprocess")
def test_without_gpus_given_or_found_it_says_what_to_pass():
    result = r1tui("recommend", "--engine", "vllm")
    if result.returncode == 0:  # a machine with a real NVIDIA GPU: the detected ones were used
        assert "(detected)" in result.stdout
        return
    assert result.returncode == 2 and "--gpus 4x80" in result.stderr


def test_doctor_json_names_the_engine(engine_sim: SimulatedEngine):
    data = json.loads(r1tui("doctor", "--json", "--host", engine_sim.url).stdout)
    assert data["server"]["engine"] == "vllm" and data["server"]["reachable"] is True
    assert data["server"]["version"] == "0.16.0"
