"""What the model costs this machine: GPUs (NVML), CPU, RAM and Ollama's processes.

Pure on purpose (no Textual): the chat panel, `r1tui doctor` and the benchmark
all read the same immutable snapshots, and tests drive it with a stand-in for
the `pynvml` module instead of a GPU.

Two rules shape the code:
- NVML is optional and fragile (no GPU, no driver, a GPU lost mid-run). Every
  NVML failure becomes the text "no NVIDIA GPU: <NVML's reason>" in
  `HardwareSnapshot.gpu_error`; CPU and RAM figures are still taken.
- Sampling runs every second beside a streaming chat, so it must stay cheap:
  NVML stays initialised between samples, the process table is scanned for
  Ollama only every few seconds, and psutil's CPU figures are non-blocking.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Iterable, TypeVar

import psutil

__all__ = ["DEFAULT_INTERVAL", "DEFAULT_NVML_RETRY_SECONDS", "DEFAULT_PROCESS_RESCAN_SECONDS", "NO_GPU_PREFIX", "T",
           "CpuSnapshot", "GpuProcess", "GpuSnapshot", "HardwareSampler", "HardwareSnapshot", "MemorySnapshot",
           "NvmlReader", "OllamaProcesses", "ProcessSnapshot", "read_cpu", "read_gpus", "read_memory"]

log = logging.getLogger(__name__)

NO_GPU_PREFIX = "no NVIDIA GPU: "
DEFAULT_INTERVAL = 1.0
# After NVML failed to start, wait this long before trying again: a box without
# a driver would otherwise retry (and fail) every second for the whole session.
DEFAULT_NVML_RETRY_SECONDS = 10.0
# A full process-table walk costs milliseconds on a busy box; the Ollama
# processes found are re-read cheaply each sample and the walk is repeated
# only this often (or when one of them exits).
DEFAULT_PROCESS_RESCAN_SECONDS = 5.0

T = TypeVar("T")


# -- snapshots ---------------------------------------------------------------


@dataclass(frozen=True)
class GpuProcess:
    """A process holding memory on a GPU; `vram_bytes` is None where the driver won't say (e.g. WDDM, MIG)."""

    pid: int
    name: str
    vram_bytes: int | None


@dataclass(frozen=True)
class GpuSnapshot:
    """One NVIDIA GPU; optional figures are None where this GPU or driver doesn't report them."""

    index: int
    name: str
    vram_total_bytes: int
    vram_used_bytes: int
    utilization_percent: float | None = None
    temperature_c: float | None = None
    power_watts: float | None = None
    power_limit_watts: float | None = None
    processes: tuple[GpuProcess, ...] = ()

    @property
    def vram_free_bytes(self) -> int:
        return max(0, self.vram_total_bytes - self.vram_used_bytes)

    @property
    def vram_fraction(self) -> float:
        return self.vram_used_bytes / self.vram_total_bytes if self.vram_total_bytes else 0.0


@dataclass(frozen=True)
class CpuSnapshot:
    """`percent` and `per_core` are busy % since the previous sample (0.0 on the very first one)."""

    count: int
    percent: float
    per_core: tuple[float, ...]
    load_average: tuple[float, float, float] | None


@dataclass(frozen=True)
class MemorySnapshot:
    """`used_bytes` is total minus available: what a user can no longer get, caches excluded."""

    total_bytes: int
    available_bytes: int
    used_bytes: int
    swap_total_bytes: int
    swap_used_bytes: int


@dataclass(frozen=True)
class ProcessSnapshot:
    """An Ollama server or runner process; `cpu_percent` is of one core, like `top` (may exceed 100)."""

    pid: int
    name: str
    rss_bytes: int
    cpu_percent: float


@dataclass(frozen=True)
class HardwareSnapshot:
    taken_at: float
    gpus: tuple[GpuSnapshot, ...]
    gpu_error: str | None
    cpu: CpuSnapshot
    memory: MemorySnapshot
    ollama_processes: tuple[ProcessSnapshot, ...] = ()

    def ollama_vram_bytes(self, gpu: GpuSnapshot) -> int | None:
        """VRAM the Ollama processes hold on `gpu`; None when NVML's process list can't tell.

        None rather than 0 when no Ollama process appears on the GPU's list, because
        in a container NVML often lists no processes (or host pids) at all.
        """
        pids = {process.pid for process in self.ollama_processes}
        held = [p.vram_bytes for p in gpu.processes if p.pid in pids]
        if not held or any(v is None for v in held):
            return None
        return sum(v for v in held if v is not None)


