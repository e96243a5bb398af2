"""The transport under every client: line separators escaped exactly, whatever the chunking."""

from __future__ import annotations

import json

import httpx
import pytest

from tui.core.transport import GuardedTransport, escape_line_separators


class Chunks(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self):
        for chunk in self.chunks:
            yield chunk


@pytest.mark.parametrize("size", [1, 2, 3, 5, 64])
async def test_a_separator_split_across_chunks_is_still_escaped(size: int) -> None:
    from tui.core.transport import _EscapingStream

    line = json.dumps({"content": "a\u0085b\u2028c\u2029d é 中"}, ensure_ascii=False).encode() + b"\n"
    chunks = [line[i:i + size] for i in range(0, len(line), size)]
    out = b"".join([part async for part in _EscapingStream(Chunks(chunks))])
    assert out.count(b"\n") == 1 and "\u0085".encode() not in out and "\u2028".encode() not in out
    assert json.loads(out)["content"] == "a\u0085b\u2028c\u2029d é 中"
    assert out.decode().splitlines() == [out.decode().rstrip("\n")]  # one line to any reader


def test_escaping_changes_nothing_else() -> None:
    data = json.dumps({"x": "plain ASCII, é, 中, \\n"}, ensure_ascii=False).encode()
    assert escape_line_separators(data) == data


async def test_a_credential_goes_only_to_its_own_origin() -> None:
    seen: list[str | None] = []
    transport = GuardedTransport("http://127.0.0.1:9", "Bearer right")

    for url, header in [("http://127.0.0.1:9/api/version", "Bearer right"),
                        ("http://127.0.0.1:9/api/version", "Bearer other"),
                        ("http://evil.example:9/api/version", "Bearer right"),
                        ("https://127.0.0.1:9/api/version", "Bearer right")]:
        request = httpx.Request("GET", url, headers={"Authorization": header})
        try:
            await transport.handle_async_request(request)
        except httpx.HTTPError:
            pass  # nothing listens there: only the headers matter
        seen.append(request.headers.get("authorization"))
    assert seen == ["Bearer right", None, None, None]


class BufferedChunks(httpx.AsyncByteStream):
    """A body whose chunks are all buffered already: iterating it never waits for anything."""

    def __init__(self, count: int) -> None:
        self.count = count

    async def __aiter__(self):
        for index in range(self.count):
            yield json.dumps({"n": index}).encode() + b"\n"


async def test_a_body_read_from_a_full_buffer_still_gives_the_event_loop_turns() -> None:
    """A fast server fills the socket: parsing its chunks must not keep keys and frames waiting."""
    import asyncio
    import time

    from tui.core.transport import TURN_SECONDS, _EscapingStream

    turns = 0

    async def other_work() -> None:  # a key, a timer, a frame: anything else the app has to do
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    other = asyncio.get_running_loop().create_task(other_work())
    await asyncio.sleep(0)
    started = time.perf_counter()
    async for _ in _EscapingStream(BufferedChunks(400)):
        busy_until = time.perf_counter() + 0.0005  # the client parsing one chunk
        while time.perf_counter() < busy_until:
            pass
    elapsed = time.perf_counter() - started
    other.cancel()
    # Left alone for at most TURN_SECONDS at a time (and one chunk more): turns all along, not one at the end.
    assert turns >= elapsed / (4 * TURN_SECONDS) > 2, (turns, elapsed)


@pytest.mark.parametrize("flavour", ["ollama", "vllm"])
async def test_a_trickling_stream_is_read_in_batches_not_a_wake_up_per_token(flavour: str) -> None:
    """At 300 tokens/s each token comes in a packet of its own; waking up for each cost 15 % of a core.
    Once caught up, the body lets tokens gather: they reach the app in a few batches per frame, all of
    them, and the first without delay."""
    import time

    from tui.core.backend import OllamaBackend, StreamDelta
    from tui.core.engines import make_backend
    from tui.core.transport import READ_PACE_SECONDS
    from tui.demo import Reply, SimulatedOllama
    from tui.demo.engines import SimulatedEngine

    reply = Reply(reasoning="step " * 150, answer="done " * 150)
    server = (SimulatedOllama(rate=300.0, reply=reply) if flavour == "ollama"
              else SimulatedEngine(flavour, rate=300.0, reply=reply))
    server.start()
    try:
        backend = OllamaBackend(server.url) if flavour == "ollama" else make_backend(server.url, flavour)
        arrivals: list[float] = []
        text: list[str] = []
        started = time.perf_counter()
        model = "deepseek-r1:7b" if flavour == "ollama" else next(iter(server.models))
        async for event in backend.chat(model,
                                        [{"role": "user", "content": "hi"}]):
            if isinstance(event, StreamDelta) and (event.reasoning or event.answer):
                arrivals.append(time.perf_counter())
                text.append(event.reasoning + event.answer)
        elapsed = time.perf_counter() - started
    finally:
        server.stop()
    assert "".join(text) == reply.reasoning + reply.answer
    # Batches: tokens that came together, apart from the next by more than a token's time (3.3 ms).
    batches = 1 + sum(1 for before, after in zip(arrivals, arrivals[1:]) if after - before > 0.01)
    assert batches < len(arrivals) / 6, (batches, len(arrivals))  # ~12 tokens a batch, not one
    assert batches <= 1.2 * elapsed / READ_PACE_SECONDS + 2
    assert max(after - before for before, after in zip(arrivals, arrivals[1:])) < 3 * READ_PACE_SECONDS


async def test_a_plain_json_reply_is_read_straight_through() -> None:
    """Only streams of events are read in batches: a pause in a JSON reply whose body comes in two
    parts (a long model list over a slow link) would only delay every list, poll and fleet refresh."""
    import socket
    import threading
    import time

    from tui.core.transport import READ_PACE_SECONDS

    body = json.dumps({"models": [{"name": f"m{n}"} for n in range(200)]}).encode()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve_in_two_parts(content_type: bytes) -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type +
                               b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:100])
            time.sleep(0.01)  # the rest comes a moment later, as over a real link
            connection.sendall(body[100:])

    took = {}
    for kind in (b"application/json", b"application/x-ndjson"):
        server = threading.Thread(target=serve_in_two_parts, args=(kind,), daemon=True)
        server.start()
        async with httpx.AsyncClient(transport=GuardedTransport(f"http://127.0.0.1:{port}")) as client:
            started = time.perf_counter()
            response = await client.get(f"http://127.0.0.1:{port}/api/tags")
            assert response.json()["models"][-1] == {"name": "m199"}
            took[kind] = time.perf_counter() - started
        server.join()
    listener.close()
    assert took[b"application/json"] < READ_PACE_SECONDS, took  # read straight through
    assert took[b"application/x-ndjson"] >= READ_PACE_SECONDS, took  # a stream: in batches
