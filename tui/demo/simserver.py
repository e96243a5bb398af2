"""A simulated Ollama server speaking Ollama's wire format over real HTTP.

Why it exists: no Ollama server or GPU is available to tests, CI or a newcomer
trying `r1tui --demo`. Instead of mocking the client, this serves the same
endpoints, field names, status codes and NDJSON streaming (chunked transfer,
one JSON object per line, `{"error": ...}` lines mid-stream) as Ollama's
`server/routes.go` and `api/types.go`, so the app talks to it through the real
`ollama` client over a real socket. Knobs set the token rate, how reasoning is
delivered, and faults to inject.

Reasoning styles (what real servers do with DeepSeek-R1):
- ``"thinking"``: Ollama >= 0.9; `/api/show` lists the `thinking` capability and
  `think: true` puts reasoning in `message.thinking`.
- ``"inline"``: older servers; `<think>...</think>` arrives inside `content`.
- ``"closing"``: a template that pre-fills `<think>`, so only `</think>` arrives.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable, Iterator

from tui.demo.http_sim import HttpSimulator, _ClientGone, serve_until_interrupted
from tui.demo.reasoning_sim import (Continuation, answer_after, chat_continuation, generation_limit,
                                    long_thinker_reply, looping_reply, parse_raw_prompt, prompt_token_count)

REASONING_STYLES = ("thinking", "inline", "closing")

_TEMPLATE_PLAIN = (
    "{{- range $i, $_ := .Messages }}"
    "{{- if eq .Role \"user\" }}<｜User｜>{{ .Content }}"
    "{{- else if eq .Role \"assistant\" }}<｜Assistant｜>{{ .Content }}<｜end▁of▁sentence｜>"
    "{{- end }}{{- end }}<｜Assistant｜>"
)
# DeepSeek's own template opens the think block for the model.
_TEMPLATE_PREFILLED = _TEMPLATE_PLAIN + "<think>\n"


@dataclass
class SimModel:
    """One installed (or pullable) model, with the metadata `/api/show` reports."""

    name: str
    size: int
    parameter_size: str
    quantization: str = "Q4_K_M"
    family: str = "qwen2"
    block_count: int = 28
    head_count: int = 28
    head_count_kv: int = 4
    embedding_length: int = 3584
    context_length: int = 131072
    parameter_count: int = 7_615_616_512

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.name.encode()).hexdigest()

    def details(self) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": self.family,
            "families": [self.family],
            "parameter_size": self.parameter_size,
            "quantization_level": self.quantization,
        }

    def model_info(self) -> dict[str, Any]:
        arch = self.family
        return {
            "general.architecture": arch,
            "general.parameter_count": self.parameter_count,
            "general.file_type": 15,
            f"{arch}.block_count": self.block_count,
            f"{arch}.attention.head_count": self.head_count,
            f"{arch}.attention.head_count_kv": self.head_count_kv,
            f"{arch}.embedding_length": self.embedding_length,
            f"{arch}.context_length": self.context_length,
        }


def default_models() -> list[SimModel]:
    """The distills a typical GPU box has installed; figures from the shared reference."""
    return [
        SimModel("deepseek-r1:1.5b", 1_117_322_599, "1.8B", family="qwen2", block_count=28,
                 head_count=12, head_count_kv=2, embedding_length=1536, parameter_count=1_777_088_000),
        SimModel("deepseek-r1:7b", 4_683_075_271, "7.6B"),
        SimModel("deepseek-r1:8b", 5_225_376_047, "8.2B", family="qwen3", block_count=36,
                 head_count=32, head_count_kv=8, embedding_length=4096, parameter_count=8_190_735_360),
        SimModel("deepseek-r1:14b", 8_988_112_040, "14.8B", block_count=48, head_count=40,
                 head_count_kv=8, embedding_length=5120, parameter_count=14_770_033_664),
    ]


# A name as a hostile server might send it: OSC 0 (window title), OSC 52 (clipboard), a screen
# clear, and Textual markup for a live link and a clickable quit.
HOSTILE_NAME = ("deepseek-r1:7b\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\x1b[2J"
                "[link=https://evil.example]x[/link][@click=app.quit]q[/]")


def hostile_models() -> list[SimModel]:
    """Installed models whose names, sizes and quantisations carry escape sequences and markup."""
    return [SimModel(HOSTILE_NAME, 4_683_075_271, "7.6B\x1b[31m", quantization="Q4[bold]K[/]\x9b2J")]


def pullable_models() -> list[SimModel]:
    """Tags the simulated registry can serve to `/api/pull` beyond the installed ones."""
    return [
        SimModel("deepseek-r1:32b", 19_851_336_256, "32.8B", block_count=64, head_count=40,
                 head_count_kv=8, embedding_length=5120, parameter_count=32_763_876_352),
        SimModel("deepseek-r1:70b", 42_520_395_584, "70.6B", family="llama", block_count=80,
                 head_count=64, head_count_kv=8, embedding_length=8192, parameter_count=70_553_706_496),
    ]


@dataclass
class Reply:
    """What the simulated model says: its reasoning, then its answer."""

    reasoning: str
    answer: str


@dataclass
class Faults:
    """Failures to inject into the next requests. Counts are in tokens (stream chunks)."""

    error_after_tokens: int | None = None
    error_message: str = "an error was encountered while running the model: unexpected EOF"
    drop_after_tokens: int | None = None
    stall_after_tokens: int | None = None
    stall_seconds: float = 30.0
    status_before_stream: int | None = None
    message_before_stream: str = "model requires more system memory (12.3 GiB) than is available (8.0 GiB)"
    pull_error_after_bytes: int | None = None
    pull_error_message: str = "max retries exceeded: write /root/.ollama/models/blobs/partial: no space left on device"
    once: bool = True


def tokens(text: str) -> list[str]:
    """Word-ish pieces, like a tokenizer's output: every chunk is one token."""
    return re.findall(r"\s*\S{1,6}|\s+", text)