# -- NVML ----------------------------------------------------------------------


def _import_pynvml() -> ModuleType:
    import pynvml  # from nvidia-ml-py; imported late so a box without it still starts

    return pynvml


def _text(value: Any) -> str:
    """NVML strings arrive as bytes from older bindings and str from newer ones."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


class NvmlReader:
    """Reads every GPU through one NVML session kept open across samples.

    `nvmlInit` loads the driver library and costs milliseconds; doing it once per
    sample would be most of the sampler's cost. After a failure the session is
    shut down and re-initialised on a later read, so a driver that comes back
    (or a transient "GPU is lost") does not need an app restart.
    """

    def __init__(
        self,
        nvml: ModuleType | Any | None = None,
        *,
        retry_seconds: float = DEFAULT_NVML_RETRY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._nvml = nvml
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._initialised = False
        self._unavailable: str | None = None  # permanent: the binding itself is missing
        self._last_error: str | None = None
        self._failed_at: float | None = None
        self._names: dict[int, str] = {}

    def read(self) -> tuple[list[GpuSnapshot], str | None]:
        """All GPUs, or ([], "no NVIDIA GPU: <reason>"); never raises for NVML's sake."""
        nvml = self._module()
        if nvml is None:
            return [], self._unavailable
        if not self._initialised and not self._start(nvml):
            return [], self._last_error
        errors = self._errors(nvml)
        try:
            gpus = [self._read_device(nvml, index) for index in range(int(nvml.nvmlDeviceGetCount()))]
        except errors as exc:
            self._fail(nvml, exc)
            return [], self._last_error
        if not gpus:
            return [], NO_GPU_PREFIX + "NVML found no devices"
        return gpus, None

    def close(self) -> None:
        if self._initialised and self._nvml is not None:
            self._shutdown(self._nvml)

    # -- session -------------------------------------------------------------

    def _module(self) -> Any | None:
        if self._nvml is None and self._unavailable is None:
            try:
                self._nvml = _import_pynvml()
            except ImportError as exc:
                self._unavailable = f"{NO_GPU_PREFIX}the pynvml module is not installed ({_reason(exc)})"
        return self._nvml

    @staticmethod
    def _errors(nvml: Any) -> tuple[type[BaseException], ...]:
        """NVML's own errors plus OSError (ctypes failing to load or call the library)."""
        nvml_error = getattr(nvml, "NVMLError", None)
        if isinstance(nvml_error, type) and issubclass(nvml_error, BaseException):
            return (nvml_error, OSError)
        return (OSError,)

    def _start(self, nvml: Any) -> bool:
        if self._failed_at is not None and self._clock() - self._failed_at < self._retry_seconds:
            return False
        try:
            nvml.nvmlInit()
        except self._errors(nvml) as exc:
            self._failed_at = self._clock()
            self._last_error = NO_GPU_PREFIX + _reason(exc)
            return False
        self._initialised = True
        self._failed_at = None
        self._last_error = None
        return True

    def _fail(self, nvml: Any, exc: BaseException) -> None:
        """A query failed mid-run: close the session; a later read starts a fresh one.

        The retry waits like a failed start does: `nvmlInit` on a real driver
        takes tens of milliseconds, too much to repeat every second while a GPU is lost.
        """
        self._last_error = NO_GPU_PREFIX + _reason(exc)
        self._failed_at = self._clock()
        self._shutdown(nvml)

    def _shutdown(self, nvml: Any) -> None:
        self._initialised = False
        try:
            nvml.nvmlShutdown()
        except self._errors(nvml):
            pass

    # -- one device ------------------------------------------------------------

    def _read_device(self, nvml: Any, index: int) -> GpuSnapshot:
        """Name and memory are required (a failure there fails the read); the rest is optional."""
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        name = _text(nvml.nvmlDeviceGetName(handle))
        memory = nvml.nvmlDeviceGetMemoryInfo(handle)
        optional = self._optional_reader(nvml)
        utilization = optional(lambda: nvml.nvmlDeviceGetUtilizationRates(handle))
        temperature = optional(lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU))
        power_mw = optional(lambda: nvml.nvmlDeviceGetPowerUsage(handle))
        limit_mw = optional(lambda: nvml.nvmlDeviceGetEnforcedPowerLimit(handle))
        processes = optional(lambda: nvml.nvmlDeviceGetComputeRunningProcesses(handle))
        return GpuSnapshot(
            index=index,
            name=name,
            vram_total_bytes=int(memory.total),
            vram_used_bytes=int(memory.used),
            utilization_percent=float(utilization.gpu) if utilization is not None else None,
            temperature_c=float(temperature) if temperature is not None else None,
            power_watts=power_mw / 1000.0 if power_mw is not None else None,
            power_limit_watts=limit_mw / 1000.0 if limit_mw is not None else None,
            processes=self._processes(processes or ()),
        )

    def _optional_reader(self, nvml: Any) -> Callable[[Callable[[], T]], T | None]:
        errors = self._errors(nvml)

        def optional(query: Callable[[], T]) -> T | None:
            # "Not Supported" is normal (temperature on some boards, power on
            # laptops, processes in containers); it must not hide the GPU.
            try:
                return query()
            except errors:
                return None

        return optional

    def _processes(self, entries: Iterable[Any]) -> tuple[GpuProcess, ...]:
        result = []
        for entry in entries:
            pid = int(entry.pid)
            used = getattr(entry, "usedGpuMemory", None)
            result.append(GpuProcess(pid, self._process_name(pid), int(used) if used is not None else None))
        # Forget pids that left so a recycled pid is not shown under an old name.
        alive = {p.pid for p in result}
        for pid in [pid for pid in self._names if pid not in alive]:
            del self._names[pid]
        return tuple(result)

    def _process_name(self, pid: int) -> str:
        """psutil's name for NVML's pid; "" when it is not visible here (another pid namespace)."""
        if pid not in self._names:
            try:
                self._names[pid] = _ollama_label(psutil.Process(pid))
            except (psutil.Error, OSError):
                self._names[pid] = ""
        return self._names[pid]


