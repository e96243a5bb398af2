"""One way to write sizes (tui/core/units.py) and one order for tags (smallest model first)."""

from __future__ import annotations

from tui.core import catalog
from tui.core.catalog import parameter_count_of, sort_tags
from tui.core.pull_progress import format_bytes
from tui.core.units import GIB, format_gib, human_bytes


def test_downloads_in_decimal_gb_memory_in_gib() -> None:
    assert human_bytes(1_117_322_599) == "1.1 GB"
    assert human_bytes(404_000_000_000) == "404.0 GB"
    assert human_bytes(387) == "387 B"
    assert format_bytes(19_851_336_256) == human_bytes(19_851_336_256)  # the pull screens' name for it
    assert format_gib(1.9 * GIB) == "1.9 GiB"
    assert format_gib(20.25 * GIB, unit=False) == "20.2"


def test_tags_sort_by_size_not_by_text() -> None:
    assert sort_tags(["deepseek-r1:14b", "deepseek-r1:1.5b", "deepseek-r1:7b", "deepseek-r1:671b",
                      "deepseek-r1:70b"]) == ["deepseek-r1:1.5b", "deepseek-r1:7b", "deepseek-r1:14b",
                                              "deepseek-r1:70b", "deepseek-r1:671b"]
    # Tags the catalog doesn't know: the size in the tag, else none (after the sized ones of that model).
    assert sort_tags(["qwen2.5:14b", "my-r1", "qwen2.5:0.5b", "deepseek-r1:8b-llama-distill-q8_0",
                      "deepseek-r1:1.5b"]) == ["deepseek-r1:1.5b", "deepseek-r1:8b-llama-distill-q8_0",
                                              "my-r1", "qwen2.5:0.5b", "qwen2.5:14b"]
    assert parameter_count_of("custom:latest", "494M") == 494e6
    assert parameter_count_of("custom:latest") is None


def test_the_catalog_is_already_in_that_order() -> None:
    defaults = list(catalog.DEFAULT_TAGS)
    assert sort_tags(defaults) == defaults
