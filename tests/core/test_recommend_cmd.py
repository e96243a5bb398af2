"""`r1tui recommend` as a script or a user runs it: a real subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from typing import Any

from tui.core import catalog
from tui.demo import SimulatedOllama


def r1tui(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "OLLAMA_HOST"}
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=60, env=env)


def closed_port_url() -> str:
    """A local URL nothing listens on, so "unreachable" is fast and certain."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def as_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # exactly one object: anything else on stdout fails here


def test_json_contract_with_a_server(sim: SimulatedOllama) -> None:
    data = as_json(r1tui("recommend", "--vram", "24", "--ram", "64", "--ctx", "8192", "--json", "--host", sim.url))
    assert set(data) == {"vram_gib", "ctx", "best", "models"}
    assert data["vram_gib"] == 24.0 and isinstance(data["vram_gib"], float)
    assert data["ctx"] == 8192
    assert data["best"] == "deepseek-r1:32b"
    models = data["models"]
    assert [m["tag"] for m in models[:7]] == list(catalog.DEFAULT_TAGS)
    assert [m["tag"] for m in models] == [e.tag for e in catalog.CATALOG]
    for model in models:
        assert set(model) == {"tag", "est_vram_gib", "fit", "installed"}
        assert isinstance(model["est_vram_gib"], float)
        assert model["fit"] in {"gpu", "partial", "cpu", "none"}
    installed = {m["tag"] for m in models if m["installed"]}
    assert installed == {"deepseek-r1:1.5b", "deepseek-r1:7b", "deepseek-r1:8b", "deepseek-r1:14b"}
    by_tag = {m["tag"]: m for m in models}
    assert by_tag["deepseek-r1:70b"]["fit"] == "partial"
    assert by_tag["deepseek-r1:671b"]["fit"] == "none"


def test_installed_models_use_the_servers_figures(sim: SimulatedOllama) -> None:
    """A server whose 7b reports twice the KV heads must make its estimate grow."""
    sim.models["deepseek-r1:7b"].head_count_kv = 8
    data = as_json(r1tui("recommend", "--vram", "24", "--ram", "64", "--ctx", "32768", "--json", "--host", sim.url))
    by_tag = {m["tag"]: m for m in data["models"]}
    served, catalogued = by_tag["deepseek-r1:7b"], by_tag["deepseek-r1:7b-qwen-distill-q4_K_M"]
    assert served["est_vram_gib"] > catalogued["est_vram_gib"] + 1.5  # 1.75 GiB more KV cache at 32k


def test_unreachable_server_still_answers_with_a_note() -> None:
    result = r1tui("recommend", "--vram", "24", "--ram", "64", "--ctx", "8192", "--json", "--host", closed_port_url())
    data = as_json(result)
    assert data["best"] == "deepseek-r1:32b"
    assert not any(m["installed"] for m in data["models"])
    assert "Cannot reach" in result.stderr


def test_context_and_kv_cache_change_the_answer() -> None:
    host = closed_port_url()
    long = as_json(r1tui("recommend", "--vram", "24", "--ram", "64", "--ctx", "32768", "--json", "--host", host))
    assert long["best"] == "deepseek-r1:14b"
    quantized = as_json(r1tui("recommend", "--vram", "24", "--ram", "64", "--ctx", "32768", "--kv-cache", "q4_0",
                              "--json", "--host", host))
    assert quantized["best"] == "deepseek-r1:32b"


def test_two_gpus_given_as_a_list() -> None:
    data = as_json(r1tui("recommend", "--vram", "24,24", "--ram", "64", "--ctx", "4096", "--json",
                         "--host", closed_port_url()))
    assert data["vram_gib"] == 48.0
    assert data["best"] == "deepseek-r1:70b"


def test_no_vram_recommends_for_cpu_and_says_so() -> None:
    result = r1tui("recommend", "--vram", "0", "--ram", "16", "--ctx", "8192", "--host", closed_port_url())
    assert result.returncode == 0
    assert "deepseek-r1:14b" in result.stdout.splitlines()[-1]
    assert "RAM" in result.stdout and "CPU" in result.stdout


def test_table_marks_the_recommendation_and_gives_the_reason() -> None:
    result = r1tui("recommend", "--vram", "24", "--ram", "64", "--ctx", "8192", "--host", closed_port_url())
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    marked = [line for line in lines if line.startswith("*  ")]
    assert len(marked) == 1 and "deepseek-r1:32b " in marked[0]
    assert "largest that fits fully in 24.0 GiB at 8k context" in result.stdout
    header = next(line for line in lines if "TAG" in line)
    row = next(line for line in lines if "deepseek-r1:70b " in line)
    # Aligned: each column starts at the same place in the header and in the rows.
    assert row.index("Llama-70B") == header.index("BASE MODEL")
    assert "partial" in row and "% of layers on CPU" in row
    assert not result.stdout.lstrip().startswith("{")


def test_bad_arguments_are_refused() -> None:
    assert r1tui("recommend", "--ctx", "0").returncode == 2
    assert r1tui("recommend", "--kv-cache", "q5_1").returncode == 2
    assert r1tui("recommend", "--vram", "lots").returncode == 2
