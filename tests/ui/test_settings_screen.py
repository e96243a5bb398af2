"""The settings screen, driven from the keyboard with Pilot, writing a real config file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, Select, TextArea

from tests.apphelpers import ScreenHost, screen_text, wait_for
from tui.core.config import Settings, load_settings, save_settings
from tui.screens.settings import SettingsScreen

THEMES = ["r1-ansi", "r1-dark", "r1-light"]


Host = ScreenHost


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "r1tui" / "config.toml"


def host(path: Path, settings: Settings | None = None) -> Host:
    return Host(lambda: SettingsScreen(settings or Settings(), path, THEMES))


def status(app: Host) -> str:
    return str(app.screen.query_one("#settings-status").render())


def problem(app: Host, attribute: str) -> str:
    return str(app.screen.query_one(f"#problem-{attribute}").render())


async def retype(pilot, selector: str, text: str) -> None:
    """Focus a field, clear it and type, as a user would."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = ""
    await pilot.press(*text)


async def test_a_bad_temperature_is_named_next_to_the_field_and_nothing_is_saved(path) -> None:
    app = host(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await retype(pilot, "#field-temperature", "3")
        await pilot.pause()
        assert problem(app, "temperature") == "use a number from 0 to 2"
        assert "use a number from 0 to 2" in screen_text(app)  # visible, under the field

        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Not saved" in status(app) and app.result == "not dismissed" and not path.exists()
        assert app.screen.focused is app.screen.query_one("#field-temperature")

        await retype(pilot, "#field-temperature", "warm")  # not a number at all: the same words
        await pilot.pause()
        assert problem(app, "temperature") == "use a number from 0 to 2"

        await retype(pilot, "#field-temperature", "0.7")
        await pilot.pause()
        assert problem(app, "temperature") == "" and "0 to 2" not in screen_text(app)


@pytest.mark.parametrize("attribute, typed, message", [
    ("num_ctx", "4096.5", "a whole number from 512 to 131072"),
    ("top_p", "1.5", "a number from 0 to 1"),
    ("keep_alive", "soon", 'a duration like "5m"'),
    ("sample_interval", "0", "a number from 0.2 to 60"),
    ("stall_timeout", "", "a number from 5 to 3600"),
])
async def test_each_field_uses_the_config_files_own_rule(path, attribute, typed, message) -> None:
    app = host(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await retype(pilot, f"#field-{attribute}", typed)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert message in problem(app, attribute) and not path.exists()


async def test_a_good_change_is_written_and_loads_back_equal(path) -> None:
    start = Settings(host="http://gpu-box:11434", model="deepseek-r1:7b")
    app = host(path, start)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await retype(pilot, "#field-temperature", "0.7")
        await retype(pilot, "#field-num_ctx", "8192")
        await retype(pilot, "#field-keep_alive", "1h")
        app.screen.query_one("#field-theme", Select).value = "r1-light"
        app.screen.query_one("#field-show_panel", Checkbox).focus()
        await pilot.press("space")  # untick the panel
        app.screen.query_one("#field-system_prompt", TextArea).focus()
        await pilot.press(*"Be brief.")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.result != "not dismissed")

    expected = replace(start, temperature=0.7, num_ctx=8192, keep_alive="1h", theme="r1-light",
                       show_panel=False, system_prompt="Be brief.")
    assert app.result == expected
    loaded = load_settings(path)
    assert loaded.problems == [] and loaded.settings == expected
    assert path.stat().st_mode & 0o777 == 0o600


async def test_escape_cancels_without_writing(path) -> None:
    app = host(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await retype(pilot, "#field-temperature", "0.9")
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None and not path.exists()


async def test_a_broken_config_file_is_not_overwritten(path) -> None:
    path.parent.mkdir(parents=True)
    broken = "[chat]\ntemperature = 0.6\nmodel = \"deepseek-r1:7b\n# my notes\n"
    path.write_text(broken)
    app = host(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "could not be parsed" in status(app)  # said before the user types anything
        await retype(pilot, "#field-temperature", "0.8")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Not saved" in status(app) and "could not be parsed" in status(app)
        assert app.result == "not dismissed"
    assert path.read_text() == broken


async def test_a_theme_that_is_not_installed_is_kept_rather_than_lost(path) -> None:
    app = host(path, Settings(theme="my-own"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#field-theme", Select).value == "my-own"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.result != "not dismissed")
    assert load_settings(path).settings.theme == "my-own"


async def test_saving_keeps_settings_the_form_does_not_show(path) -> None:
    on_disk = Settings(temperature=0.5, runtime_autostart=True)  # [runtime] has no field in the form
    save_settings(on_disk, path)
    app = host(path, load_settings(path).settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#field-temperature", Input).value == "0.5"
        await retype(pilot, "#field-top_p", "0.9")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.result != "not dismissed")
    assert load_settings(path).settings == replace(on_disk, top_p=0.9)


async def test_saving_edits_the_users_file_in_place_and_keeps_a_backup(path) -> None:
    path.parent.mkdir(parents=True)
    mine = ("# tuned for the 4090\n[chat]\ntemprature = 0.5  # typo, mine\ntemperature = 0.6\n"
            "num_ctx = 12.5  # invalid, left alone\n\n[plugins]\nfoo = 1\n")
    path.write_text(mine)
    path.chmod(0o644)
    app = host(path, load_settings(path).settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await retype(pilot, "#field-temperature", "0.7")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.result != "not dismissed")
    assert path.read_text() == mine.replace("temperature = 0.6", "temperature = 0.7")
    assert (path.parent / "config.toml.bak").read_text() == mine
    assert path.stat().st_mode & 0o777 == 0o600


def test_settings_screen_snapshot(snap_compare) -> None:
    # A fixed path that does not exist: the status line names it, and nothing is read or written.
    app = host(Path("/home/user/.config/r1tui/config.toml"), Settings(host="http://gpu-box:11434"))

    async def bad_temperature(pilot) -> None:  # shows where a message goes
        await pilot.pause()
        await retype(pilot, "#field-temperature", "3")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=bad_temperature)
