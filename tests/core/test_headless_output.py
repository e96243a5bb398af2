"""What every headless command shares: a reader that goes away (`| head`) ends it quietly."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tui.commands import BROKEN_PIPE_EXIT


def run_into_closed_pipe(*args: str) -> subprocess.CompletedProcess[bytes]:
    """The command's stdout is a pipe whose reader is already gone, as after `| head -1` has exited."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, *args], stdout=write_end, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write_end)


@pytest.mark.parametrize("command", [
    ["recommend", "--vram", "24", "--ram", "64", "--host", "http://127.0.0.1:9"],  # short: written at exit
    ["recommend", "--vram", "24", "--ram", "64", "--json", "--host", "http://127.0.0.1:9"],
    ["history"],
])
def test_a_closed_pipe_ends_the_command_without_a_traceback(command: list[str]) -> None:
    result = run_into_closed_pipe("-m", "tui", *command)
    assert b"Traceback" not in result.stderr and b"BrokenPipeError" not in result.stderr, result.stderr.decode()
    assert result.returncode == BROKEN_PIPE_EXIT  # as a shell reports a process ended by SIGPIPE


def test_a_long_output_interrupted_midway_ends_quietly_too() -> None:
    """Output larger than the pipe's buffer fails inside print(), not at exit: the same quiet end."""
    script = ("import sys\nfrom tui.commands import run_command\n"
              "def rows(_):\n    for i in range(100000):\n        print('row', i)\n"
              "sys.exit(run_command(rows, None))\n")
    result = run_into_closed_pipe("-c", script)
    assert result.stderr == b""
    assert result.returncode == BROKEN_PIPE_EXIT
