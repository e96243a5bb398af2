"""The settings screen: edit config.toml from the app, with the same rules as the file.

Why reuse `tui.core.config.KEYS`: a value the form accepts must load back without
a complaint, and a value the file refuses must be refused here with the same
words. So each field maps to its (table, key) and runs that key's validator;
the form only turns typed text into the number the validator expects.

Saving goes through `save_settings`, which edits the file in place (only the
values changed here; comments, unknown keys and the rest stay, the old text is
kept as config.toml.bak) and refuses to touch a file it could not parse: the
user's hand-written file is never lost to a form.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Literal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Checkbox, Footer, Header, Input, Label, Select, Static, TextArea

from tui.core.config import KEYS, Settings, save_settings
from tui.core.sanitize import inert

Kind = Literal["text", "number", "integer", "choice", "switch", "multiline"]


@dataclass(frozen=True)
class Field:
    attribute: str  # on Settings
    label: str
    kind: Kind
    hint: str = ""


FIELDS: tuple[Field, ...] = (
    Field("host", "Server", "text", "empty: $OLLAMA_HOST or local"),
    Field("model", "Default model", "text", "empty: the last one used"),
    Field("temperature", "Temperature", "number", "0–2; DeepSeek suggests 0.6"),
    Field("top_p", "Top p", "number", "0–1; DeepSeek suggests 0.95"),
    Field("num_ctx", "Context length", "integer", "auto, or tokens 512–131072"),
    Field("think_budget", "Think budget", "integer", "reasoning tokens; 0: none"),
    Field("keep_alive", "Keep alive", "text", "5m, 1h, 0 (unload), -1 (keep)"),
    Field("stall_timeout", "Stall timeout", "number", "seconds without a token"),
    Field("theme", "Theme", "choice"),
    Field("show_panel", "Hardware panel", "switch"),
    Field("sample_interval", "Sampling every", "number", "seconds, 0.2–60"),
    Field("system_prompt", "System prompt", "multiline", "DeepSeek suggests none"),
)

# attribute -> (table, key): the form speaks attributes, the validators live under file keys.
_KEY_OF: dict[str, tuple[str, str]] = {attribute: key for key, (attribute, _) in KEYS.items()}


def parse_number(text: str) -> Any:
    """Typed text as the TOML value it would be; text that is no number is passed on as text,
    so the key's validator refuses it with its own message ("a number from 0 to 2")."""
    text = text.strip()
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            continue
    return text


def validate(attribute: str, raw: Any) -> Any:
    """The value to store, or ValueError with what is allowed (the config file's own words)."""
    _, check = KEYS[_KEY_OF[attribute]]
    return check(raw)


