"""`r1tui bench`: one prompt (or a set) on several models, timed, as a table or JSON.

For the question "which of my installed distills is worth its VRAM on this
box?", answered in a form that pastes into an issue (`--markdown`) or a
script (`--json`, a contract: keys may be added, never removed or renamed).
Progress goes to stderr, results to stdout. A model that fails (not
installed, out of memory, dropped stream) gets its error in its row and the
bench goes on with the next; but a model that is not installed stops the
bench before any run, naming every missing tag and how to pull it. Exit
status: 0 when every run succeeded, 1 when any failed, a model is missing or
the server cannot be reached, 2 for bad arguments, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence, TextIO



def register(subparsers: Any) -> None:
    from tui.commands._shared import add_host_argument
    from tui.core.prompt_sets import builtin_names

    parser = subparsers.add_parser(
        "bench",
        help="time one prompt on several models (table, --markdown or --json)",
        description="Run the same prompt on several models and report load time, time to first token, "
                    "think time, tokens, tokens/s and peak VRAM for each. Models run one after another "
                    "unless --concurrent is given.",
    )
    parser.add_argument("--models", required=True, metavar="TAG[,TAG…]",
                        help="comma-separated model tags, e.g. deepseek-r1:7b,deepseek-r1:14b")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--prompt", metavar="TEXT", help="the prompt to send")
    source.add_argument("--prompt-file", metavar="FILE",
                        help="a UTF-8 text file of prompts: one per paragraph, or separated by '---' lines")
    source.add_argument("--set", dest="prompt_set", choices=builtin_names(), metavar="NAME",
                        help=f"a built-in prompt set: {', '.join(builtin_names())}")
    parser.add_argument("--runs", type=_positive_int, default=1, metavar="N", help="runs per model and prompt (default 1)")
    parser.add_argument("--ctx", type=_positive_int, default=None, metavar="N",
                        help="context length (default: num_ctx from the config, as the chat uses)")
    parser.add_argument("--think-budget", type=_non_negative_int, default=None, metavar="N",
                        help="cut each reasoning at N tokens and ask for the answer (default: think_budget "
                             "from the config; 0: no budget)")
    parser.add_argument("--concurrent", action="store_true",
                        help="send to all models at once (needs a server that runs them in parallel)")
    add_host_argument(parser)
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object (a stable shape for scripts)")
    output.add_argument("--markdown", action="store_true", help="print a Markdown table ready to paste")
    parser.set_defaults(func=run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def parse_models(text: str) -> list[str]:
    """Tags in the order given, blanks and repeats dropped."""
    models: list[str] = []
    for part in text.split(","):
        tag = part.strip()
        if tag and tag not in models:
            models.append(tag)
    return models


def _think_budget(args: argparse.Namespace) -> int:
    """--think-budget, else the config's think_budget (the chat's), else none."""
    if args.think_budget is not None:
        return int(args.think_budget)
    from tui.core.config import load_settings

    return load_settings(getattr(args, "config", None)).settings.think_budget


def run(args: argparse.Namespace) -> int:
    import asyncio

    from tui.commands import configured_num_ctx
    from tui.commands._shared import default_host
    from tui.core.prompt_sets import PromptSetError, get_builtin, load_prompt_file

    models = parse_models(args.models)
    if not models:
        print("r1tui bench: --models needs at least one tag, e.g. --models deepseek-r1:7b", file=sys.stderr)
        return 2
    try:
        if args.prompt is not None:
            prompts = [args.prompt]
        elif args.prompt_file is not None:
            prompts = list(load_prompt_file(args.prompt_file).prompts)
        else:
            prompts = list(get_builtin(args.prompt_set).prompts)
    except PromptSetError as exc:
        print(f"r1tui bench: {exc}", file=sys.stderr)
        return 2
    if not any(p.strip() for p in prompts):
        print("r1tui bench: the prompt is empty", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(collect(args.host or default_host(), models, prompts, runs=args.runs,
                                     ctx=args.ctx or configured_num_ctx(args), concurrent=args.concurrent,
                                     progress=sys.stderr, think_budget=_think_budget(args)))
    except KeyboardInterrupt:
        print("\nr1tui bench: interrupted", file=sys.stderr)
        return 130
    if report is None:
        return 1
    if args.json:
        print(json.dumps(report, indent=2))
    elif args.markdown:
        print(render_markdown(report, prompts))
    else:
        print(render_table(report))
    return 1 if any(r["error"] for r in report["results"]) else 0


async def collect(host: str, models: Sequence[str], prompts: Sequence[str], *, runs: int = 1,
                  ctx: int | None = None, concurrent: bool = False, progress: TextIO | None = None,
                  gpu_reader: Any = None, think_budget: int = 0) -> dict[str, Any] | None:
    """The `--json` report; None (after saying why on `progress`) when the server cannot be reached
    or a model is not installed (checked before anything runs: a bench that stops at its third
    model after ten minutes of the first two wastes the user's time)."""
    from tui.commands._shared import open_backend
    from tui.core.backend import BackendError
    from tui.core.benchrun import Job, RunResult, plan, run_bench
    from tui.core.catalog import normalize_tag
    from tui.core.config import Settings
    from tui.core.sanitize import inert
    from tui.core.thinking_budget import cut_text

    def say(text: str) -> None:
        if progress is not None:
            progress.write(text + "\n")
            progress.flush()

    backend = open_backend(host)
    try:
        try:
            version = await backend.version()
        except BackendError as exc:
            say(f"r1tui bench: {exc}")
            return None
        try:
            installed = {normalize_tag(model.name) for model in await backend.list_models()}
        except BackendError as exc:
            say(f"r1tui bench: cannot list the installed models: {exc}")
            return None
        missing = [model for model in models if normalize_tag(model) not in installed]
        if missing:
            say(missing_models_message(missing, backend.url))
            return None
        total = sum(len(batch) for batch in plan(models, len(prompts), runs, concurrent))
        done = 0
        say(f"bench: {len(models)} model(s) × {len(prompts)} prompt(s) × {runs} run(s) on "
            f"{backend.url} (Ollama {version or '?'}){', concurrently' if concurrent else ''}")

        def label(job: Job) -> str:
            where = f" prompt {job.prompt_index}/{len(prompts)}" if len(prompts) > 1 else ""
            again = f" run {job.run}/{runs}" if runs > 1 else ""
            return f"{job.model}{where}{again}"

        def started(job: Job) -> None:
            say(f"[{done + 1}/{total}] {label(job)} …")

        def finished(job: Job, result: RunResult) -> None:
            nonlocal done
            done += 1
            if result.error:
                say(f"  ✖ {label(job)}: {inert(result.error)}")
            else:
                cut = cut_text(result.thinking_cut, result.think_budget, result.reasoning_tokens)
                say(f"  ✓ {label(job)}: {result.eval_tps:.1f} tok/s, {result.reasoning_tokens}+"
                    f"{result.answer_tokens} tokens, {result.total_s:.1f} s" + (f" ({cut})" if cut else "")
                    + (" (cut off at the length limit)" if result.done_reason == "length" else ""))

        options = Settings(num_ctx=ctx or Settings.num_ctx).chat_options()
        results = await run_bench(backend, models, prompts, runs=runs, concurrent=concurrent, options=options,
                                  gpu_reader=gpu_reader, on_start=started, on_result=finished,
                                  think_budget=think_budget)
    finally:
        await backend.aclose()
    return {"server": {"url": backend.url, "version": version},
            "results": [result.to_json() for result in results]}


def missing_models_message(missing: Sequence[str], url: str) -> str:
    """Which tags are missing and the command that pulls each, one per line."""
    from tui.core.sanitize import inert

    names = ", ".join(inert(tag) for tag in missing)
    lines = [f"r1tui bench: not installed on {url}: {names}; nothing was run. Pull "
             + ("it" if len(missing) == 1 else "them") + " first:"]
    lines += [f"  r1tui pull {inert(tag)}" for tag in missing]
    return "\n".join(lines)


# -- rendering ------------------------------------------------------------------------

COLUMNS: tuple[tuple[str, str], ...] = (
    ("model", "model"), ("prompt", "prompt"), ("run", "run"), ("load_s", "load s"), ("ttft_s", "TTFT s"),
    ("think_s", "think s"), ("reasoning_tokens", "reasoning tok"), ("answer_tokens", "answer tok"),
    ("eval_tps", "eval tok/s"), ("prompt_eval_tps", "prompt tok/s"), ("total_s", "total s"),
    ("peak_vram_bytes", "peak VRAM"),
)
NUMERIC = {key for key, _ in COLUMNS} - {"model"}


def _cell(key: str, row: dict[str, Any]) -> str:
    value = row.get(key)
    if row.get("error") and key not in ("model", "prompt", "run") and not value:
        return "—"
    if value is None:
        return "—"
    if key == "peak_vram_bytes":
        from tui.core.units import format_gib

        return format_gib(value)
    if key in ("load_s", "think_s", "total_s"):
        return f"{value:.1f}"
    if key == "ttft_s":
        return f"{value:.2f}"
    if key in ("eval_tps",):
        return f"{value:.1f}"
    if key == "prompt_eval_tps":
        return f"{value:.0f}"
    return str(value)


def _columns(report: dict[str, Any]) -> list[tuple[str, str]]:
    """Leave out the prompt and run columns when there is only one of each."""
    rows = report["results"]
    skip = set()
    if len({r.get("prompt", 1) for r in rows}) <= 1:
        skip.add("prompt")
    if len({r["run"] for r in rows}) <= 1:
        skip.add("run")
    return [(key, title) for key, title in COLUMNS if key not in skip]


def _errors(report: dict[str, Any]) -> list[str]:
    from tui.core.sanitize import inert

    lines, seen = [], set()
    for row in report["results"]:
        # A model that is missing fails every run the same way: say it once.
        if row["error"] and (row["model"], row["error"]) not in seen:
            seen.add((row["model"], row["error"]))
            lines.append(f"{row['model']}: {inert(row['error'])}")
    return lines


def render_table(report: dict[str, Any]) -> str:
    """Aligned columns for a terminal; numbers right-aligned, errors listed under the table."""
    columns = _columns(report)
    rows = [[title for _, title in columns]]
    for row in report["results"]:
        rows.append([_cell(key, row) for key, _ in columns])
    widths = [max(len(r[i]) for r in rows) for i in range(len(columns))]
    lines = []
    for index, cells in enumerate(rows):
        parts = [cell.rjust(w) if key in NUMERIC and index else cell.ljust(w)
                 for (key, _), cell, w in zip(columns, cells, widths)]
        lines.append("  ".join(parts).rstrip())
    server = report["server"]
    header = f"{server['url']} · Ollama {server['version'] or '?'}"
    errors = _errors(report)
    return "\n".join([header, ""] + lines + ([""] + [f"✖ {e}" for e in errors] if errors else []))


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(report: dict[str, Any], prompts: Sequence[str] = ()) -> str:
    """A GitHub table with the server and the prompts, ready to paste into an issue."""
    from tui.core.sanitize import inert

    columns = _columns(report)
    lines = [
        "| " + " | ".join(title for _, title in columns) + " |",
        "|" + "|".join("---:" if key in NUMERIC else "---" for key, _ in columns) + "|",
    ]
    for row in report["results"]:
        cells = [_md(inert(_cell(key, row))) for key, _ in columns]
        if row["error"]:
            cells[0] += " ✖"
        lines.append("| " + " | ".join(cells) + " |")
    server = report["server"]
    out = [f"**r1tui bench** · Ollama {server['version'] or '?'} · `{server['url']}`", ""] + lines
    errors = _errors(report)
    if errors:
        out += [""] + [f"- ✖ {_md(e)}" for e in errors]
    if prompts:
        out += [""]
        for index, prompt in enumerate(prompts, 1):
            label = f"Prompt {index}" if len(prompts) > 1 else "Prompt"
            out.append(f"{label}: {_md(inert(prompt.strip()))}")
    return "\n".join(out)
