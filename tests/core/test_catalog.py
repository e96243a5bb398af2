"""The catalog: the tags a user can pull, and reading the server's own figures."""

from __future__ import annotations

from tui.core import catalog
from tui.core.catalog import architecture_from_model_info, with_server_figures
from tui.demo import default_models, pullable_models


def test_the_seven_default_tags_come_first_smallest_to_largest() -> None:
    tags = [entry.tag for entry in catalog.CATALOG]
    expected = [f"deepseek-r1:{size}" for size in ("1.5b", "7b", "8b", "14b", "32b", "70b", "671b")]
    assert tags[:7] == expected
    assert list(catalog.DEFAULT_TAGS) == expected
    assert not any(entry.default for entry in catalog.CATALOG[7:])


def test_variants_use_ollamas_tag_names() -> None:
    tags = {entry.tag for entry in catalog.CATALOG}
    for tag in ("deepseek-r1:7b-qwen-distill-q8_0", "deepseek-r1:8b-llama-distill-q4_K_M",
                "deepseek-r1:70b-llama-distill-q8_0", "deepseek-r1:14b-qwen-distill-fp16"):
        assert tag in tags
    assert len(catalog.CATALOG) == 7 + 7 * 3


def test_reference_figures() -> None:
    seven = catalog.find("deepseek-r1:7b")
    assert seven is not None
    assert seven.download_bytes == 4_683_075_271
    assert (seven.architecture.layers, seven.architecture.kv_heads, seven.architecture.head_dim) == (28, 4, 128)
    assert seven.quality is not None and seven.quality.aime_2024 == 55.5 and seven.quality.math_500 == 92.8
    seventy = catalog.find("deepseek-r1:70b")
    assert seventy is not None and seventy.architecture.layers == 80 and seventy.base_model.endswith("Llama-70B")
    assert catalog.find("deepseek-r1:671b").quality is None  # type: ignore[union-attr]


def test_variant_files_scale_like_the_reference_rule_of_thumb() -> None:
    """Q8_0 ≈ 1.9× and FP16 ≈ 3.6× the Q4_K_M file, roughly; real files land a bit under."""
    for size, infix in (("7b", "qwen-distill"), ("14b", "qwen-distill"), ("70b", "llama-distill")):
        q4 = catalog.find(f"deepseek-r1:{size}-{infix}-q4_K_M")
        q8 = catalog.find(f"deepseek-r1:{size}-{infix}-q8_0")
        f16 = catalog.find(f"deepseek-r1:{size}-{infix}-fp16")
        assert q4 and q8 and f16
        assert 1.6 <= q8.download_bytes / q4.download_bytes <= 2.0
        assert 3.1 <= f16.download_bytes / q4.download_bytes <= 3.7


def test_the_8b_variants_are_the_llama_distill_not_the_default_qwen3() -> None:
    default = catalog.find("deepseek-r1:8b")
    variant = catalog.find("deepseek-r1:8b-llama-distill-q4_K_M")
    assert default and variant
    assert default.architecture.family == "qwen3" and default.architecture.layers == 36
    assert variant.architecture.family == "llama" and variant.architecture.layers == 32
    assert variant.quality is not None and variant.quality.aime_2024 == 50.4


def test_find_accepts_bare_names_as_latest() -> None:
    assert catalog.find("deepseek-r1:14b") is catalog.CATALOG[3]
    assert catalog.find("deepseek-r1") is None  # `latest` isn't a catalog tag: its meaning changed over time


def test_model_info_parsing_matches_the_simulated_servers_models() -> None:
    """The sim serves the reference's figures in Ollama's key layout; the catalog must agree."""
    for model in default_models() + pullable_models():
        arch = architecture_from_model_info(model.model_info())
        entry = catalog.find(model.name)
        assert arch is not None and entry is not None
        expected = entry.architecture
        assert (arch.layers, arch.heads, arch.kv_heads, arch.head_dim, arch.embedding_length) == (
            expected.layers, expected.heads, expected.kv_heads, expected.head_dim, expected.embedding_length)


def test_model_info_key_length_overrides_embedding_over_heads() -> None:
    info = {
        "general.architecture": "deepseek2",
        "deepseek2.block_count": 61,
        "deepseek2.attention.head_count": 128,
        "deepseek2.attention.head_count_kv": 128,
        "deepseek2.attention.key_length": 192,
        "deepseek2.embedding_length": 7168,
        "deepseek2.context_length": 163840,
    }
    arch = architecture_from_model_info(info)
    assert arch is not None
    assert (arch.layers, arch.head_dim, arch.context_length) == (61, 192, 163840)


def test_model_info_without_kv_heads_means_no_grouped_query_attention() -> None:
    arch = architecture_from_model_info({
        "general.architecture": "llama", "llama.block_count": 32,
        "llama.attention.head_count": 32, "llama.embedding_length": 4096,
    })
    assert arch is not None and arch.kv_heads == 32 and arch.head_dim == 128


def test_incomplete_model_info_gives_none_so_the_catalog_is_used() -> None:
    assert architecture_from_model_info({}) is None
    assert architecture_from_model_info({"general.architecture": "qwen2", "qwen2.block_count": 28}) is None
    entry = catalog.find("deepseek-r1:7b")
    assert entry is not None
    assert with_server_figures(entry, {"general.architecture": "qwen2"}).architecture == entry.architecture


def test_server_figures_win_over_the_catalog() -> None:
    entry = catalog.find("deepseek-r1:7b")
    assert entry is not None
    info = {
        "general.architecture": "qwen2", "qwen2.block_count": 30, "qwen2.attention.head_count": 28,
        "qwen2.attention.head_count_kv": 7, "qwen2.embedding_length": 3584, "qwen2.context_length": 32768,
    }
    installed = with_server_figures(entry, info, size_bytes=5_000_000_000)
    assert installed.architecture.layers == 30 and installed.architecture.kv_heads == 7
    assert installed.architecture.context_length == 32768
    assert installed.download_bytes == 5_000_000_000
    assert installed.tag == entry.tag and installed.quality == entry.quality
