"""`r1tui fleet [--json] [--watch]`, run as a user would, against a config of simulated hosts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import PROXY_TOKEN
from tui.cli import main
from tui.demo import SimulatedOllama, hostile_models
from tui.demo.dcgm import SimulatedDcgm
from tui.demo.engines import SimulatedEngine
from tui.demo.silent import SilentHost

ROOT = Path(__file__).resolve().parents[2]


def write_config(text: str) -> Path:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "r1tui" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)
    return path


@pytest.fixture
def fleet(sim: SimulatedOllama, engine_sim: SimulatedEngine) -> Iterator[dict[str, str]]:
    """The trial fleet of the issue: a vLLM node with a 2-GPU DCGM exporter, an Ollama box, one host
    that is down and one that hangs; the Ollama box is the current server."""
    with SimulatedDcgm() as dcgm, SilentHost() as silent:
        sim.mark_loaded("deepseek-r1:7b", "5m", 4096)
        write_config(f"""
[server]
host = "{sim.url}"

[hosts.vllm-node]
url = "{engine_sim.url}"
gpu_metrics = "{dcgm.url}"

[hosts.workstation]
url = "{sim.url}"

[hosts.lab-down]
url = "http://127.0.0.1:1"

[hosts.hung-box]
url = "{silent.url}"
""")
        yield {"vllm": engine_sim.url, "ollama": sim.url, "hang": silent.url}


def test_json_shows_all_four_hosts_within_seconds(fleet, capsys) -> None:
    started = time.monotonic()
    code = main(["fleet", "--json", "--timeout", "5"])
    elapsed = time.monotonic() - started
    hosts = {host["name"]: host for host in json.loads(capsys.readouterr().out)["hosts"]}
    assert list(hosts) == ["vllm-node", "workstation", "lab-down", "hung-box"]
    assert code == 1  # one host (two) did not answer: scripts can tell
    assert elapsed < 12  # the hung host costs its own 5 s, not more
    node = hosts["vllm-node"]
    assert (node["engine"], node["version"], node["reachable"]) == ("vllm", "0.16.0", True)
    assert [g["index"] for g in node["gpus"]] == [0, 1] and node["gpus"][0]["vram_total_bytes"] > 0
    assert node["generation_tps"] is not None  # vLLM's rate needs two reads: a one-shot makes both
    assert hosts["workstation"]["current"] is True
    assert hosts["workstation"]["models"][0]["name"] == "deepseek-r1:7b"
    assert "refused" in hosts["lab-down"]["error"]
    assert hosts["hung-box"]["error"] == "timed out: no answer within 5 s"


def test_text_shows_one_block_per_host_with_its_reason(fleet, capsys) -> None:
    main(["fleet", "--timeout", "5"])
    out = capsys.readouterr().out
    assert "vllm-node    vLLM 0.16.0" in out
    assert "GPU1 NVIDIA H100 80GB HBM3 · 83 % · 69.3/79.6 GiB · 499 W · 61 °C" in out
    assert "● workstation  Ollama 0.12.6" in out
    assert "lab-down" in out and "unreachable: connection refused" in out
    assert "hung-box" in out and "unreachable: timed out" in out


def test_exit_status_is_0_when_every_host_answers(sim: SimulatedOllama, capsys) -> None:
    write_config(f'[hosts.ws]\nurl = "{sim.url}"\n')
    assert main(["--host", sim.url, "fleet", "--json"]) == 0
    assert [h["name"] for h in json.loads(capsys.readouterr().out)["hosts"]] == ["ws"]


def test_a_token_never_reaches_the_output(auth_proxy, capsys) -> None:
    url, seen = auth_proxy
    write_config(f'[hosts.lab]\nurl = "{url}"\nengine = "ollama"\ntoken = "wrong-{PROXY_TOKEN}"\n')
    main(["--host", url, "fleet", "--json"])
    main(["--host", url, "fleet"])
    captured = capsys.readouterr()
    assert seen  # the proxy got the token (and echoed it in its 401 page)
    assert "wrong-" + PROXY_TOKEN not in captured.out + captured.err
    assert "401 unauthorized" in captured.out


def test_watch_prints_one_json_object_per_poll_until_ctrl_c(sim: SimulatedOllama, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "tui", "--host", sim.url, "fleet", "--watch", "--json",
                                "--interval", "0.3"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        lines = [process.stdout.readline() for _ in range(2)]
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
    finally:
        process.kill()
        process.stdout.close()
    assert [json.loads(line)["hosts"][0]["reachable"] for line in lines] == [True, True]
    assert code == 0


def test_names_from_a_hostile_server_print_inert(capsys) -> None:
    hostile = SimulatedOllama(models=hostile_models(), vram_fraction=0.5).start()
    try:
        name = next(iter(hostile.models))
        hostile.mark_loaded(name, "5m", 2048)
        main(["--host", hostile.url, "fleet"])
    finally:
        hostile.stop()
    out = capsys.readouterr().out
    assert "deepseek-r1:7b␛]0;pwned␇" in out and "spilled to CPU" in out  # shown, as visible symbols
    assert not any(ord(c) < 32 and c != "\n" for c in out) and "\x9b" not in out


def test_help_says_what_the_exit_status_means(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["fleet", "--help"])
    assert "exit status 0 when every host answered" in " ".join(capsys.readouterr().out.split()).lower()
