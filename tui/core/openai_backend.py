"""vLLM, SGLang, llama.cpp's `llama-server` (and any OpenAI-compatible server) through the official `openai` client.

Why a second backend and not a second stream loop: `tui.core.session.stream_turn`
is the one stream path; it asks a backend for `StreamDelta`/`StreamDone` events,
and this class produces exactly what `OllamaBackend` produces, from the
OpenAI wire format. What the engines disagree on is settled here, once:
- streamed reasoning arrives as `delta.reasoning` (vLLM >= 0.16, Ollama's /v1),
  `delta.reasoning_content` (vLLM <= 0.10, SGLang, llama.cpp) or both with the same
  text (vLLM 0.11-0.15): `reasoning` is taken when present, so nothing shows twice;
- a server started without a reasoning parser sends `<think>` inline: the same
  splitter as for old Ollama servers handles it, including the closing-tag-only
  form of DeepSeek's template (which opens the block for the model);
- figures come from the `usage` chunk (`stream_options.include_usage`), vLLM's
  `completion_tokens_details.reasoning_tokens` and llama.cpp's `timings`, with the
  client's own clock where the engine reports no durations;
- errors (typed status errors before the stream, `APIError` for a mid-stream
  `data: {"error": …}` event, connection errors) become the same `BackendError`s.

The engine serves a fixed model: pull, delete, load and unload raise a
BackendError of kind "unsupported" that says so, never fail silently.
"""

from __future__ import annotations

import asyncio
import functools
import re
import sys
import time
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

from tui.core.backend import (
    DEFAULT_STALL_TIMEOUT,
    BackendError,
    DescribedCalls,
    InstalledModel,
    LazyClients,
    LoadedModel,
    ModelDetails,
    PullProgress,
    StreamDelta,
    StreamDone,
    describe_error,
    is_local_host,
    normalize_host,
)
from tui.core.engine_metrics import EngineLoadReader
from tui.core.metrics import GenerationStats
from tui.core.r1_template import continuation_prompt
from tui.core.reasoning import ThinkSplitter

if TYPE_CHECKING:
    import openai

__all__ = ["OpenAICompatBackend", "chat_request", "describe_openai_error"]

# The openai client insists on a key; this placeholder (the one vLLM's docs use) is
# stripped by the guarded transport, so a server without --api-key never sees it.
_NO_KEY = "EMPTY"
_VERSION_PATHS = {"vllm": "/version", "sglang": "/get_server_info", "llama.cpp": "/props"}
_LABELS = {"vllm": "vLLM", "sglang": "SGLang", "llama.cpp": "llama.cpp", "openai": "OpenAI-compatible"}


def _error_text(body: object, fallback: str) -> str:
    """The human part of an engine's error body, whichever shape it has."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return str(inner.get("message") or fallback)
        if isinstance(inner, str):
            return inner
        return str(body.get("message") or fallback)
    if isinstance(body, str) and body:
        return body
    return fallback


def describe_openai_error(exc: BaseException, url: str, engine: str, model: str | None = None) -> BackendError:
    """The openai client's exceptions as the same BackendErrors the Ollama backend raises."""
    label = _LABELS.get(engine, engine)
    if isinstance(exc, BackendError):
        return exc
    openai = sys.modules.get("openai")  # imported with the first client (see OpenAICompatBackend.client)
    if openai is None:
        return describe_error(exc, url, model)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        text = _error_text(exc.body, exc.message)
        if any(word in text.lower() for word in ("out of memory", "cuda error", "oom")):
            return BackendError("oom", f"Out of memory: {text}", "try a smaller model or a shorter context", status)
        if status in (401, 403):
            return BackendError("unauthorized", f"{url} refused r1tui's credentials ({status}): {text}",
                                f"check the host's API key (token_env in [hosts.NAME]); {label} takes it "
                                "from its --api-key", status)
        if status == 404 and model is not None:
            return BackendError("not_found", f"{label} at {url} does not serve {model}: {text}",
                                "choose a model it serves with Ctrl+O (the list comes from /v1/models)", status)
        if status == 404:
            return BackendError("server_error", f"{url} answered 404: is it an OpenAI-compatible server? ({text})",
                                "", status)
        return BackendError("server_error", f"{label} error {status}: {text}", "", status)
    if isinstance(exc, openai.APITimeoutError):
        return BackendError("timeout", f"The server at {url} did not answer in time", "")
    if isinstance(exc, openai.APIConnectionError):
        import httpx

        cause = exc.__cause__
        if isinstance(cause, httpx.HTTPError) and not isinstance(cause, httpx.ConnectError):
            return describe_error(cause, url, model)
        return BackendError("unreachable", f"Cannot reach the {label} server at {url}",
                            f"is the {label} server running, and is the port right?")
    if isinstance(exc, openai.APIError):  # an error event mid-stream
        text = _error_text(exc.body, exc.message)
        return BackendError("stream_error", f"{label} reported an error mid-stream: {text}",
                            "send the prompt again", None)
    return describe_error(exc, url, model)