def go_json(payload: Any, escape_line_separators: bool = True) -> bytes:
    """JSON as Ollama writes it (Go's json.Marshal): UTF-8 text raw (U+0085 NEL included), HTML
    characters and, unless told otherwise, U+2028/U+2029 escaped. Python's default would escape
    every non-ASCII character and hide what a client's line reader really meets."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    if escape_line_separators:
        text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text.encode()


def _now_iso() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat()


DEMO_NOTE = "> r1tui's demo server: this reply is canned (picked by the question's topic), timings are real."

# Topics the demo has a canned reply for, each recognised by whole words of the question.
_PRIME_WORDS = re.compile(r"\b(primes?|primality|composite)\b")
_ANIMAL_WORDS = re.compile(r"\b(rabbits?|chickens?)\b")
_PALINDROME_WORDS = re.compile(r"palindrom")  # also inside is_palindrome
# Reasoning control to try: a model that thinks for ~3,000 tokens, and one whose reasoning loops.
_LONG_WORDS = re.compile(r"\b(sum of (the )?squares|think (long|hard)|long think)")
_LOOP_WORDS = re.compile(r"\bloop(s|ing)?\b")
_CODE_WORDS = re.compile(r"\b(code|function|python|script|program|implement|class|regex|bug)\b")
_IS_N_PRIME = re.compile(r"\b(?:is|whether)\s+(\d{1,12})\s+(?:an?\s+)?prime")
_PRIMES_BELOW = re.compile(r"\b(?:below|under|less than|up to|smaller than)\s+(\d{1,6})\b")


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    divisor = 3
    while divisor * divisor <= n:
        if n % divisor == 0:
            return False
        divisor += 2
    return True


def _smallest_factor(n: int) -> int:
    return next(d for d in range(2, int(n**0.5) + 1) if n % d == 0)


def _prime_reply(prompt: str) -> Reply:
    """Primes: a real check of "is N prime?", a real list for "primes below N", else a test function."""
    lowered = prompt.lower()
    below = _PRIMES_BELOW.search(lowered)
    if below and not _CODE_WORDS.search(lowered):
        limit = int(below.group(1))
        found = [n for n in range(2, limit) if _is_prime(n)]
        shown = ", ".join(map(str, found[:200])) + (", …" if len(found) > 200 else "")
        return Reply(
            reasoning=(f"The user wants the primes below {limit}. I go through the numbers from 2 and keep those "
                       "that no smaller prime up to their square root divides (a sieve does the same faster)."),
            answer=f"The {len(found)} primes below {limit}: {shown or 'none'}.\n\n{DEMO_NOTE}\n",
        )
    match = _IS_N_PRIME.search(lowered)
    if match:
        n = int(match.group(1))
        if _is_prime(n):
            verdict, why = f"**{n} is prime.**", f"no divisor from 2 up to √{n} ≈ {n**0.5:.1f} divides it"
        elif n < 2:
            verdict, why = f"**{n} is not prime.**", "primes start at 2"
        else:
            factor = _smallest_factor(n)
            verdict, why = f"**{n} is not prime**: {n} = {factor} × {n // factor}.", f"{factor} divides it"
        return Reply(
            reasoning=(f"The question is whether {n} is prime. A composite number has a divisor no larger than "
                       f"its square root, so I only need to try divisors up to √{n}.\n\n"
                       f"Trying them in turn: {why}."),
            answer=f"{verdict}\n\nChecked by trial division up to √n.\n\n{DEMO_NOTE}\n",
        )
    primes = [n for n in range(2, 60) if _is_prime(n)]
    return Reply(
        reasoning=("The user asks about prime numbers. A number n > 1 is prime when no number from 2 to √n "
                   "divides it, so trial division up to the square root is enough; even numbers other than 2 "
                   "can be skipped. The empty cases: 0 and 1 are not prime."),
        answer=("A number is **prime** when its only divisors are 1 and itself. The first ones are "
                f"{', '.join(map(str, primes[:10]))}, …\n\n"
                "```python\ndef is_prime(n: int) -> bool:\n"
                "    if n < 2:\n        return False\n"
                "    if n % 2 == 0:\n        return n == 2\n"
                "    d = 3\n    while d * d <= n:\n"
                "        if n % d == 0:\n            return False\n        d += 2\n"
                "    return True\n```\n\n"
                f"- `is_prime(97)` → `True`\n- `is_prime(91)` → `False` (7 × 13)\n\n{DEMO_NOTE}\n"),
    )


def demo_reply(messages: list[dict[str, Any]]) -> Reply:
    """A canned reasoning and Markdown answer matching the topic of the last user message.

    Topics: primes (with a real check of a number asked about), chickens and
    rabbits, palindromes, other code, and anything else; for trying reasoning
    control, "sum of squares" (or "think long") thinks for ~3,000 tokens and
    "loop" gets a reasoning that repeats itself. Every answer ends by
    saying it is canned, so a demo user never mistakes it for the model's
    answer to their question (a primes question once got a palindrome function).
    """
    prompt = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
    lowered = prompt.lower()
    if _LOOP_WORDS.search(lowered) and not _CODE_WORDS.search(lowered):
        looping = looping_reply()
        return Reply(looping.reasoning, f"{looping.answer}\n{DEMO_NOTE}\n")
    if _LONG_WORDS.search(lowered):
        long = long_thinker_reply(3000)
        return Reply(long.reasoning, f"{long.answer}\n{DEMO_NOTE}\n")
    if _ANIMAL_WORDS.search(lowered):
        return Reply(
            reasoning=(
                "Let me set up the equations. Let c be chickens and r be rabbits.\n\n"
                "Heads: c + r = 35. Legs: 2c + 4r = 94.\n\n"
                "From the first, c = 35 - r. Substituting: 2(35 - r) + 4r = 94, so 70 + 2r = 94, "
                "r = 12, and c = 23. Check: 23·2 + 12·4 = 46 + 48 = 94. Good."
            ),
            answer=(
                "There are **23 chickens** and **12 rabbits**.\n\n"
                "| animal | count | legs |\n|---|---|---|\n| chicken | 23 | 46 |\n| rabbit | 12 | 48 |\n\n"
                "$\\boxed{23 \\text{ chickens}, 12 \\text{ rabbits}}$\n\n"
                f"{DEMO_NOTE}\n"
            ),
        )
    if _PRIME_WORDS.search(lowered):
        return _prime_reply(prompt)
    if _PALINDROME_WORDS.search(lowered):
        return Reply(
            reasoning=(
                "The user wants a palindrome check. A palindrome reads the same backwards, so I should "
                "normalise case and drop non-alphanumeric characters first, then compare the string "
                "with its reverse. Edge cases: the empty string is a palindrome."
            ),
            answer=(
                "Here is a small, well-behaved version:\n\n"
                "```python\ndef is_palindrome(text: str) -> bool:\n"
                "    cleaned = [c.lower() for c in text if c.isalnum()]\n"
                "    return cleaned == cleaned[::-1]\n```\n\n"
                "- `is_palindrome(\"A man, a plan, a canal: Panama\")` → `True`\n"
                "- `is_palindrome(\"r1tui\")` → `False`\n\n"
                f"{DEMO_NOTE}\n"
            ),
        )
    topic = prompt.strip().splitlines()[0][:80] if prompt.strip() else "the question"
    if _CODE_WORDS.search(lowered):
        return Reply(
            reasoning=(
                f"The user asks for code: \"{topic}\". The demo server has no model to write it, so the "
                "honest answer is a canned example that shows how code is displayed, and says so."
            ),
            answer=(
                "**Canned demo reply**: the demo server cannot write code for this request. This is how a code "
                "answer looks in r1tui:\n\n"
                "```python\ndef main() -> None:\n    print(\"hello from the demo\")\n```\n\n"
                "Start Ollama and pick a deepseek-r1 model (F3) for a real answer.\n\n"
                f"{DEMO_NOTE}\n"
            ),
        )
    return Reply(
        reasoning=(
            f"Okay, the user asks: \"{topic}\". The demo server has no model behind it, so it cannot "
            "answer this; the reply should say so plainly and show what a structured answer looks like."
        ),
        answer=(
            f"**Canned demo reply**: r1tui's demo server has no model, so it cannot answer "
            f"“{markdown_literal(topic)}”.\n\n"
            "With a real model, answers appear here with:\n\n"
            "1. **Markdown**: lists, tables and code blocks;\n"
            "2. **Maths**: $\\boxed{42}$ shown as a result;\n"
            "3. **Reasoning** in its own pane, folded when the answer starts.\n\n"
            "Start Ollama and pick a deepseek-r1 model (F3) for real answers.\n\n"
            f"{DEMO_NOTE}\n"
        ),
    )


_WORDS = ("the", "model", "checks", "each", "step", "so", "we", "add", "two", "terms", "then", "verify", "result", "again")


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def markdown_literal(text: str) -> str:
    """`text` with Markdown's punctuation escaped, so that the user's words quoted in a reply read as typed
    ("what is 6*7" is not half of an emphasis)."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


