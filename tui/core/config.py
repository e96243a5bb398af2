"""Settings from `config.toml`: read with tomllib, validated key by key, edited in place with tomlkit.

A bad value must never stop the app: each problem becomes a message naming
the file, the key and what is allowed, and that key keeps its default. A file
that cannot be parsed is never overwritten, so a typo never costs the user
their other settings.

Saving (F7) edits the user's file rather than rewriting it: only the keys
whose value changed are written; comments, order, unknown keys and tables,
and values left alone (even ones refused on loading) stay as they were. A
symlinked config.toml is written through to its target, the previous text is
kept beside that target as `config.toml.bak`, and both are mode 0600.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import tomlkit
from tomlkit.exceptions import TOMLKitError

from tui.core.paths import config_dir, data_dir, default_config_path, state_dir
from tui.core import validators

__all__ = ["KEYS", "LoadedSettings", "Settings", "all_keys", "config_dir", "data_dir", "default_config_path",
           "load_settings", "read_state", "remember", "save_settings", "state_dir"]


@dataclass
class Settings:
    """Every setting with DeepSeek's recommended defaults (model card: T=0.6, top_p=0.95, no system prompt)."""

    host: str = ""
    model: str = ""
    temperature: float = 0.6
    top_p: float = 0.95
    num_ctx: int | str = "auto"  # "auto": tui.core.context_window.auto_context picks it per model
    keep_alive: str = "5m"
    system_prompt: str = ""
    stall_timeout: float = 300.0
    theme: str = "r1-dark"
    show_panel: bool = True
    sample_interval: float = 1.0
    notify_after_seconds: float = 0.0  # ring/notify when an answer that took this long ends (0: off)
    think_budget: int = 0  # reasoning tokens before r1tui asks for the answer (0: no budget)
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

    def chat_options(self, num_ctx: int | None = None) -> dict[str, Any]:
        """The request's options; `num_ctx` is the context chosen for "auto" (without one, the
        server's default is left alone), a number in the config is sent as it is."""
        options: dict[str, Any] = {"temperature": self.temperature, "top_p": self.top_p}
        context = self.num_ctx if isinstance(self.num_ctx, int) else num_ctx
        if context:
            options["num_ctx"] = context
        return options

    @property
    def context_for_estimates(self) -> int:
        """The context fit figures are computed for: the number set, or for "auto" the floor it never goes below."""
        return self.num_ctx if isinstance(self.num_ctx, int) else 4096


# (table, key) in the file -> (attribute, validator returning the value or raising ValueError with what is allowed)
KEYS: dict[tuple[str, str], tuple[str, Callable[[Any], Any]]] = {
    ("server", "host"): ("host", validators.text),
    ("server", "stall_timeout"): ("stall_timeout", validators.number(5, 3600)),
    ("chat", "model"): ("model", validators.text),
    ("chat", "temperature"): ("temperature", validators.number(0, 2)),
    ("chat", "top_p"): ("top_p", validators.number(0, 1)),
    ("chat", "num_ctx"): ("num_ctx", validators.context_length),
    ("chat", "think_budget"): ("think_budget", validators.integer(0, 1_000_000)),
    ("chat", "keep_alive"): ("keep_alive", validators.keep_alive),
    ("chat", "system_prompt"): ("system_prompt", validators.text),
    ("ui", "theme"): ("theme", validators.text),
    ("ui", "show_panel"): ("show_panel", validators.boolean),
    ("ui", "sample_interval"): ("sample_interval", validators.number(0.2, 60)),
    ("ui", "notify_after_seconds"): ("notify_after_seconds", validators.number(0, 86400)),
}


def all_keys() -> dict[tuple[str, str], tuple[str, Callable[[Any], Any]]]:
    """KEYS plus [runtime]; imported late, as tui.core.runtime brings in the HTTP client."""
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


def save_settings(settings: Settings, path: Path | None = None, previous: Settings | None = None) -> None:
    """Write `settings` to the config file, readable by the user only; refuses to replace a file it could not parse.

    A new file gets every key. An existing one is edited in place: only keys whose
    value differs from `previous` (the settings the form started from; by default,
    what the file loads as) are set, and everything else in it is left as written.
    """
    path = Path(path) if path else default_config_path()
    target = Path(os.path.realpath(path))  # through a symlink, to the file the user keeps
    try:
        old_text: str | None = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        old_text = None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} could not be parsed ({exc}); fix it by hand before saving") from exc
    if old_text is None:
        data: dict[str, dict[str, Any]] = {}
        for (table_name, key), (attribute, _) in all_keys().items():
            data.setdefault(table_name, {})[key] = getattr(settings, attribute)
        if settings.hosts:
            from tui.core.hosts import hosts_to_toml

            data["hosts"] = hosts_to_toml(settings.hosts)
        _write_private(target, tomlkit.dumps(data))
        return
    try:
        tomllib.loads(old_text)
        document = tomlkit.parse(old_text)
    except (tomllib.TOMLDecodeError, TOMLKitError) as exc:
        raise ValueError(f"{path} could not be parsed ({exc}); fix it by hand before saving") from exc
    if previous is None:
        previous = load_settings(target).settings
    for (table_name, key), (attribute, _) in all_keys().items():
        value = getattr(settings, attribute)
        if value == getattr(previous, attribute):
            continue
        if table_name not in document:
            document[table_name] = tomlkit.table()
        table = document[table_name]
        if not isinstance(table, dict):
            raise ValueError(f"{path}: `{table_name}` is not a [table]; fix it by hand before saving")
        table[key] = value
    if settings.hosts != previous.hosts:
        from tui.core.hosts import hosts_to_toml

        document["hosts"] = hosts_to_toml(settings.hosts)
    new_text = tomlkit.dumps(document)
    if new_text == old_text:
        return
    _write_private(target.with_name(target.name + ".bak"), old_text)
    _write_private(target, new_text)


def _write_private(path: Path, content: str) -> None:
    """Write a whole file, mode 0600, replacing the old one in one step (a crash leaves one or the other)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a .tmp left behind by a crash keeps its mode otherwise
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
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