def chat_request(model: str, messages: list[dict[str, str]], options: dict[str, Any] | None) -> dict[str, Any]:
    """The keyword arguments of `chat.completions.create` for r1tui's (Ollama-named) options.

    Sampling names the OpenAI API has go as themselves; the engines' own extras
    (top_k, repetition_penalty) go in `extra_body`; num_ctx is the server's launch
    setting (`--max-model-len`), not a request option, so it is not sent.
    """
    options = options or {}
    request: dict[str, Any] = {"model": model, "messages": messages, "stream": True,
                               "stream_options": {"include_usage": True}}
    for ours, theirs in (("temperature", "temperature"), ("top_p", "top_p"), ("seed", "seed"),
                         ("num_predict", "max_tokens"), ("stop", "stop")):
        value = options.get(ours)
        if value is not None and not (ours == "num_predict" and value in (-1, -2)):
            request[theirs] = value
    extra: dict[str, Any] = {}
    if options.get("top_k") is not None:
        extra["top_k"] = options["top_k"]
    if options.get("repeat_penalty") is not None:
        extra["repetition_penalty"] = options["repeat_penalty"]
    if extra:
        request["extra_body"] = extra
    return request


def _parameter_size(name: str, parameters: int = 0) -> str:
    if parameters:
        return f"{parameters / 1e9:.1f}B"
    match = re.search(r"(\d+(?:\.\d+)?)[bB]\b", name)
    return f"{match.group(1)}B" if match else ""


