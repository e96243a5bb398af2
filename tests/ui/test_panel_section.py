"""The panel's sections redraw only the lines that changed, and still show every change.

The speed section changes twice a second while a reply streams; drawing all of it each
time was most of what the panel cost. These tests hold the saving (only the changed
rows are drawn again) and what it must not lose: wrapped lines, heights that change,
styles that change without the text, and the theme's colours.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.content import Content
from textual.geometry import Region
from textual.widgets import Static

from tui.widgets.panel_section import PanelSection


class SectionHost(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.section = PanelSection()

    def compose(self) -> ComposeResult:
        yield self.section
        yield Static("below", id="below")


def rows(section: PanelSection) -> list[str]:
    """The section's rows as drawn (its own render, the public Line API entry point)."""
    width, height = section.size
    return [strip.text.rstrip() for strip in section.render_lines(Region(0, 0, width, height))]


def drawn_rows(section: PanelSection, log: list[int]) -> None:
    """Note in `log` each row the section is asked to draw."""
    original = section.render_line

    def render_line(y: int):  # type: ignore[no-untyped-def]
        log.append(y)
        return original(y)

    section.render_line = render_line  # type: ignore[method-assign]


SPEED = ["Speed · generating", " 41.0 tok/s live (last 2 s)", " first token 0.31 s · thinking 2.0 s",
         " 80 reasoning + 0 answer tokens"]


async def test_a_changed_figure_redraws_its_row_and_no_other() -> None:
    app = SectionHost()
    async with app.run_test(size=(50, 12)) as pilot:
        app.section.update(Content("\n".join(SPEED)))
        await pilot.pause()
        assert rows(app.section) == SPEED
        drawn: list[int] = []
        drawn_rows(app.section, drawn)
        changed = [*SPEED[:2], " first token 0.31 s · thinking 2.5 s", SPEED[3]]
        app.section.update(Content("\n".join(changed)))
        await pilot.pause()
        assert drawn == [2]
        drawn.clear()
        assert rows(app.section) == changed
        assert app.query_one("#below").region.y == 4


async def test_a_line_that_starts_to_wrap_grows_the_section_and_moves_what_is_below() -> None:
    app = SectionHost()
    async with app.run_test(size=(30, 12)) as pilot:
        app.section.update(Content("CPU 23%\nRAM 14.0/64.0 GiB"))
        await pilot.pause()
        assert app.query_one("#below").region.y == 2
        app.section.update(Content("CPU 23%\nRAM 14.0/64.0 GiB · swap 0.0/8.0 GiB · load 2.10"))
        await pilot.pause()
        shown = rows(app.section)
        assert len(shown) == 3 and shown[0] == "CPU 23%"
        assert " ".join(shown[1:]).split() == "RAM 14.0/64.0 GiB · swap 0.0/8.0 GiB · load 2.10".split()
        assert app.query_one("#below").region.y == 3
        app.section.update(Content("CPU 23%\nRAM 14.0/64.0 GiB\nswap 0.0/8.0 GiB"))  # a line more
        await pilot.pause()
        assert rows(app.section) == ["CPU 23%", "RAM 14.0/64.0 GiB", "swap 0.0/8.0 GiB"]
        app.section.update(Content("CPU 23%"))  # fewer lines
        await pilot.pause()
        assert rows(app.section) == ["CPU 23%"]
        assert app.query_one("#below").region.y == 1


async def test_a_change_of_style_alone_is_drawn() -> None:
    app = SectionHost()
    async with app.run_test(size=(40, 6)) as pilot:
        app.section.update(Content.assemble("GPU0 ", ("64°C", "bold")))
        await pilot.pause()
        app.section.update(Content.assemble("GPU0 ", ("64°C", "bold $error")))
        await pilot.pause()
        strip = app.section.render_lines(Region(0, 0, 40, 1))[0]
        hot = [segment.style for segment in strip if segment.text.startswith("64")]
        assert hot and hot[0] is not None and hot[0].color is not None
        error = app.theme_variables["error"]
        assert hot[0].color.triplet is not None and hot[0].color.triplet.hex.lower() == error.lower()


async def test_a_theme_change_recolours_the_lines_drawn_before_it() -> None:
    app = SectionHost()
    async with app.run_test(size=(40, 6)) as pilot:
        app.theme = "textual-dark"
        app.section.update(Content.styled("▁▃▅▇", "$accent"))
        await pilot.pause()

        def accent_colour() -> str:
            strip = app.section.render_lines(Region(0, 0, 40, 1))[0]
            style = next(segment.style for segment in strip if segment.text.startswith("▁"))
            assert style is not None and style.color is not None and style.color.triplet is not None
            return style.color.triplet.hex.lower()

        assert accent_colour() == app.theme_variables["accent"].lower()
        app.theme = "gruvbox"
        await pilot.pause()
        assert app.theme_variables["accent"].lower() != "" and accent_colour() == app.theme_variables["accent"].lower()