ANSWER_SHAPES = ("mixed", "long-code", "long-list")


def synthetic_reply(reasoning_tokens: int, answer_tokens: int, shape: str = "mixed") -> Reply:
    """A long reply of about the given token counts: paragraphs of reasoning, and a Markdown
    answer mixing prose, code blocks and tables (what makes real answers costly to render), or
    (`shape="long-code"`) one code block of as many lines as the answer's tokens make: R1's
    distills often answer with a whole program; or (`shape="long-list"`) one numbered list of
    as many items, each a bold lead and a sentence, some with a nested note: R1's usual answer."""

    def words(count: int, start: int) -> list[str]:
        return [_WORDS[(start + i) % len(_WORDS)] for i in range(count)]

    paragraphs, made = [], 0
    while made < reasoning_tokens:
        size = min(60, reasoning_tokens - made)
        paragraphs.append(" ".join(words(size, made)) + ".")
        made += size + 1
    if shape == "long-code":
        lines, made = [], 0
        while made < answer_tokens:
            line = f"    total_{len(lines)} = combine(values[{len(lines)}], weights, offset={len(lines) % 7})  # step"
            lines.append(line)
            made += len(tokens(line))  # the newline goes with the next line's first token
        return Reply("\n\n".join(paragraphs), "```python\ndef run(values, weights):\n" + "\n".join(lines) + "\n```\n")
    if shape == "long-list":
        items, made = [], 0
        while made < answer_tokens:
            number = len(items) + 1
            marker = f"{number}. "
            item = f"{marker}**Step {number}**: " + " ".join(words(16, made)) + "."
            if number % 5 == 0:  # nested: indented to the item's text, however wide its number
                item += "\n" + " " * len(marker) + "- note: " + " ".join(words(6, made + 3))
            items.append(item)
            made += len(tokens(item))  # the newline goes with the next item's first token
        return Reply("\n\n".join(paragraphs), "Here are the steps:\n\n" + "\n".join(items) + "\n")
    blocks, made, index = [], 0, 0
    while made < answer_tokens:
        kind = index % 4
        if kind == 0:
            block = f"## Part {index}\n\n" + " ".join(words(40, made)) + "."
        elif kind == 1:
            block = "```python\n" + "\n".join(f"x{i} = add({i}, {i + 1})" for i in range(6)) + "\n```"
        elif kind == 2:
            rows = "\n".join(f"| {i} | {i * i} | ok |" for i in range(5))
            block = "| n | n² | check |\n|---|---|---|\n" + rows
        else:
            block = "- " + "\n- ".join(" ".join(words(8, made + i)) for i in range(4))
        blocks.append(block)
        made += len(tokens(block)) + 1
        index += 1
    return Reply("\n\n".join(paragraphs), "\n\n".join(blocks) + "\n")