class OpenAICompatBackend(LazyClients, DescribedCalls):
    """One OpenAI-compatible server (vLLM, SGLang, llama.cpp, …). All methods are coroutines safe to cancel."""

    manages_models = False

    def __init__(self, host: str | None = None, *, engine: str = "vllm", stall_timeout: float = DEFAULT_STALL_TIMEOUT,
                 headers: dict[str, str] | None = None) -> None:
        self.url = normalize_host(host)
        self.engine = engine
        self.headers: dict[str, str] = dict(headers or {})
        self.secrets = [value.split(" ", 1)[-1] for value in self.headers.values() if value]
        self._stall_timeout = stall_timeout
        self._models: dict[str, InstalledModel] = {}
        self._context: dict[str, int] = {}
        self._version: str | None = None

    @functools.cached_property
    def client(self) -> openai.AsyncOpenAI:
        """The official openai client for this host, made at its first use or by `prepare` (it imports its
        resources at their first use: about a second on a busy machine, also paid there)."""
        import httpx
        import openai

        from tui.core.transport import authorization_of

        authorization = authorization_of(self.headers)
        token = authorization.split(" ", 1)[-1] if authorization else _NO_KEY
        others = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
        client = openai.AsyncOpenAI(
            api_key=token, base_url=f"{self.url}/v1", timeout=self._timeout(), max_retries=0,
            default_headers=others or None,
            http_client=httpx.AsyncClient(timeout=self._timeout(), transport=self._transport()))
        _ = (client.models, client.chat.completions, client.completions)  # it imports these at first use
        return client

    @property
    def is_local(self) -> bool:
        return is_local_host(self.url)

    @property
    def label(self) -> str:
        return _LABELS.get(self.engine, self.engine)

    def load_reader(self) -> EngineLoadReader:
        """A reader of this engine's /metrics (requests, KV-cache use, tokens/s), with this host's credentials."""
        return EngineLoadReader(self._http, self.engine)

    def _describe(self, exc: BaseException, model: str | None = None) -> BackendError:
        return describe_openai_error(exc, self.url, self.engine, model).without(self.secrets)

    async def _get_json(self, path: str) -> Any:
        response = await self._http.get(path)
        if response.is_error:
            body: object
            try:
                body = response.json()
            except ValueError:
                body = response.text
            raise BackendError("server_error", f"{self.label} answered {response.status_code} to {path}: "
                               f"{_error_text(body, response.reason_phrase)}", "", response.status_code)
        return response.json()

    # -- what the server is and serves ---------------------------------------------------

    async def version(self) -> str:
        path = _VERSION_PATHS.get(self.engine)
        if path is None:
            await self.list_models()  # a generic server has no version endpoint: being reachable is the check
            self._version = ""
            return ""
        data = await self._call(self._get_json(path))
        key = "build_info" if self.engine == "llama.cpp" else "version"
        self._version = str((data.get(key) if isinstance(data, dict) else "") or "")
        if self.engine == "llama.cpp" and isinstance(data, dict):
            n_ctx = (data.get("default_generation_settings") or {}).get("n_ctx")
            if isinstance(n_ctx, int) and n_ctx > 0:
                self._context["*"] = n_ctx
        return self._version

    async def list_models(self) -> list[InstalledModel]:
        page = await self._call(self.client.models.list())
        models = []
        for entry in page.data:
            extra = entry.model_extra or {}
            meta = extra.get("meta") if isinstance(extra.get("meta"), dict) else {}
            context = extra.get("max_model_len")
            if isinstance(context, int) and context > 0:
                self._context[entry.id] = context
            size = int(meta.get("size") or 0)
            models.append(InstalledModel(name=entry.id, size=size,
                                         parameter_size=_parameter_size(entry.id, int(meta.get("n_params") or 0)),
                                         quantization=_quantization(entry.id)))
        self._models = {m.name: m for m in models}
        return models

    def served_context(self, model: str) -> int:
        """The served context (`max_model_len`, llama.cpp's `n_ctx`), 0 when the engine does not say."""
        return self._context.get(model) or self._context.get("*", 0)

    async def context_length(self, model: str) -> int:
        """As `OllamaBackend.context_length`: the context the model runs with (here: what it is served with)."""
        if not self._context:
            try:
                await self.list_models()
            except BackendError:
                return 0
        return self.served_context(model)

    async def show(self, model: str, *, refresh: bool = False) -> ModelDetails:
        if refresh or model not in self._models:
            await self.list_models()
        if model not in self._models:
            served = ", ".join(self._models) or "none"
            raise BackendError("not_found", f"{self.label} at {self.url} does not serve {model} (it serves: {served})",
                               "choose a model it serves with Ctrl+O", 404)
        entry = self._models[model]
        info: dict[str, Any] = {}
        if self.served_context(model):
            info["context_length"] = self.served_context(model)
        return ModelDetails(name=model, capabilities=("completion", "thinking"), family="",
                            parameter_size=entry.parameter_size, quantization=entry.quantization, model_info=info)

    async def ps(self) -> list[LoadedModel]:
        """Every served model is loaded, for as long as the engine runs. Sizes stay 0: no engine says how its
        weights are split between GPU and CPU, and r1tui does not guess."""
        models = await self.list_models()
        return [LoadedModel(name=m.name, size=0, size_vram=0, context_length=self.served_context(m.name))
                for m in models]

    async def uses_think_field(self, model: str) -> tuple[bool, bool]:
        """(send Ollama's `think`, start inside the block): the first never applies here; the model
        check happens first so that a missing model fails before the clock starts, as on Ollama."""
        await self.show(model)
        return False, False

    # -- the stream -----------------------------------------------------------------------

    async def chat(
        self,
        model: str,
        messages: list[dict[str, str]],
        *,
        options: dict[str, Any] | None = None,
        keep_alive: str | float | None = None,
        think: bool | None = None,
    ) -> AsyncIterator[StreamDelta | StreamDone]:
        """Stream one reply. Cancelling the consumer closes the HTTP stream, so the engine aborts the request.

        `think` is accepted for the one stream path; the distills cannot be told not to think here
        (`can_turn_thinking_off` says so), and keep_alive is Ollama's: an engine keeps its model loaded.
        """
        del keep_alive, think
        # DeepSeek's template opens <think> itself: without a reasoning parser only "</think>" comes.
        splitter = ThinkSplitter(in_reasoning="r1" in model.lower())
        fields_seen = False

        def parts(choice: Any) -> tuple[str, str]:
            nonlocal fields_seen
            fields = choice.delta.model_extra or {}
            reasoning = fields.get("reasoning")
            if not isinstance(reasoning, str):
                reasoning = fields.get("reasoning_content")
            reasoning = reasoning if isinstance(reasoning, str) else ""
            content = choice.delta.content or ""
            fields_seen = fields_seen or bool(reasoning)
            return (reasoning, content) if fields_seen else splitter.feed(content)

        def tail() -> tuple[str, str]:
            return ("", "") if fields_seen else splitter.finish()

        request = self.client.chat.completions.create(**chat_request(model, messages, options))
        async for event in self._stream(model, request, parts, tail):
            yield event

    async def can_turn_thinking_off(self, model: str) -> bool:
        """No: the R1 distills' template always opens the reasoning; the chat says so and the model thinks."""
        return False

    async def continue_after_thinking(
        self,
        model: str,
        messages: list[dict[str, str]],
        reasoning_so_far: str,
        *,
        options: dict[str, Any] | None = None,
        keep_alive: str | float | None = None,
    ) -> AsyncIterator[StreamDelta | StreamDone]:
        """The answer from the reasoning so far (budget forcing; see `OllamaBackend.continue_after_thinking`).

        A raw completion (`/v1/completions`) of the conversation in DeepSeek's own format, ending with the
        assistant's reasoning closed by `</think>`: what the model writes next is its answer. Not a chat whose
        last assistant message is continued (`continue_final_message`): the distills' chat template keeps only
        what follows `</think>` of an assistant message, so the model would answer without its reasoning.
        """
        del keep_alive
        request = chat_request(model, [], options)
        request.pop("messages")
        request["prompt"] = continuation_prompt(messages, reasoning_so_far)
        async for event in self._stream(model, self.client.completions.create(**request),
                                        lambda choice: ("", choice.text or "")):
            yield event

    async def _stream(self, model: str, request: Any, parts: Callable[[Any], tuple[str, str]],
                      tail: Callable[[], tuple[str, str]] | None = None) -> AsyncIterator[StreamDelta | StreamDone]:
        """The one SSE loop of chat and completion streams: `parts(choice)` gives a chunk's (reasoning,
        answer), `tail()` what a splitter held back at the end; figures from usage, timings and our clock."""
        started = time.perf_counter()
        first_token: float | None = None
        finish: str | None = None
        usage: Any = None
        timings: dict[str, Any] = {}
        stream = await self._call(request, model)
        try:
            async for chunk in stream:
                extra = chunk.model_extra or {}
                if isinstance(extra.get("timings"), dict):
                    timings = extra["timings"]
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices[:1]:
                    reasoning, answer = parts(choice)
                    if reasoning or answer:
                        first_token = first_token or time.perf_counter()
                        yield StreamDelta(reasoning, answer)
                    if choice.finish_reason is not None:
                        finish = choice.finish_reason
            if finish is None:
                raise BackendError("dropped", "The stream ended before the model finished",
                                   "the server may have restarted; send the prompt again")
            if tail is not None:
                tail_reasoning, tail_answer = tail()
                if tail_reasoning or tail_answer:
                    yield StreamDelta(tail_reasoning, tail_answer)
        except (asyncio.CancelledError, GeneratorExit):
            raise
        except BaseException as exc:  # noqa: BLE001
            raise self._describe(exc, model) from exc
        finally:
            await stream.close()
        yield StreamDone(_stats(started, first_token, time.perf_counter(), usage, timings, finish))

    # -- Ollama's model-management verbs --------------------------------------------------

    def _fixed(self, verb: str) -> BackendError:
        return BackendError("unsupported", f"{self.label} serves the model it was started with: r1tui cannot "
                            f"{verb} models there", f"restart {self.label} with another model to change it")

    async def pull(self, model: str) -> AsyncIterator[PullProgress]:
        raise self._fixed("pull")
        yield PullProgress("")  # pragma: no cover - makes this an async generator like OllamaBackend.pull

    async def delete(self, model: str) -> None:
        raise self._fixed("delete")

    async def load(self, model: str, keep_alive: str | float | None = None) -> GenerationStats:
        raise self._fixed("load or unload")

    async def unload(self, model: str) -> None:
        raise self._fixed("load or unload")


