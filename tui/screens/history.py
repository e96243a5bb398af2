"""The history screen: find a saved conversation, then resume, rename, delete or export it.

Why a full screen and not a sidebar: at 80×24 a sidebar would leave the chat
too narrow to read, and the list needs the width for titles. The search runs
in SQLite on every (debounced) keystroke rather than filtering a loaded list,
so it also finds words inside answers and reasoning, not only titles.

Every piece of stored text (titles, models) comes from users and models, so it
is made inert and rendered as `Content`, never as markup: a title like
"[bold]x[/]" is shown as typed, and escape sequences show as visible symbols.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Checkbox, Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.core.export import render, write_output
from tui.core.sanitize import inert
from tui.screens.dialog import Dialog
from tui.screens.confirm import ConfirmDeleteScreen as BaseConfirmDeleteScreen
from tui.core.store import ConversationInfo, HistoryStore, StoreError

SEARCH_DEBOUNCE_SECONDS = 0.25
HistoryResult = tuple[Literal["resume"], int]

# Fixed columns of a row; the title takes what is left of the width.
_MARK_WIDTH = 2
_MODEL_WIDTH = 16
_DATE_WIDTH = 16
_TURNS_WIDTH = 5
_MIN_TITLE_WIDTH = 12
_FIXED_WIDTH = _MARK_WIDTH + _MODEL_WIDTH + _DATE_WIDTH + _TURNS_WIDTH + 3  # three column gaps
_LIST_CHROME = 4  # screen padding, the list's padding and its scrollbar


def format_date(timestamp: float, tz: tzinfo | None = None) -> str:
    """Absolute local time: a relative "2 days ago" would need a clock and go stale on screen."""
    return datetime.fromtimestamp(timestamp, tz).strftime("%Y-%m-%d %H:%M")


def _cell(text: str, width: int, style: str = "", *, right: bool = False) -> Content:
    content = Content.styled(inert(text), style).truncate(width, ellipsis=True)
    padding = " " * (width - content.cell_length)
    return Content.assemble(padding, content) if right else Content.assemble(content, padding)


def _title_width(width: int) -> int:
    return max(_MIN_TITLE_WIDTH, width - _FIXED_WIDTH)


def row_label(info: ConversationInfo, width: int, *, current: bool, tz: tzinfo | None = None) -> Content:
    """One conversation as a line of columns fitting `width` cells (titles cut with …); a search
    result gets a second line, the text around its match, so the user sees why it was found."""
    row = Content.assemble(
        ("● " if current else "  ", "$accent"),
        _cell(info.title or "Untitled conversation", _title_width(width), "bold" if current else ""), " ",
        _cell(info.model, _MODEL_WIDTH, "$text-muted"), " ",
        _cell(format_date(info.updated_at, tz), _DATE_WIDTH, "$text-muted"), " ",
        _cell(str(info.turn_count), _TURNS_WIDTH, right=True),
    )
    if not info.snippet:
        return row
    indent = " " * (_MARK_WIDTH + 2)
    return Content.assemble(row, "\n", indent, _cell(info.snippet, width - len(indent), "italic $text-muted"))


def header_label(width: int) -> Content:
    return Content.assemble(
        " " * _MARK_WIDTH, _cell("Title", _title_width(width)), " ", _cell("Model", _MODEL_WIDTH), " ",
        _cell("Last used", _DATE_WIDTH), " ", _cell("Turns", _TURNS_WIDTH, right=True))


def default_export_name(info: ConversationInfo) -> str:
    """A file name that sorts by id and hints at the topic, safe in any shell and file system."""
    slug = re.sub(r"[^a-z0-9]+", "-", info.title.lower()).strip("-")[:40].strip("-") or "conversation"
    return f"r1tui-{info.id}-{slug}.md"


def export_target(typed: str, default_name: str, cwd: Path) -> Path:
    """Where an export goes: relative paths are taken from `cwd`, a folder gets the default name."""
    path = Path(typed.strip() or default_name).expanduser()
    if not path.is_absolute():
        path = cwd / path
    if path.is_dir():
        path = path / default_name
    return path


# -- the small dialogs ---------------------------------------------------------------------

class RenameScreen(Dialog[str | None]):
    """The new title, or None; the store normalises whitespace and refuses an empty one."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.current_title = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.styled("Rename conversation", "bold"))
            yield Input(value=inert(self.current_title), id="rename-title", compact=True)
            yield Static(Content("Enter saves · Esc cancels"), classes="hint")
            yield Static("", id="rename-problem", classes="problem")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            self.query_one("#rename-problem", Static).update(Content("A title cannot be empty."))
            return
        self.dismiss(event.value)


