"""Textual themes from TOML files: the bundled ones in `themes/`, then the user's own.

Users drop a `NAME.toml` into `$XDG_CONFIG_HOME/r1tui/themes/` to add a theme
(or replace a bundled one of the same name). A broken file must not stop the
app: it is skipped with a message naming the file and the key, like a bad
setting. A theme file holds `textual.theme.Theme`'s fields at the top level
and its `[variables]` table:

    name = "my-theme"          # optional, defaults to the file name without .toml
    primary = "#4D6BFE"        # the only required colour
    background = "#101319"
    dark = true
    [variables]
    footer-key-foreground = "#F5A524"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from textual.app import App
    from textual.theme import Theme

DEFAULT_THEME = "r1-dark"

_COLOURS = ("primary", "secondary", "warning", "error", "success", "accent", "foreground", "background",
            "surface", "panel", "boost")
_FLAGS = ("dark", "ansi")
_FRACTIONS = ("luminosity_spread", "text_alpha")


class ThemeError(ValueError):
    """A theme file that cannot be used; the message names the file and the key."""


@dataclass
class LoadedThemes:
    themes: dict[str, "Theme"] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def user_themes_dir() -> Path:
    from tui.core.config import config_dir

    return config_dir() / "themes"


def bundled_themes_dir() -> Traversable:
    """The `themes/` folder: package data `tui.themes_data` once installed, else the repository's."""
    try:
        return resources.files("tui.themes_data")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "themes"


def parse_theme(text: str, source: str, default_name: str) -> "Theme":
    """Build a Theme from a theme file's text; `source` names the file in errors."""
    from textual.color import Color, ColorParseError
    from textual.theme import Theme

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"{source}: not valid TOML ({exc})") from None

    def colour(key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise ThemeError(f"{source}: `{key}` = {value!r} is not allowed: use a colour in quotes, "
                             'like "#4D6BFE", "ansi_blue" or "red"')
        try:
            Color.parse(value)
        except ColorParseError:
            raise ThemeError(f"{source}: `{key}` = {value!r} is not a colour: use one like "
                             '"#4D6BFE", "rgb(77,107,254)", "ansi_blue" or "red"') from None
        return value

    fields: dict[str, Any] = {}
    for key, value in data.items():
        if key == "name":
            if not isinstance(value, str) or not value.strip():
                raise ThemeError(f"{source}: `name` must be a non-empty string in quotes")
            fields["name"] = value.strip()
        elif key in _COLOURS:
            fields[key] = colour(key, value)
        elif key in _FLAGS:
            if not isinstance(value, bool):
                raise ThemeError(f"{source}: `{key}` = {value!r} is not allowed: use true or false")
            fields[key] = value
        elif key in _FRACTIONS:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ThemeError(f"{source}: `{key}` = {value!r} is not allowed: use a number from 0 to 1")
            fields[key] = float(value)
        elif key == "variables":
            if not isinstance(value, dict):
                raise ThemeError(f"{source}: `variables` must be a [variables] table")
            for name, setting in value.items():
                if not isinstance(setting, str):
                    raise ThemeError(f"{source}: `variables.{name}` = {setting!r} is not allowed: use a string")
            fields["variables"] = dict(value)
        else:
            allowed = ", ".join(("name", *_COLOURS, *_FLAGS, *_FRACTIONS, "variables"))
            raise ThemeError(f"{source}: unknown key `{key}` (allowed: {allowed})")
    if "primary" not in fields:
        raise ThemeError(f'{source}: `primary` is missing: every theme needs a primary colour, like "#4D6BFE"')
    fields.setdefault("name", default_name)
    return Theme(**fields)


def load_theme_file(path: Path | Traversable) -> "Theme":
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeError(f"{path}: cannot be read ({exc})") from None
    return parse_theme(text, str(path), default_name=path.name.removesuffix(".toml"))


def _theme_files(folder: Path | Traversable) -> list[Path | Traversable]:
    try:
        if not folder.is_dir():
            return []
        return sorted((entry for entry in folder.iterdir() if entry.name.endswith(".toml") and entry.is_file()),
                      key=lambda entry: entry.name)
    except OSError:
        return []


def load_themes(user_dir: Path | None = None, bundled_dir: Path | Traversable | None = None) -> LoadedThemes:
    """Bundled themes, then the user's (a user theme replaces a bundled one of the same name)."""
    result = LoadedThemes()
    folders: Iterable[Path | Traversable] = (bundled_dir if bundled_dir is not None else bundled_themes_dir(),
                                             user_dir if user_dir is not None else user_themes_dir())
    for folder in folders:
        for path in _theme_files(folder):
            try:
                theme = load_theme_file(path)
            except ThemeError as exc:
                result.problems.append(f"{exc}; theme skipped")
                continue
            result.themes[theme.name] = theme
    return result


def register_themes(app: "App[Any]", user_dir: Path | None = None) -> LoadedThemes:
    """Register every loadable theme on the app; the caller shows `problems` as notifications."""
    loaded = load_themes(user_dir)
    for theme in loaded.themes.values():
        app.register_theme(theme)
    return loaded


def choose_theme(wanted: str, available: Iterable[str]) -> tuple[str, str | None]:
    """The theme to start with, and a message if the wanted one does not exist."""
    names = set(available)
    if wanted in names:
        return wanted, None
    fallback = DEFAULT_THEME if DEFAULT_THEME in names else "textual-dark"
    known = ", ".join(sorted(names))
    return fallback, f"theme {wanted!r} not found (known: {known}); using {fallback}"
