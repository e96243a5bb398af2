"""A stand-in for the `pynvml` module, injected where r1tui takes `nvml=`.

It mimics the part of pynvml's surface r1tui calls, including its error
classes: `NVMLError(value)` maps the code to a subclass and `str()` gives
NVML's own text ("NVML Shared Library Not Found", "GPU is lost"...), because
r1tui shows that text to users. Faults: the library missing (nvmlInit fails),
and every call failing after N calls until `recover()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NVML_TEMPERATURE_GPU = 0

NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_GPU_IS_LOST = 15
NVML_ERROR_UNKNOWN = 999

_TEXT = {
    NVML_ERROR_UNINITIALIZED: "Uninitialized",
    NVML_ERROR_NOT_SUPPORTED: "Not Supported",
    NVML_ERROR_DRIVER_NOT_LOADED: "Driver Not Loaded",
    NVML_ERROR_LIBRARY_NOT_FOUND: "NVML Shared Library Not Found",
    NVML_ERROR_GPU_IS_LOST: "GPU is lost",
    NVML_ERROR_UNKNOWN: "Unknown Error",
}


class NVMLError(Exception):
    """Like pynvml's: constructed from a code, `.value` is the code, `str()` NVML's text."""

    _classes: dict[int, type["NVMLError"]] = {}

    def __new__(cls, value: int = NVML_ERROR_UNKNOWN) -> "NVMLError":
        if cls is NVMLError:
            cls = NVMLError._classes.get(value, cls)
        obj = Exception.__new__(cls)
        obj.value = value
        return obj

    def __init__(self, value: int = NVML_ERROR_UNKNOWN) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return _TEXT.get(self.value, f"NVML Error with code {self.value}")


def _error_class(name: str, code: int) -> type[NVMLError]:
    def new(cls: type[NVMLError], *args: Any) -> NVMLError:
        return NVMLError.__new__(cls, code)

    def init(self: NVMLError, *args: Any) -> None:
        NVMLError.__init__(self, code)

    cls = type(name, (NVMLError,), {"__new__": new, "__init__": init})
    NVMLError._classes[code] = cls
    return cls


NVMLError_Uninitialized = _error_class("NVMLError_Uninitialized", NVML_ERROR_UNINITIALIZED)
NVMLError_NotSupported = _error_class("NVMLError_NotSupported", NVML_ERROR_NOT_SUPPORTED)
NVMLError_DriverNotLoaded = _error_class("NVMLError_DriverNotLoaded", NVML_ERROR_DRIVER_NOT_LOADED)
NVMLError_LibraryNotFound = _error_class("NVMLError_LibraryNotFound", NVML_ERROR_LIBRARY_NOT_FOUND)
NVMLError_GpuIsLost = _error_class("NVMLError_GpuIsLost", NVML_ERROR_GPU_IS_LOST)

GIB = 1024**3


@dataclass
class FakeProcess:
    pid: int
    usedGpuMemory: int | None  # noqa: N815 - pynvml's field name


@dataclass
class FakeGpu:
    """One device's figures; None for a figure makes that query raise "Not Supported"."""

    name: str | bytes = "NVIDIA GeForce RTX 4090"
    total: int = 24 * GIB
    used: int = 6 * GIB
    utilization: int | None = 87
    temperature: int | None = 64
    power_mw: int | None = 312_000
    power_limit_mw: int | None = 450_000
    processes: list[FakeProcess] | None = field(default_factory=list)
    # A SimulatedOllama whose loaded models hold memory here, as a real server's would:
    # NVML's "used" then grows and shrinks with what the server loads (`used` is the rest).
    follows: Any = None

    def used_now(self) -> int:
        return self.used + loaded_vram_bytes(self.follows)


def loaded_vram_bytes(sim: Any) -> int:
    """VRAM the simulated server's loaded models hold (`size_vram` of its /api/ps rows); 0 for no server."""
    if sim is None:
        return 0
    return sum(int(entry.get("size_vram", 0)) for entry in list(sim.loaded.values()))


@dataclass
class _Memory:
    total: int
    free: int
    used: int


@dataclass
class _Utilization:
    gpu: int
    memory: int