class ConfirmDeleteScreen(BaseConfirmDeleteScreen):
    """Deleting a conversation: say so when it is the one open in the chat."""

    def __init__(self, info: ConversationInfo, *, is_open: bool) -> None:
        turns = f"{info.turn_count} turn{'s' if info.turn_count != 1 else ''}"
        notes = []
        if is_open:
            notes.append((Content("It is the conversation open in the chat now: the chat keeps it on "
                                  "screen, but it leaves the history."), "problem"))
        notes.append((Content("It cannot be undone. y deletes, n or Esc keeps it."), "hint"))
        super().__init__(Content.assemble(("Delete “", "bold"), (inert(info.title), "bold"), (f"” ({turns})?", "bold")),
                         notes)
        self.info = info
        self.is_open = is_open


@dataclass(frozen=True)
class ExportRequest:
    path: Path
    reasoning: bool


class ExportScreen(Dialog[ExportRequest | None]):
    """Asks where to write; an existing file is only replaced after a second Enter."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, info: ConversationInfo, cwd: Path) -> None:
        super().__init__()
        self.info = info
        self.cwd = cwd
        self.default_name = default_export_name(info)
        self._confirmed: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.assemble(("Export “", "bold"), (inert(self.info.title), "bold"),
                                          ("” to Markdown", "bold")))
            yield Input(value=self.default_name, id="export-path", compact=True, select_on_focus=False)
            yield Static(Content(f"A file name or path; relative to {inert(str(self.cwd))}"), classes="hint")
            yield Checkbox("Include the reasoning (folded in <details>)", value=True, id="export-reasoning",
                           compact=True)
            yield Static(Content("Enter exports · Tab moves · Esc cancels"), classes="hint")
            yield Static("", id="export-problem", classes="problem")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = export_target(event.value, self.default_name, self.cwd)
        if path.exists() and path != self._confirmed:
            self._confirmed = path
            self.query_one("#export-problem", Static).update(
                Content(f"{inert(str(path))} exists: Enter again replaces it."))
            return
        self.dismiss(ExportRequest(path, self.query_one(Checkbox).value))

    def on_input_changed(self, event: Input.Changed) -> None:
        self._confirmed = None
        self.query_one("#export-problem", Static).update("")


# -- the history screen ----------------------------------------------------------------------


class SearchBox(Input):
    """The search field; ↓ goes down into the results, as in a browser's search box."""

    BINDINGS = [Binding("down", "screen.focus_list", "Results", key_display="↓")]


class HistoryList(OptionList):
    """The list, with Enter named in the footer: it is the key a user looks for first."""

    BINDINGS = [Binding("enter", "select", "Resume", key_display="⏎")]


