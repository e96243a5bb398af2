"""Every call r1tui makes to an Ollama server, through the official `ollama` AsyncClient.

The UI and the headless commands see plain dataclasses and one error type
(`BackendError`) with a message a user can act on, never raw httpx or
pydantic objects. Reasoning is separated here, once, whichever way the server
delivers it (see `tui.core.reasoning`).
"""

from __future__ import annotations

import asyncio
import functools
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any, AsyncIterator
from urllib.parse import urlparse, urlsplit

from tui.core.metrics import GenerationStats
from tui.core.r1_template import continuation_prompt, is_deepseek_template, reasoning_prefill
from tui.core.reasoning import ThinkSplitter

if TYPE_CHECKING:
    import httpx
    import ollama

__all__ = ["DEFAULT_STALL_TIMEOUT", "THINK_FIELD_MIN_VERSION", "BackendError", "DescribedCalls", "InstalledModel",
           "LazyClients", "LoadedModel", "ModelDetails", "OllamaBackend", "PullProgress", "StreamDelta", "StreamDone",
           "client_library", "describe_error", "is_local_host", "normalize_host", "parse_version"]

DEFAULT_STALL_TIMEOUT = 300.0
THINK_FIELD_MIN_VERSION = (0, 9, 0)


def client_library() -> ModuleType:
    """The official `ollama` package, imported at its first use rather than with this module.

    It and httpx (which it is built on) are imported when a backend first talks to a server,
    not with this module: with pydantic, which `ollama` builds its models with as it is
    imported, they were a third of r1tui's start-up, and the first frame needs none of them.
    The app makes its backend's clients in a thread once that frame is drawn (`prepare`);
    a headless command makes them when it first talks to the server.
    """
    try:
        import ollama  # it builds a default client as it is imported: certificates are loaded then
    except OSError as exc:
        from tui.core.transport import certificates_error

        raise certificates_error(exc) from exc
    return ollama


def normalize_host(host: str | None) -> str:
    """The base URL for any form `OLLAMA_HOST` takes (`host`, `host:port`, `http://…`, `https://…`),
    by the rules Ollama itself documents: no scheme means http, no port means 11434 (80 or 443 when
    a scheme is given), an empty host means 127.0.0.1, a path is kept. Raises ValueError for a port
    out of range or a malformed address.
    """
    text, port = (host or "").strip(), 11434
    scheme, _, rest = text.partition("://")
    if not rest:
        scheme, rest = "http", text
    elif scheme in ("http", "https"):
        port = 80 if scheme == "http" else 443
    split = urlsplit(f"{scheme}://{rest}")
    hostname = split.hostname or "127.0.0.1"
    port = split.port or port  # .port raises ValueError when out of range
    if ":" in hostname:  # an IPv6 address: urlsplit drops its brackets
        hostname = f"[{hostname}]"
    path = split.path.strip("/")
    return f"{scheme}://{hostname}:{port}" + (f"/{path}" if path else "")


def is_local_host(url: str) -> bool:
    """Whether the server runs on this machine (so local hardware figures describe it)."""
    hostname = (urlparse(url).hostname or "").lower()
    return hostname in {"localhost", "127.0.0.1", "::1", "0.0.0.0", ""} or hostname.startswith("127.")


def parse_version(text: str | None) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", text or "")[:3]
    return tuple(int(n) for n in numbers) if numbers else (0,)


# -- results -----------------------------------------------------------------


@dataclass(frozen=True)
class InstalledModel:
    name: str
    size: int
    family: str = ""
    parameter_size: str = ""
    quantization: str = ""
    modified_at: datetime | None = None


@dataclass(frozen=True)
class ModelDetails:
    """What `/api/show` says about a model, reduced to what r1tui uses."""

    name: str
    capabilities: tuple[str, ...] = ()
    template: str = ""
    family: str = ""
    parameter_size: str = ""
    quantization: str = ""
    model_info: dict[str, Any] = field(default_factory=dict)
    license: str = ""
    parameters: str = ""

    @property
    def can_think(self) -> bool:
        return "thinking" in self.capabilities

    @property
    def template_prefills_think(self) -> bool:
        """DeepSeek's template opens `<think>` itself: the model then emits only `</think>`."""
        text = re.sub(r"\{\{.*?\}\}", "", self.template, flags=re.DOTALL)
        return text.rstrip().endswith("<think>")


