"""The loop watch on its own (ordinary long reasoning vs a loop, whatever the chunking), and the
context figures: usage, the warning past 90 %, the length-cut remedy and `num_ctx = "auto"`."""

from __future__ import annotations

from tui.core.catalog import find
from tui.core.context_window import (CONTEXT_FLOOR, VRAM_MARGIN, ContextUsage, auto_context, choose_context,
                                     length_cut_text)
from tui.core.fit import GIB, estimate
from tui.core.loop_watch import LoopWatch
from tui.core.metrics import GenerationStats
from tui.demo.reasoning_sim import long_thinker_reply, looping_reply


def feed_in_chunks(watch: LoopWatch, text: str, size: int) -> bool:
    flagged = False
    for start in range(0, len(text), size):
        flagged = watch.feed(text[start:start + size]) or flagged
    return flagged


def test_ordinary_long_reasoning_is_not_a_loop() -> None:
    watch = LoopWatch()
    assert not feed_in_chunks(watch, long_thinker_reply(6000).reasoning, 7)
    assert not watch.looping and watch.words_seen > 4000


def test_recurring_short_phrases_are_not_a_loop() -> None:
    text = " ".join(f"Wait, let me check step {n}: {n} times 3 is {3 * n}, and that is fine." for n in range(400))
    watch = LoopWatch()
    watch.feed(text + " ")
    assert not watch.looping


def test_the_same_paragraph_over_and_over_is_a_loop_whatever_the_chunking() -> None:
    for size in (1, 5, 64, 100_000):
        watch = LoopWatch()
        assert feed_in_chunks(watch, looping_reply().reasoning, size)
        assert watch.looping


def test_a_loop_is_flagged_soon_not_after_the_whole_reasoning() -> None:
    watch = LoopWatch()
    text = looping_reply(repeats=200).reasoning
    for index, word in enumerate(text.split()):
        if watch.feed(word + " "):
            break
    assert watch.looping and index < 800


def test_context_usage_counts_the_servers_figures_and_warns_past_90_percent() -> None:
    usage = ContextUsage.of(GenerationStats(prompt_eval_count=3000, eval_count=412), 8192)
    assert usage is not None and usage.label == "ctx 3,412 / 8,192" and usage.warning() is None
    full = ContextUsage.of(GenerationStats(prompt_eval_count=7000, eval_count=500), 8192)
    assert full is not None and full.nearly_full and "new chat" in (full.warning() or "")
    assert ContextUsage.of(None, 8192) is None and ContextUsage.of(GenerationStats(eval_count=5), 0) is None


def test_the_length_cut_says_what_to_do_and_what_it_costs() -> None:
    text = length_cut_text(4096, "deepseek-r1:7b")
    assert text.startswith("cut off at the length limit") and "num_ctx = 8,192" in text and "GiB" in text
    assert "raise num_ctx" in length_cut_text(0)


def test_auto_context_is_the_largest_that_stays_on_the_gpu() -> None:
    entry = find("deepseek-r1:7b")
    assert entry is not None
    choice = auto_context("deepseek-r1:7b", gpu_free_bytes=[8 * GIB])
    assert choice.auto and CONTEXT_FLOOR < choice.ctx < 131072 and choice.ctx % 1024 == 0
    usable = [int(8 * GIB * (1 - VRAM_MARGIN))]  # a little is kept back: the estimate is an estimate
    assert estimate(entry, choice.ctx, gpu_free_bytes=usable, ram_bytes=64 * GIB).verdict == "gpu"
    assert estimate(entry, choice.ctx + 1024, gpu_free_bytes=usable, ram_bytes=64 * GIB).verdict != "gpu"
    big = auto_context("deepseek-r1:7b", gpu_free_bytes=[141 * GIB])
    assert big.ctx == 131072 and "native" in big.reason  # within the model's native length


def test_auto_context_never_goes_below_the_floor_and_a_number_wins() -> None:
    assert auto_context("deepseek-r1:70b", gpu_free_bytes=[8 * GIB]).ctx == CONTEXT_FLOOR
    assert auto_context("deepseek-r1:7b", gpu_free_bytes=[]).ctx == CONTEXT_FLOOR
    assert auto_context("some-other:model", gpu_free_bytes=[24 * GIB]).ctx == CONTEXT_FLOOR
    number = choose_context(6000, "deepseek-r1:7b", gpu_free_bytes=[80 * GIB])
    assert (number.ctx, number.auto) == (6000, False)
    assert choose_context("auto", "deepseek-r1:7b", gpu_free_bytes=[80 * GIB]).ctx > 6000


def test_long_reasoning_that_rechecks_the_same_formula_now_and_then_is_not_a_loop() -> None:
    """Real R1 reasoning repeats itself a little: a check said word for word every few paragraphs."""
    recheck = ("Wait, let me double-check the formula: the sum of the first n squares is n(n+1)(2n+1)/6, "
               "which I verified earlier, so the running total should match it.")
    steps = long_thinker_reply(6000).reasoning.split("\n\n")
    text = "\n\n".join(step + ("\n\n" + recheck if index % 8 == 0 else "") for index, step in enumerate(steps))
    watch = LoopWatch()
    assert not feed_in_chunks(watch, text, 11)
    assert 0 < watch.repeated_share < 0.3  # some repetition seen, far from a loop
