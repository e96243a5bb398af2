"""README's set-up commands and command list stay true: CI runs its test command, its start command
installs the `r1tui` script and starts the demo, and every subcommand it lists exists."""

import re
import shlex
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme() -> str:
    return (ROOT / "README.md").read_text()


def sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", readme(), flags=re.S)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    command = next(line for line in ci.splitlines() if "pytest" in line and not line.startswith("#"))
    assert command in readme()
    assert command in sh_blocks()


def test_readme_start_command_installs_and_starts_r1tui(monkeypatch) -> None:
    start = sh_blocks()[0]
    steps = [shlex.split(step) for step in start.split(" && ")]
    assert steps[0] == ["python3", "-m", "venv", ".venv"]
    assert steps[1] == [".venv/bin/pip", "install", "."]  # this project, into that venv
    # pip puts the [project.scripts] entry point in .venv/bin: r1tui runs tui.cli:main.
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert steps[2][0] == ".venv/bin/r1tui" and scripts == {"r1tui": "tui.cli:main"}
    # ...with the rest as its arguments: the chat against the built-in demo server.
    from tui.app import R1App
    from tui.cli import build_parser, main

    args = build_parser().parse_args(steps[2][1:])
    assert args.demo is True and args.command is None and args.host is None
    started: list[R1App] = []
    monkeypatch.setattr(R1App, "run", lambda self, *a, **k: started.append(self))
    assert main(steps[2][1:]) == 0
    [app] = started
    assert app.demo and "DEMO" in app.title


def test_every_subcommand_the_readme_lists_exists() -> None:
    from tui.cli import command_modules

    section = readme().split("## Headless commands", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^- `r1tui (\w+)", section, flags=re.M)
    assert listed and len(set(listed)) == len(listed)
    assert set(listed) <= set(command_modules())
