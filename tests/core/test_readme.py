"""README's two set-up commands stay true: CI runs exactly the test command it gives."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = next(line for line in ci.splitlines() if "pytest" in line and not line.startswith("#"))
    assert command in readme


def test_readme_start_command_installs_and_starts_r1tui() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "pip install . && .venv/bin/r1tui" in readme
