"""Theme files: every bundled one loads and applies, a broken user theme is skipped with a message naming file and key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.color import ColorType
from textual.app import App
from textual.widgets import Label

from tests.apphelpers import make_app, send_and_wait, wait_connected
from tui.core.config import config_dir
from tui.demo import Reply, SimulatedOllama
from tui.themes import DEFAULT_THEME, bundled_themes_dir, choose_theme, load_themes, register_themes

THEME_FILES = sorted(Path(__file__).resolve().parents[2].joinpath("themes").glob("*.toml"))


def test_the_bundled_themes_are_a_dark_default_a_light_one_and_an_ansi_one() -> None:
    loaded = load_themes()
    assert loaded.problems == []
    assert {"r1-dark", "r1-light", "r1-ansi"} <= set(loaded.themes)
    assert DEFAULT_THEME == "r1-dark" and loaded.themes["r1-dark"].dark
    assert not loaded.themes["r1-light"].dark
    ansi = loaded.themes["r1-ansi"]
    assert ansi.ansi
    colours = [ansi.primary, ansi.secondary, ansi.warning, ansi.error, ansi.success, ansi.accent, ansi.foreground,
               ansi.background, ansi.surface, ansi.panel, ansi.boost]
    assert all(colour and colour.startswith("ansi_") for colour in colours)


@pytest.mark.parametrize("path", THEME_FILES, ids=[path.stem for path in THEME_FILES])
async def test_every_theme_file_loads_and_applies_to_an_app(path: Path) -> None:
    theme = load_themes().themes[path.stem]  # its name is its file name, so `ui.theme` can say either

    class Probe(App[None]):
        def compose(self):
            yield Label("hello")

    app = Probe()
    async with app.run_test(size=(40, 5)) as pilot:
        app.register_theme(theme)
        app.theme = theme.name
        await pilot.pause()
        assert app.current_theme is theme
        assert app.get_css_variables()["primary"]  # the colour system was derived without error


async def test_the_ansi_theme_draws_the_chat_with_the_terminals_16_colours_only() -> None:
    """What makes it readable without truecolor: no RGB colour at all, so nothing is approximated."""
    server = SimulatedOllama(rate=0.0, reply=Reply(reasoning="Thinking it over.",
                                                   answer="**Yes.**\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
                                                          "```python\nprint(1)\n```"))
    server.start()
    try:
        app = make_app(server.url, frozen_clock=True)
        async with app.run_test(size=(80, 24)) as pilot:
            register_themes(app)
            app.theme = "r1-ansi"
            await wait_connected(pilot)
            await send_and_wait(pilot, "Is it?")
            kinds = set()
            for strip in app.screen._compositor.render_strips():
                for segment in strip:
                    if segment.style is not None:
                        kinds |= {c.type for c in (segment.style.color, segment.style.bgcolor) if c is not None}
    finally:
        server.stop()
    assert kinds and kinds <= {ColorType.DEFAULT, ColorType.STANDARD}


def write_user_theme(name: str, text: str) -> Path:
    folder = config_dir() / "themes"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, message", [
    ('primary = "#12345"\n', r"`primary` = '#12345' is not a colour"),
    ('primary = "#123456"\ndark = "yes"\n', r"`dark` = 'yes' is not allowed: use true or false"),
    ('primary = "#123456"\nbackgroud = "#000000"\n', r"unknown key `backgroud` \(allowed: name, primary"),
    ('background = "#000000"\n', r"`primary` is missing"),
    ('primary = "#123456"\ntext_alpha = 3\n', r"`text_alpha` = 3 is not allowed: use a number from 0 to 1"),
    ('primary = "#123456"\n[variables]\nborder = 3\n', r"`variables.border` = 3 is not allowed"),
    ('primary = "#123456\n', r"not valid TOML"),
])
def test_a_broken_user_theme_is_skipped_with_a_message_naming_file_and_key(text: str, message: str) -> None:
    path = write_user_theme("mine.toml", text)
    write_user_theme("fine.toml", 'primary = "ansi_magenta"\n')
    loaded = load_themes()
    [problem] = loaded.problems
    assert problem.startswith(f"{path}: ") and problem.endswith("; theme skipped")
    assert re.search(message, problem), problem
    assert "mine" not in loaded.themes
    assert {"fine", "r1-dark", "r1-light", "r1-ansi"} <= set(loaded.themes)


def test_a_user_theme_can_replace_a_bundled_one() -> None:
    write_user_theme("r1-dark.toml", 'name = "r1-dark"\nprimary = "#ff0000"\n')
    assert load_themes().themes["r1-dark"].primary == "#ff0000"


def test_an_unknown_theme_setting_falls_back_to_the_default_with_a_message() -> None:
    assert choose_theme("r1-light", ["r1-dark", "r1-light"]) == ("r1-light", None)
    name, message = choose_theme("solarised", ["r1-dark", "r1-light"])
    assert name == "r1-dark" and message is not None and "'solarised' not found" in message


def test_bundled_themes_are_found_next_to_the_package_before_installation() -> None:
    folder = bundled_themes_dir()
    assert sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".toml")) == [
        path.name for path in THEME_FILES]


async def test_theme_picked_in_the_app_sticks_across_restarts(sim) -> None:
    from tests.apphelpers import make_app, wait_connected

    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot)
        assert app.theme == "r1-dark"
        app.theme = "r1-light"
        await pilot.pause()
    again = make_app(sim.url)
    async with again.run_test(size=(80, 24)) as pilot:
        await wait_connected(pilot)
        assert again.theme == "r1-light"
