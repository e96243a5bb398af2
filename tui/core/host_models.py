"""The models of every configured host, asked concurrently: Ctrl+O's list across machines, and bench's `host:model`.

Why: switching to the 70B on the vLLM node should be the same gesture as switching
tags on the local Ollama. Each host is asked with its own short timeout, so a host
that is down or hangs shows its reason and never delays the others.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Iterable

from tui.core.backend import BackendError, InstalledModel, normalize_host
from tui.core.engines import AUTO, Backend, detect_engine, engine_label, make_backend_async
from tui.core.hosts import HostProfile

__all__ = ["HOST_TIMEOUT", "HostModels", "models_on_hosts", "open_host_backend", "split_host_model"]

HOST_TIMEOUT = 4.0


@dataclass(frozen=True)
class HostModels:
    """One host's answer: its models, or why there are none."""

    host: HostProfile
    engine: str = ""
    models: list[InstalledModel] = field(default_factory=list)
    error: str = ""

    @property
    def label(self) -> str:
        engine = f" ({engine_label(self.engine)})" if self.engine else ""
        return f"{self.host.name}{engine}"


async def open_host_backend(host: HostProfile, *, stall_timeout: float = 300.0,
                            timeout: float = HOST_TIMEOUT) -> Backend:
    """A backend for this host's engine (detected when its engine is "auto"). Raises BackendError."""
    engine = host.engine
    if engine == AUTO:
        engine = (await detect_engine(host.url, host.headers(), timeout=timeout)).engine
    return await make_backend_async(host.url, engine, headers=host.headers(), stall_timeout=stall_timeout)


async def _ask(host: HostProfile, timeout: float) -> HostModels:
    backend: Backend | None = None
    try:
        async with asyncio.timeout(timeout):
            backend = await open_host_backend(host, timeout=timeout)
            models = await backend.list_models()
        return HostModels(host, backend.engine, models)
    except BackendError as error:
        return HostModels(host, backend.engine if backend else "", error=error.message)
    except TimeoutError:
        return HostModels(host, backend.engine if backend else "", error=f"no answer within {timeout:.0f} s")
    finally:
        if backend is not None:
            await backend.aclose()


async def models_on_hosts(hosts: Iterable[HostProfile], *, exclude_url: str | None = None,
                          timeout: float = HOST_TIMEOUT) -> list[HostModels]:
    """Every host's models, all asked at once, in the order given (the current host left out)."""
    skip = normalize_host(exclude_url) if exclude_url else None
    wanted = [h for h in hosts if normalize_host(h.url) != skip]
    return list(await asyncio.gather(*(_ask(host, timeout) for host in wanted)))


def split_host_model(spec: str, hosts: Iterable[str]) -> tuple[str | None, str]:
    """`"big:deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"` -> ("big", the model) when `big` is a configured
    host; anything else (`"deepseek-r1:7b"`, whose tag also has a colon) is a model of the current host."""
    head, sep, rest = spec.partition(":")
    if sep and rest and head in set(hosts):
        return head, rest
    return None, spec
