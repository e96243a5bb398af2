"""Every configured host at a glance: engine, models, load and GPUs, polled concurrently.

Why: people who serve DeepSeek-R1 on several boxes (Ollama on a workstation, vLLM
on a GPU node, llama.cpp in the lab) otherwise open one SSH session per box. The
fleet screen and `r1tui fleet` both read one `HostRow` per host from here.

How it behaves, on purpose:
- every host is polled at the same time, each under its own short timeout, so a
  host that is down, refuses, or accepts the connection and never answers is
  reported with its reason and never delays the others; `watch` even gives each
  host its own loop, so a slow host does not hold back the next refresh of the rest;
- the engine is detected once (`tui.core.engines.detect_engine`) and again after a
  failure, so a box that switches from Ollama to vLLM is picked up;
- GPU figures come from the host's exporter (`gpu_metrics`: DCGM or nvitop, see
  `tui.core.gpu_exporters`) or, for a host on this machine, from NVML;
- tokens go only to their own host and never appear in a row: every error text
  is passed through `tui.core.hosts.redact`.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import socket
import ssl
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Mapping

import httpx

from tui.core.backend import BackendError, LoadedModel, normalize_host
from tui.core.engine_metrics import EngineLoad, EngineLoadReader
from tui.core.engines import AUTO, OPENAI_ENGINES, detect_engine, make_backend
from tui.core.gpu_exporters import GpuMetricsReader
from tui.core.hardware import GpuSnapshot, NvmlReader
from tui.core.hosts import HostProfile, choose_host, redact
from tui.core.transport import GuardedTransport, authorization_of

__all__ = ["DEFAULT_INTERVAL", "DEFAULT_TIMEOUT", "HISTORY_SECONDS", "FleetPoller", "HostRow", "ModelRow",
           "failure_reason", "fleet_hosts", "fleet_json", "row_dict"]

DEFAULT_TIMEOUT = 3.0  # seconds one host may take to answer a poll
DEFAULT_INTERVAL = 2.0  # seconds between two polls of a host
HISTORY_SECONDS = 300.0  # the sparkline's window: the last five minutes
NEARLY_FULL = 0.95  # VRAM or KV-cache use from which a host is flagged
_LOCAL_GPU_REUSE_SECONDS = 0.5  # one NVML read serves every local host of a refresh
_SETUP_SLOTS = 4  # hosts whose clients are built at the same time (worker threads)


@dataclass(frozen=True)
class ModelRow:
    """A model a host has loaded (Ollama) or serves (the other engines)."""

    name: str
    size_bytes: int = 0
    vram_bytes: int = 0
    context_length: int = 0
    processor: str = ""  # Ollama's "100% GPU" / "41%/59% CPU/GPU"; "" where the engine does not say

    @property
    def spilled(self) -> bool:
        """Part of the model runs on the CPU (only Ollama reports it)."""
        return bool(self.processor) and self.processor != "100% GPU"


@dataclass(frozen=True)
class HostRow:
    """One host as the fleet view shows it. A figure the host does not report is None, never zero."""

    name: str
    url: str
    reachable: bool | None = None  # None: not polled yet
    error: str = ""
    engine: str = ""
    version: str = ""
    models: tuple[ModelRow, ...] = ()
    requests_running: int | None = None
    requests_waiting: int | None = None
    kv_cache_usage: float | None = None
    generation_tps: float | None = None
    gpus: tuple[GpuSnapshot, ...] = ()
    gpu_source: str = ""  # "nvml", "dcgm" or "nvitop"
    gpu_error: str = ""
    metrics_error: str = ""
    flags: tuple[str, ...] = ()
    util_history: tuple[float, ...] = ()  # mean GPU utilisation per poll, oldest first
    tps_history: tuple[float, ...] = ()
    current: bool = False  # the host the chat talks to
    poll_seconds: float = 0.0


# -- which hosts ------------------------------------------------------------------------


def fleet_hosts(configured: Mapping[str, HostProfile], current: str | None = None) -> list[HostProfile]:
    """The configured `[hosts.NAME]` entries, and the current server first when it is not one of them."""
    hosts = list(configured.values())
    if current:
        profile = choose_host(current, configured)
        if all(normalize_host(h.url) != normalize_host(profile.url) for h in hosts):
            hosts.insert(0, profile)
    return hosts


# -- why a host is unreachable ------------------------------------------------------------


def _chain(exc: BaseException) -> Iterable[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def failure_reason(exc: BaseException, timeout: float) -> str:
    """A short reason a person recognises: refused, timed out, TLS error, 401, name not resolved."""
    for link in _chain(exc):
        status = getattr(link, "status_code", None)
        if status in (401, 403):
            return f"{status} unauthorized: the server refused r1tui's token (token_env in [hosts.NAME])"
        if isinstance(link, (asyncio.TimeoutError, TimeoutError, httpx.TimeoutException)):
            return f"timed out: no answer within {timeout:g} s"
        if isinstance(link, ssl.SSLCertVerificationError):
            return f"TLS error: {link.verify_message or link.reason}"
        if isinstance(link, ssl.SSLError):
            return f"TLS error: {link.reason or link}"
        if isinstance(link, ConnectionRefusedError):
            return "connection refused: nothing listens on that port"
        if isinstance(link, socket.gaierror):
            return "host name not resolved"
    if isinstance(exc, BackendError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


# -- one host's state between polls ---------------------------------------------------------


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One certificate store for the fleet's own clients: each new httpx client would otherwise load
    the CA bundle again (tens of milliseconds each, times two clients per host, times 50 hosts)."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


class _HostState:
    """What is kept per host between polls: its clients, detected engine and recent figures."""

    def __init__(self, profile: HostProfile, timeout: float, history_seconds: float) -> None:
        self.profile = profile
        self.timeout = timeout
        self.history_seconds = history_seconds
        self.headers = profile.headers()
        self.secrets = [profile.bearer_token()] if profile.bearer_token() else []
        self.engine = "" if profile.engine == AUTO else profile.engine
        self.version = ""
        self.backend: Any = None
        self.http: httpx.AsyncClient | None = None
        self.load_reader: EngineLoadReader | None = None
        exporter = profile.gpu_metrics
        # No credentials for the exporter: it is another service, often on another host.
        self.gpu_http = (httpx.AsyncClient(timeout=httpx.Timeout(timeout), verify=_tls_context())
                         if exporter else None)
        self.gpu_reader = GpuMetricsReader(self.gpu_http, exporter) if self.gpu_http is not None else None
        self.util: deque[tuple[float, float]] = deque()
        self.tps: deque[tuple[float, float]] = deque()
        self.last_waiting: int | None = None

    def open_clients(self) -> tuple[str, str, Any, httpx.AsyncClient | None]:
        """(engine, version, backend, metrics client): detects the engine when it is not known yet.

        Run in a worker thread: building HTTP clients is CPU work (each loads the CA bundle,
        tens of milliseconds), which for 50 hosts would freeze a screen and eat into every
        host's timeout. Detection's requests run on the thread's own event loop, all of them
        together under the host's timeout.
        """
        url = normalize_host(self.profile.url)
        engine, version = self.engine, self.version
        if not engine:
            info = asyncio.run(asyncio.wait_for(detect_engine(url, self.headers, self.timeout), self.timeout))
            engine, version = info.engine, info.version
        backend = make_backend(url, engine, headers=self.headers, stall_timeout=self.timeout)
        http = None
        if engine in OPENAI_ENGINES:
            http = httpx.AsyncClient(base_url=url, headers=self.headers or {}, timeout=httpx.Timeout(self.timeout),
                                     transport=GuardedTransport(url, authorization_of(self.headers),
                                                                verify=_tls_context()))
        return engine, version, backend, http

    def adopt(self, opened: tuple[str, str, Any, httpx.AsyncClient | None]) -> None:
        self.engine, self.version, self.backend, self.http = opened
        self.load_reader = EngineLoadReader(self.http, self.engine) if self.http is not None else None

    async def forget(self) -> None:
        """After a failure: close the clients and detect the engine again next time."""
        if self.profile.engine == AUTO:
            self.engine = ""
        clients = [client for client in (self.backend, self.http) if client is not None]
        self.backend, self.http, self.load_reader = None, None, None
        for client in clients:
            try:
                await client.aclose()
            except Exception:  # noqa: BLE001 - closing a broken client must not fail the poll
                pass

    async def aclose(self) -> None:
        await self.forget()
        if self.gpu_http is not None:
            await self.gpu_http.aclose()

    def remember(self, now: float, util: float | None, tps: float | None) -> tuple[tuple[float, ...], ...]:
        for series, value in ((self.util, util), (self.tps, tps)):
            if value is not None:
                series.append((now, value))
            while series and series[0][0] < now - self.history_seconds:
                series.popleft()
        return tuple(v for _, v in self.util), tuple(v for _, v in self.tps)


def _model_rows(engine: str, loaded: list[LoadedModel]) -> tuple[ModelRow, ...]:
    return tuple(ModelRow(m.name, m.size, m.size_vram, m.context_length,
                          m.processor if engine == "ollama" and m.size else "") for m in loaded)


def _flags(row: HostRow, previous_waiting: int | None) -> tuple[str, ...]:
    """What needs a look: GPUs nearly full, a model spilled to CPU, a queue that grows."""
    found = []
    for gpu in row.gpus:
        if gpu.vram_total_bytes and gpu.vram_fraction >= NEARLY_FULL:
            found.append(f"GPU{gpu.index} memory {gpu.vram_fraction:.0%} full")
    found += [f"{m.name} spilled to CPU ({m.processor})" for m in row.models if m.spilled]
    waiting = row.requests_waiting
    if waiting:
        growing = previous_waiting is not None and waiting > previous_waiting
        found.append(f"queue growing: {waiting} waiting" if growing else f"{waiting} requests waiting")
    if row.kv_cache_usage is not None and row.kv_cache_usage >= NEARLY_FULL:
        found.append(f"KV cache {row.kv_cache_usage:.0%} full")
    return tuple(found)


# -- the poller ------------------------------------------------------------------------------


class FleetPoller:
    """Polls a set of hosts; keeps their clients open between polls. Close it with `aclose()`.

    `nvml` stands in for the pynvml module (tests); None uses the real one.
    """

    def __init__(self, hosts: Iterable[HostProfile], *, timeout: float = DEFAULT_TIMEOUT, nvml: Any = None,
                 current_url: str | None = None, history_seconds: float = HISTORY_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.hosts = list(hosts)
        self.timeout = timeout
        self.current_url = normalize_host(current_url) if current_url else None
        self._clock = clock
        self._states = {host.name: _HostState(host, timeout, history_seconds) for host in self.hosts}
        self._nvml = NvmlReader(nvml)
        self._nvml_lock = asyncio.Lock()
        self._local: tuple[float, list[GpuSnapshot], str] | None = None
        self._prepared = False
        self._setup_slots = asyncio.Semaphore(_SETUP_SLOTS)

    @property
    def secrets(self) -> list[str]:
        """Every token of these hosts, for redacting anything shown."""
        return [secret for state in self._states.values() for secret in state.secrets]

    def pending_row(self, host: HostProfile) -> HostRow:
        """The row shown before the first answer."""
        return HostRow(host.name, normalize_host(host.url), current=self._is_current(host))

    def _is_current(self, host: HostProfile) -> bool:
        return self.current_url is not None and normalize_host(host.url) == self.current_url

    async def aclose(self) -> None:
        for state in self._states.values():
            await state.aclose()
        await asyncio.to_thread(self._nvml.close)

    # -- polling ---------------------------------------------------------------------

    async def prepare(self) -> None:
        """Import the openai client off the event loop before the first poll: it (and the model-list
        types it loads lazily on first use) take a second or more, which would otherwise count
        against the first host's timeout, and freeze a screen."""
        if not self._prepared:
            for module in ("tui.core.openai_backend", "openai.resources.models"):
                await asyncio.to_thread(importlib.import_module, module)
            self._prepared = True

    async def poll_all(self, on_row: Callable[[HostRow], None] | None = None) -> list[HostRow]:
        """Every host once, concurrently; `on_row` gets each row as soon as it is in. Rows in config order."""
        await self.prepare()
        async def one(host: HostProfile) -> HostRow:
            row = await self.poll_host(host)
            if on_row is not None:
                on_row(row)
            return row

        return list(await asyncio.gather(*(one(host) for host in self.hosts)))

    async def watch(self, on_row: Callable[[HostRow], None], interval: float = DEFAULT_INTERVAL) -> None:
        """Poll every host forever, each on its own loop: a slow host never holds back the others."""
        await self.prepare()
        async def loop(host: HostProfile) -> None:
            while True:
                started = self._clock()
                on_row(await self.poll_host(host))
                await asyncio.sleep(max(0.05, interval - (self._clock() - started)))

        await asyncio.gather(*(loop(host) for host in self.hosts))

    async def poll_host(self, host: HostProfile) -> HostRow:
        """One host, within the timeout; never raises (a failure is the row's `error`)."""
        state = self._states[host.name]
        started = self._clock()
        engine_part, gpu_part = await asyncio.gather(self._engine_figures(state),
                                                     self._bounded(self._poll_gpus(state)))
        row = self.pending_row(host)
        if isinstance(engine_part, BaseException):
            await state.forget()
            row = replace(row, reachable=False, error=failure_reason(engine_part, self.timeout),
                          engine=state.profile.engine if state.profile.engine != AUTO else "")
        else:
            row = replace(row, reachable=True, **engine_part)
        if isinstance(gpu_part, BaseException):
            row = replace(row, gpu_error=failure_reason(gpu_part, self.timeout))
        else:
            gpus, source, problem = gpu_part
            row = replace(row, gpus=tuple(gpus), gpu_source=source, gpu_error=problem)
        now = self._clock()
        utils = [g.utilization_percent for g in row.gpus if g.utilization_percent is not None]
        util_history, tps_history = state.remember(now, sum(utils) / len(utils) if utils else None,
                                                   row.generation_tps)
        row = replace(row, util_history=util_history, tps_history=tps_history, poll_seconds=now - started,
                      flags=_flags(row, state.last_waiting))
        state.last_waiting = row.requests_waiting
        return _redacted(row, state.secrets)

    async def _bounded(self, work: Any) -> Any:
        try:
            return await asyncio.wait_for(work, self.timeout)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - every failure becomes the row's reason
            return exc

    async def _engine_figures(self, state: _HostState) -> dict[str, Any] | BaseException:
        """The engine's part of the row, or why there is none. A host seen for the first time (or
        after a failure) gets its clients first, a few hosts at a time, off the event loop."""
        if state.backend is None:
            try:
                async with self._setup_slots:
                    state.adopt(await asyncio.to_thread(state.open_clients))
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # noqa: BLE001 - detection failed: the row's reason
                return exc
        return await self._bounded(self._poll_engine(state))

    async def _poll_engine(self, state: _HostState) -> dict[str, Any]:
        backend = state.backend
        reads: list[Any] = [backend.version(), backend.ps()]
        if state.load_reader is not None:
            reads.append(state.load_reader.read())
        version, loaded, *rest = await asyncio.gather(*reads)
        state.version = version or state.version
        # llama.cpp's n_ctx arrives with its version, read alongside `ps`: take the served context once both are in.
        served_context = getattr(backend, "served_context", None)
        if served_context is not None:
            loaded = [replace(m, context_length=m.context_length or served_context(m.name)) for m in loaded]
        load: EngineLoad = rest[0] if rest else EngineLoad()
        return {"engine": state.engine, "version": state.version, "models": _model_rows(state.engine, loaded),
                "requests_running": load.requests_running, "requests_waiting": load.requests_waiting,
                "kv_cache_usage": load.kv_cache_usage, "generation_tps": load.generation_tps,
                "metrics_error": load.problem}

    async def _poll_gpus(self, state: _HostState) -> tuple[list[GpuSnapshot], str, str]:
        if state.gpu_reader is not None:
            reading = await state.gpu_reader.read()
            return reading.gpus, reading.exporter, reading.problem
        if state.profile.is_local:
            gpus, problem = await self._local_gpus()
            return gpus, "nvml" if gpus else "", problem
        return [], "", "no gpu_metrics exporter configured for this host"

    async def _local_gpus(self) -> tuple[list[GpuSnapshot], str]:
        """This machine's GPUs through NVML, read off the event loop once for all local hosts of a refresh."""
        async with self._nvml_lock:
            now = self._clock()
            if self._local is None or now - self._local[0] > _LOCAL_GPU_REUSE_SECONDS:
                gpus, problem = await asyncio.to_thread(self._nvml.read)
                self._local = (now, gpus, problem or "")
            return self._local[1], self._local[2]


