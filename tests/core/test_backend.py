"""The backend through the real ollama client against the simulated server, over a real socket."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

import pytest

from tui.core.backend import BackendError, OllamaBackend, StreamDelta, StreamDone, normalize_host
from tui.core.conversation import Conversation
from tui.demo import Faults, Reply, SimulatedOllama

REPLY = Reply(reasoning="First I add.\n\nThen I check.", answer="The **answer** is `42`.")


async def collect(backend: OllamaBackend, model: str = "deepseek-r1:7b") -> tuple[str, str, StreamDone | None]:
    reasoning, answer, done = "", "", None
    async for event in backend.chat(model, [{"role": "user", "content": "q"}]):
        if isinstance(event, StreamDelta):
            reasoning += event.reasoning
            answer += event.answer
        else:
            done = event
    return reasoning, answer, done


@pytest.mark.parametrize("style", ["thinking", "inline", "closing"])
async def test_every_reasoning_style_is_split_the_same(sim: SimulatedOllama, style: str) -> None:
    sim.style = style
    sim.reply = REPLY
    backend = OllamaBackend(sim.url)
    reasoning, answer, done = await collect(backend)
    assert reasoning.strip() == REPLY.reasoning
    assert answer == REPLY.answer
    assert done is not None and done.stats.eval_count > 0 and done.stats.eval_rate
    chat_requests = [body for method, path, body in sim.requests if path == "/api/chat"]
    # think is only sent where the server lists the capability (old servers must not see it)
    assert ("think" in chat_requests[-1]) == (style == "thinking")
    await backend.aclose()


def test_wire_format_is_ndjson_with_ollama_fields(sim: SimulatedOllama) -> None:
    body = json.dumps({"model": "deepseek-r1:7b", "messages": [{"role": "user", "content": "hi"}], "think": True}).encode()
    request = urllib.request.Request(f"{sim.url}/api/chat", data=body, method="POST")
    with urllib.request.urlopen(request) as response:
        assert response.headers["Content-Type"] == "application/x-ndjson"
        assert response.headers["Transfer-Encoding"] == "chunked"
        lines = [json.loads(line) for line in response.read().splitlines()]
    assert all(set(line) >= {"model", "created_at", "message", "done"} for line in lines)
    assert any(line["message"].get("thinking") for line in lines[:-1])
    final = lines[-1]
    assert final["done"] is True and final["done_reason"] == "stop"
    for key in ("total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration"):
        assert isinstance(final[key], int)
    assert final["eval_count"] == len(lines) - 1


async def test_missing_model_is_a_clear_404(sim: SimulatedOllama) -> None:
    backend = OllamaBackend(sim.url)
    with pytest.raises(BackendError) as caught:
        await collect(backend, "deepseek-r1:99b")
    assert caught.value.kind == "not_found"
    assert "deepseek-r1:99b" in str(caught.value) and "pull" in str(caught.value)


@pytest.mark.parametrize(
    ("faults", "kind", "words"),
    [
        (Faults(error_after_tokens=5), "stream_error", "unexpected EOF"),
        (Faults(drop_after_tokens=5), "dropped", "dropped"),
        (Faults(status_before_stream=500), "oom", "smaller tag"),
        (Faults(status_before_stream=500, message_before_stream="CUDA error: out of memory"), "oom", "Out of memory"),
    ],
)
async def test_faults_become_messages(sim: SimulatedOllama, faults: Faults, kind: str, words: str) -> None:
    sim.faults = faults
    backend = OllamaBackend(sim.url)
    with pytest.raises(BackendError) as caught:
        await collect(backend)
    assert caught.value.kind == kind
    assert words in str(caught.value)
    # one-shot fault: the next prompt works
    _, answer, done = await collect(backend)
    assert answer and done is not None


async def test_stalled_stream_times_out(sim: SimulatedOllama) -> None:
    sim.faults = Faults(stall_after_tokens=3, stall_seconds=5)
    backend = OllamaBackend(sim.url, stall_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(BackendError) as caught:
        await collect(backend)
    assert caught.value.kind == "stalled"
    assert time.monotonic() - started < 4


async def test_unreachable_server_names_the_url() -> None:
    with SimulatedOllama() as server:
        url = server.url
    backend = OllamaBackend(url)
    with pytest.raises(BackendError) as caught:
        await backend.version()
    assert caught.value.kind == "unreachable" and url in str(caught.value)


async def test_cancelling_the_consumer_closes_the_stream_so_the_server_stops(sim: SimulatedOllama) -> None:
    sim.rate = 200
    sim.reply = Reply("think " * 500, "answer " * 500)
    backend = OllamaBackend(sim.url)

    async def consume() -> None:
        async for _ in backend.chat("deepseek-r1:7b", [{"role": "user", "content": "q"}]):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    deadline = time.monotonic() + 3
    while sim.abandoned_streams == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert sim.abandoned_streams == 1
    assert sim.completed_streams == 0


def test_reasoning_is_not_sent_back_in_later_turns() -> None:
    conversation = Conversation()
    first = conversation.start_turn("What is 2+2?", "deepseek-r1:7b")
    first.reasoning, first.answer = "Two and two make four.", "4"
    failed = conversation.start_turn("And 3+3?", "deepseek-r1:7b")
    failed.reasoning = "Three plus"  # stopped while thinking: no answer, left out
    conversation.start_turn("Thanks. And 5+5?", "deepseek-r1:8b")
    messages = conversation.messages_for_next()
    assert messages == [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "Thanks. And 5+5?"},
    ]


@pytest.mark.parametrize(
    ("given", "url"),
    [
        (None, "http://127.0.0.1:11434"),
        ("gpu-box", "http://gpu-box:11434"),
        ("gpu-box:8080", "http://gpu-box:8080"),
        ("https://lab.example.org", "https://lab.example.org:443"),
        ("http://lab.example.org", "http://lab.example.org:80"),
        ("0.0.0.0", "http://0.0.0.0:11434"),
        (":9000", "http://127.0.0.1:9000"),
        ("[::1]:8080", "http://[::1]:8080"),
        ("https://proxy.example.org/ollama/", "https://proxy.example.org:443/ollama"),
        ("  gpu-box  ", "http://gpu-box:11434"),
    ],
)
def test_host_forms_follow_ollama(given: str | None, url: str) -> None:
    assert normalize_host(given) == url


@pytest.mark.parametrize("given", ["gpu-box:99999", "http://[::1:8080"])
def test_a_malformed_host_is_refused(given: str) -> None:
    with pytest.raises(ValueError):
        normalize_host(given)


def test_a_client_hanging_up_leaves_no_traceback_but_a_real_server_error_still_shows(capsys) -> None:  # type: ignore[no-untyped-def]
    """Handler threads print whatever fails to stderr, where it lands in whatever is capturing
    stderr at that moment (another test, or a user's --demo terminal): a hang-up is normal and
    must say nothing; a bug in the simulated server must still be seen."""
    from tui.demo import SimulatedOllama

    with SimulatedOllama() as server:
        httpd = server._httpd
        assert httpd is not None
        for gone in (BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset"), TimeoutError()):
            try:
                raise gone
            except OSError:
                httpd.handle_error(None, ("127.0.0.1", 1))
        assert capsys.readouterr().err == ""
        try:
            raise ValueError("a bug in a route")
        except ValueError:
            httpd.handle_error(None, ("127.0.0.1", 1))
        assert "a bug in a route" in capsys.readouterr().err


SEPARATORS = ["\u0085", "\u2028", "\u2029", "\x1c", "\x1d", "\x1e", "\x0b", "\x0c", "\r"]


@pytest.mark.parametrize("raw_separators", [False, True], ids=["as-ollama-encodes", "all-raw"])
@pytest.mark.parametrize("style", ["thinking", "inline"])
async def test_unicode_line_separators_in_the_text_do_not_break_the_stream(
        sim: SimulatedOllama, style: str, raw_separators: bool) -> None:
    """Ollama writes NEL raw inside JSON; a reader that splits on it cut the line and killed the turn."""
    text = "".join(f"part {i}{sep}" for i, sep in enumerate(SEPARATORS)) + "end"
    sim.style = style
    sim.reply = Reply(reasoning="think " + text, answer="answer " + text)
    sim.escape_line_separators = not raw_separators
    backend = OllamaBackend(sim.url)
    try:
        reasoning, answer, done = await collect(backend)
    finally:
        await backend.aclose()
    assert answer == "answer " + text
    assert reasoning.strip() == "think " + text
    assert done is not None


@pytest.mark.parametrize("line, words", [
    (b"this is not json\n", "cannot read"),
    (b'["a", "json", "array"]\n', "sent a reply"),
    (b'{"model": "x", "message": {"role": "assistant", "content": 5}, "done": false}\n', "cannot read"),
])
async def test_a_malformed_stream_is_described_in_words(line: bytes, words: str) -> None:
    """Not a Python exception (`AttributeError: 'list' object…`, a pydantic error with a URL)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import threading

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - /api/show is POST; GETs are /api/version
            self._send(b'{"version": "0.12.6"}')

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            if self.path == "/api/show":
                self._send(b'{"capabilities": ["completion", "thinking"], "template": ""}')
            else:
                self._send(line, "application/x-ndjson")

        def _send(self, body: bytes, kind: str = "application/json") -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    backend = OllamaBackend(f"http://127.0.0.1:{server.server_address[1]}")
    try:
        with pytest.raises(BackendError) as caught:
            await collect(backend)
    finally:
        await backend.aclose()
        server.shutdown()
        server.server_close()
    message = str(caught.value)
    assert words in message and "Error" not in message.split(" — ")[0].split(":")[0]
    assert "pydantic" not in message and "errors.pydantic.dev" not in message and "object" not in message
