"""The compare view: one prompt, 2–4 installed models, a column each, and their figures side by side.

It only renders `tui.core.benchrun`: each column owns a `ModelRun` and shows it
through the chat's own `TurnView` (reasoning folded by default, Markdown
answer), so a column reads exactly like a chat turn. A summary table under
the columns gives every model's figures in one place, which is what makes
the comparison readable on a narrow terminal, where the columns become tabs
and only one is visible at a time.

Models run one after another by default: on one GPU, two models running at
once slow each other down and their figures mean little. Concurrent runs
are a toggle. Every column runs in its own task, so stopping one (its Stop
button or `s`) or one failing leaves the others streaming.

Grading: with a reference answer (typed, or that of a built-in prompt) each
finished column is checked with math-verify on a worker thread and shows ✓ or
✗ with the answer it found. The graded runs of this visit add up per model;
`g` shows them as a chart (accuracy against time, then against VRAM).

Blind A/B: two models answer under the names A and B (in a random order),
with their figures hidden, since speed and memory give the size away; the
user picks the better answer (`a`, `b`, or `=` for a tie), the names are
revealed, and the vote goes to the history, where `r1tui bench
--leaderboard` ranks the models by Elo.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import Button, Checkbox, Footer, Header, Input, Select, SelectionList, Static, Tab, Tabs
from textual.widgets._toggle_button import ToggleButton
from textual.widgets.option_list import OptionDoesNotExist

from tui.core.backend import BackendError, InstalledModel
from tui.screens.compare_hosts import OtherHosts
from tui.core.bench_summary import summarize
from tui.core.benchrun import GpuReader, ModelRun, RunResult
from tui.core.conversation import TurnState
from tui.core.metrics import FramePacer
from tui.core.prompt_sets import BUILTIN_SETS, DEFAULT_SET
from tui.core.sanitize import inert
from tui.core.units import GIB
from tui.widgets.summary_chart import SummaryChart
from tui.widgets.turn import TurnView

# Figures (states, summary, tab marks) change slower than text and cost more to redraw.
FIGURES_SECONDS = 1 / 4
MIN_MODELS = 2
MAX_MODELS = 4
FAMILY = "deepseek-r1:"
BLIND_NAMES = ("A", "B")

_STATE_LABELS = {
    TurnState.QUEUED: ("queued", "dim"),
    TurnState.STREAMING: ("● running", "bold $warning"),
    TurnState.DONE: ("✓ done", "bold $success"),
    TurnState.STOPPED: ("■ stopped", "bold $warning"),
    TurnState.FAILED: ("✖ failed", "bold $error"),
}


def preselect(installed: list[str], current: str | None, count: int = MIN_MODELS) -> list[str]:
    """The models ticked when the view opens: the chat's model, then other deepseek-r1 tags, then the rest."""
    ordered = [name for name in installed if name == current]
    ordered += [name for name in installed if name.startswith(FAMILY) and name not in ordered]
    ordered += [name for name in installed if name not in ordered]
    return ordered[:count]


def grade_mark(run: ModelRun) -> str:
    """✓ / ✗ for a graded run, "" while it runs or when the prompt has no reference."""
    if run.grade is None or run.grade.correct is None:
        return ""
    return "✓" if run.grade.correct else "✗"