@dataclass(frozen=True)
class LoadedModel:
    """One row of `/api/ps`, as `ollama ps` shows it."""

    name: str
    size: int
    size_vram: int
    context_length: int = 0
    expires_at: datetime | None = None

    @property
    def gpu_fraction(self) -> float:
        return self.size_vram / self.size if self.size else 0.0

    @property
    def processor(self) -> str:
        """`ollama ps`'s PROCESSOR column: "100% GPU", "100% CPU" or "41%/59% CPU/GPU"."""
        gpu = round(self.gpu_fraction * 100)
        if gpu >= 100:
            return "100% GPU"
        if gpu <= 0:
            return "100% CPU"
        return f"{100 - gpu}%/{gpu}% CPU/GPU"


@dataclass(frozen=True)
class StreamDelta:
    """Text that arrived in one stream chunk, already split; both parts may be empty."""

    reasoning: str = ""
    answer: str = ""


@dataclass(frozen=True)
class StreamDone:
    stats: GenerationStats


@dataclass(frozen=True)
class PullProgress:
    status: str
    digest: str | None = None
    total: int | None = None
    completed: int | None = None


class BackendError(Exception):
    """A failure described for the user: what happened, and what to try."""

    def __init__(self, kind: str, message: str, suggestion: str = "", status_code: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.suggestion = suggestion
        self.status_code = status_code

    def __str__(self) -> str:
        return f"{self.message} — {self.suggestion}" if self.suggestion else self.message

    def without(self, secrets: list[str]) -> "BackendError":
        """This error with every secret blanked out (a proxy's 401 page may echo the token it got)."""
        from tui.core.hosts import redact

        redacted = BackendError(self.kind, redact(self.message, secrets), redact(self.suggestion, secrets),
                                self.status_code)
        redacted.__cause__ = self.__cause__
        return redacted


_MEMORY_PATTERNS = ("requires more system memory", "out of memory", "cudamalloc failed", "insufficient memory", "oom")


def describe_error(exc: BaseException, url: str, model: str | None = None) -> BackendError:
    """Turn whatever the client raised into a message that names the problem and a way out."""
    if isinstance(exc, BackendError):
        return exc
    # Not imported yet (see client_library): then nothing raised can be one of their errors.
    ollama, httpx = sys.modules.get("ollama"), sys.modules.get("httpx")
    if ollama is not None and isinstance(exc, ollama.ResponseError):
        text = str(exc.error)
        status = exc.status_code if exc.status_code != -1 else None
        lowered = text.lower()
        if any(pattern in lowered for pattern in _MEMORY_PATTERNS):
            return BackendError(
                "oom", f"Out of memory: {text}",
                "try a smaller tag, a shorter context, or unload another model", status)
        if status == 401 or status == 403:
            return BackendError(
                "unauthorized", f"{url} refused r1tui's credentials ({status}): {text}",
                "check the host's token (token_env in [hosts.NAME]) or the proxy in front of the server", status)
        if status == 404 and model is None:
            return BackendError("server_error", f"{url} answered 404: is it an Ollama server? ({text})", "", status)
        if status == 404:
            name = model
            return BackendError(
                "not_found", f"Model {name} is not installed on {url}: {text}",
                f"pull it first (`ollama pull {name}` or `r1tui pull {name}`)", status)
        if status is None:
            return BackendError("stream_error", f"The server reported an error mid-stream: {text}",
                                "send the prompt again", status)
        return BackendError("server_error", f"Server error {status}: {text}", "", status)
    if isinstance(exc, ConnectionError) or (httpx is not None and isinstance(exc, httpx.ConnectError)):
        # (the client re-raises ConnectError as ConnectionError)
        return BackendError("unreachable", f"Cannot reach the Ollama server at {url}",
                            "is `ollama serve` running?")
    if httpx is not None:
        described = _describe_transport_error(exc, url, httpx)
        if described is not None:
            return described
    if isinstance(exc, ValueError):  # json.JSONDecodeError, pydantic's ValidationError
        return BackendError("malformed", f"The server at {url} sent a reply r1tui cannot read "
                            "(not the JSON Ollama sends)", "is it an Ollama server, and up to date?")
    if isinstance(exc, (AttributeError, TypeError, KeyError)):  # a JSON line of the wrong shape
        return BackendError("malformed", f"The server at {url} sent a reply of an unexpected shape",
                            "is it an Ollama server, and up to date?")
    return BackendError("unexpected", f"Unexpected {type(exc).__name__} talking to {url}: {exc}", "")


def _describe_transport_error(exc: BaseException, url: str, httpx: ModuleType) -> BackendError | None:
    """httpx's errors other than a refused connection (a stall, a timeout, a dropped link), or None."""
    if isinstance(exc, httpx.ReadTimeout):
        return BackendError("stalled", "The stream stalled: no token arrived within the timeout",
                            "send the prompt again; the server may be overloaded")
    if isinstance(exc, httpx.TimeoutException):
        return BackendError("timeout", f"The server at {url} did not answer in time", "")
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return BackendError("dropped", "The connection to the server dropped mid-answer",
                            "the server may have restarted; send the prompt again")
    if isinstance(exc, httpx.HTTPError):
        return BackendError("network", f"Network error talking to {url}: {exc}", "")
    return None


# -- the backend ---------------------------------------------------------------


class DescribedCalls:
    """`_call`: await a client call, turning any failure into the BackendError `_describe` words (with the
    host's secrets blanked). Shared by every engine's backend, each describing its own client's errors."""

    def _describe(self, exc: BaseException, model: str | None) -> BackendError:
        raise NotImplementedError

    async def _call(self, coro: Any, model: str | None = None) -> Any:
        try:
            return await coro
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a BackendError
            raise self._describe(exc, model) from exc


class LazyClients:
    """The clients' life that every engine's backend shares: `client` (the engine's official client, a
    `functools.cached_property` of each backend) and `_http` (for the endpoints that client has no method
    for) are made at their first use or by `prepare`, and `aclose` closes only those made (see
    `client_library`)."""

    url: str
    headers: dict[str, str]
    _stall_timeout: float
    client: Any

    @functools.cached_property
    def _http(self) -> httpx.AsyncClient:
        """For the engine's own endpoints that its client has no method for (/api/version, /version,
        /metrics), with this host's credentials only."""
        import httpx

        return httpx.AsyncClient(base_url=self.url, timeout=self._timeout(), headers=self.headers,
                                 transport=self._transport())

    def prepare(self) -> None:
        """Make the clients now: importing the libraries and loading the TLS context take a third of a
        second on a busy machine, so the app does it in a thread, not at the first call on the event loop."""
        _ = (self.client, self._http)

    def _timeout(self) -> httpx.Timeout:
        import httpx

        return httpx.Timeout(connect=5.0, read=self._stall_timeout, write=30.0, pool=10.0)

    def _transport(self) -> httpx.AsyncHTTPTransport:
        """A transport that sends this host's credentials to this host only (`tui.core.transport`)."""
        from tui.core.transport import GuardedTransport, authorization_of

        return GuardedTransport(self.url, authorization_of(self.headers))

    async def aclose(self) -> None:
        # Only the clients made (cached_property keeps them in the instance); one never made has nothing open.
        if "client" in self.__dict__:
            await self.client.close()
        if "_http" in self.__dict__:
            await self._http.aclose()


class OllamaBackend(LazyClients, DescribedCalls):
    """One Ollama server. Cheap to create; all methods are coroutines safe to cancel."""

    engine = "ollama"
    manages_models = True  # pull, delete, load and unload are Ollama's verbs

    def __init__(
        self,
        host: str | None = None,
        *,
        stall_timeout: float = DEFAULT_STALL_TIMEOUT,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.url = normalize_host(host)
        self.headers: dict[str, str] = dict(headers or {})  # what r1tui configured for this host, and only that
        # The credentials in those headers ("Bearer TOKEN" -> "TOKEN"): never shown, never saved.
        self.secrets = [value.split(" ", 1)[-1] for value in self.headers.values() if value]
        self._stall_timeout = stall_timeout
        self._details: dict[str, ModelDetails] = {}
        self._version: str | None = None

    @functools.cached_property
    def client(self) -> ollama.AsyncClient:
        """The official client, made at its first use (see `client_library`)."""
        return client_library().AsyncClient(host=self.url, timeout=self._timeout(), headers=self.headers,
                                            transport=self._transport())

    @property
    def is_local(self) -> bool:
        return is_local_host(self.url)

    def _describe(self, exc: BaseException, model: str | None) -> BackendError:
        return describe_error(exc, self.url, model).without(self.secrets)

    async def _get_json(self, path: str) -> Any:
        response = await self._http.get(path)
        if response.is_error:
            raise client_library().ResponseError(response.text, response.status_code)
        return response.json()

    async def version(self) -> str:
        data = await self._call(self._get_json("/api/version"))
        self._version = str((data.get("version") if isinstance(data, dict) else "") or "")
        return self._version

    async def list_models(self) -> list[InstalledModel]:
        response = await self._call(self.client.list())
        models = []
        for entry in response.models:
            details = entry.details
            models.append(InstalledModel(
                name=entry.model or "",
                size=int(entry.size or 0),
                family=(details.family if details else "") or "",
                parameter_size=(details.parameter_size if details else "") or "",
                quantization=(details.quantization_level if details else "") or "",
                modified_at=entry.modified_at,
            ))
        return models

    async def show(self, model: str, *, refresh: bool = False) -> ModelDetails:
        if not refresh and model in self._details:
            return self._details[model]
        response = await self._call(self.client.show(model), model)
        details = response.details
        result = ModelDetails(
            name=model,
            capabilities=tuple(response.capabilities or ()),
            template=response.template or "",
            family=(details.family if details else "") or "",
            parameter_size=(details.parameter_size if details else "") or "",
            quantization=(details.quantization_level if details else "") or "",
            model_info=dict(response.modelinfo or {}),
            license=response.license or "",
            parameters=response.parameters or "",
        )
        self._details[model] = result
        return result

    async def ps(self) -> list[LoadedModel]:
        response = await self._call(self.client.ps())
        return [
            LoadedModel(
                name=entry.model or entry.name or "",
                size=int(entry.size or 0),
                size_vram=int(entry.size_vram or 0),
                context_length=int(getattr(entry, "context_length", 0) or 0),
                expires_at=entry.expires_at,
            )
            for entry in response.models
        ]

    async def uses_think_field(self, model: str) -> tuple[bool, bool]:
        """(send `think: true`, start the splitter inside the block) for this model on this server."""
        details = await self.show(model)
        if self._version is None:
            try:
                await self.version()
            except BackendError:
                self._version = ""
        new_enough = parse_version(self._version) >= THINK_FIELD_MIN_VERSION
        return (details.can_think and new_enough), details.template_prefills_think

    async def chat(
        self,
        model: str,
        messages: list[dict[str, str]],
        *,
        options: dict[str, Any] | None = None,
        keep_alive: str | float | None = None,
        think: bool | None = None,
    ) -> AsyncIterator[StreamDelta | StreamDone]:
        """Stream one reply. Cancelling the consumer closes the HTTP stream, so the server stops too.

        `think`: None lets the model think as it does (asking for the `thinking` field where the
        server has it); False asks the server not to think at all, sent only where it can
        (`can_turn_thinking_off`), else the model thinks as usual.
        """
        uses_field, prefilled = await self.uses_think_field(model)
        kwargs: dict[str, Any] = {"model": model, "messages": messages, "stream": True, "options": options or None}
        if uses_field:
            kwargs["think"] = think is not False
        if keep_alive is not None:
            kwargs["keep_alive"] = keep_alive
        split = not uses_field
        splitter = ThinkSplitter(in_reasoning=prefilled)
        stream = await self._call(self.client.chat(**kwargs), model)

        def parts(chunk: Any) -> tuple[str, str]:
            message = chunk.message
            reasoning = (message.thinking or "") if message else ""
            content = (message.content or "") if message else ""
            return (splitter.feed(content) if split else (reasoning, content))

        async for event in self._stream(stream, model, parts, splitter if split else None):
            yield event

    async def can_turn_thinking_off(self, model: str) -> bool:
        """Whether `think: false` works here: Ollama >= 0.9 and a model with the `thinking` capability."""
        uses_field, _ = await self.uses_think_field(model)
        return uses_field

    async def continue_after_thinking(
        self,
        model: str,
        messages: list[dict[str, str]],
        reasoning_so_far: str,
        *,
        options: dict[str, Any] | None = None,
        keep_alive: str | float | None = None,
    ) -> AsyncIterator[StreamDelta | StreamDone]:
        """Stream the answer to `messages` from the reasoning so far: budget forcing's second request.

        The model gets the conversation, then its own unfinished turn holding
        `reasoning_so_far` closed by `</think>`, and writes the answer from there; every
        delta is answer text, and `StreamDone` carries the server's figures for this
        request (its prompt holds the reasoning: `prompt_eval_count + eval_count` is the
        context in use). Every engine implements the same contract:
        - Ollama, DeepSeek's template: `/api/generate` with `raw: true` and the prompt
          rendered in that template (`tui.core.r1_template`), taken as-is;
        - Ollama, any other template: `/api/chat` whose last message is the assistant's
          unfinished turn (Ollama continues a final assistant message);
        - vLLM, SGLang, llama.cpp: a raw `/v1/completions` of the same DeepSeek-format prompt
          (`tui.core.openai_backend`; a chat's final assistant message would lose the reasoning,
          since the distills' chat template keeps only what follows `</think>`).
        Errors are `BackendError`s; cancelling closes the stream, as `chat` does.
        """
        details = await self.show(model)
        if is_deepseek_template(details.template):
            kwargs: dict[str, Any] = {"model": model, "prompt": continuation_prompt(messages, reasoning_so_far),
                                      "raw": True, "stream": True, "options": options or None}
            if keep_alive is not None:
                kwargs["keep_alive"] = keep_alive
            stream = await self._call(self.client.generate(**kwargs), model)

            def parts(chunk: Any) -> tuple[str, str]:
                return "", chunk.response or ""
        else:
            prefill = {"role": "assistant", "content": reasoning_prefill(reasoning_so_far)}
            kwargs = {"model": model, "messages": [*messages, prefill], "stream": True, "options": options or None}
            if keep_alive is not None:
                kwargs["keep_alive"] = keep_alive
            stream = await self._call(self.client.chat(**kwargs), model)

            def parts(chunk: Any) -> tuple[str, str]:
                message = chunk.message
                return "", ((message.content or "") if message else "")

        async for event in self._stream(stream, model, parts, None):
            yield event

    async def _stream(self, stream: Any, model: str, parts: Any,
                      splitter: ThinkSplitter | None) -> AsyncIterator[StreamDelta | StreamDone]:
        """Deltas from a client stream (`parts` turns a chunk into reasoning and answer), then StreamDone."""
        try:
            async for chunk in stream:
                reasoning, answer = parts(chunk)
                if reasoning or answer or not chunk.done:
                    yield StreamDelta(reasoning, answer)
                if chunk.done:
                    if splitter is not None:
                        tail_reasoning, tail_answer = splitter.finish()
                        if tail_reasoning or tail_answer:
                            yield StreamDelta(tail_reasoning, tail_answer)
                    yield StreamDone(GenerationStats.from_response(chunk))
                    return
        except (asyncio.CancelledError, GeneratorExit):
            raise
        except BaseException as exc:  # noqa: BLE001
            raise self._describe(exc, model) from exc
        finally:
            await _aclose(stream)
        raise BackendError("dropped", "The stream ended before the model finished",
                           "the server may have restarted; send the prompt again")

    async def context_length(self, model: str) -> int:
        """The context the server loaded `model` with (`/api/ps`), 0 when not loaded or unknown."""
        try:
            loaded = await self.ps()
        except BackendError:
            return 0
        wanted = model if ":" in model else f"{model}:latest"
        return next((row.context_length for row in loaded if row.name == wanted), 0)

    async def pull(self, model: str) -> AsyncIterator[PullProgress]:
        stream = await self._call(self.client.pull(model, stream=True), model)
        try:
            async for part in stream:
                yield PullProgress(part.status or "", part.digest, part.total, part.completed)
        except (asyncio.CancelledError, GeneratorExit):
            raise
        except BaseException as exc:  # noqa: BLE001
            raise self._describe(exc, model) from exc
        finally:
            await _aclose(stream)

    async def delete(self, model: str) -> None:
        await self._call(self.client.delete(model), model)
        self._details.pop(model, None)

    async def load(self, model: str, keep_alive: str | float | None = None) -> GenerationStats:
        """Load weights ahead of the next prompt (an empty generate request)."""
        response = await self._call(self.client.generate(model=model, prompt="", keep_alive=keep_alive), model)
        return GenerationStats.from_response(response)

    async def unload(self, model: str) -> None:
        """Free the model's memory now (keep_alive 0)."""
        await self._call(self.client.generate(model=model, prompt="", keep_alive=0), model)


async def _aclose(stream: Any) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        try:
            await close()
        except BaseException:  # noqa: BLE001 - closing a broken stream must not mask the real error
            pass
