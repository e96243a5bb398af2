"""`r1tui pull` against the simulated server, and the progress arithmetic it shares with the TUI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tui.core.pull_progress import (
    PullTracker,
    SpeedMeter,
    format_bytes,
    format_duration,
    render_bar,
)
from tui.demo import Faults, SimulatedOllama

TAG = "deepseek-r1:32b"  # in the sim's registry, not installed
LAYER = 19_851_336_256


def pull(sim_url: str, tag: str = TAG, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", "pull", tag, "--host", sim_url],
                          capture_output=True, text=True, timeout=timeout)


def installed(sim: SimulatedOllama) -> set[str]:
    return {m["name"] for m in httpx.get(f"{sim.url}/api/tags").json()["models"]}


# -- the command -----------------------------------------------------------------


def test_pull_installs_the_tag_and_reports_progress(sim: SimulatedOllama) -> None:
    sim.pull_bytes_per_second = 8e9  # 2.5 s for the 19.9 GB layer: long enough for periodic lines
    assert TAG not in installed(sim)
    result = pull(sim.url)
    assert result.returncode == 0, result.stderr
    assert TAG in installed(sim)
    assert result.stdout == ""  # progress is for people: stderr only
    err = result.stderr
    assert "(19.9 GB)" in err  # the weights layer announced with its size
    progress = [line for line in err.splitlines() if "/ 19.9 GB" in line and "ETA" in line]
    assert progress, err  # a periodic line with bytes done/total, speed and ETA when not on a terminal
    assert "GB/s" in progress[-1]
    assert "\r" not in err  # no terminal: plain lines, no carriage-return redraws
    assert err.rstrip().endswith(f"pulled {TAG}")


def test_unknown_tag_fails_with_a_clear_message(sim: SimulatedOllama) -> None:
    result = pull(sim.url, "deepseek-r1:999b")
    assert result.returncode == 1
    assert "deepseek-r1:999b is not a tag the registry knows" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_server_fails_with_a_clear_message() -> None:
    server = SimulatedOllama()
    server.start()
    url = server.url
    server.stop()
    result = pull(url)
    assert result.returncode == 1
    assert f"cannot reach the Ollama server at {url}" in result.stderr
    assert "Traceback" not in result.stderr


def test_certificates_that_cannot_be_loaded_fail_with_the_way_to_mend_them(sim: SimulatedOllama, tmp_path) -> None:
    """Not a traceback, and not "run the same command again": trying again cannot help."""
    missing = tmp_path / "missing.pem"
    result = subprocess.run([sys.executable, "-m", "tui", "pull", TAG, "--host", sim.url], capture_output=True,
                            text=True, timeout=60, env={**os.environ, "SSL_CERT_FILE": str(missing)})
    assert result.returncode == 1
    assert f"Cannot load the TLS certificates (SSL_CERT_FILE={missing})" in result.stderr
    assert "fix or unset SSL_CERT_FILE" in result.stderr
    assert "again" not in result.stderr and "Traceback" not in result.stderr


def test_error_mid_pull_fails_then_a_second_pull_resumes(sim: SimulatedOllama) -> None:
    sim.pull_bytes_per_second = 20e9
    sim.faults = Faults(pull_error_after_bytes=6_000_000_000)
    failed = pull(sim.url)
    assert failed.returncode == 1
    assert "no space left on device" in failed.stderr
    assert "after 6.0 GB of 19.9 GB" in failed.stderr
    assert "run the same command again to resume" in failed.stderr
    assert TAG not in installed(sim)

    resumed = pull(sim.url)
    assert resumed.returncode == 0, resumed.stderr
    assert "(19.9 GB, resuming at 6.0 GB)" in resumed.stderr
    assert TAG in installed(sim)


def test_ctrl_c_cancels_cleanly(sim: SimulatedOllama) -> None:
    sim.pull_bytes_per_second = 1e9  # 20 s: far longer than the test waits
    process = subprocess.Popen([sys.executable, "-m", "tui", "pull", TAG, "--host", sim.url],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not sim.pull_progress and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sim.pull_progress, "the pull never started"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert "cancelled" in err and "resume" in err
    assert "Traceback" not in err
    deadline = time.monotonic() + 5
    while sim.abandoned_streams == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sim.abandoned_streams == 1  # the stream was closed, so the server stopped sending
    assert TAG not in installed(sim)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_on_a_terminal_the_bar_redraws_one_line(sim: SimulatedOllama) -> None:
    import pty

    sim.pull_bytes_per_second = 10e9
    leader, follower = pty.openpty()
    try:
        process = subprocess.run([sys.executable, "-m", "tui", "pull", TAG, "--host", sim.url],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower, timeout=60)
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    out = b"".join(chunks).decode()
    assert process.returncode == 0
    assert "\r" in out and "[#" in out and "ETA" in out


# -- the arithmetic ------------------------------------------------------------------


def test_speed_is_measured_over_the_recent_window() -> None:
    meter = SpeedMeter(window=5.0)
    assert meter.rate() is None
    meter.add(0.0, 0)
    assert meter.rate() is None  # one sample says nothing about speed
    for second in range(1, 11):
        meter.add(float(second), second * 100)  # 100 B/s for 10 s
    assert meter.rate() == pytest.approx(100)
    for second in range(11, 16):
        meter.add(float(second), 1000)  # then a 5 s stall
    assert meter.rate() == pytest.approx(0)  # the stall shows, not the 10 s average of 66 B/s


def test_resumed_bytes_do_not_count_as_speed() -> None:
    tracker = PullTracker()
    tracker.update(0.0, "pulling manifest")
    tracker.update(0.05, "pulling abc", "sha256:abc", LAYER, 6_000_000_000)  # 6 GB done before this run
    assert tracker.resumed_bytes == 6_000_000_000
    assert tracker.speed is None
    tracker.update(1.05, "pulling abc", "sha256:abc", LAYER, 6_100_000_000)
    assert tracker.speed == pytest.approx(100e6)
    remaining = (LAYER - 6_100_000_000) / 100e6
    assert tracker.eta == pytest.approx(remaining)
    assert tracker.layers["sha256:abc"].eta == pytest.approx(remaining)


def test_a_fresh_pull_whose_first_report_is_not_zero_is_not_called_resumed() -> None:
    """Ollama reports on a 60 ms tick after the download began: 17.4 MB may be its first word on a new layer."""
    tracker = PullTracker()
    tracker.update(0.0, "pulling manifest")
    layer = tracker.update(0.07, "pulling abc", "sha256:abc", LAYER, 17_400_000)
    assert layer is not None and layer.resumed_from == 0 and tracker.resumed_bytes == 0
    assert not layer.already_present
    # Even a slow first report after a long set-up: what a fast link could fetch in that time is not evidence.
    slow = PullTracker()
    slow.update(0.0, "pulling manifest")
    assert slow.update(2.0, "pulling abc", "sha256:abc", LAYER, 900_000_000).resumed_from == 0


def test_a_layer_already_on_disk_is_neither_resumed_nor_speed() -> None:
    tracker = PullTracker()
    tracker.update(0.0, "pulling manifest")
    layer = tracker.update(0.01, "pulling abc", "sha256:abc", LAYER, LAYER)
    assert layer.already_present and layer.resumed_from == 0 and layer.done


def test_an_earlier_attempt_is_evidence_even_for_a_small_partial() -> None:
    tracker = PullTracker(known_partial={"sha256:abc": 30_000_000})
    tracker.update(0.0, "pulling manifest")
    layer = tracker.update(0.07, "pulling abc", "sha256:abc", LAYER, 31_000_000)
    assert layer.resumed_from == 30_000_000  # what was left, not what arrived since


def test_the_command_says_resuming_only_for_a_resume() -> None:
    import io

    from tui.commands.pull import ProgressPrinter

    def first_line(completed: int) -> str:
        stream = io.StringIO()
        printer = ProgressPrinter(stream, tty=False)
        printer.update("pulling manifest", None, None, None)
        printer.update("pulling 6e9f90f02bb3", "sha256:6e9f90f02bb3", LAYER, completed)
        return [line for line in stream.getvalue().splitlines() if line.startswith("pulling 6e9f")][0]

    assert first_line(17_400_000) == "pulling 6e9f90f02bb3 (19.9 GB)"
    assert first_line(6_000_000_000) == "pulling 6e9f90f02bb3 (19.9 GB, resuming at 6.0 GB)"


def test_layers_add_up() -> None:
    tracker = PullTracker()
    tracker.update(0.0, "pulling a", "sha256:aaaa", 800, 0)
    tracker.update(1.0, "pulling a", "sha256:aaaa", 800, 800)
    tracker.update(1.0, "pulling b", "sha256:bbbb", 200, 0)
    tracker.update(2.0, "pulling b", "sha256:bbbb", 200, 100)
    assert tracker.total_bytes == 1000
    assert tracker.completed_bytes == 900
    assert tracker.fraction == pytest.approx(0.9)
    assert tracker.layers["sha256:aaaa"].done and not tracker.layers["sha256:bbbb"].done
    assert tracker.current is tracker.layers["sha256:bbbb"]
    assert not tracker.finished
    tracker.update(2.5, "success")
    assert tracker.finished and tracker.status == "success"


def test_a_restarted_layer_does_not_give_negative_speed() -> None:
    meter = SpeedMeter()
    meter.add(0.0, 500)
    meter.add(1.0, 600)
    meter.add(2.0, 0)  # the server started the blob over
    meter.add(3.0, 50)
    assert meter.rate() == pytest.approx(50)


def test_eta_is_unknown_without_speed() -> None:
    tracker = PullTracker()
    tracker.update(0.0, "pulling a", "sha256:aaaa", 800, 0)
    assert tracker.eta is None
    assert format_duration(tracker.eta) == "--"


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (41.2, "42s"), (185, "3m05s"), (3720, "1h02m")])
def test_durations(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_bytes_and_bar() -> None:
    assert format_bytes(387) == "387 B"
    assert format_bytes(19_851_336_256) == "19.9 GB"
    assert format_bytes(404_000_000_000) == "404.0 GB"
    assert render_bar(0.5, 10) == "[#####.....]"
    assert render_bar(1.5, 4) == "[####]"
