"""Settings from `config.toml`: read with tomllib, validated key by key, written with tomli-w.

A bad value must never stop the app: each problem becomes a message naming
the file, the key and what is allowed, and that key keeps its default. A file
that cannot be parsed is never overwritten, so a typo never costs the user
their other settings.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import tomli_w


def config_dir() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "r1tui"


def data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "r1tui"


def state_dir() -> Path:
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "r1tui"


def default_config_path() -> Path:
    return config_dir() / "config.toml"


@dataclass
class Settings:
    """Every setting with DeepSeek's recommended defaults (model card: T=0.6, top_p=0.95, no system prompt)."""

    host: str = ""
    model: str = ""
    temperature: float = 0.6
    top_p: float = 0.95
    num_ctx: int = 4096
    keep_alive: str = "5m"
    system_prompt: str = ""
    stall_timeout: float = 300.0
    theme: str = "r1-dark"
    show_panel: bool = True
    sample_interval: float = 1.0
    notify_after_seconds: float = 0.0  # ring/notify when an answer that took this long ends (0: off)
    # [runtime]: how r1tui starts `ollama serve` when nothing answers locally.
    runtime_autostart: bool = False
    runtime_binary: str = ""
    runtime_start_timeout: float = 30.0
    runtime_stop_grace: float = 10.0
    runtime_keep_alive: str = ""
    runtime_flash_attention: bool | str = ""
    runtime_kv_cache_type: str = ""
    runtime_context_length: int = 0
    runtime_num_parallel: int = 0
    runtime_max_loaded_models: int = 0
    # [hosts.NAME]: named servers (tui.core.hosts.HostProfile), switchable in the app.
    hosts: dict[str, Any] = field(default_factory=dict)

    def chat_options(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "top_p": self.top_p, "num_ctx": self.num_ctx}


# (table, key) in the file -> (attribute, validator returning the value or raising ValueError with what is allowed)
def _number(low: float, high: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise ValueError(f"a number from {low:g} to {high:g}")
        return float(value)
    return check


def _integer(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"a whole number from {low} to {high}")
        return value
    return check


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("a string in quotes")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def _keep_alive(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value}s"
    if isinstance(value, str) and value.strip():
        import re

        if re.fullmatch(r"-?\d+(\.\d+)?(ms|s|m|h)?", value.strip()):
            return value.strip()
    raise ValueError('a duration like "5m", "1h", "30s", 0 (unload at once) or -1 (keep loaded)')


KEYS: dict[tuple[str, str], tuple[str, Callable[[Any], Any]]] = {
    ("server", "host"): ("host", _text),
    ("server", "stall_timeout"): ("stall_timeout", _number(5, 3600)),
    ("chat", "model"): ("model", _text),
    ("chat", "temperature"): ("temperature", _number(0, 2)),
    ("chat", "top_p"): ("top_p", _number(0, 1)),
    ("chat", "num_ctx"): ("num_ctx", _integer(512, 131072)),
    ("chat", "keep_alive"): ("keep_alive", _keep_alive),
    ("chat", "system_prompt"): ("system_prompt", _text),
    ("ui", "theme"): ("theme", _text),
    ("ui", "show_panel"): ("show_panel", _boolean),
    ("ui", "sample_interval"): ("sample_interval", _number(0.2, 60)),
    ("ui", "notify_after_seconds"): ("notify_after_seconds", _number(0, 86400)),
}


def all_keys() -> dict[tuple[str, str], tuple[str, Callable[[Any], Any]]]:
    """KEYS plus [runtime]; imported late because tui.core.runtime imports this module."""
    from tui.core.runtime import RUNTIME_KEYS

    return KEYS | RUNTIME_KEYS


@dataclass
class LoadedSettings:
    settings: Settings
    path: Path
    problems: list[str] = field(default_factory=list)
    parse_failed: bool = False


def load_settings(path: Path | None = None) -> LoadedSettings:
    """Read the config file; a missing file is fine, a broken one gives messages and defaults."""
    path = Path(path) if path else default_config_path()
    result = LoadedSettings(Settings(), path)
    if not path.exists():
        return result
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        result.problems.append(f"{path}: cannot be read ({exc}); using defaults and leaving the file untouched")
        result.parse_failed = True
        return result
    keys = all_keys()
    for table_name, table in data.items():
        if table_name == "hosts":
            from tui.core.hosts import parse_hosts, token_file_warning

            result.settings.hosts, host_problems = parse_hosts(table, path)
            result.problems.extend(host_problems)
            if warning := token_file_warning(path, result.settings.hosts):
                result.problems.append(warning)
            continue
        if not isinstance(table, dict):
            result.problems.append(f"{path}: `{table_name}` should be a [table]; ignored")
            continue
        for key, value in table.items():
            spec = keys.get((table_name, key))
            if spec is None:
                result.problems.append(f"{path}: unknown key `{table_name}.{key}`; ignored")
                continue
            attribute, check = spec
            try:
                setattr(result.settings, attribute, check(value))
            except ValueError as allowed:
                default = getattr(Settings(), attribute)
                result.problems.append(
                    f"{path}: `{table_name}.{key}` = {value!r} is not allowed: use {allowed}; using {default!r}"
                )
    return result


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write every key, readable by the user only; refuses to replace a file it could not parse."""
    path = Path(path) if path else default_config_path()
    if path.exists():
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path} could not be parsed ({exc}); fix it by hand before saving") from exc
    data: dict[str, dict[str, Any]] = {}
    for (table_name, key), (attribute, _) in all_keys().items():
        data.setdefault(table_name, {})[key] = getattr(settings, attribute)
    if settings.hosts:
        from tui.core.hosts import hosts_to_toml

        data["hosts"] = hosts_to_toml(settings.hosts)
    _write_private(path, tomli_w.dumps(data))


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


# -- small state that is not a setting (last model used) ---------------------------


def _state_path() -> Path:
    return state_dir() / "state.json"


def read_state() -> dict[str, Any]:
    try:
        data = json.loads(_state_path().read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def remember(**values: Any) -> None:
    """Merge values into the state file; failures are ignored (state is a convenience)."""
    try:
        state = read_state() | values
        _write_private(_state_path(), json.dumps(state, indent=2))
    except OSError:
        pass

