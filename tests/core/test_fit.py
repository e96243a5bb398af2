"""The fit estimator, pinned to the reference's published rules of thumb."""

from __future__ import annotations

import math

import pytest

from tui.core import catalog
from tui.core.fit import GIB, MIB, GPU_OVERHEAD_BYTES, estimate, free_vram_for, kv_cache_bytes, recommend

PLENTY_OF_RAM = 512 * GIB


def entry(tag: str) -> catalog.CatalogEntry:
    found = catalog.find(f"deepseek-r1:{tag}")
    assert found is not None
    return found


@pytest.mark.parametrize(("tag", "low", "high"), [
    ("7b", 5.0, 6.5),
    ("14b", 9.5, 11.0),
    ("32b", 20.0, 22.5),
    ("70b", 41.0, 46.0),
])
def test_estimates_at_4k_land_in_the_published_ranges(tag: str, low: float, high: float) -> None:
    est = estimate(entry(tag), 4096, gpu_free_bytes=[80 * GIB], ram_bytes=PLENTY_OF_RAM)
    assert low <= est.total_gib <= high


def test_small_models_match_the_rule_of_thumb_in_gigabytes() -> None:
    """Reference: 1.5B ~2–4 GB, 8B ~6 GB (decimal GB, short context)."""
    small = estimate(entry("1.5b"), 4096, ram_bytes=PLENTY_OF_RAM).total_bytes / 1e9
    eight = estimate(entry("8b"), 4096, ram_bytes=PLENTY_OF_RAM).total_bytes / 1e9
    assert 2.0 <= small <= 4.0
    assert 5.5 <= eight <= 7.0


def test_kv_cache_matches_the_reference_examples() -> None:
    assert kv_cache_bytes(entry("7b").architecture, 4096) == 224 * MIB
    assert kv_cache_bytes(entry("32b").architecture, 4096) == 1 * GIB
    assert kv_cache_bytes(entry("70b").architecture, 4096) == 1.25 * GIB
    assert kv_cache_bytes(entry("70b").architecture, 32768) == 10 * GIB


def test_kv_cache_grows_linearly_with_context() -> None:
    arch = entry("14b").architecture
    base = kv_cache_bytes(arch, 2048)
    for factor in (2, 4, 16, 64):
        assert kv_cache_bytes(arch, 2048 * factor) == factor * base


def test_longer_context_costs_more_than_its_kv_cache_alone() -> None:
    """The compute graph grows with context too: a user raising 4k → 32k must see both."""
    short = estimate(entry("14b"), 4096, ram_bytes=PLENTY_OF_RAM)
    long = estimate(entry("14b"), 32768, ram_bytes=PLENTY_OF_RAM)
    assert long.total_bytes - short.total_bytes > long.kv_bytes - short.kv_bytes


def test_quantized_kv_cache_roughly_halves_and_quarters_it() -> None:
    arch = entry("32b").architecture
    f16 = kv_cache_bytes(arch, 16384, "f16")
    assert 0.5 <= kv_cache_bytes(arch, 16384, "q8_0") / f16 <= 0.55
    assert 0.25 <= kv_cache_bytes(arch, 16384, "q4_0") / f16 <= 0.3
    full = estimate(entry("32b"), 16384, ram_bytes=PLENTY_OF_RAM, kv_cache="f16")
    halved = estimate(entry("32b"), 16384, ram_bytes=PLENTY_OF_RAM, kv_cache="q8_0")
    assert full.total_bytes - halved.total_bytes == pytest.approx(f16 * 0.46875, rel=0.01)


def test_verdict_boundary_on_one_gpu() -> None:
    model = entry("14b")
    need = estimate(model, 8192, ram_bytes=PLENTY_OF_RAM).total_bytes
    exactly = estimate(model, 8192, gpu_free_bytes=[need], ram_bytes=PLENTY_OF_RAM)
    short = estimate(model, 8192, gpu_free_bytes=[need - 1], ram_bytes=PLENTY_OF_RAM)
    assert exactly.verdict == "gpu" and exactly.cpu_layer_share == 0
    assert short.verdict == "partial"
    assert 0 < short.cpu_layer_share < 0.05  # one byte short: only a layer or so goes to the CPU