def summary_table(runs: list[ModelRun], width: int = 78, names: list[str] | None = None) -> str:
    """Every model's figures, one row each; gaps widen when `width` allows, so 80 columns still fit.

    `names` replaces the model names (blind mode); a "right" column appears once a run is graded.
    """
    graded = any(run.reference is not None for run in runs)
    header = ("model", "state", "load s", "TTFT s", "think s", "reason", "answer", "tok/s", "VRAM") + (
        ("right",) if graded else ())
    rows: list[tuple[str, ...]] = [header]
    for number, run in enumerate(runs):
        result = run.result()
        started = run.state is not TurnState.QUEUED and run.sent
        finished_ok = run.state is TurnState.DONE
        rows.append((
            names[number] if names else inert(run.name),
            _STATE_LABELS[run.state][0].lstrip("●✓■✖ "),
            f"{result.load_s:.1f}" if run.stats else "—",
            f"{result.ttft_s:.2f}" if run.meter.first_token_at is not None else "—",
            f"{result.think_s:.1f}" if run.meter.reasoning_started_at is not None else "—",
            str(result.reasoning_tokens) if started else "—",
            str(result.answer_tokens) if started else "—",
            f"{result.eval_tps:.1f}" if finished_ok and result.eval_tps else "—",
            f"{result.peak_vram_bytes / GIB:.1f}G" if result.peak_vram_bytes is not None else "—",
        ) + ((grade_mark(run) or "—",) if graded else ()))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    gap = " " * max(1, min(3, (width - sum(widths)) // (len(widths) - 1)))
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        cells += [cell.rjust(w) for cell, w in zip(row[2:], widths[2:])]
        lines.append(gap.join(cells).rstrip())
    return "\n".join(lines)


class TickList(SelectionList[str]):
    """A SelectionList whose boxes say ticked or not by their glyph (✓ or blank), not by colour alone:
    Textual draws every box as ▐X▌, which reads as "all ticked" in a 16-colour terminal or to a
    colour-blind user."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        try:
            option = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return strip
        segments = list(strip)
        if len(segments) < 3 or segments[1].text != ToggleButton.BUTTON_INNER:
            return strip
        segments[1] = Segment("✓" if option.value in self._selected else " ", segments[1].style)
        return Strip(segments, strip.cell_length)


class TickBox(Checkbox):
    """A Checkbox whose box says ticked by its glyph (✓ or blank), as `TickList` does."""

    @property
    def _button(self) -> Content:
        self.BUTTON_INNER = "✓" if self.value else " "
        return super()._button


class CompareColumn(Vertical):
    """One model: its state and Stop button, then its turn (reasoning shown while it streams, folded after)."""

    def __init__(self, index: int, run: ModelRun, blind_name: str | None = None) -> None:
        super().__init__(id=f"column-{index}", classes="compare-column")
        self.index = index
        self.model_run = run
        self.blind_name = blind_name  # blind mode: the only name shown until the vote
        self.revealed = blind_name is None
        # Blind, the reasoning stays hidden too: its length and time tell a 1.5b from a 32b.
        self.set_class(not self.revealed, "-blind")
        self.view = TurnView(run.turn, run.meter)
        self.run_task: asyncio.Task[None] | None = None
        self.pacer = FramePacer()  # as in the chat: fewer, fuller frames when a model streams fast
        self.border_title = self.label()
        self._last_state = ""
        self._anchored_once = False

    def compose(self) -> ComposeResult:
        with Horizontal(classes="column-head"):
            yield Static("", classes="column-state")
            yield Button("■ Stop", id=f"stop-{self.index}", classes="column-stop", compact=True)
        with VerticalScroll(classes="column-body"):
            yield self.view

    def label(self) -> Content:
        """The column's title: its number and model, or in blind mode its letter (and, revealed, the model)."""
        if self.blind_name is None:
            return Content(f"{self.index} {inert(self.model_run.name)}")  # Content: a tag is never markup
        return Content(f"{self.blind_name} · {inert(self.model_run.name)}" if self.revealed else self.blind_name)

    def reveal(self) -> None:
        self.revealed = True
        self.remove_class("-blind")
        self.border_title = self.label()
        self.refresh_state()

    def on_mount(self) -> None:
        self.refresh_state()

    def state_text(self) -> Content:
        run = self.model_run
        label, style = _STATE_LABELS[run.state]
        if run.state is TurnState.FAILED:
            return Content.styled(label, style)
        result = run.result()
        figures = []
        if self.revealed:  # blind: speed and tokens would give the model away
            if run.state is TurnState.DONE and result.eval_tps:
                figures.append(f"{result.eval_tps:.1f} tok/s")
            if run.sent:
                figures.append(f"{result.reasoning_tokens}+{result.answer_tokens} tok")
        grade = run.grade
        if grade is not None and grade.correct is not None:
            found = inert(grade.extracted or "no answer found")
            verdict = (f"✓ right: {found}", "bold $success") if grade.correct else (f"✗ wrong: {found}", "bold $error")
            return Content.assemble((label, style), "  ", verdict,
                                    ("  " + " · ".join(figures), "dim") if figures else "")
        if run.reference is not None and run.finished and grade is None:
            figures.append("grading…")
        return Content.assemble((label, style), ("  " + " · ".join(figures), "dim") if figures else "")

    def refresh_state(self) -> None:
        text = self.state_text()
        if text.plain != self._last_state:
            self._last_state = text.plain
            self.query_one(".column-state", Static).update(text)
        self.query_one(Button).display = not self.model_run.finished

    async def flush(self) -> None:
        await self.view.flush()
        self._follow()

    def _follow(self) -> None:
        """Keep the newest text in view once it overflows, until the user scrolls away.

        Anchored only then: an anchored container bottom-aligns short content,
        which would leave a short answer floating at the bottom of a tall column.
        """
        body = self.query_one(".column-body", VerticalScroll)
        if not self._anchored_once and body.max_scroll_y > 0:
            self._anchored_once = True
            body.anchor()

    async def finish(self, fold: bool = True) -> None:
        """Show the run's outcome (error, "stopped", no answer): the view reads the run's own turn.
        The reasoning, shown while it streamed, folds so the answers line up (unless `fold` is False)."""
        await self.view.finish()
        self.view.set_folded(fold)
        self.refresh_state()


class CompareScreen(Screen[None]):
    """Choose a prompt and models, run them, and read the answers and figures side by side."""

    BINDINGS = [
        # Esc stops every model, as in the chat (s stops only the active column); idle, it goes back.
        Binding("escape", "stop_all_or_back", "Stop all / Back"),
        Binding("ctrl+r", "run", "Run", priority=True),
        Binding("s", "stop_active", "Stop column"),
        Binding("t", "toggle_reasoning", "Fold"),
        Binding("e", "edit", "Edit"),
        Binding("g", "chart", "Chart"),
        Binding("a", "vote('a')", "A is better", show=False),
        Binding("b", "vote('b')", "B is better", show=False),
        Binding("equals_sign", "vote('tie')", "Tie", show=False),
        Binding("1", "column(1)", "Column 1", show=False),
        Binding("2", "column(2)", "Column 2", show=False),
        Binding("3", "column(3)", "Column 3", show=False),
        Binding("4", "column(4)", "Column 4", show=False),
    ]

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    CSS = """
    CompareScreen #compare-setup { height: auto; padding: 0 1; }
    CompareScreen #compare-setup.-hidden { display: none; }
    CompareScreen #setup-prompt-row, CompareScreen #setup-models-row { height: auto; }
    CompareScreen #compare-prompt { width: 1fr; }
    CompareScreen #compare-preset { width: 36; }
    CompareScreen #compare-models { width: 1fr; height: auto; max-height: 8; }
    CompareScreen #setup-actions { width: 24; height: auto; padding: 0 1; }
    CompareScreen #compare-run { width: 100%; margin-top: 1; }
    CompareScreen #compare-banner { height: 1; padding: 0 1; background: $panel; }
    CompareScreen #compare-tabs { display: none; }
    CompareScreen.-narrow #compare-tabs.-shown { display: block; }
    CompareScreen #compare-columns { height: 1fr; }
    CompareScreen .compare-column {
        width: 1fr; height: 1fr; border: round $panel-lighten-2; border-title-color: $text;
    }
    CompareScreen .compare-column.-active { border: round $accent; }
    CompareScreen.-narrow .compare-column { display: none; }
    CompareScreen.-narrow .compare-column.-active { display: block; }
    CompareScreen .column-head { height: 1; padding: 0 1; }
    CompareScreen .column-state { width: 1fr; height: 1; }
    CompareScreen .column-stop { width: auto; min-width: 8; }
    CompareScreen .column-body { height: 1fr; scrollbar-size-vertical: 1; }
    CompareScreen .turn { margin: 0; }
    CompareScreen .turn .prompt, CompareScreen .turn .model-label, CompareScreen .turn .turn-stats { display: none; }
    CompareScreen .turn .panes { layout: vertical; }
    CompareScreen .turn .reasoning-pane, CompareScreen .turn .answer-pane { width: 100%; }
    CompareScreen #compare-summary { height: auto; padding: 0 1; background: $boost; }
    CompareScreen .compare-column.-blind .reasoning-pane { display: none; }
    CompareScreen #setup-reference-row { height: auto; }
    CompareScreen #compare-reference { width: 1fr; }
    CompareScreen #compare-blind { width: 36; margin: 1 0 0 2; }
    CompareScreen #compare-chart { display: none; }
    CompareScreen #compare-chart.-shown { display: block; }
    """

    def __init__(self, current: str | None = None, *, gpu_reader: GpuReader | None = None) -> None:
        super().__init__()
        self.current = current
        self.gpu_reader = gpu_reader
        self.installed: list[InstalledModel] = []
        self.other_hosts = OtherHosts()  # models of the other configured hosts: host:model entries
        self.columns: list[CompareColumn] = []
        self.active = 1
        self._frame_timers: list[Timer] = []
        self._comparing = False
        self._last_summary = ""
        self._tabs: dict[int, Tab] = {}
        self._fold_choice: bool | None = None  # set once the user folds or unfolds with t
        self.blind = False  # this comparison hides the models' names until the vote
        self.vote_pending = False
        self.tally: list[dict[str, Any]] = []  # every graded run of this visit, as bench --json rows
        self._hidden_tally: list[dict[str, Any]] = []  # a blind comparison's, until its names are revealed

    # -- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        presets = [
            (f"{prompt_set.name} {i + 1}: {prompt_set.title(i, 40)}", f"{prompt_set.name}:{i}")
            for prompt_set in BUILTIN_SETS.values() for i in range(len(prompt_set.prompts))
        ]
        yield Header()
        with Vertical(id="compare-setup"):
            with Horizontal(id="setup-prompt-row"):
                yield Input(BUILTIN_SETS[DEFAULT_SET].prompts[0], placeholder="The prompt every model gets",
                            id="compare-prompt")
                yield Select(presets, prompt="Built-in prompt…", id="compare-preset")
            with Horizontal(id="setup-reference-row"):
                # Empty at first, even for the default prompt: a built-in's reference comes with choosing it.
                yield Input("", id="compare-reference",
                            placeholder="Reference answer (optional): each answer is graded ✓/✗ against it")
                yield TickBox("blind A/B (2 models)", id="compare-blind", compact=True)
            with Horizontal(id="setup-models-row"):
                yield TickList(id="compare-models")
                with Vertical(id="setup-actions"):
                    yield TickBox("at the same time", id="compare-concurrent", compact=True)
                    yield Button("Run  ^r", id="compare-run", variant="primary", compact=True)
        yield Static("", id="compare-banner")
        yield Tabs(id="compare-tabs")
        yield Horizontal(id="compare-columns")
        yield Static("", id="compare-summary")
        yield SummaryChart(id="compare-chart")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "r1tui · compare"
        self.sub_title = "one prompt, several models"
        self.query_one("#compare-models", SelectionList).border_title = f"models ({MIN_MODELS}–{MAX_MODELS})"
        self.query_one("#compare-summary").display = False
        self._banner("loading the installed models …", "dim")
        self.load_models()
        self.query_one("#compare-prompt", Input).focus()

    @work(exclusive=True, group="compare-models")
    async def load_models(self) -> None:
        others = asyncio.ensure_future(self.other_hosts.load(getattr(self.app, "hosts", {}), self.app.backend.url))
        try:
            installed = await self.app.backend.list_models()
        except BackendError as error:
            self._banner(f"✖ {self.app.redact(str(error))}", "$error")
            return
        finally:
            await others
        self.installed = installed  # set with the options below, never before them (tests wait for it)
        names = [model.name for model in self.installed]
        ticked = set(preselect(names, self.current))
        selection = self.query_one("#compare-models", SelectionList)
        selection.clear_options()
        selection.add_options([(Content(inert(name)), name, name in ticked) for name in names])
        selection.add_options([(Content(inert(self.other_hosts.label(spec))), spec, False)
                               for spec in self.other_hosts.specs])
        names += self.other_hosts.specs
        if len(names) < MIN_MODELS:
            self._banner(f"Only {len(names)} model installed: pull another to compare "
                         "(`r1tui pull deepseek-r1:1.5b`)", "$warning")
        else:
            self._banner(f"Choose {MIN_MODELS}–{MAX_MODELS} models and a prompt, then Run (Ctrl+R)", "dim")

    def _banner(self, text: str, style: str) -> None:
        self.query_one("#compare-banner", Static).update(Content.styled(inert(text), style))

    # -- choosing ------------------------------------------------------------------------

    @on(Select.Changed, "#compare-preset")
    def _preset_chosen(self, event: Select.Changed) -> None:
        if event.value is Select.NULL or not isinstance(event.value, str):
            return
        name, _, index = event.value.partition(":")
        self.query_one("#compare-prompt", Input).value = BUILTIN_SETS[name].prompts[int(index)]
        self.query_one("#compare-reference", Input).value = BUILTIN_SETS[name].answer(int(index)) or ""

    @on(Input.Submitted, "#compare-prompt")
    async def _prompt_submitted(self) -> None:
        await self.action_run()

    @on(Button.Pressed, "#compare-run")
    async def _run_pressed(self) -> None:
        await self.action_run()

    @on(Button.Pressed, ".column-stop")
    def _stop_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        column = next((c for c in self.columns if event.button in c.query(Button)), None)
        if column is not None:
            self.stop_column(column)

    def chosen_models(self) -> list[str]:
        """Ticked models in the list's order (the installed order), so columns line up with the list."""
        selection = self.query_one("#compare-models", SelectionList)
        ticked = set(selection.selected)
        return [name for name in [m.name for m in self.installed] + self.other_hosts.specs if name in ticked]

    # -- running ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._comparing

    async def action_run(self) -> None:
        if self._comparing:
            self.notify("Still running: stop a column with s, or all with Esc.", severity="warning")
            return
        prompt = self.query_one("#compare-prompt", Input).value.strip()
        models = self.chosen_models()
        problem = ""
        if not prompt:
            problem = "Write a prompt first, or pick a built-in one."
        elif not MIN_MODELS <= len(models) <= MAX_MODELS:
            problem = f"Tick {MIN_MODELS} to {MAX_MODELS} models ({len(models)} ticked)."
        blind = self.query_one("#compare-blind", Checkbox).value
        if not problem and blind and len(models) != len(BLIND_NAMES):
            problem = f"Blind A/B compares exactly 2 models ({len(models)} ticked)."
        if problem:
            self._banner(f"⚠ {problem}", "$warning")
            self.notify(problem, severity="warning")
            return
        concurrent = self.query_one("#compare-concurrent", Checkbox).value
        reference = self.query_one("#compare-reference", Input).value.strip() or None
        await self.start(prompt, models, concurrent=concurrent, reference=reference, blind=blind)

    async def start(self, prompt: str, models: list[str], *, concurrent: bool = False,
                    reference: str | None = None, blind: bool = False) -> None:
        """Replace any earlier comparison with fresh columns and start running them.

        Blind: the two models are shuffled and named A and B, their figures hidden until the vote.
        """
        if blind:
            models = random.sample(models, len(models))
        self.blind, self.vote_pending = blind, False
        self._hidden_tally = []
        runs = [ModelRun(self.other_hosts.model_name(model), prompt, clock=self.app.clock, gpu_reader=self.gpu_reader,
                         reference=reference, label=model) for model in models]
        self.columns = [CompareColumn(index, run, BLIND_NAMES[index - 1] if blind else None)
                        for index, run in enumerate(runs, 1)]
        holder = self.query_one("#compare-columns", Horizontal)
        await holder.remove_children()
        await holder.mount_all(self.columns)
        tabs = self.query_one("#compare-tabs", Tabs)
        await tabs.clear()
        self._tabs = {column.index: Tab(column.label(), id=f"tab-{column.index}") for column in self.columns}
        for tab in self._tabs.values():
            await tabs.add_tab(tab)
        tabs.add_class("-shown")
        self.query_one("#compare-setup").add_class("-hidden")
        how = "at the same time" if concurrent else "one after another"
        graded = f"  ·  graded against {reference}" if reference else ""
        mode = "blind A/B: names hidden until you vote" if blind else f"{len(models)} models, {how}"
        self._banner(f"Prompt: {prompt}  ·  {mode}{graded}", "")
        summary = self.query_one("#compare-summary", Static)
        summary.display = not blind
        self._comparing = True
        self.set_active(1)
        self.columns[0].query_one(".column-body").focus()
        self._update_summary()
        self._frame_timers = [self.set_interval(FramePacer().slow_interval, self._flush),
                        self.set_interval(FIGURES_SECONDS, self._refresh_figures)]
        self.drive(self.columns, concurrent)

    @work(exclusive=True, group="compare")
    async def drive(self, columns: list[CompareColumn], concurrent: bool) -> None:
        """Start the columns' tasks (all at once, or each after the previous ends) and wait for them."""
        try:
            if concurrent:
                for column in columns:
                    column.run_task = asyncio.create_task(self._run_column(column))
                await asyncio.wait([c.run_task for c in columns if c.run_task is not None])
            else:
                for column in columns:
                    if column.model_run.finished:  # stopped while it waited its turn
                        continue
                    column.run_task = asyncio.create_task(self._run_column(column))
                    await asyncio.wait([column.run_task])  # a stopped column must not stop this loop
        finally:
            pending = [c.run_task for c in columns if c.run_task is not None and not c.run_task.done()]
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            self._finished_all()

    async def _run_column(self, column: CompareColumn) -> None:
        settings = self.app.settings

        def on_delta(reasoning: str, answer: str) -> None:
            column.view.add(reasoning, answer)  # the view makes it inert

        try:
            backend = await self.other_hosts.backend_for(column.model_run.label, self.app.backend)
            await column.model_run.execute(backend, options=settings.chat_options(),
                                     keep_alive=settings.keep_alive, on_delta=on_delta)
        except asyncio.CancelledError:
            pass  # stopped: the run recorded it; the other columns go on
        except Exception as exc:  # noqa: BLE001 - one column's surprise must not take the others down
            column.model_run.turn.state = TurnState.FAILED
            column.model_run.turn.error = self.app.redact(f"{type(exc).__name__}: {exc}")
        finally:
            if column.is_attached:
                await column.finish(self._fold_choice is not False)
                self._update_summary()
        if column.model_run.reference is not None and column.model_run.state is TurnState.DONE:
            await column.model_run.grade_answer()  # math-verify on a worker thread: the screen keeps drawing
            (self._hidden_tally if self.blind else self.tally).append(column.model_run.result().to_json())
            if column.is_attached:
                column.refresh_state()
                self._update_summary()
                self._refresh_chart()

    async def on_unmount(self) -> None:
        await self.other_hosts.aclose()

    def _finished_all(self) -> None:
        self._comparing = False
        for timer in self._frame_timers:
            timer.stop()
        self._frame_timers = []
        if not self.is_attached:
            return
        self._update_summary()
        failed = sum(1 for c in self.columns if c.model_run.state is TurnState.FAILED)
        stopped = sum(1 for c in self.columns if c.model_run.state is TurnState.STOPPED)
        note = ", ".join(part for part in (f"{failed} failed" if failed else "", f"{stopped} stopped" if stopped else "") if part)
        self.sub_title = f"done{' (' + note + ')' if note else ''} · e edits, Ctrl+R runs again"
        if self.blind:
            self._ask_for_vote()

    # -- blind A/B ---------------------------------------------------------------------------

    def _ask_for_vote(self) -> None:
        if all(column.model_run.state is TurnState.DONE for column in self.columns):
            self.vote_pending = True
            self._banner("Which answer is better?  a: A  ·  b: B  ·  =: a tie  (the names show after your vote)",
                         "bold $accent")
        else:
            self._reveal()
            self._banner("No vote: both models must finish their answer. The names are shown.", "$warning")

    def _reveal(self) -> None:
        for column in self.columns:
            column.reveal()
        self.tally += self._hidden_tally
        self._hidden_tally = []
        self._refresh_chart()
        self._update_summary()
        self.query_one("#compare-summary").display = True

    async def action_vote(self, winner: str) -> None:
        """Record the blind vote, then reveal who was who."""
        if not self.vote_pending:
            return
        self.vote_pending = False
        a, b = (column.model_run for column in self.columns)
        self._reveal()
        picked = {"a": f"you preferred A ({inert(a.name)}) over B ({inert(b.name)})",
                  "b": f"you preferred B ({inert(b.name)}) over A ({inert(a.name)})",
                  "tie": f"a tie between A ({inert(a.name)}) and B ({inert(b.name)})"}[winner]
        saved = await self._save_vote(a.name, b.name, winner, a.prompt)
        self._banner(f"{picked[0].upper()}{picked[1:]}. {saved}", "bold $success" if "saved" in saved else "$warning")

    async def _save_vote(self, model_a: str, model_b: str, winner: str, prompt: str) -> str:
        from tui.core.store import StoreError

        store = self.app.store
        if store is None:
            return "Not saved: the history is off."
        try:
            await asyncio.to_thread(store.add_vote, model_a, model_b, winner, prompt)
        except StoreError as error:
            self.app.notify(inert(self.app.redact(str(error))), severity="error")
            return "Not saved (see the message)."
        return "Vote saved: `r1tui bench --leaderboard` ranks your votes."

    # -- the graded tally's chart ---------------------------------------------------------------

    def action_chart(self) -> None:
        """Cycle the chart: accuracy vs time, vs VRAM, hidden."""
        chart = self.query_one("#compare-chart", SummaryChart)
        if not chart.has_class("-shown"):
            chart.add_class("-shown")
            chart.axis = "time"
        elif chart.axis == "time":
            chart.axis = "vram"
        else:
            chart.remove_class("-shown")
        self._refresh_chart()
        if chart.has_class("-shown") and not chart.has_points:
            self.notify("Nothing graded yet: give a reference answer (or pick a built-in prompt that has one).",
                        severity="warning")

    def _refresh_chart(self) -> None:
        chart = self.query_one("#compare-chart", SummaryChart)
        if chart.has_class("-shown"):
            chart.show_summary(self.session_summary())

    def session_summary(self) -> list[dict[str, Any]]:
        """Per model, this visit's graded runs: accuracy, time, VRAM (as `r1tui bench --json`'s summary).
        A blind comparison's runs count once its names are revealed (the chart would give them away)."""
        return summarize(self.tally)

    async def _flush(self) -> None:
        for column in self.columns:
            if column.model_run.state is TurnState.STREAMING and column.pacer.due(column.model_run.meter.live_rate()):
                await column.flush()

    def _refresh_figures(self) -> None:
        for column in self.columns:
            if column.model_run.state is TurnState.STREAMING:
                column.refresh_state()
        self._update_summary()

    def _update_tabs(self) -> None:
        """Tab labels carry each column's state mark (and grade): on a narrow terminal only one column shows."""
        for column in self.columns:
            mark = _STATE_LABELS[column.model_run.state][0].split(" ")[0]
            graded = grade_mark(column.model_run)
            label = column.label().plain + ("" if mark == "queued" else f" {mark}") + (f" {graded}" if graded else "")
            tab = self._tabs.get(column.index)
            if tab is not None and tab.label.plain != label:
                tab.label = Content(label)

    def _update_summary(self) -> None:
        self._update_tabs()
        names = [c.label().plain for c in self.columns] if self.blind and not all(c.revealed for c in self.columns) else None
        text = summary_table([c.model_run for c in self.columns], max(40, self.size.width - 2), names)
        if text != self._last_summary:
            self._last_summary = text
            self.query_one("#compare-summary", Static).update(Content(text))

    # -- stopping, folding, moving ------------------------------------------------------------

    def stop_column(self, column: CompareColumn) -> None:
        if column.model_run.finished:
            return
        if column.run_task is not None and not column.run_task.done():
            column.run_task.cancel()  # closes the stream: the server stops generating
            return
        column.model_run.skip()  # queued: it will be skipped
        self.run_worker(column.finish(self._fold_choice is not False), group="compare-skip")

    def action_stop_active(self) -> None:
        if self.columns:
            self.stop_column(self.columns[self.active - 1])

    def action_stop_all_or_back(self) -> None:
        """Esc undoes the latest thing: a run in progress, then an open setup over results, then the view."""
        if self._comparing:
            for column in self.columns:
                self.stop_column(column)
            return
        setup = self.query_one("#compare-setup")
        if self.columns and not setup.has_class("-hidden"):
            setup.add_class("-hidden")
            self.columns[self.active - 1].query_one(".column-body").focus()
            return
        self.dismiss(None)

    def action_toggle_reasoning(self) -> None:
        """Fold or unfold every column's reasoning together: the point is to compare them."""
        if not self.columns:
            return
        fold = not self.columns[self.active - 1].view.folded
        self._fold_choice = fold
        for column in self.columns:
            column.view.set_folded(fold)

    def action_edit(self) -> None:
        setup = self.query_one("#compare-setup")
        setup.remove_class("-hidden")
        self.query_one("#compare-prompt", Input).focus()

    def action_column(self, index: int) -> None:
        if 1 <= index <= len(self.columns):
            self.set_active(index)
            self.columns[index - 1].query_one(".column-body").focus()

    def set_active(self, index: int) -> None:
        self.active = index
        for column in self.columns:
            column.set_class(column.index == index, "-active")
        tabs = self.query_one("#compare-tabs", Tabs)
        if tabs.active != f"tab-{index}":
            tabs.active = f"tab-{index}"

    @on(Tabs.TabActivated, "#compare-tabs")
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab is not None and event.tab.id and event.tab.id.startswith("tab-"):
            index = int(event.tab.id.removeprefix("tab-"))
            if index != self.active:
                self.set_active(index)

    def on_descendant_focus(self, event: Any) -> None:
        for column in self.columns:
            if column in event.widget.ancestors_with_self and column.index != self.active:
                self.set_active(column.index)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Letter keys are for the prompt box while the setup is open."""
        setup_open = not self.query("#compare-setup").first().has_class("-hidden") if self.is_mounted else True
        if action in ("stop_active", "toggle_reasoning", "edit", "column", "chart", "vote") and setup_open:
            return False
        if action == "vote" and not self.vote_pending:
            return False
        return True

    def results(self) -> list[RunResult]:
        """The figures of the current comparison (tests, and a future "copy as Markdown")."""
        return [column.model_run.result() for column in self.columns]
