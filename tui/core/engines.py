"""Which engine serves a host (Ollama, vLLM, SGLang, llama.cpp), and the backend that speaks to it.

Why here: the chat, the panel, compare, bench and the fleet view all work the same
on every engine; only the backend differs. This module recognises an engine by the
endpoint only it serves (Ollama `/api/version`, SGLang `/get_server_info`,
llama.cpp `/props`, vLLM `/version`), names it for people, and builds the right
backend: Ollama's native API through the `ollama` client, every other engine
through the official `openai` client (`tui.core.openai_backend`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator, Protocol

from tui.core.backend import (
    DEFAULT_STALL_TIMEOUT,
    BackendError,
    InstalledModel,
    LoadedModel,
    ModelDetails,
    OllamaBackend,
    PullProgress,
    StreamDelta,
    StreamDone,
    normalize_host,
)
from tui.core.engine_names import AUTO, ENGINE_CHOICES, ENGINES, OPENAI_ENGINES
from tui.core.metrics import GenerationStats

if TYPE_CHECKING:
    import httpx

__all__ = ["AUTO", "ENGINES", "ENGINE_CHOICES", "OPENAI_ENGINES", "Backend", "EngineInfo", "detect_engine",
           "engine_label", "make_backend", "make_backend_async"]

_LABELS = {"ollama": "Ollama", "vllm": "vLLM", "sglang": "SGLang", "llama.cpp": "llama.cpp",
           "openai": "OpenAI-compatible"}
DETECT_TIMEOUT = 4.0


def engine_label(engine: str) -> str:
    """The engine's name as its users write it ("vLLM", "llama.cpp")."""
    return _LABELS.get(engine, engine)


class Backend(Protocol):
    """What every engine's backend offers; `OllamaBackend` and `OpenAICompatBackend` implement it.

    `manages_models` is False where the engine serves a fixed model (pull, delete,
    load and unload then raise a BackendError of kind "unsupported" that says so).
    """

    url: str
    engine: str
    headers: dict[str, str]
    secrets: list[str]
    manages_models: bool

    @property
    def is_local(self) -> bool: ...

    def prepare(self) -> None:
        """Import the client libraries and make the clients now (blocking: call it off the event loop)."""

    async def aclose(self) -> None: ...

    async def version(self) -> str: ...

    async def list_models(self) -> list[InstalledModel]: ...

    async def show(self, model: str, *, refresh: bool = False) -> ModelDetails: ...

    async def ps(self) -> list[LoadedModel]: ...

    async def uses_think_field(self, model: str) -> tuple[bool, bool]: ...

    def chat(self, model: str, messages: list[dict[str, str]], *, options: dict[str, Any] | None = None,
             keep_alive: str | float | None = None) -> AsyncIterator[StreamDelta | StreamDone]: ...

    def pull(self, model: str) -> AsyncIterator[PullProgress]: ...

    async def delete(self, model: str) -> None: ...

    async def load(self, model: str, keep_alive: str | float | None = None) -> GenerationStats: ...

    async def unload(self, model: str) -> None: ...


@dataclass(frozen=True)
class EngineInfo:
    """What answered at a URL: the engine and its version ("" when it does not say)."""

    engine: str
    version: str = ""


async def _probe(client: httpx.AsyncClient, path: str) -> Any:
    import httpx

    try:
        response = await client.get(path)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


async def detect_engine(url: str, headers: dict[str, str] | None = None,
                        timeout: float = DETECT_TIMEOUT) -> EngineInfo:
    """Ask the server which engine it is. Raises BackendError when nothing answers at all.

    The probes run concurrently, each within `timeout`, so a slow or hanging host
    costs one timeout, not four. A server that answers but matches none of the
    engines' own endpoints, yet serves `/v1/models`, is a generic OpenAI-compatible one.
    """
    import httpx

    from tui.core.transport import GuardedTransport, authorization_of

    url = normalize_host(url)
    transport = GuardedTransport(url, authorization_of(headers))
    async with httpx.AsyncClient(base_url=url, headers=headers or {}, transport=transport,
                                 timeout=httpx.Timeout(timeout)) as client:
        try:
            await client.get("/", timeout=timeout)
        except httpx.HTTPError as exc:
            from tui.core.backend import describe_error

            error = describe_error(exc, url)
            if error.kind == "unreachable":  # the engine is not known yet: name none
                error = BackendError("unreachable", f"Cannot reach a server at {url}",
                                     "is it running (ollama serve, vllm serve, …), and is the port right?")
            raise error.without([v.split(" ", 1)[-1] for v in (headers or {}).values()]) from exc
        ollama, sglang, llama, vllm, models = await asyncio.gather(
            _probe(client, "/api/version"), _probe(client, "/get_server_info"), _probe(client, "/props"),
            _probe(client, "/version"), _probe(client, "/v1/models"))
    if isinstance(ollama, dict) and "version" in ollama:
        return EngineInfo("ollama", str(ollama["version"]))
    if isinstance(sglang, dict) and ("tp_size" in sglang or "model_path" in sglang):
        return EngineInfo("sglang", str(sglang.get("version") or ""))
    if isinstance(llama, dict) and "default_generation_settings" in llama:
        return EngineInfo("llama.cpp", str(llama.get("build_info") or ""))
    if isinstance(vllm, dict) and "version" in vllm:
        return EngineInfo("vllm", str(vllm["version"]))
    if isinstance(models, dict) and isinstance(models.get("data"), list):
        return EngineInfo("openai", "")
    return EngineInfo("ollama", "")  # nothing recognisable: Ollama's own errors will say what is wrong


def make_backend(url: str, engine: str = "ollama", *, headers: dict[str, str] | None = None,
                 stall_timeout: float = DEFAULT_STALL_TIMEOUT) -> "Backend":
    """The backend for `engine` at `url` ("auto" is decided by the caller with `detect_engine`)."""
    if engine in OPENAI_ENGINES:
        from tui.core.openai_backend import OpenAICompatBackend

        return OpenAICompatBackend(url, engine=engine, headers=headers, stall_timeout=stall_timeout)
    if engine not in ("ollama", AUTO):
        raise BackendError("config", f"Unknown engine {engine!r}", "use one of " + ", ".join(ENGINE_CHOICES))
    return OllamaBackend(url, headers=headers, stall_timeout=stall_timeout)


async def make_backend_async(url: str, engine: str = "ollama", *, headers: dict[str, str] | None = None,
                             stall_timeout: float = DEFAULT_STALL_TIMEOUT) -> "Backend":
    """`make_backend` on a worker thread, its clients made there (`prepare`): the first OpenAI-compatible
    backend imports the openai client (over a second on a busy machine), which must not freeze the screen."""

    def made() -> Backend:
        backend = make_backend(url, engine, headers=headers, stall_timeout=stall_timeout)
        backend.prepare()
        return backend

    return await asyncio.to_thread(made)