def test_partial_offload_reports_the_share_left_on_cpu() -> None:
    est = estimate(entry("70b"), 8192, gpu_free_bytes=[24 * GIB], ram_bytes=64 * GIB)
    assert est.verdict == "partial"
    assert 0.4 < est.cpu_layer_share < 0.6
    assert est.gpu_layers + round(est.cpu_layer_share * est.layers) == 80
    assert "on CPU" in est.label


def test_cpu_only_when_no_gpu_and_none_when_ram_is_short_too() -> None:
    model = entry("32b")
    assert estimate(model, 8192, ram_bytes=64 * GIB).verdict == "cpu"
    assert estimate(model, 8192, ram_bytes=16 * GIB).verdict == "none"
    # A GPU too small to hold even one layer is no help.
    assert estimate(model, 8192, gpu_free_bytes=[GPU_OVERHEAD_BYTES], ram_bytes=64 * GIB).verdict == "cpu"


def test_partial_offload_still_needs_the_rest_to_fit_in_ram() -> None:
    est = estimate(entry("70b"), 8192, gpu_free_bytes=[24 * GIB], ram_bytes=8 * GIB)
    assert est.verdict == "none"


def test_two_gpus_add_up_minus_overhead_on_each() -> None:
    """Reference: 70B needs 48 GB or two 24 GB cards."""
    model = entry("70b")
    one = estimate(model, 4096, gpu_free_bytes=[24 * GIB], ram_bytes=PLENTY_OF_RAM)
    two = estimate(model, 4096, gpu_free_bytes=[24 * GIB, 24 * GIB], ram_bytes=PLENTY_OF_RAM)
    assert one.verdict == "partial"
    assert two.verdict == "gpu" and two.gpus_used == 2
    assert two.overhead_bytes == 2 * GPU_OVERHEAD_BYTES
    # The same total VRAM in one card needs one overhead less: split cards hold less.
    need_single = estimate(model, 4096, ram_bytes=PLENTY_OF_RAM).total_bytes
    half = need_single // 2
    assert estimate(model, 4096, gpu_free_bytes=[need_single], ram_bytes=PLENTY_OF_RAM).verdict == "gpu"
    split = estimate(model, 4096, gpu_free_bytes=[half, need_single - half], ram_bytes=PLENTY_OF_RAM)
    assert split.verdict == "partial"


def test_a_model_that_fits_one_gpu_uses_one() -> None:
    est = estimate(entry("7b"), 4096, gpu_free_bytes=[24 * GIB, 24 * GIB], ram_bytes=PLENTY_OF_RAM)
    assert est.verdict == "gpu" and est.gpus_used == 1


def test_recommend_picks_the_largest_default_tag_that_fits_fully() -> None:
    result = recommend(catalog.CATALOG, 8192, gpu_free_bytes=[24 * GIB], ram_bytes=64 * GIB)
    assert result.best == "deepseek-r1:32b"
    assert result.reason == "largest that fits fully in 24.0 GiB at 8k context"
    assert result.on_gpu
    assert [e.tag for e in result.estimates] == [e.tag for e in catalog.CATALOG]


def test_recommend_follows_the_context() -> None:
    """At 32k, 32b's KV cache and graph no longer fit beside its weights in 24 GiB."""
    result = recommend(catalog.CATALOG, 32768, gpu_free_bytes=[24 * GIB], ram_bytes=64 * GIB)
    assert result.best == "deepseek-r1:14b"
    assert "at 32k context" in result.reason
    quantized = recommend(catalog.CATALOG, 32768, gpu_free_bytes=[24 * GIB], ram_bytes=64 * GIB, kv_cache="q4_0")
    assert quantized.best == "deepseek-r1:32b"


def test_recommend_never_picks_a_variant() -> None:
    """A 7b fp16 variant fits in 16 GiB, but the answer is a size tag."""
    result = recommend(catalog.CATALOG, 4096, gpu_free_bytes=[16 * GIB], ram_bytes=64 * GIB)
    assert result.best == "deepseek-r1:14b"
    assert result.best in catalog.DEFAULT_TAGS


