"""`r1tui bench --think-budget N`: each run's reasoning is cut at N tokens, and the report says so."""

from __future__ import annotations

import json

import pytest

from tui.cli import main
from tui.demo import SimulatedOllama
from tui.demo.reasoning_sim import long_thinker_reply


def test_a_think_budget_cuts_each_run_and_is_reported(sim: SimulatedOllama, capsys: pytest.CaptureFixture[str]) -> None:
    sim.reply = long_thinker_reply(3000)
    code = main(["bench", "--host", sim.url, "--models", "deepseek-r1:7b", "--prompt", "Sum the squares",
                 "--think-budget", "300", "--ctx", "16384", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    row = json.loads(out)["results"][0]
    assert 300 <= row["reasoning_tokens"] <= 310 and row["answer_tokens"] > 0
    assert (row["think_budget"], row["thinking_cut"], row["done_reason"]) == (300, "budget", "stop")
    assert row["context_size"] == 16384 and row["context_used"] > 300
    assert "thinking cut at the 300-token budget" in err


def test_without_the_flag_the_configs_budget_applies(sim: SimulatedOllama, tmp_path, capsys) -> None:
    config = tmp_path / "config" / "r1tui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[chat]\nthink_budget = 200\n")
    sim.reply = long_thinker_reply(3000)
    code = main(["bench", "--host", sim.url, "--models", "deepseek-r1:7b", "--prompt", "Sum", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["results"][0]["thinking_cut"] == "budget"
    code = main(["bench", "--host", sim.url, "--models", "deepseek-r1:7b", "--prompt", "Sum", "--json",
                 "--think-budget", "0"])
    out, _ = capsys.readouterr()
    row = json.loads(out)["results"][0]
    assert row["thinking_cut"] is None and row["reasoning_tokens"] >= 3000