def read_gpus(nvml: ModuleType | Any | None = None) -> tuple[list[GpuSnapshot], str | None]:
    """One reading of every GPU, opening and closing NVML; for one-off reports like `doctor`."""
    reader = NvmlReader(nvml, retry_seconds=0.0)
    try:
        return reader.read()
    finally:
        reader.close()


# -- CPU, RAM, Ollama's processes ------------------------------------------------


def read_cpu() -> CpuSnapshot:
    """Busy % since this thread's previous call: psutil keeps that baseline per thread, never blocks."""
    per_core = tuple(psutil.cpu_percent(interval=None, percpu=True))
    total = psutil.cpu_percent(interval=None)
    try:
        load: tuple[float, float, float] | None = tuple(psutil.getloadavg())  # type: ignore[assignment]
    except (AttributeError, OSError):
        load = None
    return CpuSnapshot(count=psutil.cpu_count() or len(per_core) or 1, percent=float(total),
                       per_core=per_core, load_average=load)


def read_memory() -> MemorySnapshot:
    memory = psutil.virtual_memory()
    swap = psutil.swap_memory()
    return MemorySnapshot(
        total_bytes=int(memory.total),
        available_bytes=int(memory.available),
        used_bytes=int(memory.total - memory.available),
        swap_total_bytes=int(swap.total),
        swap_used_bytes=int(swap.used),
    )


def _is_ollama(name: str) -> bool:
    # Linux truncates names to 15 characters: "ollama_llama_server" reads "ollama_llama_se".
    return name.lower().startswith("ollama")


def _ollama_label(process: psutil.Process) -> str:
    """'ollama serve' / 'ollama runner' rather than a bare 'ollama' for both: they cost differently."""
    name = process.name()
    if not _is_ollama(name):
        return name
    if name.startswith("ollama_llama"):
        return "ollama runner"
    try:
        args = process.cmdline()
    except (psutil.Error, OSError):
        return name
    if len(args) > 1 and args[1] in {"serve", "runner"}:
        return f"ollama {args[1]}"
    return name