def test_recommend_nothing_when_even_the_smallest_spills() -> None:
    result = recommend(catalog.CATALOG, 8192, gpu_free_bytes=[1 * GIB], ram_bytes=64 * GIB)
    assert result.best is None
    assert "1.0 GiB" in result.reason and "fits" in result.reason


def test_recommend_without_gpu_uses_ram_and_says_so() -> None:
    result = recommend(catalog.CATALOG, 8192, gpu_free_bytes=[], ram_bytes=16 * GIB,
                       no_gpu_reason="no NVIDIA GPU: NVML Shared Library Not Found")
    assert result.best == "deepseek-r1:14b"
    assert not result.on_gpu
    assert "no NVIDIA GPU" in result.reason
    assert "16.0 GiB of RAM" in result.reason and "CPU" in result.reason


def test_recommend_two_gpus_reach_the_70b() -> None:
    result = recommend(catalog.CATALOG, 4096, gpu_free_bytes=[24 * GIB, 24 * GIB], ram_bytes=64 * GIB)
    assert result.best == "deepseek-r1:70b"
    assert "48.0 GiB free on 2 GPUs" in result.reason


def test_context_must_be_positive() -> None:
    with pytest.raises(ValueError):
        estimate(entry("7b"), 0, ram_bytes=PLENTY_OF_RAM)


def test_exact_figures_include_the_compute_graph() -> None:
    """7b (qwen2: 28 layers, 28 heads, 4 KV heads × 128, embedding 3584, vocab 152064).

    Graph = max(logits 4·512·(3584 + 152064), attention 4·512·(1 + 2·3584 + ctx·29)):
    at 4k the logits win (304 MiB), at 32k the attention scores do.
    """
    model = entry("7b")
    short = estimate(model, 4096, gpu_free_bytes=[8 * GIB], ram_bytes=PLENTY_OF_RAM)
    assert (short.weights_bytes, short.kv_bytes, short.graph_bytes, short.overhead_bytes) == (
        4_683_075_271, 224 * MIB, 304 * MIB, 457 * MIB)
    assert short.total_bytes == 4_683_075_271 + (224 + 304 + 457) * MIB == 5_715_922_631
    assert short.verdict == "gpu"
    long = estimate(model, 32768, gpu_free_bytes=[8 * GIB], ram_bytes=PLENTY_OF_RAM)
    assert long.graph_bytes == 4 * 512 * (1 + 2 * 3584 + 32768 * 29) == 1_960_839_168
    assert long.kv_bytes == 1792 * MIB
    # 8 GiB less overhead and graph holds 26 of the 28 layers of (weights + KV) / 28 each.
    assert (long.verdict, long.gpu_layers) == ("partial", 26)


def test_free_vram_must_cover_the_graph_too() -> None:
    """A card with room for weights, KV cache and overhead but not the graph does not hold the model."""
    model = entry("7b")
    est = estimate(model, 4096, ram_bytes=PLENTY_OF_RAM)
    without_graph = est.weights_bytes + est.kv_bytes + GPU_OVERHEAD_BYTES
    assert estimate(model, 4096, gpu_free_bytes=[without_graph], ram_bytes=PLENTY_OF_RAM).verdict == "partial"
    assert estimate(model, 4096, gpu_free_bytes=[est.total_bytes], ram_bytes=PLENTY_OF_RAM).verdict == "gpu"


class Row:
    """A `/api/ps` row as backend.LoadedModel gives it (only what free_vram_for reads)."""

    def __init__(self, name: str, size_vram: int) -> None:
        self.name, self.size_vram = name, size_vram


