"""The deepseek-r1 tags Ollama's library offers, as data the fit estimator can use.

Why a built-in catalog: a user choosing what to pull has nothing installed yet,
so `/api/show` cannot describe the model. The figures come from
`shared/reference/deepseek-r1.md` (the R1 report, the base models' configs,
Ollama's library). Once a model is installed the server's own `model_info`
wins: `architecture_from_model_info` reads it, and callers prefer it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping

__all__ = ["BITS_PER_WEIGHT", "CATALOG", "DEFAULT_QUANTIZATION", "DEFAULT_TAGS", "MODEL", "QUANTIZATIONS",
           "Architecture", "CatalogEntry", "Quality", "architecture_from_model_info", "default_entries", "find",
           "normalize_tag", "parameter_count_of", "sort_tags", "tag_sort_key", "with_server_figures"]

MODEL = "deepseek-r1"
QUANTIZATIONS = ("q4_K_M", "q8_0", "fp16")
DEFAULT_QUANTIZATION = "q4_K_M"

# Bits per weight of the variant files, used where no file size is published:
# parameters × bpw lands within a few percent of Ollama's q8_0/fp16 downloads
# (7b q8_0 8.1 GB, 70b fp16 141 GB), closer than the reference's rough
# "Q8_0 ≈ 1.9×, FP16 ≈ 3.6× the Q4_K_M file".
BITS_PER_WEIGHT = {"q8_0": 8.5, "fp16": 16.0}


@dataclass(frozen=True)
class Architecture:
    """What the KV cache and compute graph depend on.

    `vocab_size` is None where the source doesn't say; the estimator then
    assumes a typical vocabulary.
    """

    family: str
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    context_length: int
    embedding_length: int
    vocab_size: int | None = None


@dataclass(frozen=True)
class Quality:
    """DeepSeek-R1 report, pass@1 (Codeforces is a rating)."""

    aime_2024: float
    math_500: float
    gpqa_diamond: float
    livecodebench: float
    codeforces_rating: int


@dataclass(frozen=True)
class CatalogEntry:
    """One pullable tag.

    `default` marks the seven size tags (`deepseek-r1:7b`…): the recommendation
    picks among those only, since a user asking "which size" means them.
    """

    tag: str
    size: str
    base_model: str
    quantization: str
    download_bytes: int
    parameter_count: int
    architecture: Architecture
    quality: Quality | None
    default: bool

    @property
    def name(self) -> str:
        return self.tag


@dataclass(frozen=True)
class _Base:
    """A size with its default (Q4_K_M) file; variants are derived from it."""

    size: str
    base_model: str
    variant_infix: str  # "qwen-distill" → deepseek-r1:7b-qwen-distill-q8_0
    download_bytes: int
    parameter_count: int
    architecture: Architecture
    quality: Quality | None


_QWEN2_VOCAB = 152_064
_LLAMA3_VOCAB = 128_256

_QWEN_1_5B = Architecture("qwen2", 28, 12, 2, 128, 131_072, 1536, _QWEN2_VOCAB)
_QWEN_7B = Architecture("qwen2", 28, 28, 4, 128, 131_072, 3584, _QWEN2_VOCAB)
_LLAMA_8B = Architecture("llama", 32, 32, 8, 128, 131_072, 4096, _LLAMA3_VOCAB)
_QWEN3_8B = Architecture("qwen3", 36, 32, 8, 128, 131_072, 4096, 151_936)
_QWEN_14B = Architecture("qwen2", 48, 40, 8, 128, 131_072, 5120, _QWEN2_VOCAB)
_QWEN_32B = Architecture("qwen2", 64, 40, 8, 128, 131_072, 5120, _QWEN2_VOCAB)
_LLAMA_70B = Architecture("llama", 80, 64, 8, 128, 131_072, 8192, _LLAMA3_VOCAB)
# DeepSeek-V3/R1 (MLA): llama.cpp caches K at key_length 192 for all 128 heads,
# which is what Ollama's model_info reports; the KV formula then overestimates
# V slightly (value_length 128). It never fits a single box anyway.
_DEEPSEEK_671B = Architecture("deepseek2", 61, 128, 128, 192, 163_840, 7168, 129_280)

_BASES: tuple[_Base, ...] = (
    _Base("1.5b", "DeepSeek-R1-Distill-Qwen-1.5B", "qwen-distill", 1_117_322_599, 1_777_088_000, _QWEN_1_5B,
          Quality(28.9, 83.9, 33.8, 16.9, 954)),
    _Base("7b", "DeepSeek-R1-Distill-Qwen-7B", "qwen-distill", 4_683_075_271, 7_615_616_512, _QWEN_7B,
          Quality(55.5, 92.8, 49.1, 37.6, 1189)),
    # The default 8b tag is the newer Qwen3 build; the reference publishes no
    # scores for it, so none are claimed (the Llama-8B scores belong to the
    # explicit 8b-llama-distill variants below).
    _Base("8b", "DeepSeek-R1-0528-Qwen3-8B", "", 5_225_376_047, 8_190_735_360, _QWEN3_8B, None),
    _Base("14b", "DeepSeek-R1-Distill-Qwen-14B", "qwen-distill", 8_988_112_040, 14_770_033_664, _QWEN_14B,
          Quality(69.7, 93.9, 59.1, 53.1, 1481)),
    _Base("32b", "DeepSeek-R1-Distill-Qwen-32B", "qwen-distill", 19_851_336_256, 32_763_876_352, _QWEN_32B,
          Quality(72.6, 94.3, 62.1, 57.2, 1691)),
    _Base("70b", "DeepSeek-R1-Distill-Llama-70B", "llama-distill", 42_520_395_584, 70_553_706_496, _LLAMA_70B,
          Quality(70.0, 94.5, 65.2, 57.5, 1633)),
    _Base("671b", "DeepSeek-R1 (MoE)", "", 404_000_000_000, 671_026_419_200, _DEEPSEEK_671B, None),
)

# The explicit 8b variants are the older Llama distill (4.9 GB at Q4_K_M).
_LLAMA_8B_BASE = _Base("8b", "DeepSeek-R1-Distill-Llama-8B", "llama-distill", 4_900_000_000, 8_030_261_248,
                       _LLAMA_8B, Quality(50.4, 89.1, 49.0, 39.6, 1205))


def _variant_tag(base: _Base, quantization: str) -> str:
    infix = f"-{base.variant_infix}" if base.variant_infix else ""
    return f"{MODEL}:{base.size}{infix}-{quantization}"


def _variant_bytes(base: _Base, quantization: str) -> int:
    if quantization == DEFAULT_QUANTIZATION:
        return base.download_bytes
    return int(base.parameter_count * BITS_PER_WEIGHT[quantization] / 8)


def _build() -> tuple[CatalogEntry, ...]:
    defaults = [
        CatalogEntry(f"{MODEL}:{b.size}", b.size, b.base_model, DEFAULT_QUANTIZATION, b.download_bytes,
                     b.parameter_count, b.architecture, b.quality, default=True)
        for b in _BASES
    ]
    variants = []
    for base in _BASES:
        source = _LLAMA_8B_BASE if base.size == "8b" else base
        for quantization in QUANTIZATIONS:
            variants.append(CatalogEntry(
                _variant_tag(source, quantization), source.size, source.base_model, quantization,
                _variant_bytes(source, quantization), source.parameter_count, source.architecture,
                source.quality, default=False))
    return tuple(defaults + variants)


CATALOG: tuple[CatalogEntry, ...] = _build()
DEFAULT_TAGS: tuple[str, ...] = tuple(entry.tag for entry in CATALOG if entry.default)


def normalize_tag(tag: str) -> str:
    """Ollama treats `name` and `name:latest` alike; compare tags in that form."""
    return tag if ":" in tag else f"{tag}:latest"


def find(tag: str) -> CatalogEntry | None:
    wanted = normalize_tag(tag)
    return next((entry for entry in CATALOG if entry.tag == wanted), None)


def default_entries() -> list[CatalogEntry]:
    """The seven size tags, smallest first."""
    return [entry for entry in CATALOG if entry.default]


# -- the server's own figures ----------------------------------------------------


def _int(info: Mapping[str, Any], key: str) -> int | None:
    value = info.get(key)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (list, tuple)):  # per-layer arrays (e.g. head_count_kv on some archs)
        numbers = [int(v) for v in value if isinstance(v, (int, float))]
        return max(numbers) if numbers else None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def architecture_from_model_info(model_info: Mapping[str, Any]) -> Architecture | None:
    """Read `/api/show` `model_info` (`{arch}.block_count`, …) into an Architecture.

    None when the essentials are missing, so callers fall back to the catalog
    rather than estimate from zeros. Head dim is `attention.key_length` when
    given, else embedding_length / head_count (GGUF's own rule); KV heads
    default to the head count (no grouped-query attention).
    """
    arch = model_info.get("general.architecture")
    if not isinstance(arch, str) or not arch:
        return None
    layers = _int(model_info, f"{arch}.block_count")
    heads = _int(model_info, f"{arch}.attention.head_count")
    embedding = _int(model_info, f"{arch}.embedding_length")
    if not layers or not heads or not embedding:
        return None
    kv_heads = _int(model_info, f"{arch}.attention.head_count_kv") or heads
    head_dim = _int(model_info, f"{arch}.attention.key_length") or embedding // heads
    context = _int(model_info, f"{arch}.context_length") or 0
    vocab = _int(model_info, f"{arch}.vocab_size")
    return Architecture(arch, layers, heads, kv_heads, head_dim, context, embedding, vocab)


def with_server_figures(entry: CatalogEntry, model_info: Mapping[str, Any] | None,
                        size_bytes: int | None = None) -> CatalogEntry:
    """The entry as installed: the server's architecture and file size replace the catalog's."""
    architecture = architecture_from_model_info(model_info) if model_info else None
    if architecture is not None and architecture.vocab_size is None:
        architecture = replace(architecture, vocab_size=entry.architecture.vocab_size)
    return replace(
        entry,
        architecture=architecture or entry.architecture,
        download_bytes=size_bytes or entry.download_bytes,
    )


# -- ordering ---------------------------------------------------------------------

_SIZE_IN_TAG = re.compile(r"(?<![0-9.])(\d+(?:\.\d+)?)\s*([bm])(?![a-z])", re.IGNORECASE)


def parameter_count_of(tag: str, parameter_size: str = "") -> float | None:
    """How many parameters a tag has: the catalog's count, else "14b"/"1.5b" in the tag, else the
    server's `parameter_size` ("7.6B", "494M"); None when nothing says."""
    entry = find(tag)
    if entry is not None and entry.parameter_count:
        return float(entry.parameter_count)
    name_tag = normalize_tag(tag).split(":", 1)[1]
    for text in (name_tag, parameter_size):
        match = _SIZE_IN_TAG.search(text or "")
        if match:
            return float(match.group(1)) * (1e9 if match.group(2).lower() == "b" else 1e6)
    return None


def tag_sort_key(tag: str, parameter_size: str = "") -> tuple[str, bool, float, str]:
    """Sort key for lists of tags: by model name, then by size (1.5b, 7b, 14b, not 1.5b, 14b, 7b),
    then by tag; tags of unknown size come after the sized ones of their model."""
    normalized = normalize_tag(tag)
    count = parameter_count_of(normalized, parameter_size)
    return (normalized.split(":", 1)[0], count is None, count or 0.0, normalized)


def sort_tags(tags: Iterable[str]) -> list[str]:
    """`tags` smallest model first (see `tag_sort_key`)."""
    return sorted(tags, key=tag_sort_key)
