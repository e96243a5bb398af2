"""A quick list of installed models: pick one with the arrows and Enter, Esc to keep the current."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from typing import TYPE_CHECKING

from tui.core.backend import InstalledModel
from tui.core import catalog
from tui.core.catalog import tag_sort_key
from tui.core.fit import estimate
from tui.core.sanitize import inert
from tui.screens.dialog import Dialog
from tui.core.units import format_gib, human_bytes

if TYPE_CHECKING:
    from tui.core.host_models import HostModels


def size_text(size: int) -> str:
    """The file's size, said to be one: in decimal GB like `ollama list`, so it matches the picker's
    download column and is never read as the memory the model needs once loaded. Blank for a model
    an engine serves (no file size reported)."""
    return f"{human_bytes(size)} download" if size else ""


def memory_bytes(model: InstalledModel, ctx: int) -> int | None:
    """What the model takes once loaded at `ctx` (weights, KV cache, graph, runtime), as the picker's
    memory column says; None for a tag the catalog cannot describe."""
    entry = catalog.find(model.name)
    if entry is None:
        return None
    return estimate(catalog.with_server_figures(entry, None, model.size), ctx, ram_bytes=1 << 62).total_bytes


class ModelSelectScreen(Dialog["str | tuple[str, str] | None"]):
    """Dismissed with a model of the current host, (host name, model) for another configured host, or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    DEFAULT_CSS = """
    ModelSelectScreen > Vertical { width: 120; max-width: 98%; max-height: 80%; }
    ModelSelectScreen OptionList { height: auto; max-height: 20; border: none; }
    """

    def __init__(self, models: list[InstalledModel], current: str | None, loaded: set[str],
                 verdicts: dict[str, str] | None = None, *, ctx: int | None = None,
                 other_hosts: "list[HostModels] | None" = None, here: str = "") -> None:
        """`ctx`: the context the memory figures are for (default: the app's num_ctx setting)."""
        super().__init__()
        self.ctx = ctx
        # Smallest first, as everywhere tags are listed: 1.5b, 7b, 14b (not the server's 1.5b, 14b, 7b).
        self.models = sorted(models, key=lambda m: tag_sort_key(m.name, m.parameter_size))
        self.current = current
        self.loaded = loaded
        self.verdicts = verdicts or {}
        self.other_hosts = other_hosts or []
        self.here = here
        self._choices: dict[str, tuple[str, str]] = {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.styled("Choose a model", "bold"))
            options = []
            ctx = self.ctx or getattr(getattr(self.app, "settings", None), "context_for_estimates", None) or 4096
            name_width = max([20, *(len(m.name) + 1 for m in self.models)])
            verdict_width = max([0, *(len(v) + 2 for v in self.verdicts.values())])
            for model in self.models:
                marks = []
                if model.name == self.current:
                    marks.append("current")
                if model.name in self.loaded:
                    marks.append("loaded")
                verdict = self.verdicts.get(model.name, "")
                memory = memory_bytes(model, ctx)
                memory_text = f"{format_gib(memory)} memory" if memory is not None else ""
                label = Content.assemble(
                    (f"{inert(model.name):<{name_width}}", "bold" if model.name == self.current else ""),
                    (f"{size_text(model.size):>16}  {memory_text:>15}  {inert(model.quantization):<7}", "dim"),
                    (f" {verdict:<{verdict_width}}", "$warning" if verdict and not verdict.startswith("fits") else "dim"),
                    (f"{', '.join(marks)}", "$success"),
                )
                options.append(Option(label, id=model.name))
            if not options:
                options.append(Option("No models installed: `ollama pull deepseek-r1:7b`", disabled=True))
            if self.other_hosts:
                options.insert(0, Option(Content.styled(inert(self.here or "this host"), "bold $accent"), disabled=True))
                options.extend(self._other_host_options())
            yield OptionList(*options)

    def _other_host_options(self) -> list[Option]:
        """Each configured host's models under its name; Enter on one switches host and model at once."""
        options: list[Option] = []
        for group in self.other_hosts:
            options.append(Option(Content.styled(inert(group.label), "bold $accent"), disabled=True))
            if group.error:
                options.append(Option(Content.styled(f"  unreachable: {inert(group.error)}", "$error"), disabled=True))
                continue
            if not group.models:
                options.append(Option(Content.styled("  no models", "dim"), disabled=True))
            for model in sorted(group.models, key=lambda m: tag_sort_key(m.name, m.parameter_size)):
                key = f"{len(self._choices)}"
                self._choices[key] = (group.host.name, model.name)
                detail = " · ".join(p for p in (model.parameter_size, model.quantization) if p)
                options.append(Option(Content.assemble(f"  {inert(model.name)}", (f"  {inert(detail)}", "dim")),
                                      id=f"@host/{key}"))
        return options

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        if self.current in {m.name for m in self.models}:
            option_list.highlighted = option_list.get_option_index(self.current)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ""
        if option_id.startswith("@host/"):  # "@" cannot appear in a model name
            self.dismiss(self._choices[option_id[6:]])
        else:
            self.dismiss(option_id)
