"""The model picker: which deepseek-r1 tag runs on this GPU, and pulling, deleting, describing tags.

It only renders the core: `tui.core.fit.recommend_usable` decides verdicts and the pick,
`tui.core.catalog` supplies the tags (with the server's own figures for installed
ones), and `tui.core.pulls.PullManager` (owned by the app, so downloads survive
this screen) runs the pulls. GPU and RAM figures come in as a parameter,
read off the event loop by the caller, so tests inject a fixed machine.

Every text the server supplies (model names, template, license) is passed
through `inert()` and rendered as plain `Text`/`Content`, never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Select, Static

from tui.core import catalog
from tui.core.backend import BackendError, InstalledModel, LoadedModel, ModelDetails, OllamaBackend
from tui.core.catalog import CatalogEntry
from tui.core.fit import GIB, KV_CACHE_TYPES, CpuRecommendation, Estimate, Recommendation, context_label, recommend_usable
from tui.core.hardware import GpuSnapshot
from tui.core.installed_catalog import installed_catalog
from tui.core.pull_progress import describe_layer, format_bytes, format_duration, format_speed, render_bar
from tui.core.pulls import DiskSpace, Pull, PullManager, PullState, disk_refusal, local_disk_space
from tui.core.sanitize import inert
from tui.core.units import format_gib, human_bytes
from tui.screens.confirm import ConfirmDeleteScreen as BaseConfirmDeleteScreen
from tui.screens.confirm import ConfirmPullScreen
from tui.screens.dialog import Dialog

CONTEXT_CHOICES: tuple[int, ...] = (2048, 4096, 8192, 16384, 32768, 65536, 131072)
DEFAULT_CTX = 8192
# Below this many columns the table drops base model and quality (they fit in `d` details).
WIDE_MIN_WIDTH = 110
PARTIAL_WARNING = "partial offload: the layers left on the CPU run at CPU speed, much slower"


@dataclass(frozen=True)
class MachineFigures:
    """What the estimates are measured against: GPUs as NVML saw them, why none, and usable RAM."""

    gpus: tuple[GpuSnapshot, ...]
    gpu_error: str | None
    ram_bytes: int

    @property
    def gpu_free_bytes(self) -> list[int]:
        return [gpu.vram_free_bytes for gpu in self.gpus]

    def describe(self) -> str:
        """One line: the GPUs and RAM, or why there is no GPU and what the picker does instead."""
        ram = self.ram_bytes / GIB
        if not self.gpus:
            reason = self.gpu_error or "no NVIDIA GPU found"
            return f"{reason} — recommending for CPU with {ram:.0f} GiB RAM as the limit"
        free = sum(self.gpu_free_bytes) / GIB
        total = sum(gpu.vram_total_bytes for gpu in self.gpus) / GIB
        names = " + ".join(inert(gpu.name) for gpu in self.gpus)
        label = "GPU" if len(self.gpus) == 1 else f"{len(self.gpus)} GPUs"
        return f"{label}: {names} · {free:.1f} GiB free of {total:.1f} · RAM {ram:.1f} GiB free"


# -- what a row says (no widgets) ----------------------------------------------------------


def short_tag(tag: str) -> str:
    """`deepseek-r1:7b` → `7b`: every catalog row shares the prefix, and 120 columns are few."""
    return tag.removeprefix(f"{catalog.MODEL}:")


def short_base(base_model: str) -> str:
    return base_model.removeprefix("DeepSeek-R1-Distill-").removeprefix("DeepSeek-")


def verdict_text(est: Estimate, wide: bool = True, tokens_per_second: float | None = None) -> str:
    """The verdict; on a machine without GPU, with the estimated CPU decoding speed."""
    if est.verdict == "partial":
        share = f"{est.cpu_layer_share:.0%}"
        return f"partial: {share} on CPU" if wide else f"partial {share} CPU"
    if est.verdict == "cpu" and tokens_per_second is not None:
        speed = f"~{tokens_per_second:.1f}" if tokens_per_second < 10 else f"~{tokens_per_second:.0f}"
        return f"CPU only, {speed} tok/s" if wide else f"CPU {speed} tok/s"
    return {"gpu": "fits on GPU", "cpu": "CPU only", "none": "does not fit"}[est.verdict]


def pull_dialog(tag: str, download_bytes: int | None, est: Estimate | None, verdict: str | None, ctx: int,
                disk: DiskSpace, server_url: str) -> ConfirmPullScreen:
    """What a user must see before starting a download: its size, whether the model will run here
    (memory, verdict) and the free disk, or why the disk cannot hold it."""
    size = human_bytes(download_bytes) if download_bytes else "size unknown"
    notes: list[tuple[Content, str]] = [(Content(f"download: {size}"), "")]
    if est is not None and verdict is not None:
        runs = f"memory when loaded: {format_gib(est.total_bytes)} at {context_label(ctx)} context — {verdict}"
        notes.append((Content(runs), "" if est.verdict == "gpu" else "warning"))
        if est.verdict == "none":
            notes.append((Content("It will not run on this machine at this context; pull it only to move it "
                                  "elsewhere or for a bigger server."), "warning"))
    if disk.known:
        notes.append((Content(f"free disk: {human_bytes(disk.free_bytes or 0)} in {disk.path}"), "hint"))
    else:
        notes.append((Content(f"free disk on the server ({inert(server_url)}): unknown — the server is not this "
                              "machine, so check it has room"), "hint"))
    refusal = disk_refusal(download_bytes, disk)
    return ConfirmPullScreen(Content.styled(f"Pull {inert(tag)}?", "bold"), notes,
                             refusal=Content(refusal) if refusal else None)


def memory_text(gib: float) -> str:
    """Tenths matter for what fits in 24 GiB, not for 400 GiB: keeps the column narrow."""
    return format_gib(gib * GIB, digits=1 if gib < 100 else 0)


def quality_text(entry: CatalogEntry) -> str:
    quality = entry.quality
    return f"{quality.aime_2024:.1f} / {quality.math_500:.1f}" if quality else "–"


# -- the modals ------------------------------------------------------------------------------


class ConfirmDeleteScreen(BaseConfirmDeleteScreen):
    """Deleting a 20 GB model by a stray key would cost a re-download: ask first, default to no."""

    def __init__(self, tag: str, size: int | None) -> None:
        size_text = f" ({format_bytes(size)})" if size else ""
        super().__init__(Content.styled(f"Delete {inert(tag)}{size_text} from the server?", "bold"),
                         [(Content("Pulling it again downloads it in full. y deletes, n or Esc keeps it."), "")])
        self.tag = tag
        self.size_bytes = size


def details_text(tag: str, details: ModelDetails | None, entry: CatalogEntry | None) -> list[tuple[str, str]]:
    """(heading, body) sections of the details view; bodies are made inert, shown literally."""
    sections: list[tuple[str, str]] = []
    if details is None:
        facts = ["not installed: press p in the picker to pull it; the server describes it once installed"]
        if entry is not None:
            arch = entry.architecture
            facts += [
                f"base model      {entry.base_model}",
                f"quantization    {entry.quantization}",
                f"download        {format_bytes(entry.download_bytes)}",
                f"parameters      {entry.parameter_count / 1e9:.1f}B",
                f"context length  {arch.context_length}",
                f"architecture    {arch.family}, {arch.layers} layers, {arch.heads} heads ({arch.kv_heads} KV)",
            ]
        sections.append(("catalog", "\n".join(facts)))
        return sections
    info = details.model_info
    arch_name = info.get("general.architecture")
    context = info.get(f"{arch_name}.context_length") if isinstance(arch_name, str) else None
    facts = [
        f"capabilities    {', '.join(details.capabilities) or 'none listed'}",
        f"parameters      {details.parameter_size or '?'}",
        f"quantization    {details.quantization or '?'}",
        f"context length  {context if context is not None else '?'}",
        f"family          {details.family or '?'}",
    ]
    sections.append(("model", "\n".join(facts)))
    sections.append(("parameters (Modelfile)", details.parameters.strip() or "none"))
    sections.append(("template", details.template.strip() or "none"))
    sections.append(("license", details.license.strip() or "none"))
    return [(heading, inert(body)) for heading, body in sections]


class ModelDetailsScreen(Dialog[None]):
    """What `/api/show` says about a tag, literally: templates and licenses are server text, not markup."""

    BINDINGS = [Binding("escape,d,q", "dismiss(None)", "Close")]
    DEFAULT_CSS = """
    ModelDetailsScreen > VerticalScroll { width: 100; }
    ModelDetailsScreen .heading { margin-top: 1; color: $text-primary; text-style: bold; }
    """

    def __init__(self, tag: str, sections: list[tuple[str, str]]) -> None:
        super().__init__()
        self.tag = tag
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = inert(self.tag)
            scroll.border_subtitle = "Esc closes"
            for heading, body in self.sections:
                yield Static(Content(heading), classes="heading")
                yield Static(Content(body), classes="body")


class ModelTable(DataTable[Text]):
    """The table, with Enter labelled for what it does here (the footer shows the focused widget's keys)."""

    BINDINGS = [Binding("enter", "select_cursor", "Use", key_display="⏎")]


# -- the picker ------------------------------------------------------------------------------


class ModelPickerScreen(Screen[str | None]):
    """Every deepseek-r1 tag with its fit on this machine; Enter dismisses with the tag to chat with."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Back"),
        Binding("p", "pull", "Pull"),
        Binding("c", "cancel_pull", "Cancel"),
        Binding("x,delete", "delete", "Delete", key_display="x"),
        Binding("d", "details", "Details"),
        Binding("left_square_bracket", "context(-1)", "Context", key_display="[ ]"),
        Binding("right_square_bracket", "context(1)", "Context", show=False),
        Binding("k", "next_kv", "KV"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_MIN_WIDTH, "-wide")]
    DEFAULT_CSS = """
    ModelPickerScreen #machine { height: auto; padding: 0 1; background: $panel; }
    ModelPickerScreen #machine.-no-gpu { color: $warning; }
    ModelPickerScreen #controls { height: 1; padding: 0 1; }
    ModelPickerScreen #controls Label { padding: 0 1 0 0; }
    ModelPickerScreen #controls Select { width: 12; margin-right: 2; }
    ModelPickerScreen #controls #kv { width: 10; }
    ModelPickerScreen #server { width: 1fr; color: $text-muted; }
    ModelPickerScreen #recommendation { height: auto; padding: 0 1; }
    ModelPickerScreen #models { height: 1fr; }
    ModelPickerScreen #pulls { height: auto; max-height: 12; border-top: solid $accent; padding: 0 1; }
    ModelPickerScreen.-narrow #pulls { max-height: 7; }
    ModelPickerScreen #pulls.-empty { display: none; }
    """

    def __init__(self, backend: OllamaBackend, pulls: PullManager, machine: MachineFigures, *,
                 ctx: int = DEFAULT_CTX, kv_cache: str = "f16",
                 disk_space: Callable[[], DiskSpace] | None = None) -> None:
        """`disk_space`: free space where pulls land, measured in a thread before each pull
        (default: the local Ollama models folder; unknown for a remote server)."""
        super().__init__()
        self.backend = backend
        self.disk_space = disk_space
        self.pulls = pulls
        self.machine = machine
        self.ctx = ctx
        self.kv_cache = kv_cache if kv_cache in KV_CACHE_TYPES else "f16"
        self.context_choices = tuple(sorted(set(CONTEXT_CHOICES) | {ctx}))
        self.installed: dict[str, InstalledModel] = {}
        self.entries: list[CatalogEntry] = list(catalog.CATALOG)
        self.unestimated: list[InstalledModel] = []
        self.recommendation: Recommendation | None = None
        self.loaded = False
        # /api/ps rows: a loaded model is judged with its own VRAM counted as free (fit.free_vram_for).
        self.loaded_models: list[LoadedModel] = []
        self.server_error: str | None = None
        self._wide: bool | None = None
        self._cursor_placed = False
        self._unsubscribe: Callable[[], None] = lambda: None

    # -- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static(id="machine")
        with Horizontal(id="controls"):
            yield Label("[ ] context")
            yield Select([(context_label(c), c) for c in self.context_choices], value=self.ctx,
                         allow_blank=False, compact=True, id="ctx")
            yield Label("k KV cache")
            yield Select([(k, k) for k in KV_CACHE_TYPES], value=self.kv_cache, allow_blank=False,
                         compact=True, id="kv")
            yield Static("", id="server")
        yield Static(id="recommendation")
        yield ModelTable(id="models", cursor_type="row")
        with VerticalScroll(id="pulls", classes="-empty"):
            yield Static(id="pulls-text")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "choose a deepseek-r1 model"
        machine = self.query_one("#machine", Static)
        text = self.machine.describe()
        if self.machine.gpus and not self.backend.is_local:
            text += f" (this machine; the server is {self.backend.url})"
        machine.update(Content(text))
        machine.set_class(not self.machine.gpus, "-no-gpu")
        self._unsubscribe = self.pulls.subscribe(self._on_pull_change)
        self.query_one(DataTable).focus()
        self._set_server_note("listing installed models…")
        self._refresh()
        self._render_pulls()
        self.load_installed()

    def on_unmount(self) -> None:
        self._unsubscribe()

    def on_resize(self) -> None:
        if self._wide != self._is_wide():
            self._fill_table()
            self._render_pulls()

    def _is_wide(self) -> bool:
        return self.size.width >= WIDE_MIN_WIDTH

    def _say(self, text: str, severity: SeverityLevel = "information") -> None:
        """A toast with server text in it (tags, errors): literal, never markup."""
        self.notify(inert(text), severity=severity, markup=False)

    def _set_server_note(self, text: str) -> None:
        self.query_one("#server", Static).update(Content(inert(text)))

    # -- data ------------------------------------------------------------------------

    @work(exclusive=True, group="picker-installed")
    async def load_installed(self) -> None:
        """Installed tags, each with the server's own architecture and size replacing the catalog's."""
        try:
            models = await self.backend.list_models()
        except BackendError as error:
            self.server_error = str(error)
            self._set_server_note("installed: unknown")
            self._say(f"Could not list the installed models: {error}", "error")
            self.loaded = True
            return
        merged = await installed_catalog(self.backend, models)
        installed, entries, unestimated = merged.installed, merged.entries, merged.unestimated
        self.installed, self.entries, self.unestimated = installed, entries, unestimated
        self.loaded_models = await self._loaded_here()
        self.server_error = None
        self._set_server_note(f"{len(installed)} installed")
        self.loaded = True
        self._refresh()

    async def _loaded_here(self) -> list[LoadedModel]:
        """What the server has loaded, when its GPUs are the ones NVML reads (a local server)."""
        if not self.backend.is_local or not self.machine.gpus:
            return []
        try:
            return await self.backend.ps()
        except BackendError:
            return []

    async def _show(self, tag: str) -> ModelDetails | None:
        try:
            return await self.backend.show(tag)
        except BackendError:
            return None

    def _refresh(self) -> None:
        """Recompute every estimate for the current context and KV type, then redraw."""
        self.recommendation = recommend_usable(
            self.entries, self.ctx, gpu_free_bytes=self.machine.gpu_free_bytes, ram_bytes=self.machine.ram_bytes,
            kv_cache=self.kv_cache, no_gpu_reason=None if self.machine.gpus else "no GPU",
            loaded=self.loaded_models, gpu_total_bytes=[gpu.vram_total_bytes for gpu in self.machine.gpus])
        self._render_recommendation()
        self._fill_table()

    def _render_recommendation(self) -> None:
        result = self.recommendation
        assert result is not None
        lines = []
        if result.best:
            lines.append(Content.assemble(("★ recommended: ", "bold $success"), (result.best, "bold"),
                                          f" — {result.reason}"))
        else:
            lines.append(Content.assemble(("no recommendation: ", "bold $warning"), result.reason))
        if any(est.verdict == "partial" for est in result.estimates):
            lines.append(Content.styled(PARTIAL_WARNING, "$text-muted"))
        self.query_one("#recommendation", Static).update(Content("\n").join(lines))

    # -- the table ------------------------------------------------------------------

    def _columns(self, wide: bool) -> list[tuple[str, str]]:
        columns = [("tag", "tag")]
        if wide:
            columns.append(("base model", "base"))
        columns += [("download", "download"), ("memory", "memory"), ("verdict", "verdict")]
        if wide:
            columns.append(("AIME / MATH", "quality"))
        columns.append(("installed", "installed"))
        return columns

    def _fill_table(self) -> None:
        table = self.query_one(DataTable)
        wide = self._is_wide()
        selected = self.selected_tag()
        if wide != self._wide or not table.columns:
            table.clear(columns=True)
            for label, key in self._columns(wide):
                table.add_column(label, key=key)
            self._wide = wide
        else:
            table.clear()
        result = self.recommendation
        if result is None:
            return
        speeds = result.tokens_per_second if isinstance(result, CpuRecommendation) else ()
        for index, (entry, est) in enumerate(zip(self.entries, result.estimates)):
            speed = speeds[index] if speeds else None
            table.add_row(*self._cells(entry, est, result.best, wide, speed), key=entry.tag)
        for model in self.unestimated:
            table.add_row(*self._unknown_cells(model, wide), key=catalog.normalize_tag(model.name))
        target = selected if self._cursor_placed else result.best
        if target is not None and target in table.rows:
            table.move_cursor(row=table.get_row_index(target), animate=False)
            self._cursor_placed = True

    def _style(self, name: str) -> str:
        return self.app.theme_variables.get(name, "")

    def _installed_cell(self, tag: str) -> Text:
        pull = self.pulls.get(tag)
        if pull is not None and pull.active:
            return Text(f"{pull.fraction:.0%}", style=self._style("accent"), justify="right")
        if tag in self.installed:
            return Text("yes", style=self._style("success"))
        if pull is not None and pull.state is PullState.FAILED:
            return Text("failed", style=self._style("error"))
        return Text("")

    def _cells(self, entry: CatalogEntry, est: Estimate, best: str | None, wide: bool,
               tokens_per_second: float | None = None) -> list[Text]:
        marker = "★ " if entry.tag == best else "  "
        colour = {"gpu": "success", "partial": "warning", "cpu": "warning", "none": "error"}[est.verdict]
        cells = [Text(marker + inert(short_tag(entry.tag)), style="bold" if entry.tag == best else "")]
        if wide:
            cells.append(Text(inert(short_base(entry.base_model))))
        cells += [
            Text(format_bytes(entry.download_bytes), justify="right"),
            Text(memory_text(est.total_gib), justify="right"),
            Text(verdict_text(est, wide, tokens_per_second), style=self._style(colour)),
        ]
        if wide:
            cells.append(Text(quality_text(entry), justify="right"))
        cells.append(self._installed_cell(entry.tag))
        return cells

    def _unknown_cells(self, model: InstalledModel, wide: bool) -> list[Text]:
        cells = [Text("  " + inert(short_tag(model.name)))]
        if wide:
            cells.append(Text(inert(model.family)))
        cells += [Text(format_bytes(model.size), justify="right"), Text("?", justify="right"),
                  Text("no architecture figures", style=self._style("text-muted"))]
        if wide:
            cells.append(Text("–", justify="right"))
        cells.append(self._installed_cell(catalog.normalize_tag(model.name)))
        return cells

    def selected_tag(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:  # noqa: BLE001 - an empty or just-cleared table has no cursor row
            return None
        return key.value

    # -- controls ------------------------------------------------------------------------

    @on(Select.Changed, "#ctx")
    def _context_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, int) and event.value != self.ctx:
            self.ctx = event.value
            self._refresh()

    @on(Select.Changed, "#kv")
    def _kv_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.kv_cache:
            self.kv_cache = event.value
            self._refresh()

    def action_context(self, step: int) -> None:
        index = self.context_choices.index(self.ctx) + step
        if 0 <= index < len(self.context_choices):
            self.query_one("#ctx", Select).value = self.context_choices[index]

    def action_next_kv(self) -> None:
        index = (KV_CACHE_TYPES.index(self.kv_cache) + 1) % len(KV_CACHE_TYPES)
        self.query_one("#kv", Select).value = KV_CACHE_TYPES[index]

    # -- actions on the selected tag ---------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_use()

    def action_use(self) -> None:
        tag = self.selected_tag()
        if tag is None:
            return
        if tag in self.installed and not self.pulls.is_active(tag):
            self.dismiss(self.installed[tag].name)
        elif self.pulls.is_active(tag):
            self._say(f"{tag} is still downloading; it can be used once the pull finishes.", "warning")
        else:
            self._say(f"{tag} is not installed: press p to pull it first.", "warning")

    def action_pull(self) -> None:
        tag = self.selected_tag()
        if tag is None:
            return
        if self.pulls.is_active(tag):
            self._say(f"{tag} is already being pulled (c cancels).")
            return
        self._confirm_pull(tag)

    @work(exclusive=True, group="picker-pull-confirm")
    async def _confirm_pull(self, tag: str) -> None:
        """Ask before downloading: size, fit and free disk (measured in a thread: a stat may hang on NFS)."""
        import asyncio

        entry = next((e for e in self.entries if e.tag == tag), None)
        est: Estimate | None = None
        verdict: str | None = None
        result = self.recommendation
        if entry is not None and result is not None:
            index = self.entries.index(entry)
            if index < len(result.estimates):
                est = result.estimates[index]
                speeds = result.tokens_per_second if isinstance(result, CpuRecommendation) else ()
                verdict = verdict_text(est, True, speeds[index] if speeds else None)
        size = entry.download_bytes if entry is not None else (
            self.installed[tag].size if tag in self.installed else None)
        if self.disk_space is not None:
            disk = await asyncio.to_thread(self.disk_space)
        elif self.backend.is_local:
            disk = await asyncio.to_thread(local_disk_space)
        else:
            disk = DiskSpace(None)
        dialog = pull_dialog(tag, size, est, verdict, self.ctx, disk, self.backend.url)
        if await self.app.push_screen_wait(dialog) and not self.pulls.is_active(tag):
            self.pulls.start(tag)

    def action_cancel_pull(self) -> None:
        tag = self.selected_tag()
        if tag is not None and not self.pulls.cancel(tag):
            self._say(f"No pull of {tag} is running.", "warning")

    def action_delete(self) -> None:
        tag = self.selected_tag()
        if tag is None:
            return
        if self.pulls.is_active(tag):
            self._say(f"{tag} is being pulled: cancel it first (c).", "warning")
            return
        model = self.installed.get(tag)
        if model is None:
            self._say(f"{tag} is not installed.", "warning")
            return
        self.app.push_screen(ConfirmDeleteScreen(model.name, model.size),
                             callback=lambda confirmed: self._delete(model.name) if confirmed else None)

    @work(group="picker-delete")
    async def _delete(self, tag: str) -> None:
        try:
            await self.backend.delete(tag)
        except BackendError as error:
            self._say(f"Could not delete {tag}: {error}", "error")
            return
        self.pulls.forget(catalog.normalize_tag(tag))
        self._say(f"Deleted {tag}.")
        self.load_installed()

    @work(group="picker-details")
    async def action_details(self) -> None:
        tag = self.selected_tag()
        if tag is None:
            return
        model = self.installed.get(tag)
        details: ModelDetails | None = None
        if model is not None:
            try:
                details = await self.backend.show(model.name, refresh=True)
            except BackendError as error:
                self._say(f"Could not describe {tag}: {error}", "error")
                return
        entry = next((e for e in self.entries if e.tag == tag), None)
        await self.app.push_screen(ModelDetailsScreen(tag, details_text(tag, details, entry)))

    # -- pulls -------------------------------------------------------------------------------

    def _on_pull_change(self, pull: Pull) -> None:
        if not self.is_mounted:
            return
        self._render_pulls()
        table = self.query_one(DataTable)
        if pull.tag in table.rows and self._wide is not None:
            table.update_cell(pull.tag, "installed", self._installed_cell(pull.tag))
        if pull.state is PullState.DONE:
            self.load_installed()

    def _render_pulls(self) -> None:
        pulls = list(self.pulls.pulls.values())
        area = self.query_one("#pulls", VerticalScroll)
        area.set_class(not pulls, "-empty")
        bar = 20 if self._is_wide() else 10
        lines = [pull_lines(pull, bar) for pull in reversed(pulls)]  # newest first
        self.query_one("#pulls-text", Static).update(Content("\n").join(line for group in lines for line in group))


def pull_lines(pull: Pull, bar_width: int = 20) -> list[Content]:
    """One pull as lines: a summary with bar, bytes, speed and ETA, then one line per layer while it runs."""
    tag = inert(pull.tag)
    if pull.state is PullState.DONE:
        return [Content.assemble(("✓ ", "$success"), inert(pull.summary()))]
    if pull.state is PullState.FAILED:
        return [Content.assemble(("✖ ", "$error"), inert(pull.summary()))]
    if pull.state is PullState.CANCELLED:
        return [Content.assemble(("■ ", "$warning"), inert(pull.summary()))]
    if not pull.tracker.layers:
        return [Content.assemble(("↓ ", "$accent"), (tag, "bold"), f"  {inert(pull.status) or 'starting'}…")]
    head = Content.assemble(
        ("↓ ", "$accent"), (tag, "bold"),
        f"  {render_bar(pull.fraction, bar_width)} {pull.fraction:4.0%}"
        f"  {format_bytes(pull.completed_bytes)} / {format_bytes(pull.total_bytes)}"
        f"  {format_speed(pull.speed)}  ETA {format_duration(pull.eta)}")
    lines = [head]
    for layer in pull.layers:
        if layer.done:
            lines.append(Content.styled(f"    ✓ {layer.short_digest}  {format_bytes(layer.total)}", "$text-muted"))
        else:
            resumed = f"  (resumed at {format_bytes(layer.resumed_from)})" if layer.resumed_from else ""
            lines.append(Content(f"    {describe_layer(layer)}{resumed}"))
    return lines