def test_a_loaded_model_counts_its_own_memory_as_free() -> None:
    """8 GiB card, deepseek-r1:7b loaded (5.3 GiB of it in VRAM): NVML says 2.2 GiB free."""
    model = entry("7b")
    loaded_size = estimate(model, 4096, ram_bytes=PLENTY_OF_RAM).total_bytes
    nvml_free = 8 * GIB - 600 * MIB - loaded_size  # desktop + the loaded model
    as_nvml = estimate(model, 4096, gpu_free_bytes=[nvml_free], ram_bytes=PLENTY_OF_RAM)
    assert as_nvml.verdict == "partial" and as_nvml.cpu_layer_share > 0.5  # the bug: "82 % of layers on CPU"
    loaded = [Row("deepseek-r1:7b", loaded_size), Row("deepseek-r1:1.5b", 2 * GIB)]
    free = free_vram_for("deepseek-r1:7b", [nvml_free], loaded)
    assert free == [nvml_free + loaded_size]
    assert estimate(model, 4096, gpu_free_bytes=free, ram_bytes=PLENTY_OF_RAM).verdict == "gpu"
    # Another model is judged against what is really free: the 7b holds its memory.
    assert free_vram_for("deepseek-r1:14b", [nvml_free], loaded) == [nvml_free]
    assert free_vram_for("deepseek-r1:1.5b", [nvml_free], loaded) == [nvml_free + 2 * GIB]
    assert free_vram_for("deepseek-r1:7b", [nvml_free], []) == [nvml_free]
    assert free_vram_for("deepseek-r1:7b", [], loaded) == []


def test_a_name_without_a_tag_means_latest() -> None:
    assert free_vram_for("deepseek-r1", [GIB], [Row("deepseek-r1:latest", GIB)]) == [2 * GIB]
    assert free_vram_for("deepseek-r1:latest", [GIB], [Row("deepseek-r1", GIB)]) == [2 * GIB]
    assert free_vram_for("deepseek-r1:7b", [GIB], [Row("deepseek-r1", GIB)]) == [GIB]


def test_a_model_split_over_two_gpus_goes_back_where_memory_is_used() -> None:
    # 30 GiB loaded: 20 on GPU 0, 10 on GPU 1 (plus 2 GiB of another process on GPU 0).
    totals, free = [24 * GIB, 24 * GIB], [2 * GIB, 14 * GIB]
    back = free_vram_for("deepseek-r1:70b", free, [Row("deepseek-r1:70b", 30 * GIB)], totals)
    assert 0 <= sum(free) + 30 * GIB - sum(back) <= 1  # every byte back, but for rounding
    assert back[0] - free[0] == pytest.approx(22 / 32 * 30 * GIB, abs=1) and back[0] <= totals[0]
    assert back[1] - free[1] == pytest.approx(10 / 32 * 30 * GIB, abs=1) and back[1] <= totals[1]
    # Never more than a GPU's total, even if /api/ps says more than NVML counts as used.
    assert free_vram_for("m:1", [20 * GIB], [Row("m:1", 10 * GIB)], [24 * GIB]) == [24 * GIB]
    # Without totals: split evenly, every byte given back.
    assert free_vram_for("m:1", [GIB, GIB], [Row("m:1", 3)]) == [GIB + 2, GIB + 1]


def test_recommend_counts_a_loaded_model_as_fitting_its_own_memory() -> None:
    loaded_size = estimate(entry("7b"), 8192, ram_bytes=PLENTY_OF_RAM).total_bytes
    nvml_free = [8 * GIB - loaded_size]
    plain = recommend(catalog.CATALOG, 8192, gpu_free_bytes=nvml_free, ram_bytes=64 * GIB)
    aware = recommend(catalog.CATALOG, 8192, gpu_free_bytes=nvml_free, ram_bytes=64 * GIB,
                      loaded=[Row("deepseek-r1:7b", loaded_size)], gpu_total_bytes=[8 * GIB])
    by_tag = {e.tag: e for e in aware.estimates}
    assert {e.tag: e for e in plain.estimates}["deepseek-r1:7b"].verdict == "partial"
    assert by_tag["deepseek-r1:7b"].verdict == "gpu" and aware.best == "deepseek-r1:7b"
    assert by_tag["deepseek-r1:14b"].verdict == "partial"


# -- boundaries the mutation run found unpinned (benchmarks/MUTATION.md) ------------------------------


