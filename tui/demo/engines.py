"""Simulated vLLM, SGLang and llama.cpp servers: the OpenAI-compatible wire format over real HTTP.

Why it exists: r1tui follows its users from Ollama to the engines that serve a
model over many GPUs, and no such engine runs in tests, CI or `--demo`. Like the
simulated Ollama next to it, this serves the endpoints, field names, status codes,
error shapes, Server-Sent Events and Prometheus metric names of each engine's own
sources, so the app talks to it through the official `openai` client and
`prometheus_client` over a real socket.

What differs between the flavours (and is what r1tui must get right):
- how the engine is recognised: vLLM `GET /version`, SGLang `GET /get_server_info`,
  llama.cpp `GET /props`;
- where streamed reasoning goes: vLLM >= 0.16 `delta.reasoning`; vLLM 0.11-0.15 the
  same text under both `reasoning` and `reasoning_content`; vLLM <= 0.10, SGLang and
  llama.cpp `reasoning_content`; without a reasoning parser the text arrives inline
  in `content`, with only the closing `</think>` (DeepSeek's template opens the block);
- error bodies: vLLM >= 0.10.1 and llama.cpp `{"error": {"message", "type", "code"}}`,
  older vLLM flat `{"object": "error", "message", "type", "code"}`; mid-stream errors
  are a `data: {"error": {...}}` event;
- metrics: `vllm:*`, `sglang:*`, `llamacpp:*` (llama.cpp answers 501 unless started
  with `--metrics`);
- figures: a `usage` chunk when `stream_options.include_usage` is set (vLLM adds
  `completion_tokens_details.reasoning_tokens`), llama.cpp's `timings` on the last chunk.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from tui.demo.reasoning_sim import answer_after, chat_continuation, parse_raw_prompt
from tui.demo.http_sim import HttpSimulator, _ClientGone, serve_until_interrupted
from tui.demo.simserver import Faults, Reply, ScriptedReplies, tokens

__all__ = ["ENGINE_FLAVOURS", "ServedModel", "SimulatedEngine", "default_served_models"]

ENGINE_FLAVOURS = ("vllm", "sglang", "llama.cpp")
_DEFAULT_VERSIONS = {"vllm": "0.16.0", "sglang": "0.5.4", "llama.cpp": "b6715"}


@dataclass
class ServedModel:
    """One model an engine serves: the id clients send, and its context length."""

    id: str
    max_model_len: int = 32768
    parameter_count: int = 7_615_616_512
    size_bytes: int = 15_231_233_024  # BF16 weights


def default_served_models(flavour: str = "vllm") -> list[ServedModel]:
    """What a typical launch serves: vLLM and SGLang the Hugging Face repo, llama.cpp a GGUF file."""
    if flavour == "llama.cpp":
        return [ServedModel("DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf", 8192, 7_615_616_512, 4_683_073_536)]
    return [ServedModel("deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", 32768, 32_763_876_352, 65_527_752_704)]


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.lstrip("v").split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


@dataclass
class EngineLoad:
    """The figures an engine's /metrics reports; tests and the demo set the ones not measured."""

    waiting: int = 0
    kv_cache_usage: float = 0.12
    generation_tokens_total: int = 0
    prompt_tokens_total: int = 0
    recent_tps: float = 0.0