class SettingsScreen(Screen[Settings | None]):
    """A form over `Settings`; dismisses with the saved Settings, or None on Esc."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "dismiss(None)", "Cancel"),
    ]
    DEFAULT_CSS = """
    SettingsScreen #settings-form { height: 1fr; padding: 1 1 0 1; scrollbar-size-vertical: 1; }
    SettingsScreen .row { height: auto; }
    SettingsScreen .row Label { width: 16; color: $text; text-style: bold; }
    SettingsScreen .row Input, SettingsScreen .row Select { width: 1fr; max-width: 36; }
    SettingsScreen .row TextArea { width: 1fr; height: 3; }
    SettingsScreen .row Checkbox { width: auto; }
    SettingsScreen .hint { width: 1fr; color: $text-muted; padding-left: 1; }
    SettingsScreen .problem { height: auto; color: $error; padding-left: 16; }
    SettingsScreen .problem.-ok { display: none; }
    SettingsScreen #settings-status { height: auto; max-height: 4; padding: 0 1; background: $panel; }
    SettingsScreen #settings-status.-error { color: $error; }
    """

    def __init__(self, settings: Settings, path: Path, themes: Iterable[str] | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.path = Path(path)
        self.themes = list(themes) if themes is not None else None

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with VerticalScroll(id="settings-form"):
            for field in FIELDS:
                with Horizontal(classes="row"):
                    yield Label(field.label)
                    yield self._editor(field)
                    if field.hint:
                        yield Static(Content(field.hint), classes="hint")
                yield Static("", id=f"problem-{field.attribute}", classes="problem -ok")
        yield Static("", id="settings-status")
        yield Footer()

    def _editor(self, field: Field) -> Widget:
        value = getattr(self.settings, field.attribute)
        editor_id = f"field-{field.attribute}"
        if field.kind == "choice":
            names = sorted(set(self.themes if self.themes is not None else self.app.available_themes) | {value})
            return Select([(name, name) for name in names], value=value, allow_blank=False, compact=True,
                          id=editor_id)
        if field.kind == "switch":
            return Checkbox("show beside the chat", value=bool(value), compact=True, id=editor_id)
        if field.kind == "multiline":
            return TextArea(inert(str(value)), soft_wrap=True, compact=True, id=editor_id)
        return Input(_shown(value), compact=True, id=editor_id, select_on_focus=False)

    def on_mount(self) -> None:
        self.sub_title = "settings"
        self.query_one(f"#field-{FIELDS[0].attribute}").focus()
        problem = _parse_problem(self.path)
        if problem:
            self._say(problem, error=True)
        else:
            self._say(f"Settings file: {self.path} · Ctrl+S saves · Esc cancels")

    # -- validation ---------------------------------------------------------------------

    def _raw(self, field: Field) -> Any:
        editor = self.query_one(f"#field-{field.attribute}")
        if isinstance(editor, Select | Checkbox):
            return editor.value
        if isinstance(editor, TextArea):
            return editor.text
        assert isinstance(editor, Input)
        if field.kind in ("number", "integer"):
            return parse_number(editor.value)
        return editor.value.strip()

    def _check(self, field: Field) -> tuple[bool, Any]:
        """Validate one field and show (or clear) its message under it."""
        problem = self.query_one(f"#problem-{field.attribute}", Static)
        try:
            value = validate(field.attribute, self._raw(field))
        except ValueError as allowed:
            problem.update(Content(f"use {allowed}"))
            problem.remove_class("-ok")
            return False, None
        problem.update("")
        problem.add_class("-ok")
        return True, value

    def _field_of(self, widget: Widget) -> Field | None:
        for field in FIELDS:
            if widget.id == f"field-{field.attribute}":
                return field
        return None

    def on_input_changed(self, event: Input.Changed) -> None:
        field = self._field_of(event.input)
        if field is not None:
            self._check(field)

    # -- saving -------------------------------------------------------------------------

    def action_save(self) -> None:
        values: dict[str, Any] = {}
        first_bad: Field | None = None
        for field in FIELDS:
            ok, value = self._check(field)
            if ok:
                values[field.attribute] = value
            elif first_bad is None:
                first_bad = field
        if first_bad is not None:
            self.query_one(f"#field-{first_bad.attribute}").focus()
            self._say("Not saved: fix the values marked in red.", error=True)
            return
        new = replace(self.settings, **values)
        try:
            save_settings(new, self.path, previous=self.settings)  # only what the user changed
        except ValueError as error:  # the file on disk could not be parsed: left as it is
            self._say(f"Not saved: {error}", error=True)
            return
        except OSError as error:
            self._say(f"Not saved: cannot write {self.path}: {error.strerror or error}", error=True)
            return
        self.dismiss(new)

    def _say(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#settings-status", Static)
        status.update(Content(inert(text)))
        status.set_class(error, "-error")


def _shown(value: Any) -> str:
    """A setting as typed in the form: 0.6 not 0.6000, 300 not 300.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return inert(str(value))


def _parse_problem(path: Path) -> str:
    """Said on opening, so the user learns before typing that Save will not replace the file."""
    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ""
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        return f"{path} could not be parsed ({exc}); saving will not replace it until it is fixed by hand."
    return ""