class ScriptedReplies:
    """What the simulated model says and which faults come next: shared by every simulated engine.

    Needs `reply` (a Reply, a function of the messages, or None for the demo's replies),
    `answer_mode`, `faults` and `_lock` on the instance.
    """

    reply: Any
    answer_mode: Any
    faults: Faults
    _lock: threading.Lock

    def reply_for(self, messages: list[dict[str, Any]], model: str = "") -> Reply:
        answered = self.answer_mode.reply(model, messages) if self.answer_mode is not None else None
        if answered is not None:
            return answered
        if isinstance(self.reply, Reply):
            return self.reply
        if callable(self.reply):
            return self.reply(messages)
        return demo_reply(messages)

    def take_faults(self) -> Faults:
        """The faults for this request; one-shot faults are cleared once taken."""
        with self._lock:
            faults = self.faults
            if faults.once:
                self.faults = Faults()
            return faults


class SimulatedOllama(ScriptedReplies, HttpSimulator):
    """A real HTTP server on 127.0.0.1 that behaves like `ollama serve`.

    Start it with `start()` (or as a context manager); `url` is its base URL.
    Every knob is a plain attribute and may be changed while it runs.
    """

    thread_name = "sim-ollama"

    def __init__(
        self,
        *,
        models: list[SimModel] | None = None,
        registry: list[SimModel] | None = None,
        rate: float = 0.0,
        style: str = "thinking",
        version: str | None = None,
        load_seconds: float = 0.0,
        reply: Callable[[list[dict[str, Any]]], Reply] | Reply | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        pull_bytes_per_second: float = 2_000_000_000.0,
        vram_fraction: float = 1.0,
    ) -> None:
        if style not in REASONING_STYLES:
            raise ValueError(f"style must be one of {REASONING_STYLES}, not {style!r}")
        self.models: dict[str, SimModel] = {m.name: m for m in (models if models is not None else default_models())}
        self.registry: dict[str, SimModel] = {m.name: m for m in (registry if registry is not None else pullable_models())}
        for model in self.models.values():
            self.registry.setdefault(model.name, model)
        self.rate = rate
        self.style = style
        self.version = version
        self.load_seconds = load_seconds
        self.reply = reply
        self.faults = Faults()
        self.pull_bytes_per_second = pull_bytes_per_second
        self.vram_fraction = vram_fraction
        # When set, the final chunk reports durations as if generating at this rate
        # (deterministic figures for snapshots), instead of the measured ones.
        self.reported_rate: float | None = None
        self.loaded: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.abandoned_streams = 0
        self.completed_streams = 0
        self.final_chunks: list[dict[str, Any]] = []
        # Go escapes U+2028/U+2029; other engines' encoders (and hostile servers) send them raw.
        self.escape_line_separators = True
        # How reply text is cut into stream chunks: one token each by default; tests may send
        # megabytes as one chunk (what a hostile or buggy server can do).
        self.chunker: Callable[[str], list[str]] = tokens
        self.answer_mode: Any = None  # a tui.demo.answers.AnswerMode: boxed answers, right or wrong on purpose
        # When the context fills: True shifts it and goes on (Ollama's default), False stops with
        # done_reason "length" (Ollama with `shift: false`); a request's own `shift` wins.
        self.context_shift = True
        self.echo_credentials = False  # error bodies repeat the Authorization header they got  # every `done: true` chunk sent, as sent (figures to check)
        self.pull_progress: dict[str, int] = {}
        self._listen_on(host, port)
        self._lock = threading.Lock()


    # -- behaviour -----------------------------------------------------------

    @property
    def effective_version(self) -> str:
        if self.version:
            return self.version
        return "0.12.6" if self.style == "thinking" else "0.8.0"

    def capabilities(self) -> list[str]:
        return ["completion", "thinking"] if self.style == "thinking" else ["completion"]

    def template(self) -> str:
        return _TEMPLATE_PREFILLED if self.style == "closing" else _TEMPLATE_PLAIN

    def mark_loaded(self, name: str, keep_alive: Any, num_ctx: int) -> float:
        """Record the model as loaded (for /api/ps); returns the load time spent."""
        model = self.models[name]
        spent = 0.0
        if name not in self.loaded and self.load_seconds:
            time.sleep(self.load_seconds)
            spent = self.load_seconds
        seconds = _keep_alive_seconds(keep_alive)
        if seconds == 0:
            self.loaded.pop(name, None)
            return spent
        size = model.size + 2 * model.block_count * num_ctx * model.head_count_kv * (model.embedding_length // model.head_count) * 2
        expires = datetime.now(timezone.utc) + timedelta(seconds=seconds if seconds > 0 else 10**8)
        self.loaded[name] = {
            "name": name,
            "model": name,
            "size": size,
            "digest": model.digest,
            "details": model.details(),
            "expires_at": expires.astimezone().isoformat(),
            "size_vram": int(size * self.vram_fraction),
            "context_length": num_ctx,
        }
        return spent


def _keep_alive_seconds(keep_alive: Any) -> float:
    """Ollama's keep_alive: seconds as a number, or a Go duration like "5m"; negative is forever."""
    if keep_alive is None or keep_alive == "":
        return 300.0
    if isinstance(keep_alive, (int, float)):
        return float(keep_alive)
    match = re.fullmatch(r"(-?\d+(?:\.\d+)?)(ms|s|m|h)?", str(keep_alive).strip())
    if not match:
        return 300.0
    value, unit = float(match.group(1)), match.group(2) or "s"
    return value * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


class _Handler(BaseHTTPRequestHandler):
    sim: SimulatedOllama
    protocol_version = "HTTP/1.1"
    server_version = "ollama-sim"
    disable_nagle_algorithm = True  # as Go's net/http (Ollama) does: each chunk leaves at once

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return

    # -- plumbing ------------------------------------------------------------

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            return {"__invalid__": True}
        return body if isinstance(body, dict) else {"__invalid__": True}

    def _json(self, status: int, payload: Any) -> None:
        data = go_json(payload, self.sim.escape_line_separators)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        if self.sim.echo_credentials:  # as a careless proxy's error page does
            message += f" (request had Authorization: {self.headers.get('Authorization', 'none')})"
        self._json(status, {"error": message})

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    # Unthrottled, lines are sent a few kilobytes at a time (the same chunks, fewer system calls):
    # one write per line held this Python server to about 13,000 tokens/s, under what clients can read.
    _HOLD_BYTES = 16_384
    _held = b""

    def _send_line(self, payload: dict[str, Any], hold: bool = False) -> None:
        data = go_json(payload, self.sim.escape_line_separators) + b"\n"
        self._held += b"%x\r\n%s\r\n" % (len(data), data)
        if not hold or len(self._held) >= self._HOLD_BYTES:
            self._send_held()

    def _send_held(self) -> None:
        held, self._held = self._held, b""
        if not held:
            return
        try:
            self.wfile.write(held)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError) as exc:
            raise _ClientGone from exc

    def _end_stream(self) -> None:
        try:
            self._send_held()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            pass

    def _drop(self) -> None:
        """Cut the connection mid-body, as a crashed runner or a lost link would."""
        try:
            self._send_held()  # what came before the cut arrives
        except _ClientGone:
            pass
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _record(self, body: dict[str, Any]) -> None:
        self.sim.requests.append((self.command, self.path, body))

    # -- routes --------------------------------------------------------------

    def do_HEAD(self) -> None:  # noqa: N802 - stdlib naming
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        self._record({})
        if self.path == "/":
            data = b"Ollama is running"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif self.path == "/api/version":
            self._json(200, {"version": self.sim.effective_version})
        elif self.path == "/api/tags":
            self._json(200, {"models": [self._tag_entry(m) for m in self.sim.models.values()]})
        elif self.path == "/api/ps":
            self._expire_loaded()
            self._json(200, {"models": list(self.sim.loaded.values())})
        else:
            self._error(404, "404 page not found")

    def do_DELETE(self) -> None:  # noqa: N802
        body = self._body()
        self._record(body)
        if self.path != "/api/delete":
            return self._error(404, "404 page not found")
        name = _normalise(body.get("model") or body.get("name") or "")
        if name not in self.sim.models:
            return self._error(404, f"model '{name}' not found")
        del self.sim.models[name]
        self.sim.loaded.pop(name, None)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:  # noqa: N802
        body = self._body()
        self._record(body)
        if body.get("__invalid__"):
            return self._error(400, "invalid character looking for beginning of value")
        routes = {
            "/api/chat": self._chat,
            "/api/generate": self._generate,
            "/api/show": self._show,
            "/api/pull": self._pull,
        }
        route = routes.get(self.path)
        if route is None:
            return self._error(404, "404 page not found")
        try:
            route(body)
        except _ClientGone:
            self.sim.abandoned_streams += 1
            self.close_connection = True

    def _tag_entry(self, model: SimModel) -> dict[str, Any]:
        return {
            "name": model.name,
            "model": model.name,
            "modified_at": "2026-11-01T10:00:00.000000000+00:00",
            "size": model.size,
            "digest": model.digest,
            "details": model.details(),
        }

    def _expire_loaded(self) -> None:
        now = datetime.now(timezone.utc)
        for name, entry in list(self.sim.loaded.items()):
            if datetime.fromisoformat(entry["expires_at"]) <= now:
                del self.sim.loaded[name]

    def _show(self, body: dict[str, Any]) -> None:
        name = _normalise(body.get("model") or body.get("name") or "")
        model = self.sim.models.get(name)
        if model is None:
            return self._error(404, f"model '{name}' not found")
        self._json(200, {
            "license": "MIT License\n\nCopyright (c) 2023 DeepSeek",
            "modelfile": f"FROM {name}\nTEMPLATE \"\"\"{self.sim.template()}\"\"\"\nPARAMETER stop <｜end▁of▁sentence｜>\n",
            "parameters": "stop                           \"<｜begin▁of▁sentence｜>\"\nstop                           \"<｜end▁of▁sentence｜>\"",
            "template": self.sim.template(),
            "details": model.details(),
            "model_info": model.model_info(),
            "capabilities": self.sim.capabilities(),
            "modified_at": "2026-11-01T10:00:00.000000000+00:00",
        })

    def _generate(self, body: dict[str, Any]) -> None:
        """The load/unload form (empty prompt), and a completion of a prompt (the raw continuation
        r1tui sends after a cut reasoning; see `tui.demo.reasoning_sim`)."""
        name = _normalise(body.get("model") or "")
        if name not in self.sim.models:
            return self._error(404, f"model '{name}' not found, try pulling it first")
        if body.get("prompt"):
            return self._complete(name, body)
        num_ctx = int((body.get("options") or {}).get("num_ctx") or 4096)
        load_s = self.sim.mark_loaded(name, body.get("keep_alive"), num_ctx)
        unload = _keep_alive_seconds(body.get("keep_alive")) == 0
        self._json(200, {
            "model": name,
            "created_at": _now_iso(),
            "response": "",
            "done": True,
            "done_reason": "unload" if unload else "load",
            "load_duration": int(load_s * 1e9),
        })

    def _chat(self, body: dict[str, Any]) -> None:
        sim = self.sim
        name = _normalise(body.get("model") or "")
        if not name:
            return self._error(400, "model is required")
        if name not in sim.models:
            return self._error(404, f"model \"{name}\" not found, try pulling it first")
        think = body.get("think")
        if think and "thinking" not in sim.capabilities():
            return self._error(400, f"\"{name}\" does not support thinking")
        faults = sim.take_faults()
        if faults.status_before_stream:
            return self._error(faults.status_before_stream, faults.message_before_stream)
        messages = body.get("messages") or []
        options = body.get("options") or {}
        started = time.perf_counter()
        load_s = sim.mark_loaded(name, body.get("keep_alive"), int(options.get("num_ctx") or 4096))
        continuation = chat_continuation(messages)  # the last message is the assistant's: continue it
        if continuation is not None:
            reply = sim.reply_for(continuation.messages, name)
            pieces = list(self._continued_pieces(reply, continuation, "content"))
        else:
            reply = sim.reply_for(messages, name)
            pieces = list(self._pieces(reply, think))
        prompt_tokens, pieces, done_reason = self._limited(messages, options, pieces,
                                                           shift_requested=body.get("shift"))
        stream = body.get("stream", True)
        if stream is False:
            thinking = "".join(text for kind, text in pieces if kind == "thinking")
            content = "".join(text for kind, text in pieces if kind == "content")
            final = self._final(name, started, load_s, prompt_tokens, len(pieces), time.perf_counter() - started,
                                done_reason)
            final["message"] = {"role": "assistant", "content": content, **({"thinking": thinking} if thinking else {})}
            return self._json(200, final)

        self._start_stream()
        eval_start = time.perf_counter()
        for index, (kind, text) in enumerate(pieces):
            if faults.error_after_tokens is not None and index == faults.error_after_tokens:
                self._send_line({"error": faults.error_message})
                self._end_stream()
                return
            if faults.drop_after_tokens is not None and index == faults.drop_after_tokens:
                return self._drop()
            if faults.stall_after_tokens is not None and index == faults.stall_after_tokens:
                if self._stall(faults.stall_seconds):
                    return self._drop()
            if sim.rate > 0:
                delay = eval_start + (index + 1) / sim.rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            if not sim.running:
                return self._drop()
            self._send_line({
                "model": name,
                "created_at": _now_iso(),
                "message": {"role": "assistant", "content": text if kind == "content" else "",
                            **({"thinking": text} if kind == "thinking" else {})},
                "done": False,
            }, hold=sim.rate <= 0)
        eval_s = time.perf_counter() - eval_start
        final = self._final(name, started, load_s, prompt_tokens, len(pieces), eval_s, done_reason)
        sim.final_chunks.append(dict(final))
        self._send_line(final | {"message": {"role": "assistant", "content": ""}})
        self._end_stream()
        sim.completed_streams += 1

    def _stall(self, seconds: float) -> bool:
        """Go silent; True when the server was stopped meanwhile."""
        self._send_held()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self.sim.running:
                return True
            time.sleep(0.05)
        return False

    def _pieces(self, reply: Reply, think: Any) -> Iterator[tuple[str, str]]:
        """The token stream: ("thinking", text) or ("content", text) per chunk."""
        style, chunks = self.sim.style, self.sim.chunker
        if style == "thinking" and think:
            for token in chunks(reply.reasoning):
                yield "thinking", token
            for token in chunks(reply.answer):
                yield "content", token
            return
        if style == "thinking" and think is False:
            for token in chunks(reply.answer):
                yield "content", token
            return
        if style != "closing":
            yield "content", "<think>"
            yield "content", "\n"
        for token in chunks(reply.reasoning):
            yield "content", token
        yield "content", "\n"
        yield "content", "</think>"
        yield "content", "\n\n"
        for token in chunks(reply.answer):
            yield "content", token

    def _limited(self, messages: list[dict[str, Any]], options: dict[str, Any], pieces: list[tuple[str, str]],
                 raw_prompt: str = "", shift_requested: Any = None) -> tuple[int, list[tuple[str, str]], str]:
        """(prompt_eval_count, the pieces the limits let through, done_reason): generation stops with
        "length" at `num_predict` tokens, and when the context (`num_ctx`) is full unless the server shifts
        it (Ollama's default, `shift: true`: the start is dropped and generation goes on)."""
        count = lambda text: len(tokens(text))  # noqa: E731
        prompt_tokens = count(raw_prompt) + 1 if raw_prompt else prompt_token_count(messages, count)
        num_ctx = options.get("num_ctx")
        if isinstance(num_ctx, int) and num_ctx > 0:
            prompt_tokens = min(prompt_tokens, num_ctx)  # Ollama truncates a prompt longer than the context
        shift = self.sim.context_shift if shift_requested is None else bool(shift_requested)
        limit = generation_limit(options if not shift else {"num_predict": options.get("num_predict")}, prompt_tokens)
        if limit is not None and len(pieces) > limit:
            return prompt_tokens, pieces[:limit], "length"
        return prompt_tokens, pieces, "stop"

    def _continued_pieces(self, reply: Reply, continuation: Continuation, kind: str) -> Iterator[tuple[str, str]]:
        """What the model writes after its prefilled turn: the answer, after a closed reasoning; the rest of
        the reasoning, `</think>` and the answer, after an open one."""
        chunks = self.sim.chunker
        if not continuation.closed:
            rest = reply.reasoning[len(continuation.reasoning):] if reply.reasoning.startswith(
                continuation.reasoning) else ""
            for token in chunks(rest):
                yield kind, token
            yield kind, "\n</think>\n\n"
        for token in chunks(answer_after(reply, continuation.reasoning) if continuation.closed else reply.answer):
            yield kind, token

    def _complete(self, name: str, body: dict[str, Any]) -> None:
        """`/api/generate` with a prompt: a raw prompt is continued as written (r1tui's continuation
        after a cut reasoning); a templated one is answered as a one-message chat."""
        sim = self.sim
        options = body.get("options") or {}
        started = time.perf_counter()
        load_s = sim.mark_loaded(name, body.get("keep_alive"), int(options.get("num_ctx") or 4096))
        prompt = str(body.get("prompt"))
        faults = sim.take_faults()
        if faults.status_before_stream:
            return self._error(faults.status_before_stream, faults.message_before_stream)
        if body.get("raw"):
            continuation = parse_raw_prompt(prompt)
            reply = sim.reply_for(continuation.messages, name)
            pieces = list(self._continued_pieces(reply, continuation, "response"))
        else:
            messages = [{"role": "user", "content": prompt}]
            reply = sim.reply_for(messages, name)
            pieces = [("response", text) for _, text in self._pieces(reply, None)]
        prompt_tokens, pieces, done_reason = self._limited([], options, pieces, raw_prompt=prompt,
                                                           shift_requested=body.get("shift"))
        self._start_stream()
        eval_start = time.perf_counter()
        for index, (_, text) in enumerate(pieces):
            if faults.error_after_tokens is not None and index == faults.error_after_tokens:
                self._send_line({"error": faults.error_message})
                return self._end_stream()
            if faults.drop_after_tokens is not None and index == faults.drop_after_tokens:
                return self._drop()
            if sim.rate > 0:
                delay = eval_start + (index + 1) / sim.rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            if not sim.running:
                return self._drop()
            self._send_line({"model": name, "created_at": _now_iso(), "response": text, "done": False})
        final = self._final(name, started, load_s, prompt_tokens, len(pieces), time.perf_counter() - eval_start,
                            done_reason)
        sim.final_chunks.append(dict(final))
        self._send_line(final | {"response": ""})
        self._end_stream()
        sim.completed_streams += 1

    def _final(self, name: str, started: float, load_s: float, prompt_tokens: int,
               eval_count: int, eval_s: float, done_reason: str = "stop") -> dict[str, Any]:
        prompt_eval_s = 0.0002 * prompt_tokens
        if self.sim.reported_rate:
            eval_s = eval_count / self.sim.reported_rate
            started = time.perf_counter() - eval_s - load_s
        return {
            "model": name,
            "created_at": _now_iso(),
            "done": True,
            "done_reason": done_reason,
            "total_duration": int((time.perf_counter() - started + prompt_eval_s) * 1e9),
            "load_duration": int(load_s * 1e9),
            "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": int(prompt_eval_s * 1e9),
            "eval_count": eval_count,
            "eval_duration": max(1, int(eval_s * 1e9)),
        }

    def _pull(self, body: dict[str, Any]) -> None:
        sim = self.sim
        name = _normalise(body.get("model") or body.get("name") or "")
        faults = sim.take_faults()
        self._start_stream()
        self._send_line({"status": "pulling manifest"})
        model = sim.registry.get(name)
        if model is None:
            self._send_line({"error": "pull model manifest: file does not exist"})
            return self._end_stream()
        layers = [
            (f"sha256:{model.digest}", model.size),
            (f"sha256:{hashlib.sha256((name + 'template').encode()).hexdigest()}", 387),
            (f"sha256:{hashlib.sha256((name + 'license').encode()).hexdigest()}", 1065),
            (f"sha256:{hashlib.sha256((name + 'params').encode()).hexdigest()}", 148),
        ]
        sent_total = 0
        for digest, total in layers:
            completed = sim.pull_progress.get(digest, 0)
            status = f"pulling {digest[7:19]}"
            self._send_line({"status": status, "digest": digest, "total": total, "completed": completed})
            step = max(1, int(sim.pull_bytes_per_second / 20))
            while completed < total:
                if faults.pull_error_after_bytes is not None and sent_total >= faults.pull_error_after_bytes:
                    self._send_line({"error": faults.pull_error_message})
                    return self._end_stream()
                time.sleep(0.05)
                chunk = min(step, total - completed)
                completed += chunk
                sent_total += chunk
                sim.pull_progress[digest] = completed
                self._send_line({"status": status, "digest": digest, "total": total, "completed": completed})
        for status in ("verifying sha256 digest", "writing manifest", "success"):
            self._send_line({"status": status})
        sim.models[name] = model
        self._end_stream()