def _quantization(name: str) -> str:
    match = re.search(r"(Q\d_K_[SML]|Q\d_K|Q\d_\d|IQ\d_\w+|F16|BF16|AWQ|GPTQ|FP8)", name, re.IGNORECASE)
    return match.group(1).upper() if match else "BF16"


def _stats(started: float, first_token: float | None, ended: float, usage: Any, timings: dict[str, Any],
           finish: str | None) -> GenerationStats:
    """The engine's counts where it reports them, the client's clock for the durations it does not."""
    completion = int(getattr(usage, "completion_tokens", 0) or 0) or int(timings.get("predicted_n") or 0)
    prompt = int(getattr(usage, "prompt_tokens", 0) or 0) or int(timings.get("prompt_n") or 0)
    if timings.get("predicted_ms"):
        eval_ns = int(float(timings["predicted_ms"]) * 1e6)
    else:
        eval_ns = int((ended - (first_token or started)) * 1e9)
    if timings.get("prompt_ms"):
        prompt_ns = int(float(timings["prompt_ms"]) * 1e6)
    else:
        prompt_ns = int(((first_token or ended) - started) * 1e9)
    details = getattr(usage, "completion_tokens_details", None)
    reasoning = getattr(details, "reasoning_tokens", None) if details is not None else None
    return GenerationStats(eval_count=completion, eval_duration_ns=max(eval_ns, 1) if completion else 0,
                           prompt_eval_count=prompt, prompt_eval_duration_ns=prompt_ns if prompt else 0,
                           total_duration_ns=int((ended - started) * 1e9), done_reason=finish,
                           reasoning_count=int(reasoning) if reasoning is not None else None)