def _redacted(row: HostRow, secrets: list[str]) -> HostRow:
    """The row with any token blanked from its texts (an error page may echo the header it got)."""
    return replace(row, error=redact(row.error, secrets), gpu_error=redact(row.gpu_error, secrets),
                   metrics_error=redact(row.metrics_error, secrets),
                   flags=tuple(redact(flag, secrets) for flag in row.flags))


# -- JSON, a contract for scripts: keys may be added, never renamed ----------------------------


def row_dict(row: HostRow) -> dict[str, Any]:
    """One host as `r1tui fleet --json` prints it."""
    return {
        "name": row.name,
        "url": row.url,
        "reachable": bool(row.reachable),
        "error": row.error or None,
        "engine": row.engine or None,
        "version": row.version or None,
        "models": [{"name": m.name, "size_bytes": m.size_bytes or None, "vram_bytes": m.vram_bytes or None,
                    "context_length": m.context_length or None, "processor": m.processor or None}
                   for m in row.models],
        "requests_running": row.requests_running,
        "requests_waiting": row.requests_waiting,
        "kv_cache_usage": row.kv_cache_usage,
        "generation_tps": row.generation_tps,
        "gpus": [{"index": g.index, "name": g.name, "util_percent": g.utilization_percent,
                  "vram_used_bytes": g.vram_used_bytes, "vram_total_bytes": g.vram_total_bytes,
                  "power_watts": g.power_watts, "temp_c": g.temperature_c} for g in row.gpus],
        "gpu_source": row.gpu_source or None,
        "gpu_error": row.gpu_error or None,
        "metrics_error": row.metrics_error or None,
        "flags": list(row.flags),
        "current": row.current,
        "poll_seconds": round(row.poll_seconds, 3),
    }


def fleet_json(rows: Iterable[HostRow]) -> dict[str, Any]:
    return {"hosts": [row_dict(row) for row in rows]}