SimulatedOllama.handler = _Handler  # defined after the class that serves it


def _normalise(name: str) -> str:
    """Ollama treats `model` and `model:latest` as the same tag."""
    return name if ":" in name else f"{name}:latest"


def main() -> None:
    """`python -m tui.demo [--port N] [--rate R] [--style S]`: serve until interrupted."""
    import argparse

    parser = argparse.ArgumentParser(description="Run r1tui's simulated Ollama server.")
    parser.add_argument("--port", type=int, default=11434)
    parser.add_argument("--rate", type=float, default=40.0, help="tokens per second (0 = unthrottled)")
    parser.add_argument("--style", choices=REASONING_STYLES, default="thinking")
    parser.add_argument("--load-seconds", type=float, default=0.0)
    parser.add_argument("--reasoning-tokens", type=int, default=0,
                        help="answer every prompt with a synthetic reply this long (with --answer-tokens)")
    parser.add_argument("--answer-tokens", type=int, default=0)
    parser.add_argument("--answer-shape", choices=ANSWER_SHAPES, default="mixed",
                        help="the synthetic answer: prose, code and tables mixed, or one long code block")
    from tui.demo import answers

    answers.add_arguments(parser)
    parser.add_argument("--no-context-shift", action="store_true",
                        help="stop with done_reason \"length\" when the context fills (instead of shifting it)")
    args = parser.parse_args()
    reply = None
    if args.reasoning_tokens or args.answer_tokens:
        reply = synthetic_reply(args.reasoning_tokens, args.answer_tokens, args.answer_shape)
    sim = SimulatedOllama(port=args.port, rate=args.rate, style=args.style, load_seconds=args.load_seconds, reply=reply)
    sim.answer_mode = answers.from_arguments(args)
    sim.context_shift = not args.no_context_shift
    sim.start()
    print(f"simulated Ollama listening on {sim.url}", flush=True)
    serve_until_interrupted(sim)


if __name__ == "__main__":
    main()