class FakeNvml:
    """An object usable in place of the pynvml module.

    `init_error`: a code nvmlInit raises (e.g. NVML_ERROR_LIBRARY_NOT_FOUND).
    `fail_after`: device queries succeed this many times, then raise `fail_code`
    until `recover()`; counts only nvmlDevice* calls, as the driver failing under
    a running sampler would.
    """

    NVMLError = NVMLError
    NVMLError_LibraryNotFound = NVMLError_LibraryNotFound
    NVMLError_DriverNotLoaded = NVMLError_DriverNotLoaded
    NVMLError_NotSupported = NVMLError_NotSupported
    NVMLError_GpuIsLost = NVMLError_GpuIsLost
    NVML_TEMPERATURE_GPU = NVML_TEMPERATURE_GPU

    def __init__(
        self,
        gpus: list[FakeGpu] | None = None,
        *,
        init_error: int | None = None,
        fail_after: int | None = None,
        fail_code: int = NVML_ERROR_GPU_IS_LOST,
    ) -> None:
        self.gpus = list(gpus) if gpus is not None else []
        self.init_error = init_error
        self.fail_after = fail_after
        self.fail_code = fail_code
        self.initialised = False
        self.init_calls = 0
        self.shutdown_calls = 0
        self.device_calls = 0
        self._failing = False

    # -- test controls -----------------------------------------------------

    def break_now(self, code: int = NVML_ERROR_GPU_IS_LOST) -> None:
        self._failing = True
        self.fail_code = code

    def recover(self) -> None:
        self._failing = False
        self.fail_after = None

    # -- pynvml's surface ------------------------------------------------------

    def nvmlInit(self) -> None:  # noqa: N802
        self.init_calls += 1
        if self.init_error is not None:
            raise NVMLError(self.init_error)
        self.initialised = True

    def nvmlShutdown(self) -> None:  # noqa: N802
        self.shutdown_calls += 1
        if not self.initialised:
            raise NVMLError(NVML_ERROR_UNINITIALIZED)
        self.initialised = False

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802
        self._check()
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeGpu:  # noqa: N802
        self._check()
        return self.gpus[index]

    def nvmlDeviceGetName(self, handle: FakeGpu) -> str | bytes:  # noqa: N802
        self._check()
        return handle.name

    def nvmlDeviceGetMemoryInfo(self, handle: FakeGpu) -> _Memory:  # noqa: N802
        self._check()
        used = min(handle.total, handle.used_now())
        return _Memory(total=handle.total, free=handle.total - used, used=used)

    def nvmlDeviceGetUtilizationRates(self, handle: FakeGpu) -> _Utilization:  # noqa: N802
        self._check()
        return _Utilization(gpu=self._supported(handle.utilization), memory=0)

    def nvmlDeviceGetTemperature(self, handle: FakeGpu, sensor: int) -> int:  # noqa: N802
        self._check()
        if sensor != NVML_TEMPERATURE_GPU:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return self._supported(handle.temperature)

    def nvmlDeviceGetPowerUsage(self, handle: FakeGpu) -> int:  # noqa: N802
        self._check()
        return self._supported(handle.power_mw)

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: FakeGpu) -> int:  # noqa: N802
        self._check()
        return self._supported(handle.power_limit_mw)

    def nvmlDeviceGetComputeRunningProcesses(self, handle: FakeGpu) -> list[FakeProcess]:  # noqa: N802
        self._check()
        return list(self._supported(handle.processes))

    # -- internals ---------------------------------------------------------------

    def _check(self) -> None:
        if not self.initialised:
            raise NVMLError(NVML_ERROR_UNINITIALIZED)
        self.device_calls += 1
        if self.fail_after is not None and self.device_calls > self.fail_after:
            self._failing = True
        if self._failing:
            raise NVMLError(self.fail_code)

    @staticmethod
    def _supported(value: Any) -> Any:
        if value is None:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return value


def one_gpu(**overrides: Any) -> FakeNvml:
    return FakeNvml([FakeGpu(**overrides)])


def two_gpus() -> FakeNvml:
    return FakeNvml([
        FakeGpu(name=b"NVIDIA A100-SXM4-80GB", total=80 * GIB, used=41 * GIB, utilization=95,
                temperature=58, power_mw=280_500, power_limit_mw=400_000),
        FakeGpu(name="NVIDIA A100-SXM4-80GB", total=80 * GIB, used=1 * GIB, utilization=0,
                temperature=33, power_mw=61_000, power_limit_mw=400_000),
    ])


def no_library() -> FakeNvml:
    return FakeNvml(init_error=NVML_ERROR_LIBRARY_NOT_FOUND)
