"""Look after a local `ollama serve` for the user: find it, start it, watch it, stop it.

Why this exists: on a fresh GPU box over SSH, "nothing answers at
127.0.0.1:11434" usually just means nobody ran `ollama serve`. r1tui can start
it with the environment the user configured, capture its log where the user
can read it later, and wait until it really answers before the chat connects.

Two promises shape the code:
- r1tui only ever stops a server *it* started (a server the user runs in a
  tmux pane or as a systemd unit is theirs), and it does stop that one on
  exit, even when the app dies on an exception (atexit).
- Nothing here imports Textual; the screens render `RuntimeStatus`.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlparse

from tui.core.backend import THINK_FIELD_MIN_VERSION, BackendError, is_local_host, normalize_host, parse_version
from tui.core.fit import KV_CACHE_TYPES
from tui.core.paths import state_dir
from tui.core.validators import boolean as _boolean, integer as _integer, keep_alive as _keep_alive
from tui.core.validators import number as _number, text as _text

__all__ = ["DEFAULT_START_TIMEOUT", "DEFAULT_STOP_GRACE", "LOG_NAME", "RUNTIME_KEYS", "InstallGuide",
           "ManagedRuntime", "RuntimeConfig", "RuntimeFailure", "RuntimeStatus", "StartupPlan", "bind_address",
           "can_manage", "configured_env", "find_ollama", "install_guidance", "plan_startup", "probe", "serve_env",
           "server_supports_think", "version_note"]

LOG_NAME = "ollama-serve.log"
DEFAULT_START_TIMEOUT = 30.0
DEFAULT_STOP_GRACE = 10.0


# -- configuration --------------------------------------------------------------


@dataclass(frozen=True)
class RuntimeConfig:
    """The `[runtime]` table. Empty / 0 / None means "leave it to the server's default"."""

    autostart: bool = False
    binary: str = ""
    start_timeout: float = DEFAULT_START_TIMEOUT
    stop_grace: float = DEFAULT_STOP_GRACE
    keep_alive: str = ""
    flash_attention: bool | None = None
    kv_cache_type: str = ""
    context_length: int = 0
    num_parallel: int = 0
    max_loaded_models: int = 0

    @classmethod
    def from_settings(cls, settings: Any) -> "RuntimeConfig":
        """Read flat `runtime_*` attributes from Settings; missing ones keep their defaults.

        getattr with defaults so this works before and after the keys land in Settings.
        """
        values: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            value = getattr(settings, f"runtime_{name}", None)
            if value is not None:
                values[name] = value
        if values.get("flash_attention") == "":
            values["flash_attention"] = None
        return cls(**values)


def _optional_keep_alive(value: Any) -> str:
    if value == "":
        return ""
    return _keep_alive(value)


def _flash_attention(value: Any) -> bool | str:
    """true / false, or "" for the server's own choice (TOML has no null, so "" stands for unset)."""
    if value == "":
        return ""
    try:
        return _boolean(value)
    except ValueError:
        raise ValueError('true, false, or "" (the server decides)') from None


def _kv_cache_type(value: Any) -> str:
    if value == "" or value in KV_CACHE_TYPES:
        return str(value)
    raise ValueError(f'one of {", ".join(KV_CACHE_TYPES)}, or "" (the server default, f16)')


def _context_length(value: Any) -> int:
    if value == 0 and not isinstance(value, bool):
        return 0
    try:
        return _integer(512, 1048576)(value)
    except ValueError:
        raise ValueError("0 (the server default) or a whole number from 512 to 1048576") from None


def _binary(value: Any) -> str:
    text = _text(value)
    if text and not os.path.isabs(os.path.expanduser(text)):
        raise ValueError('an absolute path to the ollama executable, or "" to find it on PATH')
    return text


# Same shape as tui.core.config.KEYS, so the lead can merge it: (table, key) -> (Settings attribute, validator).
RUNTIME_KEYS: dict[tuple[str, str], tuple[str, Callable[[Any], Any]]] = {
    ("runtime", "autostart"): ("runtime_autostart", _boolean),
    ("runtime", "binary"): ("runtime_binary", _binary),
    ("runtime", "start_timeout"): ("runtime_start_timeout", _number(1, 600)),
    ("runtime", "stop_grace"): ("runtime_stop_grace", _number(0, 120)),
    ("runtime", "keep_alive"): ("runtime_keep_alive", _optional_keep_alive),
    ("runtime", "flash_attention"): ("runtime_flash_attention", _flash_attention),
    ("runtime", "kv_cache_type"): ("runtime_kv_cache_type", _kv_cache_type),
    ("runtime", "context_length"): ("runtime_context_length", _context_length),
    ("runtime", "num_parallel"): ("runtime_num_parallel", _integer(0, 64)),
    ("runtime", "max_loaded_models"): ("runtime_max_loaded_models", _integer(0, 64)),
}


