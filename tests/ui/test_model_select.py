"""The quick switch (Ctrl+M list of installed models): sizes in order, each size saying what it is."""

from __future__ import annotations

from textual.widgets import OptionList

from tests.apphelpers import ScreenHost
from tui.core.backend import InstalledModel
from tui.screens.model_select import ModelSelectScreen

# As a server lists them: by name, so 14b lands between 1.5b and 7b.
MODELS = [
    InstalledModel("deepseek-r1:1.5b", 1_117_322_599, "qwen2", "1.8B", "Q4_K_M"),
    InstalledModel("deepseek-r1:14b", 8_988_112_040, "qwen2", "14.8B", "Q4_K_M"),
    InstalledModel("deepseek-r1:7b", 4_683_075_271, "qwen2", "7.6B", "Q4_K_M"),
    InstalledModel("deepseek-r1:70b", 42_520_395_584, "llama", "70.6B", "Q4_K_M"),
]


def option_texts(app: ScreenHost) -> list[str]:
    options = app.screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_tags_are_listed_smallest_first_with_download_sizes() -> None:
    app = ScreenHost(lambda: ModelSelectScreen(MODELS, "deepseek-r1:7b", set(), ctx=8192))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        texts = option_texts(app)
        tags = [text.split()[0] for text in texts]
        assert tags == ["deepseek-r1:1.5b", "deepseek-r1:7b", "deepseek-r1:14b", "deepseek-r1:70b"]
        # The file size reads as Ollama and the picker's download column write it, and says it is one
        # (1.0 GiB here used to sit beside the picker's 1.1 GB and a 1.9 GiB memory estimate).
        assert "1.1 GB download" in texts[0]
        assert "2.0 GiB memory" in texts[0]  # once loaded, at the chat's context: said to be memory
        assert "42.5 GB download" in texts[3]
        # The highlight still starts on the current model, wherever sorting put it.
        assert app.screen.query_one(OptionList).highlighted == 1
        await pilot.press("enter")
        await pilot.pause()
        assert app.result == "deepseek-r1:7b"
