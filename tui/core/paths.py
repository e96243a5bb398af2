"""Where r1tui keeps its files (XDG base directories); imported by modules that must not import config."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["config_dir", "data_dir", "default_config_path", "state_dir"]


def config_dir() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "r1tui"


def data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "r1tui"


def state_dir() -> Path:
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "r1tui"


def default_config_path() -> Path:
    return config_dir() / "config.toml"