def test_graph_uses_the_architectures_own_vocabulary_or_a_typical_one() -> None:
    from tui.core.catalog import Architecture
    from tui.core.fit import TYPICAL_VOCAB, graph_bytes

    small_vocab = Architecture("llama", 32, 32, 8, 128, 8192, 4096, vocab_size=32_000)
    assert graph_bytes(small_vocab, 512) == 4 * 512 * (4096 + 32_000)  # logits win at a short context
    unknown = Architecture("llama", 32, 32, 8, 128, 8192, 4096, vocab_size=None)
    assert graph_bytes(unknown, 512) == 4 * 512 * (4096 + TYPICAL_VOCAB)


def test_the_largest_free_gpu_is_tried_first() -> None:
    est = estimate(entry("7b"), 4096, gpu_free_bytes=[4 * GIB, 24 * GIB], ram_bytes=PLENTY_OF_RAM)
    assert est.verdict == "gpu" and est.gpus_used == 1


def test_a_gpu_with_no_room_past_its_overhead_adds_nothing() -> None:
    model = entry("7b")
    total = estimate(model, 4096, ram_bytes=PLENTY_OF_RAM).total_bytes
    # One byte short on the big card; the other holds exactly its overhead: still short.
    est = estimate(model, 4096, gpu_free_bytes=[total - 1, GPU_OVERHEAD_BYTES], ram_bytes=PLENTY_OF_RAM)
    assert est.verdict == "partial"


def test_context_of_one_is_allowed_and_zero_is_refused_with_a_message() -> None:
    assert estimate(entry("7b"), 1, ram_bytes=PLENTY_OF_RAM).verdict == "cpu"
    with pytest.raises(ValueError, match="^context length must be positive$"):
        estimate(entry("7b"), 0, ram_bytes=PLENTY_OF_RAM)


def test_one_byte_short_leaves_exactly_one_layer_on_the_cpu() -> None:
    model = entry("14b")
    need = estimate(model, 8192, ram_bytes=PLENTY_OF_RAM).total_bytes
    short = estimate(model, 8192, gpu_free_bytes=[need - 1], ram_bytes=PLENTY_OF_RAM)
    assert (short.verdict, short.gpu_layers, short.layers) == ("partial", 47, 48)


def test_less_than_a_layer_of_room_is_cpu_only_and_one_layer_is_a_partial_offload() -> None:
    model = entry("14b")
    est = estimate(model, 8192, ram_bytes=PLENTY_OF_RAM)
    per_layer = (est.weights_bytes + est.kv_bytes) / est.layers
    base = GPU_OVERHEAD_BYTES + est.graph_bytes
    half = estimate(model, 8192, gpu_free_bytes=[base + int(per_layer / 2)], ram_bytes=PLENTY_OF_RAM)
    assert (half.verdict, half.gpu_layers, half.gpus_used) == ("cpu", 0, 0) and half.cpu_layer_share == 1.0
    one = estimate(model, 8192, gpu_free_bytes=[base + int(per_layer * 1.5)], ram_bytes=PLENTY_OF_RAM)
    assert (one.verdict, one.gpu_layers, one.gpus_used) == ("partial", 1, 1)


def test_a_partial_offload_needs_ram_for_the_cpu_layers_and_the_graph() -> None:
    model = entry("70b")
    est = estimate(model, 8192, gpu_free_bytes=[24 * GIB], ram_bytes=PLENTY_OF_RAM)
    per_layer = (est.weights_bytes + est.kv_bytes) / est.layers
    on_cpu = (est.layers - est.gpu_layers) * per_layer + est.graph_bytes
    enough = estimate(model, 8192, gpu_free_bytes=[24 * GIB], ram_bytes=math.ceil(on_cpu))
    assert enough.verdict == "partial"
    short = estimate(model, 8192, gpu_free_bytes=[24 * GIB], ram_bytes=math.ceil(on_cpu - est.graph_bytes))
    assert short.verdict == "none"


