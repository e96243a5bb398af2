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


def r1tui(*args: str, columns: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OLLAMA_HOST", "COLUMNS")}
    if columns is not None:
        env["COLUMNS"] = str(columns)
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
    assert set(data) >= {"vram_gib", "ctx", "best", "models"}  # keys may be added, never renamed
    assert data["vram_gib"] == 24.0 and isinstance(data["vram_gib"], float)
    assert data["ctx"] == 8192
    assert data["best"] == "deepseek-r1:32b"
    models = data["models"]
    assert [m["tag"] for m in models[:7]] == list(catalog.DEFAULT_TAGS)
    assert [m["tag"] for m in models] == [e.tag for e in catalog.CATALOG]
    for model in models:
        assert set(model) >= {"tag", "est_vram_gib", "fit", "installed"}
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
    pick = next(line for line in result.stdout.splitlines() if line.startswith("* recommended:"))
    assert "deepseek-r1:1.5b" in pick  # 14b fits in 16 GiB, but at ~2 tokens/s: not what to recommend
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


# -- without a GPU: usable, not merely fitting ----------------------------------------------


def test_cpu_only_box_is_not_sent_to_a_model_that_crawls() -> None:
    """The report: 2 cores, 23.5 GiB RAM (21.6 available), no GPU; 32b was starred at well under 1 token/s."""
    host = closed_port_url()
    data = as_json(r1tui("recommend", "--vram", "0", "--ram", "21.6", "--ctx", "8192", "--json", "--host", host))
    assert data["best"] == "deepseek-r1:1.5b"
    assert data["on_gpu"] is False
    by_tag = {m["tag"]: m for m in data["models"]}
    assert by_tag["deepseek-r1:32b"]["fit"] == "none"  # 21.6 GiB with nothing left for the OS is no fit
    assert by_tag["deepseek-r1:32b"]["est_tokens_per_s"] < 1.5
    assert by_tag["deepseek-r1:1.5b"]["est_tokens_per_s"] >= 5
    assert data["cpu"]["mem_bandwidth_assumed"] is True and data["cpu"]["mem_bandwidth_gbps"] == 20.0
    assert data["cpu"]["usable_ram_gib"] < 21.6 - 1.5  # headroom kept
    assert "tokens/s" in data["reason"] and "assumed" in data["reason"]

    table = r1tui("recommend", "--vram", "0", "--ram", "21.6", "--ctx", "8192", "--host", host).stdout
    lines = table.splitlines()
    header = next(line for line in lines if "TAG" in line)
    assert "EST TOK/S" in header
    row = next(line for line in lines if "deepseek-r1:32b " in line)
    assert "~1.0" in row and "does not fit" in row
    assert "memory bandwidth" in table and "--mem-bandwidth" in table


def test_a_faster_memory_gets_a_larger_model() -> None:
    data = as_json(r1tui("recommend", "--vram", "0", "--ram", "21.6", "--ctx", "8192", "--mem-bandwidth", "60",
                         "--json", "--host", closed_port_url()))
    assert data["best"] == "deepseek-r1:14b"  # ~6.7 tokens/s at 60 GB/s, and 11 GiB of 19.4 usable
    assert data["cpu"]["mem_bandwidth_assumed"] is False and data["cpu"]["mem_bandwidth_gbps"] == 60.0


def test_on_a_gpu_no_cpu_speed_is_claimed() -> None:
    data = as_json(r1tui("recommend", "--vram", "24", "--ram", "64", "--json", "--host", closed_port_url()))
    assert data["on_gpu"] is True and data["cpu"] is None
    assert all(m["est_tokens_per_s"] is None for m in data["models"])


# -- the output itself ---------------------------------------------------------------------


def test_table_fits_the_columns_it_is_given() -> None:
    host = closed_port_url()
    for columns in (80, 100):
        result = r1tui("recommend", "--vram", "24", "--ram", "64", "--ctx", "8192", "--host", host, columns=columns)
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= columns, result.stdout
        marked = [line for line in lines if line.startswith("*  ")]
        assert len(marked) == 1 and " 32b " in marked[0]
        assert any("recommended: deepseek-r1:32b" in line for line in lines)
    wide = r1tui("recommend", "--vram", "24", "--ram", "64", "--ctx", "8192", "--host", host).stdout
    assert "BASE MODEL" in wide and "AIME24" in wide  # to a pipe with no COLUMNS: everything


def test_context_defaults_to_the_configs(tmp_path) -> None:
    config = tmp_path / "config" / "r1tui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[chat]\nnum_ctx = 16384\n")
    data = as_json(r1tui("recommend", "--vram", "24", "--ram", "64", "--json", "--host", closed_port_url()))
    assert data["ctx"] == 16384
