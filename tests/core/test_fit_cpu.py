"""Without a GPU: the recommendation weighs speed (memory bandwidth) and keeps RAM for the OS."""

from __future__ import annotations

import pytest

from tui.core import catalog
from tui.core.fit import (
    GIB,
    CpuRecommendation,
    cpu_headroom_bytes,
    cpu_tokens_per_second,
    recommend_for_cpu,
    recommend_usable,
)


def entry(tag: str) -> catalog.CatalogEntry:
    found = catalog.find(f"deepseek-r1:{tag}")
    assert found is not None
    return found


def test_speed_is_bandwidth_over_the_weights_read_per_token() -> None:
    assert cpu_tokens_per_second(entry("7b"), 20e9) == pytest.approx(20e9 / 4_683_075_271)
    assert cpu_tokens_per_second(entry("32b"), 20e9) < 1.5  # the trap the report fell into
    # The MoE reads only its active experts: far faster than its 404 GB would suggest.
    assert cpu_tokens_per_second(entry("671b"), 20e9) > 10 * 20e9 / 404e9


def test_headroom_has_a_floor_and_grows_with_ram() -> None:
    assert cpu_headroom_bytes(8 * GIB) == 2 * GIB
    assert cpu_headroom_bytes(128 * GIB) == pytest.approx(12.8 * GIB, rel=0.01)


def test_the_largest_usable_size_is_picked() -> None:
    result = recommend_for_cpu(catalog.CATALOG, 8192, ram_bytes=int(21.6 * GIB))
    assert result.best == "deepseek-r1:1.5b"
    assert "about 18 tokens/s" in result.reason and "assumed" in result.reason
    fast = recommend_for_cpu(catalog.CATALOG, 8192, ram_bytes=int(21.6 * GIB), bandwidth=100e9)
    assert fast.best == "deepseek-r1:14b"  # 32b would reach 5 tokens/s but does not fit beside the headroom
    assert "assumed" not in fast.reason


def test_when_nothing_fitting_is_fast_enough_the_fastest_is_named_with_its_speed() -> None:
    result = recommend_for_cpu(catalog.CATALOG, 4096, ram_bytes=16 * GIB, bandwidth=4e9)
    assert result.best == "deepseek-r1:1.5b"
    assert "nothing that fits" in result.reason and "3.6 tokens/s" in result.reason


def test_nothing_fits_nothing_is_recommended() -> None:
    result = recommend_for_cpu(catalog.CATALOG, 4096, ram_bytes=3 * GIB)
    assert result.best is None and "no size fits" in result.reason


def test_recommend_usable_keeps_the_gpu_rule_on_a_gpu() -> None:
    on_gpu = recommend_usable(catalog.CATALOG, 8192, gpu_free_bytes=[24 * GIB], ram_bytes=64 * GIB)
    assert on_gpu.best == "deepseek-r1:32b" and not isinstance(on_gpu, CpuRecommendation)
    on_cpu = recommend_usable(catalog.CATALOG, 8192, ram_bytes=64 * GIB)
    assert isinstance(on_cpu, CpuRecommendation) and len(on_cpu.tokens_per_second) == len(on_cpu.estimates)