def test_cpu_only_when_ram_holds_exactly_the_model() -> None:
    model = entry("7b")
    est = estimate(model, 4096, ram_bytes=PLENTY_OF_RAM)
    need = est.weights_bytes + est.kv_bytes + est.graph_bytes
    exactly = estimate(model, 4096, ram_bytes=need)
    assert (exactly.verdict, exactly.gpu_layers, exactly.gpus_used, exactly.cpu_layer_share) == ("cpu", 0, 0, 1.0)
    short = estimate(model, 4096, ram_bytes=need - 1)
    assert (short.verdict, short.gpu_layers, short.gpus_used, short.cpu_layer_share) == ("none", 0, 0, 1.0)


def test_free_vram_for_ignores_rows_without_figures_and_stays_in_whole_bytes() -> None:
    class Bare:
        pass

    nameless = Bare()
    nameless.size_vram = GIB  # type: ignore[attr-defined]
    sizeless = Bare()
    sizeless.name = "deepseek-r1:7b"  # type: ignore[attr-defined]
    assert free_vram_for("deepseek-r1:7b", [GIB], [nameless, sizeless, Row("deepseek-r1:7b", 0)]) == [GIB]
    assert free_vram_for("deepseek-r1:7b", [GIB], [Row("deepseek-r1:7b", 1)]) == [GIB + 1]
    # Nothing in use on either card (NVML and /api/ps disagree): nothing to give back, no division by zero.
    assert free_vram_for("m:1", [8 * GIB, 8 * GIB], [Row("m:1", GIB)], [8 * GIB, 8 * GIB]) == [8 * GIB] * 2
    # All of it back to the card that has memory in use; none to the idle one.
    back = free_vram_for("m:1", [8 * GIB, 2 * GIB], [Row("m:1", 5 * GIB)], [8 * GIB, 8 * GIB])
    assert back == [8 * GIB, 7 * GIB]
    odd = free_vram_for("m:1", [GIB, GIB], [Row("m:1", 7)], [GIB + 3, GIB + 5])
    assert odd == [GIB + 2, GIB + 4] and all(type(x) is int for x in odd)


def test_context_labels() -> None:
    from tui.core.fit import context_label

    assert [context_label(c) for c in (4096, 131072, 1000, 1536)] == ["4k", "128k", "1000", "1536"]


def test_recommend_reasons_word_for_word() -> None:
    ram = recommend(catalog.CATALOG, 8192, gpu_free_bytes=[], ram_bytes=16 * GIB)
    assert ram.reason == ("no GPU; recommending for CPU: largest that fits in 16.0 GiB of RAM at 8k context "
                          "(CPU only: expect a few tokens/s)") and ram.best == "deepseek-r1:14b"
    nothing = recommend(catalog.CATALOG, 8192, gpu_free_bytes=[0], ram_bytes=GIB)
    assert not nothing.on_gpu and nothing.best is None
    assert nothing.reason == "no GPU; recommending for CPU: no size fits in 1.0 GiB of RAM at 8k context"
    # A card with nothing free is not a second GPU in the sentence.
    one = recommend(catalog.CATALOG, 8192, gpu_free_bytes=[24 * GIB, 0], ram_bytes=64 * GIB)
    assert one.reason == "largest that fits fully in 24.0 GiB at 8k context" and one.best == "deepseek-r1:32b"


def test_recommend_gives_a_loaded_models_memory_back_per_card_within_each_total() -> None:
    """Two 8 GiB cards, the 14b spread over them: back on each card, it cannot fit on one 8 GiB card alone."""
    model = entry("14b")
    own = estimate(model, 4096, ram_bytes=PLENTY_OF_RAM).total_bytes
    totals, free = [8 * GIB, 8 * GIB], [6 * GIB, 0]
    result = recommend([model], 4096, gpu_free_bytes=free, ram_bytes=64 * GIB,
                       loaded=[Row("deepseek-r1:14b", own)], gpu_total_bytes=totals)
    [est] = result.estimates
    assert (est.verdict, est.gpus_used) == ("gpu", 2)
    assert result.best == "deepseek-r1:14b"


def test_one_byte_in_use_gets_its_byte_back() -> None:
    assert free_vram_for("m:1", [GIB], [Row("m:1", 5)], [GIB + 1]) == [GIB + 1]