def find_ollama(binary: str = "", path: str | None = None) -> str | None:
    """The `ollama` executable: the configured path if it is executable, else the first on PATH."""
    if binary:
        candidate = os.path.expanduser(binary)
        return candidate if os.path.isfile(candidate) and os.access(candidate, os.X_OK) else None
    return shutil.which("ollama", path=path)


def can_manage(url: str) -> bool:
    """Only a plain-HTTP server on this machine can be started here (`ollama serve` speaks no TLS)."""
    return is_local_host(url) and urlparse(url).scheme == "http"


def bind_address(url: str) -> str:
    """The `OLLAMA_HOST` value that makes `ollama serve` listen where r1tui will connect."""
    parsed = urlparse(normalize_host(url))
    host = parsed.hostname or "127.0.0.1"
    port = parsed.port or 11434
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def configured_env(config: RuntimeConfig, url: str) -> dict[str, str]:
    """The OLLAMA_* variables r1tui sets for the server: the bind address plus only what the user set."""
    env = {"OLLAMA_HOST": bind_address(url)}
    if config.keep_alive:
        env["OLLAMA_KEEP_ALIVE"] = config.keep_alive
    if config.flash_attention is not None:
        env["OLLAMA_FLASH_ATTENTION"] = "1" if config.flash_attention else "0"
    if config.kv_cache_type:
        env["OLLAMA_KV_CACHE_TYPE"] = config.kv_cache_type
    if config.context_length:
        env["OLLAMA_CONTEXT_LENGTH"] = str(config.context_length)
    if config.num_parallel:
        env["OLLAMA_NUM_PARALLEL"] = str(config.num_parallel)
    if config.max_loaded_models:
        env["OLLAMA_MAX_LOADED_MODELS"] = str(config.max_loaded_models)
    return env