class SimulatedEngine(ScriptedReplies, HttpSimulator):
    """A real HTTP server on 127.0.0.1 that behaves like `vllm serve`, SGLang or `llama-server`.

    Every knob is a plain attribute and may be changed while it runs.
    """

    def __init__(
        self,
        flavour: str = "vllm",
        *,
        version: str | None = None,
        models: list[ServedModel] | None = None,
        rate: float = 0.0,
        reasoning_parser: bool = True,
        reply: Callable[[list[dict[str, Any]]], Reply] | Reply | None = None,
        api_key: str | None = None,
        metrics: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if flavour not in ENGINE_FLAVOURS:
            raise ValueError(f"flavour must be one of {ENGINE_FLAVOURS}, not {flavour!r}")
        self.flavour = flavour
        self.version = version or _DEFAULT_VERSIONS[flavour]
        self.models: dict[str, ServedModel] = {m.id: m for m in (models or default_served_models(flavour))}
        self.rate = rate
        self.reasoning_parser = reasoning_parser
        self.reply = reply
        self.api_key = api_key
        self.metrics_enabled = metrics  # llama.cpp serves /metrics only when started with --metrics
        self.faults = Faults()
        self.answer_mode: Any = None  # a tui.demo.answers.AnswerMode, as on the simulated Ollama
        self.load = EngineLoad()
        self.running_streams = 0
        self.requests: list[tuple[str, str, dict[str, Any], dict[str, str]]] = []
        self.completed_streams = 0
        self.abandoned_streams = 0
        self.thread_name = f"sim-{flavour}"
        self._listen_on(host, port)
        self._lock = threading.Lock()


    # -- behaviour ---------------------------------------------------------------

    @property
    def reasoning_fields(self) -> tuple[str, ...]:
        """The delta fields this engine puts streamed reasoning in (none without a parser)."""
        if not self.reasoning_parser:
            return ()
        if self.flavour != "vllm":
            return ("reasoning_content",)
        version = _version_tuple(self.version)
        if version >= (0, 16):
            return ("reasoning",)
        if version >= (0, 11):
            return ("reasoning", "reasoning_content")
        return ("reasoning_content",)

    @property
    def nested_errors(self) -> bool:
        """vLLM before 0.10.1 answered errors flat, with `"object": "error"`."""
        return self.flavour != "vllm" or _version_tuple(self.version) >= (0, 10, 1)

    def error_body(self, status: int, message: str, kind: str) -> dict[str, Any]:
        if self.nested_errors:
            if self.flavour == "llama.cpp":
                return {"error": {"code": status, "message": message, "type": kind}}
            return {"error": {"message": message, "type": kind, "param": None, "code": status}}
        return {"object": "error", "message": message, "type": kind, "param": None, "code": status}

    def metrics_text(self) -> bytes:
        """The Prometheus exposition of this engine's metric names, written by prometheus_client."""
        registry = CollectorRegistry()
        registry.register(_EngineCollector(self))
        return generate_latest(registry)


class _EngineCollector:
    def __init__(self, sim: SimulatedEngine) -> None:
        self.sim = sim

    def collect(self) -> Iterator[Any]:
        sim, load = self.sim, self.sim.load
        model = next(iter(sim.models), "")
        if sim.flavour == "vllm":
            labels = ["engine", "model_name"]
            values = ["0", model]

            def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
                family = GaugeMetricFamily(name, doc, labels=labels)
                family.add_metric(values, value)
                return family

            yield gauge("vllm:num_requests_running", "Number of requests in model execution batches.",
                        sim.running_streams)
            yield gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", load.waiting)
            cache = "vllm:kv_cache_usage_perc" if _version_tuple(sim.version) >= (0, 10) else "vllm:gpu_cache_usage_perc"
            yield gauge(cache, "KV-cache usage. 1 means 100 percent usage.", load.kv_cache_usage)
            for name, doc, value in (("vllm:generation_tokens", "Number of generation tokens processed.",
                                      load.generation_tokens_total),
                                     ("vllm:prompt_tokens", "Number of prefill tokens processed.",
                                      load.prompt_tokens_total)):
                counter = CounterMetricFamily(name, doc, labels=labels)
                counter.add_metric(values, value)
                yield counter
        elif sim.flavour == "sglang":
            labels = ["model_name"]
            for name, doc, value in (
                ("sglang:num_running_reqs", "The number of running requests.", sim.running_streams),
                ("sglang:num_queue_reqs", "The number of requests in the waiting queue.", load.waiting),
                ("sglang:token_usage", "The token usage.", load.kv_cache_usage),
                ("sglang:gen_throughput", "The generation throughput (token/s).", load.recent_tps),
            ):
                family = GaugeMetricFamily(name, doc, labels=labels)
                family.add_metric([model], value)
                yield family
        else:
            for name, doc, value in (
                ("llamacpp:requests_processing", "Number of requests processing.", sim.running_streams),
                ("llamacpp:requests_deferred", "Number of requests deferred.", load.waiting),
                ("llamacpp:predicted_tokens_seconds", "Average generation throughput in tokens/s.",
                 load.recent_tps),
            ):
                yield GaugeMetricFamily(name, doc, value=value)
            counter = CounterMetricFamily("llamacpp:tokens_predicted", "Number of generation tokens processed.",
                                          value=load.generation_tokens_total)
            yield counter


class _EngineHandler(BaseHTTPRequestHandler):
    sim: SimulatedEngine
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    server_version = "uvicorn"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    # -- plumbing ------------------------------------------------------------------

    def _body(self) -> dict[str, Any] | None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            return None
        return body if isinstance(body, dict) else None

    def _send(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _error(self, status: int, message: str, kind: str) -> None:
        self._json(status, self.sim.error_body(status, message, kind))

    def _authorized(self) -> bool:
        """`--api-key`: every /v1 route wants `Authorization: Bearer KEY` (vLLM answers a bare 401)."""
        key = self.sim.api_key
        if key is None or self.headers.get("Authorization") == f"Bearer {key}":
            return True
        if self.sim.flavour == "llama.cpp":
            self._error(401, "Invalid API Key", "authentication_error")
        else:
            self._json(401, {"error": "Unauthorized"})
        return False

    def _event(self, payload: Any) -> None:
        data = b"data: " + (payload if isinstance(payload, bytes) else json.dumps(payload).encode()) + b"\n\n"
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        except OSError as exc:
            raise _ClientGone from exc

    def _end(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            pass

    def _record(self, body: dict[str, Any]) -> None:
        self.sim.requests.append((self.command, self.path, body, dict(self.headers.items())))

    # -- routes ----------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802
        sim = self.sim
        self._record({})
        path = self.path.split("?", 1)[0]
        if path == "/health":
            if sim.flavour == "llama.cpp":
                return self._json(200, {"status": "ok"})
            return self._send(200, b"", "application/json")
        if path == "/metrics":
            if sim.flavour == "llama.cpp" and not sim.metrics_enabled:
                return self._error(501, "This server does not support metrics endpoint. Start it with `--metrics`",
                                   "not_supported_error")
            return self._send(200, sim.metrics_text(), "text/plain; version=0.0.4; charset=utf-8")
        if path == "/version" and sim.flavour == "vllm":
            return self._json(200, {"version": sim.version})
        if path in ("/get_server_info", "/server_info") and sim.flavour == "sglang":
            model = next(iter(sim.models.values()))
            return self._json(200, {"model_path": model.id, "tokenizer_path": model.id, "tp_size": 1, "dp_size": 1,
                                    "context_length": model.max_model_len, "reasoning_parser":
                                    "deepseek-r1" if sim.reasoning_parser else None, "version": sim.version})
        if path == "/props" and sim.flavour == "llama.cpp":
            model = next(iter(sim.models.values()))
            return self._json(200, {"default_generation_settings": {"n_ctx": model.max_model_len, "params": {}},
                                    "total_slots": 1, "model_path": f"/models/{model.id}",
                                    "modalities": {"vision": False, "audio": False},
                                    "build_info": f"{sim.version}-1a2b3c4"})
        if path == "/v1/models":
            if not self._authorized():
                return None
            return self._json(200, {"object": "list", "data": [self._model_entry(m) for m in sim.models.values()]})
        if sim.flavour == "llama.cpp":
            return self._error(404, "File Not Found", "not_found_error")
        return self._json(404, {"detail": "Not Found"})

    def _model_entry(self, model: ServedModel) -> dict[str, Any]:
        created = int(time.time())
        if self.sim.flavour == "llama.cpp":
            return {"id": model.id, "object": "model", "created": created, "owned_by": "llamacpp",
                    "meta": {"vocab_type": 2, "n_vocab": 152064, "n_ctx_train": 131072, "n_embd": 3584,
                             "n_params": model.parameter_count, "size": model.size_bytes}}
        owner = "vllm" if self.sim.flavour == "vllm" else "sglang"
        entry = {"id": model.id, "object": "model", "created": created, "owned_by": owner, "root": model.id,
                 "parent": None, "max_model_len": model.max_model_len}
        if owner == "vllm":
            entry["permission"] = [{"id": f"modelperm-{uuid.uuid4().hex}", "object": "model_permission",
                                    "created": created, "allow_create_engine": False, "allow_sampling": True,
                                    "allow_logprobs": True, "allow_search_indices": False, "allow_view": True,
                                    "allow_fine_tuning": False, "organization": "*", "group": None,
                                    "is_blocking": False}]
        return entry

    def do_POST(self) -> None:  # noqa: N802
        body = self._body()
        self._record(body or {})
        path = self.path.split("?", 1)[0]
        if path not in ("/v1/chat/completions", "/v1/completions"):
            return self._json(404, {"detail": "Not Found"})
        if not self._authorized():
            return None
        if body is None:
            return self._error(400, "Expecting value: line 1 column 1 (char 0)", "BadRequestError")
        try:
            self._chat(body) if path == "/v1/chat/completions" else self._complete(body)
        except _ClientGone:
            self.sim.abandoned_streams += 1
            self.close_connection = True

    def _chat(self, body: dict[str, Any]) -> None:
        sim = self.sim
        name = body.get("model") or next(iter(sim.models), "")
        if name not in sim.models and sim.flavour != "llama.cpp":  # llama-server serves its one model by any name
            return self._error(404, f"The model `{name}` does not exist.", "NotFoundError")
        faults = sim.take_faults()
        if faults.status_before_stream:
            return self._error(faults.status_before_stream, faults.message_before_stream, "BadRequestError")
        messages = body.get("messages") or []
        prompt_tokens = sum(len(tokens(str(m.get("content", "")))) for m in messages) + 4 * len(messages) + 1
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        # vLLM and SGLang continue a final assistant message when asked; llama-server always does.
        continues = body.get("continue_final_message") or sim.flavour == "llama.cpp"
        continuation = chat_continuation(messages) if continues else None
        if continuation is not None and continuation.closed:
            reply = sim.reply_for(continuation.messages, name)
            pieces = [("content", token) for token in tokens(answer_after(reply, continuation.reasoning))]
        else:
            reply = sim.reply_for(messages, name)
            pieces = list(self._pieces(reply))
        finish = "stop"
        if isinstance(limit, int) and 0 < limit < len(pieces):
            pieces, finish = pieces[:limit], "length"
        if not body.get("stream"):
            return self._whole(name, pieces, prompt_tokens, finish)
        self._stream(body, name, pieces, prompt_tokens, finish, faults)

    def _complete(self, body: dict[str, Any]) -> None:
        """`/v1/completions`: a raw prompt continued as written. r1tui sends one after a cut reasoning (the
        conversation in DeepSeek's format ending with `</think>`); the model then writes its answer."""
        sim = self.sim
        name = body.get("model") or next(iter(sim.models), "")
        if name not in sim.models and sim.flavour != "llama.cpp":
            return self._error(404, f"The model `{name}` does not exist.", "NotFoundError")
        prompt = str(body.get("prompt") or "")
        continuation = parse_raw_prompt(prompt)
        reply = sim.reply_for(continuation.messages, name)
        text = answer_after(reply, continuation.reasoning) if continuation.closed else reply.answer
        pieces = tokens(text)
        limit = body.get("max_tokens")
        finish = "stop"
        if isinstance(limit, int) and 0 < limit < len(pieces):
            pieces, finish = pieces[:limit], "length"
        chunk_id = f"cmpl-{uuid.uuid4().hex}"

        def chunk(text: str, finish_reason: str | None = None) -> dict[str, Any]:
            return {"id": chunk_id, "object": "text_completion", "created": int(time.time()), "model": name,
                    "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish_reason}]}

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        started = time.perf_counter()
        for index, piece in enumerate(pieces):
            if sim.rate > 0:
                delay = started + (index + 1) / sim.rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            self._event(chunk(piece))
        self._event(chunk("", finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            prompt_tokens = len(tokens(prompt)) + 1
            self._event({"id": chunk_id, "object": "text_completion", "created": int(time.time()), "model": name,
                         "choices": [], "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(pieces),
                                                  "total_tokens": prompt_tokens + len(pieces)}})
        self._event(b"[DONE]")
        self._end()
        sim.completed_streams += 1

    def _pieces(self, reply: Reply) -> Iterator[tuple[str, str]]:
        """("reasoning", text) or ("content", text) per token, as the engine's parser splits them."""
        if self.sim.reasoning_parser:
            for token in tokens(reply.reasoning):
                yield "reasoning", token
            for index, token in enumerate(tokens(reply.answer)):
                yield "content", token.lstrip() if index == 0 else token
            return
        # No parser: the template opened <think>, so the model's own text closes it inline.
        for token in tokens(reply.reasoning):
            yield "content", token
        yield "content", "\n</think>\n\n"
        for token in tokens(reply.answer):
            yield "content", token

    def _chunk(self, chunk_id: str, name: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        if self.sim.flavour == "vllm":
            choice["stop_reason"] = None
        return {"id": chunk_id, "object": "chat.completion.chunk", "created": int(time.time()), "model": name,
                "choices": [choice]}

    def _usage(self, prompt_tokens: int, pieces: list[tuple[str, str]]) -> dict[str, Any]:
        completion = len(pieces)
        usage: dict[str, Any] = {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens + completion,
                                 "completion_tokens": completion}
        if self.sim.flavour == "vllm" and self.sim.reasoning_parser:
            usage["completion_tokens_details"] = {"reasoning_tokens": sum(k == "reasoning" for k, _ in pieces)}
        return usage

    def _stream(self, body: dict[str, Any], name: str, pieces: list[tuple[str, str]], prompt_tokens: int,
                finish: str, faults: Faults) -> None:
        sim = self.sim
        chunk_id = f"chatcmpl-{uuid.uuid4().hex}"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        with sim._lock:
            sim.running_streams += 1
            sim.load.prompt_tokens_total += prompt_tokens
        started = time.perf_counter()
        try:
            self._event(self._chunk(chunk_id, name, {"role": "assistant", "content": ""}))
            for index, (kind, text) in enumerate(pieces):
                if faults.error_after_tokens is not None and index == faults.error_after_tokens:
                    body_ = sim.error_body(400, faults.error_message, "BadRequestError")
                    self._event(body_ if "error" in body_ else {"error": body_})
                    self._event(b"[DONE]")
                    return self._end()
                if faults.drop_after_tokens is not None and index == faults.drop_after_tokens:
                    self.close_connection = True
                    return self.connection.close()
                if faults.stall_after_tokens is not None and index == faults.stall_after_tokens:
                    deadline = time.monotonic() + faults.stall_seconds
                    while time.monotonic() < deadline and sim.running:
                        time.sleep(0.05)
                if sim.rate > 0:
                    delay = started + (index + 1) / sim.rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                if not sim.running:
                    self.close_connection = True
                    return self.connection.close()
                if kind == "reasoning":
                    delta: dict[str, Any] = {field: text for field in sim.reasoning_fields}
                else:
                    delta = {"content": text}
                self._event(self._chunk(chunk_id, name, delta))
                with sim._lock:
                    sim.load.generation_tokens_total += 1
            elapsed = max(time.perf_counter() - started, 1e-6)
            last = self._chunk(chunk_id, name, {"content": ""}, finish)
            usage = self._usage(prompt_tokens, pieces)
            if sim.flavour == "llama.cpp":
                last["timings"] = {"prompt_n": prompt_tokens, "prompt_ms": prompt_tokens * 0.2,
                                   "prompt_per_second": 5000.0, "predicted_n": len(pieces),
                                   "predicted_ms": elapsed * 1000, "predicted_per_second": len(pieces) / elapsed}
                last["usage"] = usage
            self._event(last)
            if (body.get("stream_options") or {}).get("include_usage") and sim.flavour != "llama.cpp":
                self._event({"id": chunk_id, "object": "chat.completion.chunk", "created": int(time.time()),
                             "model": name, "choices": [], "usage": usage})
            self._event(b"[DONE]")
            self._end()
            sim.load.recent_tps = len(pieces) / elapsed
            sim.completed_streams += 1
        finally:
            with sim._lock:
                sim.running_streams -= 1

    def _whole(self, name: str, pieces: list[tuple[str, str]], prompt_tokens: int, finish: str) -> None:
        reasoning = "".join(text for kind, text in pieces if kind == "reasoning")
        content = "".join(text for kind, text in pieces if kind == "content")
        message: dict[str, Any] = {"role": "assistant", "content": content}
        for field_name in self.sim.reasoning_fields:
            message[field_name] = reasoning
        self._json(200, {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion",
                         "created": int(time.time()), "model": name,
                         "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                         "usage": self._usage(prompt_tokens, pieces)})


SimulatedEngine.handler = _EngineHandler  # defined after the class that serves it


def main(argv: list[str] | None = None) -> None:
    """`python -m tui.demo.engines --flavour vllm [--port N] [--rate R]`: serve until interrupted."""
    import argparse

    parser = argparse.ArgumentParser(description="Run a simulated vLLM, SGLang or llama.cpp server.")
    parser.add_argument("--flavour", choices=ENGINE_FLAVOURS, default="vllm")
    parser.add_argument("--version", default=None)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--rate", type=float, default=60.0)
    parser.add_argument("--no-reasoning-parser", action="store_true")
    parser.add_argument("--api-key", default=None)
    from tui.demo import answers

    answers.add_arguments(parser)
    args = parser.parse_args(argv)
    sim = SimulatedEngine(args.flavour, version=args.version, port=args.port, rate=args.rate,
                          reasoning_parser=not args.no_reasoning_parser, api_key=args.api_key)
    sim.answer_mode = answers.from_arguments(args)
    sim.start()
    print(f"simulated {args.flavour} listening on {sim.url}", flush=True)
    serve_until_interrupted(sim)


if __name__ == "__main__":
    main()