class HistoryScreen(Screen[HistoryResult | None]):
    """Saved conversations, newest first; dismisses with ("resume", id), or None on Esc.

    `deleted` holds the ids deleted while it was open, so the caller can start a
    new chat if the open conversation was one of them.
    """

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Back"),
        Binding("slash", "focus_search", "Search", key_display="/"),
        Binding("r", "rename", "Rename"),
        Binding("x,delete", "delete", "Delete", key_display="x"),
        Binding("e", "export", "Export"),
    ]
    DEFAULT_CSS = """
    HistoryScreen { padding: 0 1; }
    HistoryScreen #history-search { margin: 1 0 0 0; }
    HistoryScreen #history-header { height: 1; color: $text-muted; text-style: bold; padding: 0 1; margin-top: 1; }
    HistoryScreen #history-list { height: 1fr; border: none; padding: 0 1; scrollbar-size-vertical: 1; }
    HistoryScreen #history-status { height: auto; max-height: 3; padding: 0 1; }
    HistoryScreen #history-status.-error { color: $error; }
    HistoryScreen #history-status.-done { color: $success; }
    """

    def __init__(self, store: HistoryStore, current_id: int | None, *, tz: tzinfo | None = None) -> None:
        super().__init__()
        self.store = store
        self.current_id = current_id
        self.tz = tz  # None: local time; tests pass a fixed zone
        self.rows: list[ConversationInfo] = []
        self.deleted: set[int] = set()
        self._search_timer: Timer | None = None
        self._searched: str | None = None
        self._width = 0

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield SearchBox(placeholder="Search prompts, answers, reasoning · Enter opens the top match",
                    id="history-search", compact=True)
        yield Static(id="history-header")
        yield HistoryList(id="history-list", compact=True)
        yield Static("", id="history-status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "chat history"
        self._load()
        if self.rows:
            self.query_one(OptionList).focus()
        else:
            self.query_one("#history-search", Input).focus()

    def on_resize(self) -> None:
        if self._list_width() != self._width:
            self._show_rows(self.selected_id)

    # -- data -------------------------------------------------------------------------

    @property
    def search_text(self) -> str:
        return self.query_one("#history-search", Input).value

    @property
    def selected(self) -> ConversationInfo | None:
        index = self.query_one(OptionList).highlighted
        return self.rows[index] if index is not None and 0 <= index < len(self.rows) else None

    @property
    def selected_id(self) -> int | None:
        info = self.selected
        return info.id if info is not None else None

    def _list_width(self) -> int:
        return max(self.app.size.width - _LIST_CHROME, _FIXED_WIDTH + _MIN_TITLE_WIDTH)

    def _load(self, keep: int | None = None, near: int = 0) -> None:
        """Query the store again; highlight `keep` if still listed, else the row at `near`."""
        search = self.search_text
        self._searched = search
        try:
            self.rows = self.store.list_conversations(search or None)
        except StoreError as error:
            self.rows = []
            self._show_rows(None)
            self._say(str(error), error=True)
            return
        self._show_rows(keep, near)
        if not self.rows:
            self._say(f"No conversation matches “{search.strip()}”." if search.strip()
                      else "No saved conversations yet: they appear here once a prompt is sent.")
        elif search.strip():
            self._say(f"{len(self.rows)} matching “{search.strip()}”.")
        else:
            self._say(f"{len(self.rows)} conversation{'s' if len(self.rows) != 1 else ''}, newest first.")

    def _show_rows(self, keep: int | None, near: int = 0) -> None:
        self._width = self._list_width()
        self.query_one("#history-header", Static).update(header_label(self._width))
        option_list = self.query_one(OptionList)
        option_list.set_options(
            Option(row_label(info, self._width, current=info.id == self.current_id, tz=self.tz), id=str(info.id))
            for info in self.rows)
        if self.rows:
            ids = [info.id for info in self.rows]
            option_list.highlighted = ids.index(keep) if keep in ids else min(near, len(self.rows) - 1)
        self.refresh_bindings()

    def _say(self, text: str, *, error: bool = False, done: bool = False) -> None:
        status = self.query_one("#history-status", Static)
        status.update(Content(inert(text)))
        status.set_class(error, "-error")
        status.set_class(done, "-done")

    # -- search -----------------------------------------------------------------------

    @on(Input.Changed, "#history-search")
    def _search_changed(self, event: Input.Changed) -> None:
        """Debounced: each keystroke restarts the wait, so a fast typist runs one query, not ten."""
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DEBOUNCE_SECONDS, self._run_search)

    def _run_search(self) -> None:
        self._search_timer = None
        if self.search_text != self._searched:
            self._load(self.selected_id)

    def _flush_search(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
            self._run_search()

    @on(Input.Submitted, "#history-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        """Enter in the search box opens the best match: type a few words, press Enter."""
        event.stop()
        self.action_resume()

    @on(OptionList.OptionHighlighted)
    def _highlight_moved(self) -> None:
        self.refresh_bindings()

    @on(OptionList.OptionSelected)
    def _option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_resume()

    # -- actions ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Letter keys type into the search box, so their actions hide there; all need a selection."""
        if action in ("rename", "delete", "export"):
            if isinstance(self.focused, Input):
                return False
            return self.selected is not None or None
        if action == "resume":
            return self.selected is not None or None
        if action == "focus_list":
            return bool(self.rows)
        return True

    def action_focus_search(self) -> None:
        self.query_one("#history-search", Input).focus()

    def action_focus_list(self) -> None:
        self._flush_search()
        if self.rows:
            self.query_one(OptionList).focus()

    def action_resume(self) -> None:
        self._flush_search()
        info = self.selected
        if info is not None:
            self.dismiss(("resume", info.id))

    def action_rename(self) -> None:
        info = self.selected
        if info is None:
            return

        def renamed(title: str | None) -> None:
            if title is None:
                return
            try:
                self.store.rename(info.id, title)
            except (StoreError, LookupError, ValueError) as error:
                self._load(info.id)
                self._say(f"Not renamed: {error}", error=True)
                return
            self._load(info.id)
            self._say(f"Renamed to “{' '.join(title.split())}”.", done=True)

        self.app.push_screen(RenameScreen(info.title), renamed)

    def action_delete(self) -> None:
        info = self.selected
        if info is None:
            return
        index = self.rows.index(info)

        def answered(delete: bool | None) -> None:
            if not delete:
                return
            try:
                self.store.delete(info.id)
            except (StoreError, LookupError) as error:
                self._load(near=index)
                self._say(f"Not deleted: {error}", error=True)
                return
            self.deleted.add(info.id)
            self._load(near=index)
            self._say(f"Deleted “{info.title}”.", done=True)
            if not self.rows:
                self.query_one("#history-search", Input).focus()

        self.app.push_screen(ConfirmDeleteScreen(info, is_open=info.id == self.current_id), answered)

    def action_export(self) -> None:
        info = self.selected
        if info is None:
            return

        def chosen(request: ExportRequest | None) -> None:
            if request is not None:
                self._export(info, request)

        self.app.push_screen(ExportScreen(info, Path.cwd()), chosen)

    def _export(self, info: ConversationInfo, request: ExportRequest) -> None:
        try:
            text = render(self.store.load_record(info.id), "md", reasoning=request.reasoning)
            write_output(text, request.path)
        except (StoreError, LookupError) as error:
            self._say(f"Not exported: {error}", error=True)
        except OSError as error:
            self._say(f"Not exported: cannot write {request.path}: {error.strerror or error}", error=True)
        else:
            self._say(f"Exported to {request.path}", done=True)