def serve_env(config: RuntimeConfig, url: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The child's whole environment: the user's own (CUDA_VISIBLE_DEVICES, OLLAMA_MODELS…) plus ours."""
    env = dict(os.environ if base is None else base)
    env.update(configured_env(config, url))
    return env


# -- health --------------------------------------------------------------------


def _probe_url(url: str) -> str:
    """A wildcard bind address is not something to connect to; ask loopback instead."""
    parsed = urlparse(normalize_host(url))
    if parsed.hostname in ("0.0.0.0", "::"):
        loopback = "127.0.0.1" if parsed.hostname == "0.0.0.0" else "[::1]"
        return f"{parsed.scheme}://{loopback}:{parsed.port}"
    return normalize_host(url)


async def probe(url: str, timeout: float = 2.0, headers: Mapping[str, str] | None = None) -> str | None:
    """The server's version if an Ollama server answers at `url`, "" if it answers without one, else None.

    `/api/version` first (it names the version); `GET /` answering "Ollama is
    running" also counts, so a proxy that only forwards `/` is not mistaken for
    a dead server.
    """
    import httpx  # imported when a probe runs, not with the module (see tui.core.backend.client_library)

    base = _probe_url(url)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=timeout, headers=dict(headers or {})) as client:
            try:
                response = await client.get("/api/version")
                if response.status_code == 200:
                    return str(response.json().get("version") or "")
                if response.status_code in (401, 403):
                    return ""  # something answers and refuses the credentials: the chat says so, in words
            except ValueError:
                pass
            response = await client.get("/")
            if response.status_code == 200 and "ollama is running" in response.text.lower():
                return ""
    except httpx.HTTPError:
        return None
    return None


# -- version awareness ------------------------------------------------------------


def server_supports_think(version: str | None) -> bool:
    """Whether this server accepts the `think` request field (Ollama >= 0.9).

    An unknown version counts as old: sending `think` to a server that rejects
    it fails the whole request, while parsing `<think>` tags always works.
    """
    return bool(version) and parse_version(version) >= THINK_FIELD_MIN_VERSION


def version_note(version: str | None) -> str:
    """What the user should know about this server version; "" when nothing."""
    if server_supports_think(version):
        return ""
    shown = f"Ollama {version}" if version else "This server (version unknown)"
    minimum = ".".join(str(n) for n in THINK_FIELD_MIN_VERSION[:2])
    return (f"{shown} is older than {minimum}: reasoning is parsed from the <think> tags in the text. "
            f"Upgrade Ollama for the separate thinking field.")


# -- install guidance --------------------------------------------------------------


@dataclass(frozen=True)
class InstallGuide:
    """Install one way (`install`, then its alternatives in `alternatives`), then the steps after."""

    platform: str
    install: tuple[str, str]  # (what it does, command or URL)
    alternatives: tuple[tuple[str, str], ...] = ()
    then: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def command(self) -> str:
        return self.install[1]


def install_guidance(platform: str | None = None) -> InstallGuide:
    """How to get Ollama on this kind of machine, then the model r1tui needs."""
    platform = platform or sys.platform
    then = (("Start the server (or let r1tui start it)", "ollama serve"),
            ("Pull a DeepSeek-R1 model that fits your GPU", "ollama pull deepseek-r1:7b"))
    if platform.startswith("darwin"):
        return InstallGuide("macOS", ("Download the app", "https://ollama.com/download/mac"),
                            (("with Homebrew", "brew install ollama"),), then)
    if platform.startswith(("win", "cygwin", "msys")):
        return InstallGuide("Windows", ("Download and run OllamaSetup.exe", "https://ollama.com/download/windows"),
                            then=then)
    docker = "docker run -d --gpus=all -v ollama:/root/.ollama -p 11434:11434 --name ollama ollama/ollama"
    return InstallGuide(
        "Linux", ("Install (needs sudo; sets up a systemd service)", "curl -fsSL https://ollama.com/install.sh | sh"),
        (("in Docker, with the NVIDIA Container Toolkit", docker),), then,
        notes=("Without root: see the manual install in https://github.com/ollama/ollama/blob/main/docs/linux.md",
               "Installed somewhere not on PATH? Set runtime.binary in the config to its absolute path."),
    )


# -- the managed server ---------------------------------------------------------------


class StartupPlan(Enum):
    """What to do when the app starts, decided from facts the launcher already knows."""

    CONNECT = "connect"            # something answers: just use it
    START = "start"                # local, installed, autostart on
    OFFER_START = "offer_start"    # local, installed, autostart off: ask the user
    INSTALL_HELP = "install_help"  # local, not installed: show how to install
    WAIT_REMOTE = "wait_remote"    # remote and down: nothing to start here; reconnect with backoff


def plan_startup(*, reachable: bool, url: str, binary: str | None, autostart: bool) -> StartupPlan:
    if reachable:
        return StartupPlan.CONNECT
    if not can_manage(url):
        return StartupPlan.WAIT_REMOTE
    if binary is None:
        return StartupPlan.INSTALL_HELP
    return StartupPlan.START if autostart else StartupPlan.OFFER_START


class RuntimeFailure(BackendError):
    """The server could not be started or stopped; carries the end of its log, which says why."""

    def __init__(self, message: str, suggestion: str = "", log_tail: list[str] | None = None) -> None:
        super().__init__("runtime", message, suggestion)
        self.log_tail = log_tail or []


@dataclass(frozen=True)
class RuntimeStatus:
    """A snapshot for the runtime screen and the status line."""

    url: str
    state: str  # "running", "stopped", "starting", "exited", "not_installed", "remote"
    version: str | None = None
    started_by_us: bool = False
    pid: int | None = None
    binary: str | None = None
    log_path: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    message: str = ""


class ManagedRuntime:
    """The Ollama server at one URL, and the `ollama serve` process if r1tui started it."""

    def __init__(
        self,
        url: str,
        config: RuntimeConfig | None = None,
        *,
        log_path: Path | None = None,
        path: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.url = normalize_host(url)
        self.headers = dict(headers or {})  # the host's own credentials: a proxy in front may want them
        self.config = config or RuntimeConfig()
        self.log_path = log_path or state_dir() / LOG_NAME
        self._path = path
        self.process: subprocess.Popen[bytes] | None = None
        self.version: str | None = None
        self.state = "stopped"
        self.message = ""

    # -- facts -------------------------------------------------------------------

    @property
    def binary(self) -> str | None:
        return find_ollama(self.config.binary, self._path)

    @property
    def started_by_us(self) -> bool:
        return self.process is not None

    def env(self) -> dict[str, str]:
        """The OLLAMA_* variables the server runs (or would run) with: inherited ones and ours."""
        full = serve_env(self.config, self.url)
        return {key: value for key, value in sorted(full.items()) if key.startswith("OLLAMA_")}

    def status(self) -> RuntimeStatus:
        state = self.state
        if self.process is not None and self.process.poll() is not None:
            state = "exited"
            self.message = f"`ollama serve` exited with code {self.process.returncode}; see {self.log_path}"
        elif state == "stopped" and not can_manage(self.url):
            state = "remote"
        elif state == "stopped" and self.binary is None:
            state = "not_installed"
        return RuntimeStatus(
            url=self.url, state=state, version=self.version, started_by_us=self.started_by_us,
            pid=self.process.pid if self.process is not None else None, binary=self.binary,
            log_path=self.log_path if self.log_path.exists() else None, env=self.env(), message=self.message,
        )

    async def check(self) -> RuntimeStatus:
        """Ask the server now; a server r1tui did not start is reported as running, not ours."""
        version = await probe(self.url, headers=self.headers)
        if version is not None:
            self.version, self.state = version, "running"
        elif self.state == "running":
            self.state = "stopped"
        return self.status()

    # -- start / stop ------------------------------------------------------------------

    async def start(self) -> RuntimeStatus:
        """Start `ollama serve` and wait until it answers; raises RuntimeFailure with the log tail if not."""
        if self.process is not None and self.process.poll() is None:
            return await self.check()  # ours is already running
        existing = await probe(self.url, headers=self.headers)
        if existing is not None:
            self.version, self.state = existing, "running"
            self.message = "a server already answers here; r1tui did not start it and will not stop it"
            return self.status()
        if not can_manage(self.url):
            raise self._fail(f"{self.url} is not on this machine; r1tui can only start a local server",
                                "start `ollama serve` where it runs")
        binary = self.binary
        if binary is None:
            raise self._fail("Ollama is not installed (no `ollama` on PATH)",
                                  f"install it: {install_guidance().command}")
        self._open_process(binary)
        self.state = "starting"
        try:
            self.version = await self._wait_healthy()
        except BaseException:
            await asyncio.to_thread(self._terminate)
            self.state = "stopped"
            raise
        self.state = "running"
        self.message = "r1tui started `ollama serve`; it stops when r1tui exits"
        return self.status()

    def _open_process(self, binary: str) -> None:
        self._rotate_log()
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        try:
            stamp = datetime.now().astimezone().isoformat(timespec="seconds")
            os.write(fd, f"# r1tui started `{binary} serve` at {stamp}\n".encode())
            self.process = subprocess.Popen(
                [binary, "serve"], env=serve_env(self.config, self.url), stdin=subprocess.DEVNULL,
                stdout=fd, stderr=subprocess.STDOUT, close_fds=True,
            )
        finally:
            os.close(fd)
        atexit.register(self.stop)

    def _rotate_log(self) -> None:
        """Keep the previous run's log as `.1`: after a crash, that is the one worth reading."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self.log_path.exists():
            os.replace(self.log_path, self.log_path.with_name(self.log_path.name + ".1"))

    async def _wait_healthy(self) -> str:
        deadline = time.monotonic() + self.config.start_timeout
        delay = 0.05
        while True:
            process = self.process
            if process is not None and process.poll() is not None:
                raise self._fail(f"`ollama serve` exited with code {process.returncode} before answering",
                                    f"its log is in {self.log_path}", self.log_tail(20))
            version = await probe(self.url, timeout=1.0, headers=self.headers)
            if version is not None:
                return version
            if time.monotonic() >= deadline:
                raise self._fail(
                    f"`ollama serve` did not answer at {self.url} within {self.config.start_timeout:g} s",
                    f"raise runtime.start_timeout, or read its log in {self.log_path}", self.log_tail(20))
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def stop(self) -> bool:
        """Stop the server if r1tui started it (SIGTERM, then SIGKILL after the grace period).

        Returns whether there was one of ours to stop. Blocks up to the grace
        period: call it through `asyncio.to_thread` from the UI.
        """
        if self.process is None:
            return False
        self._terminate()
        self.state, self.version = "stopped", None
        self.message = "stopped the server r1tui had started"
        return True

    def _terminate(self) -> None:
        process, self.process = self.process, None
        atexit.unregister(self.stop)
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(self.config.stop_grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    async def restart(self) -> RuntimeStatus:
        """Stop ours and start again; a server someone else runs is left alone."""
        if self.process is None and await probe(self.url, headers=self.headers) is not None:
            raise self._fail(f"the server at {self.url} was not started by r1tui",
                                "restart it where it runs (e.g. `systemctl restart ollama`)")
        await asyncio.to_thread(self.stop)
        return await self.start()

    def _fail(self, message: str, suggestion: str = "", log_tail: list[str] | None = None) -> RuntimeFailure:
        """The error to raise, remembered so the runtime screen keeps showing it after its next refresh."""
        self.message = f"{message} — {suggestion}" if suggestion else message
        return RuntimeFailure(message, suggestion, log_tail)

    # -- the log -------------------------------------------------------------------------

    def log_tail(self, lines: int = 50) -> list[str]:
        """The last lines of the server's log, read from the end so a huge log costs little."""
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - max(65536, 512 * lines)))
                data = handle.read()
        except OSError:
            return []
        text = data.decode("utf-8", errors="replace").splitlines()
        if size > len(data) and text:
            text = text[1:]  # the first line was cut in the middle
        return text[-lines:] if lines > 0 else []