class OllamaProcesses:
    """Finds the Ollama server and runner processes and reads their RSS and CPU %.

    The same `psutil.Process` objects are kept between samples because
    `cpu_percent(interval=None)` measures since that object's previous call.
    """

    def __init__(self, rescan_seconds: float = DEFAULT_PROCESS_RESCAN_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rescan_seconds = rescan_seconds
        self._clock = clock
        self._scanned_at: float | None = None
        self._tracked: dict[int, tuple[psutil.Process, str]] = {}

    def read(self) -> tuple[ProcessSnapshot, ...]:
        if self._scanned_at is None or self._clock() - self._scanned_at >= self._rescan_seconds:
            self._rescan()
        snapshots = []
        for pid, (process, label) in list(self._tracked.items()):
            try:
                with process.oneshot():
                    snapshots.append(ProcessSnapshot(pid, label, int(process.memory_info().rss),
                                                     float(process.cpu_percent(interval=None))))
            except (psutil.Error, OSError):
                # Gone (a runner exits when its model unloads): look again next sample.
                del self._tracked[pid]
                self._scanned_at = None
        return tuple(sorted(snapshots, key=lambda p: p.pid))

    def _rescan(self) -> None:
        self._scanned_at = self._clock()
        found: dict[int, tuple[psutil.Process, str]] = {}
        for process in psutil.process_iter(["name"]):
            name = process.info.get("name") or ""
            if not _is_ollama(name):
                continue
            if process.pid in self._tracked:
                found[process.pid] = self._tracked[process.pid]
                continue
            try:
                process.cpu_percent(interval=None)  # start its CPU baseline now
                found[process.pid] = (process, _ollama_label(process))
            except (psutil.Error, OSError):
                continue
        self._tracked = found


# -- the sampler -------------------------------------------------------------------


class HardwareSampler:
    """Samples the hardware in a daemon thread and hands out immutable snapshots.

    The UI reads `latest` (or gets `on_sample(snapshot)` from the worker thread;
    a Textual app should forward it with `call_from_thread`). A daemon thread,
    not asyncio, because psutil and NVML calls block and must not stall the
    event loop that renders the chat.
    """

    def __init__(
        self,
        interval: float = DEFAULT_INTERVAL,
        nvml: ModuleType | Any | None = None,
        on_sample: Callable[[HardwareSnapshot], None] | None = None,
        *,
        nvml_retry_seconds: float = DEFAULT_NVML_RETRY_SECONDS,
        process_rescan_seconds: float = DEFAULT_PROCESS_RESCAN_SECONDS,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.interval = interval
        self.on_sample = on_sample
        self._gpus = NvmlReader(nvml, retry_seconds=nvml_retry_seconds)
        self._processes = OllamaProcesses(process_rescan_seconds)
        self._latest: HardwareSnapshot | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def latest(self) -> HardwareSnapshot | None:
        return self._latest

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> "HardwareSampler":
        if self.running:
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="r1tui-hardware", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the worker and release NVML; safe to call twice or without start()."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._lock:
            self._gpus.close()

    def __enter__(self) -> "HardwareSampler":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def sample_once(self) -> HardwareSnapshot:
        """Take one snapshot now (also what the worker does each tick); never raises for NVML."""
        with self._lock:
            gpus, gpu_error = self._gpus.read()
            snapshot = HardwareSnapshot(
                taken_at=time.time(),
                gpus=tuple(gpus),
                gpu_error=gpu_error,
                cpu=read_cpu(),
                memory=read_memory(),
                ollama_processes=self._processes.read(),
            )
            self._latest = snapshot
        return snapshot

    def _run(self) -> None:
        # Ticks on a fixed schedule, so a slow sample does not push every later one back.
        next_at = time.monotonic()
        while not self._stop.is_set():
            self._tick()
            next_at += self.interval
            now = time.monotonic()
            if next_at < now:  # fell behind (suspended laptop, overloaded box): don't burst
                next_at = now + self.interval
            self._stop.wait(next_at - now)

    def _tick(self) -> None:
        try:
            snapshot = self.sample_once()
        except Exception:  # noqa: BLE001 - a hardware quirk must not kill the panel's only source
            log.exception("hardware sample failed")
            return
        if self.on_sample is not None:
            try:
                self.on_sample(snapshot)
            except Exception:  # noqa: BLE001 - e.g. the app is shutting down; keep sampling
                log.exception("on_sample callback failed")
