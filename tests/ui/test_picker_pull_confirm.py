"""F3 → p asks before downloading: size, fit verdict and free disk; a disk too small refuses politely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from tests.apphelpers import ScreenHost, screen_text, wait_for
from tests.ui.test_picker import BIG, Picker
from tui.core.fit import GIB, estimate
from tui.core import catalog
from tui.core.pulls import DiskSpace, local_disk_space, ollama_models_dir
from tui.demo import SimulatedOllama
from tui.screens.confirm import ConfirmPullScreen
from tui.screens.picker import pull_dialog

HUGE = "deepseek-r1:671b"  # 404 GB, does not fit a 24 GiB card


def dialog_text(app: Any) -> str:
    return "\n".join(str(static.content) for static in app.screen.query(Static))


def with_disk(sim: SimulatedOllama, free: int) -> Picker:
    picker = Picker(sim)
    picker.screen.disk_space = lambda: DiskSpace(free, Path("/srv/ollama/models"))
    return picker


async def open_dialog(picker: Picker, pilot: Any, tag: str) -> str:
    await picker.open(pilot)
    picker.select(tag)
    await pilot.press("p")
    await wait_for(pilot, lambda: isinstance(picker.app.screen, ConfirmPullScreen))
    return dialog_text(picker.app)


async def test_a_pull_waits_for_a_yes_and_says_what_it_costs(sim: SimulatedOllama) -> None:
    picker = with_disk(sim, 500_000_000_000)
    try:
        async with picker.app.run_test(size=(120, 40)) as pilot:
            text = await open_dialog(picker, pilot, BIG)
            assert "Pull deepseek-r1:32b?" in text
            assert "download: 19.9 GB" in text
            assert "memory when loaded: 21.6 GiB at 8k context — fits on GPU" in text
            assert "free disk: 500.0 GB in /srv/ollama/models" in text
            assert picker.pulls.get(BIG) is None  # nothing downloads before the answer
            await pilot.press("n")
            await wait_for(pilot, lambda: picker.screen.is_current)
            assert picker.pulls.get(BIG) is None
            await pilot.press("p")
            await wait_for(pilot, lambda: isinstance(picker.app.screen, ConfirmPullScreen))
            await pilot.press("y")
            await wait_for(pilot, lambda: picker.pulls.get(BIG) is not None)
    finally:
        await picker.pulls.aclose()


async def test_a_model_that_does_not_fit_is_said_plainly_and_a_full_disk_refuses(sim: SimulatedOllama) -> None:
    picker = with_disk(sim, 120_000_000_000)
    try:
        async with picker.app.run_test(size=(120, 40)) as pilot:
            text = await open_dialog(picker, pilot, HUGE)
            assert "download: 404.0 GB" in text
            assert "does not fit" in text and "will not run on this machine" in text
            assert "Not enough disk space: the download is 404.0 GB but only 120.0 GB is free in " \
                   "/srv/ollama/models" in text
            assert "Pull (y)" not in screen_text(picker.app)  # only a Close button
            await pilot.press("y")  # refused: y does not pull
            await wait_for(pilot, lambda: picker.screen.is_current)
            assert picker.pulls.get(HUGE) is None
    finally:
        await picker.pulls.aclose()


async def test_a_remote_server_says_its_free_disk_is_unknown() -> None:
    entry = catalog.find(BIG)
    est = estimate(entry, 8192, gpu_free_bytes=[24 * GIB], ram_bytes=64 * GIB)
    app = ScreenHost(lambda: pull_dialog(BIG, entry.download_bytes, est, "fits on GPU", 8192, DiskSpace(None),
                                         "http://gpu-box:11434"))
    async with app.run_test(size=(100, 24)) as pilot:
        await pilot.pause()
        text = dialog_text(app)
        assert "free disk on the server (http://gpu-box:11434): unknown" in text
        assert "Pull (y)" in screen_text(app)  # unknown is not a refusal
        await pilot.press("y")
        await pilot.pause()
        assert app.result is True


def test_models_dir_follows_ollama_models_then_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ollama_models_dir({"OLLAMA_MODELS": str(tmp_path / "m")}) == tmp_path / "m"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert ollama_models_dir({}) in (tmp_path / ".ollama" / "models", Path("/usr/share/ollama/.ollama/models"))
    (tmp_path / ".ollama" / "models").mkdir(parents=True)
    assert ollama_models_dir({}) == tmp_path / ".ollama" / "models"


def test_free_disk_is_measured_at_the_nearest_existing_folder(tmp_path: Path) -> None:
    target = tmp_path / "not" / "yet" / "models"
    space = local_disk_space(target)
    assert space.known and space.free_bytes > 0 and space.path == target
