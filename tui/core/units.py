"""Byte sizes as every screen and command writes them: one rule, one place.

Two kinds of size reach a user, and each has its unit:

- a **download** (a file on disk, a pull) is written in decimal GB, as
  `ollama list`, `ollama pull` and the library page write it: `human_bytes`
  ("1.1 GB", "19.9 GB");
- **memory** (what a loaded model takes in VRAM or RAM, free VRAM, RAM) is
  written in binary GiB, as `nvidia-smi` and the fit estimates count it:
  `format_gib` ("1.9 GiB").

Callers say which one a figure is ("download", "memory", "free disk") next
to it, so 1.1 GB and 1.9 GiB of the same model never look like a contradiction.
"""

from __future__ import annotations

__all__ = ["GB", "GIB", "KB", "MB", "MIB", "format_gib", "human_bytes", "ps_size"]

KB = 1000
MB = 1000**2
GB = 1000**3
MIB = 1024**2
GIB = 1024**3


def human_bytes(count: float) -> str:
    """A download or file size in decimal units: "387 B", "17.4 MB", "19.9 GB", "404.0 GB"."""
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(value) < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def format_gib(count: float, *, digits: int = 1, unit: bool = True) -> str:
    """A memory figure in GiB: "1.9 GiB" (or "1.9" with unit=False, for columns headed GiB)."""
    text = f"{count / GIB:.{digits}f}"
    return f"{text} GiB" if unit else text


def ps_size(value: int) -> str:
    """A size as `ollama ps` prints it ("5.6 GB", "19 GB": whole numbers from 10 up), so the panel
    and `r1tui doctor` can be read beside it."""
    for unit, scale in (("TB", 1000**4), ("GB", GB), ("MB", MB), ("KB", KB)):
        if value >= scale:
            amount = value / scale
            return f"{int(amount)} {unit}" if amount >= 10 or amount == int(amount) else f"{amount:.1f} {unit}"
    return f"{value} B"
