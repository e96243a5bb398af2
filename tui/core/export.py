"""A saved conversation as Markdown (to read or share) or JSON (for scripts).

The JSON shape is a contract; `format_version` changes if a key is removed or
changes meaning (new keys may be added):

    {"format": "r1tui.conversation", "format_version": 1,
     "id": int, "title": str, "model": str, "created_at": ISO-8601 UTC, "updated_at": ISO-8601 UTC,
     "system_prompt": str,
     "turns": [{"index": int, "prompt": str, "model": str,
                "reasoning": str | null,          # null when exported without reasoning
                "answer": str, "state": "done" | "stopped" | "failed", "error": str | null,
                "interrupted": bool,              # r1tui exited while it streamed
                "options": {...},                 # what was sent to Ollama (temperature, top_p, num_ctx, ...)
                "started_at": ISO-8601 UTC, "finished_at": ISO-8601 UTC | null,
                "think_seconds": float, "ttft_seconds": float | null,
                "reasoning_tokens": int, "answer_tokens": int,
                "server": null | {"eval_count", "eval_duration_ns", "prompt_eval_count",
                                  "prompt_eval_duration_ns", "load_duration_ns", "total_duration_ns",
                                  "done_reason", "eval_rate", "prompt_eval_rate"},
                "reasoning_control": {"think_budget": int, "thinking_cut": "budget" | "answer_now" | null,
                                      "loop_flagged": bool, "thinking_off": bool, "context_size": int},
                "marks": [str]}]}                 # the same words the chat shows (a cut, a loop, ...)

Markdown is for people, and people `cat` it or preview it in a terminal: every
control, bidi and zero-width character in it is shown as a visible stand-in
(`tui.core.sanitize.inert`), in a file as on standard output. JSON keeps model
output exactly, yet its text never carries such a character raw: each one is
written as a `\\uXXXX` escape (the same data to any JSON parser).

Every export file is written by `write_output`: mode 0600 (an existing file
made private too), never anything that reaches a terminal raw.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from tui.core.conversation import turn_figures
from tui.core.sanitize import UNSAFE, inert
from tui.core.store import ConversationRecord, TurnRecord, reasoning_control_of
from tui.core.turn_marks import context_line, turn_marks

__all__ = ["FORMAT", "FORMAT_VERSION", "iso_utc", "reasoning_summary", "render", "to_dict", "to_json",
           "to_markdown", "write_output"]

FORMAT = "r1tui.conversation"
FORMAT_VERSION = 1



def iso_utc(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def to_dict(record: ConversationRecord, *, reasoning: bool = True) -> dict[str, Any]:
    info = record.info
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "id": info.id,
        "title": info.title,
        "model": info.model,
        "created_at": iso_utc(info.created_at),
        "updated_at": iso_utc(info.updated_at),
        "system_prompt": record.system_prompt,
        "turns": [_turn_dict(turn_record, reasoning) for turn_record in record.turns],
    }


def _turn_dict(record: TurnRecord, reasoning: bool) -> dict[str, Any]:
    turn = record.turn
    stats = turn.stats
    server = None
    if stats is not None:
        server = {
            "eval_count": stats.eval_count,
            "eval_duration_ns": stats.eval_duration_ns,
            "prompt_eval_count": stats.prompt_eval_count,
            "prompt_eval_duration_ns": stats.prompt_eval_duration_ns,
            "load_duration_ns": stats.load_duration_ns,
            "total_duration_ns": stats.total_duration_ns,
            "done_reason": stats.done_reason,
            "eval_rate": _round(stats.eval_rate),
            "prompt_eval_rate": _round(stats.prompt_eval_rate),
        }
    return {
        "index": record.index,
        "prompt": turn.prompt,
        "model": turn.model,
        "reasoning": turn.reasoning if reasoning else None,
        "answer": turn.answer,
        "state": turn.state.value,
        "error": turn.error,
        "interrupted": record.interrupted,
        "options": record.options,
        "started_at": iso_utc(record.started_at),
        "finished_at": iso_utc(record.finished_at),
        "think_seconds": round(turn.think_seconds, 3),
        "ttft_seconds": _round(turn.ttft_seconds, 3),
        "reasoning_tokens": turn.reasoning_tokens,
        "answer_tokens": turn.answer_tokens,
        "server": server,
        "reasoning_control": reasoning_control_of(turn),
        "marks": turn_marks(turn),
    }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def to_json(record: ConversationRecord, *, reasoning: bool = True) -> str:
    text = json.dumps(to_dict(record, reasoning=reasoning), ensure_ascii=False, indent=2)
    # json.dumps escapes C0 controls itself; DEL, C1 controls, bidi and zero-width characters it leaves raw.
    return UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text) + "\n"


def render(record: ConversationRecord, fmt: str = "md", *, reasoning: bool = True) -> str:
    """The export in `fmt` ("md" or "json"), as every caller writes it."""
    return to_json(record, reasoning=reasoning) if fmt == "json" else to_markdown(record, reasoning=reasoning)


def to_markdown(record: ConversationRecord, *, reasoning: bool = True) -> str:
    """GitHub-flavoured Markdown, inert; reasoning folds into a `<details>` block (or is left out)."""
    info = record.info
    lines = [f"# {info.title or 'Untitled conversation'}", ""]
    lines.append(f"*{info.model} · started {_local_time(info.created_at)} · {info.turn_count} "
                 f"turn{'s' if info.turn_count != 1 else ''} · exported from r1tui*")
    lines.append("")
    if record.system_prompt:
        lines += ["**System prompt**", "", _quote(record.system_prompt), ""]
    for number, turn_record in enumerate(record.turns, start=1):
        lines += _turn_markdown(number, turn_record, reasoning)
    return inert("\n".join(lines).rstrip() + "\n")


def _turn_markdown(number: int, record: TurnRecord, reasoning: bool) -> list[str]:
    turn = record.turn
    lines = [f"## {number}. You", "", turn.prompt.strip(), "", f"### {turn.model}", ""]
    if reasoning and turn.reasoning.strip():
        lines += [
            "<details>",
            f"<summary>{reasoning_summary(record)}</summary>",
            "",
            # A literal closing tag in the reasoning would end the block early.
            re.sub(r"</(details)", r"&lt;/\1", turn.reasoning.strip(), flags=re.IGNORECASE),
            "",
            "</details>",
            "",
        ]
    if turn.answer.strip():
        lines += [turn.answer.strip(), ""]
    if turn.error:
        lines += [f"> **{turn.state.value.capitalize()}:** {' '.join(turn.error.split())}", ""]
    elif turn.state.value == "stopped":
        lines += ["> **Stopped** before the reply was finished.", ""]
    lines += [f"> **Note:** {mark}" for mark in turn_marks(turn)]
    if turn_marks(turn):
        lines.append("")
    figures = " · ".join(part for part in (turn_figures(record.turn), context_line(turn)[0]) if part)
    if figures:
        lines += [f"*{figures}*", ""]
    return lines


def reasoning_summary(record: TurnRecord) -> str:
    turn = record.turn
    tokens = turn.reasoning_tokens
    parts = [f"{tokens} token{'s' if tokens != 1 else ''}" if tokens else "", f"{turn.think_seconds:.1f} s"
             if turn.think_seconds else ""]
    detail = ", ".join(part for part in parts if part)
    return f"Reasoning ({detail})" if detail else "Reasoning"


def _local_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip().splitlines())


def write_output(text: str, path: str | Path | None = None, stream: TextIO | None = None) -> None:
    """Write an export to a file (mode 0600, whatever mode it had) or to stdout (always inert).

    Standard output is made inert even when it is a pipe: `r1tui export 3 | cat`
    reaches a terminal all the same. A file gets the text as given (Markdown is
    inert already, JSON escapes), unless the "file" is itself a terminal
    (`-o /dev/tty`). An existing regular file is made private before anything is
    written into it; a terminal or a pipe keeps its mode.
    """
    if path is None or str(path) == "-":
        out = stream or sys.stdout
        out.write(inert(text))
        out.flush()
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, 0o600)  # O_CREAT's mode applies to new files only
    except OSError:
        os.close(fd)
        raise
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(inert(text) if handle.isatty() else text)
