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
from typing import TYPE_CHECKING, Any, Sequence, TextIO

if TYPE_CHECKING:
    from tui.core.prompt_sets import PromptSet


def register(subparsers: Any) -> None:
    from tui.commands._shared import add_host_argument
    from tui.core.bench_summary import DEFAULT_MARGIN
    from tui.core.generated_set import DEFAULT_COUNT, DEFAULT_SEED
    from tui.core.prompt_sets import builtin_names

    sets = [*builtin_names(), "generated"]
    parser = subparsers.add_parser(
        "bench",
        help="time and grade prompts on several models (table, --markdown or --json)",
        description="Run the same prompts on several models and report load time, time to first token, "
                    "think time, tokens, tokens/s, peak VRAM and energy for each, and, for prompts with a "
                    "reference answer, whether each answer is right. Models run one after another "
                    "unless --concurrent is given. --leaderboard prints the Elo ranking of your blind A/B votes.",
    )
    parser.add_argument("--models", metavar="TAG[,TAG…]",
                        help="comma-separated model tags, e.g. deepseek-r1:7b,deepseek-r1:14b; HOST:MODEL runs "
                             "MODEL on the configured [hosts.HOST], e.g. big:deepseek-ai/DeepSeek-R1-Distill-Qwen-32B")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--prompt", metavar="TEXT", help="the prompt to send")
    source.add_argument("--prompt-file", metavar="FILE",
                        help="prompts: JSON Lines with reference answers ({\"prompt\": …, \"answer\": …} per line), "
                             "or plain text, one per paragraph or separated by '---' lines")
    source.add_argument("--set", dest="prompt_set", choices=sets, metavar="NAME",
                        help=f"a built-in prompt set: {', '.join(sets)}")
    source.add_argument("--leaderboard", action="store_true",
                        help="print the Elo ranking of the blind A/B votes in your history, and run nothing")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, metavar="S",
                        help=f"--set generated: the seed its problems are drawn from (default {DEFAULT_SEED})")
    parser.add_argument("--count", type=_positive_int, default=DEFAULT_COUNT, metavar="N",
                        help=f"--set generated: how many problems (default {DEFAULT_COUNT})")
    parser.add_argument("--runs", type=_positive_int, default=1, metavar="N", help="runs per model and prompt (default 1)")
    parser.add_argument("--margin", type=_percent, default=DEFAULT_MARGIN * 100, metavar="POINTS",
                        help="the verdict names the fastest model within this many points of the best "
                             f"accuracy (default {DEFAULT_MARGIN * 100:.0f})")
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
    output.add_argument("--chart", nargs="?", const="time", choices=("time", "vram"), default=None,
                        help="print the tables, then each model's accuracy against its time per answer "
                             "(or, with --chart vram, its peak VRAM) as a chart")
    parser.set_defaults(func=run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of points") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("must be 0 to 100 points")
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


def load_prompts(args: argparse.Namespace) -> "PromptSet":
    """The prompts (and reference answers) the arguments name; raises PromptSetError."""
    from tui.core.generated_set import MAX_COUNT, generate
    from tui.core.prompt_sets import PromptSet, PromptSetError, get_builtin, load_prompt_file

    if args.prompt is not None:
        return PromptSet("prompt", "the prompt given", (args.prompt,))
    if args.prompt_file is not None:
        return load_prompt_file(args.prompt_file)
    if args.prompt_set == "generated":
        if args.count > MAX_COUNT:
            raise PromptSetError(f"--count is at most {MAX_COUNT}")
        return generate(args.seed, args.count)
    return get_builtin(args.prompt_set)


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
    from tui.core.prompt_sets import PromptSetError

    if args.leaderboard:
        return print_leaderboard(args)
    if args.prompt is None and args.prompt_file is None and args.prompt_set is None:
        print("r1tui bench: give the prompts: --prompt TEXT, --prompt-file FILE or --set NAME "
              "(or --leaderboard)", file=sys.stderr)
        return 2
    models = parse_models(args.models or "")
    if not models:
        print("r1tui bench: --models needs at least one tag, e.g. --models deepseek-r1:7b", file=sys.stderr)
        return 2
    try:
        prompt_set = load_prompts(args)
    except PromptSetError as exc:
        print(f"r1tui bench: {exc}", file=sys.stderr)
        return 2
    prompts = list(prompt_set.prompts)
    if not any(p.strip() for p in prompts):
        print("r1tui bench: the prompt is empty", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(collect(args.host or default_host(), models, prompts, runs=args.runs,
                                     references=prompt_set.references(), margin=args.margin / 100,
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
        if args.chart:
            from tui.chart import summary_chart_text

            from tui.commands import output_width

            print()
            print(summary_chart_text(report["summary"], width=min(100, output_width() or 80), x=args.chart))
    return 1 if any(r["error"] for r in report["results"]) else 0


def print_leaderboard(args: argparse.Namespace) -> int:
    """The Elo ranking of the blind A/B votes saved in the history (the compare view's blind mode)."""
    from tui.core.elo import leaderboard
    from tui.core.sanitize import inert
    from tui.core.store import HistoryStore, StoreError, default_path

    path = default_path()
    if not path.exists():
        print(f"r1tui bench: no votes yet ({path} does not exist): vote in the compare view's blind A/B mode (F4)",
              file=sys.stderr)
        return 1
    try:
        with HistoryStore(path) as store:
            votes = store.votes()
    except StoreError as exc:
        print(f"r1tui bench: {exc}", file=sys.stderr)
        return 1
    board = leaderboard(votes)
    if args.json:
        print(json.dumps({"votes": len(votes), "leaderboard": [entry.to_json() for entry in board]}, indent=2))
        return 0
    if not board:
        print("No blind A/B votes yet: open the compare view (F4), tick \"blind A/B\", run, and pick the better answer.")
        return 0
    rows = [("#", "model", "Elo", "votes", "won", "lost", "tied")]
    rows += [(str(i), inert(e.model), f"{e.rating:.0f}", str(e.games), str(e.wins), str(e.losses), str(e.ties))
             for i, e in enumerate(board, 1)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    if args.markdown:
        print("| " + " | ".join(rows[0]) + " |")
        print("|---:|---|" + "---:|" * 5)
        for row in rows[1:]:
            print("| " + " | ".join(_md(cell) for cell in row) + " |")
    else:
        for index, row in enumerate(rows):
            print("  ".join(cell.ljust(w) if i == 1 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
                  .rstrip())
    print(f"\n{len(votes)} vote(s) from {path}")
    return 0


async def collect(host: str, models: Sequence[str], prompts: Sequence[str], *, runs: int = 1,
                  references: Sequence[str | None] = (), margin: float | None = None,
                  ctx: int | None = None, concurrent: bool = False, progress: TextIO | None = None,
                  gpu_reader: Any = None, think_budget: int = 0) -> dict[str, Any] | None:
    """The `--json` report; None (after saying why on `progress`) when the server cannot be reached
    or a model is not installed (checked before anything runs: a bench that stops at its third
    model after ten minutes of the first two wastes the user's time)."""
    from tui.commands._shared import open_backend
    from tui.core.backend import BackendError
    from tui.core.bench_summary import DEFAULT_MARGIN, summarize, verdict
    from tui.core.benchrun import Job, RunResult, plan, run_bench
    from tui.core.catalog import normalize_tag
    from tui.core.config import Settings, load_settings
    from tui.core.sanitize import inert
    from tui.core.thinking_budget import cut_text

    def say(text: str) -> None:
        if progress is not None:
            progress.write(text + "\n")
            progress.flush()

    from tui.core.engines import engine_label
    from tui.core.host_models import open_host_backend, split_host_model

    hosts = load_settings().settings.hosts
    backend = await open_backend(host)
    others: dict[str, Any] = {}  # host name -> its backend, for `host:model` specs
    targets: dict[str, tuple[Any, str]] = {}
    try:
        try:
            version = await backend.version()
        except BackendError as exc:
            say(f"r1tui bench: {exc}")
            return None
        servers = [{"name": "", "url": backend.url, "engine": backend.engine, "version": version}]
        wanted: dict[Any, list[tuple[str, str]]] = {}  # backend -> [(spec, model name)]
        for spec in models:
            host_name, name = split_host_model(spec, hosts)
            if host_name is None:
                wanted.setdefault(backend, []).append((spec, name))
                continue
            if host_name not in others:
                try:
                    others[host_name] = await open_host_backend(hosts[host_name])
                    other_version = await others[host_name].version()
                except BackendError as exc:
                    say(f"r1tui bench: host {host_name}: {exc}")
                    return None
                servers.append({"name": host_name, "url": others[host_name].url,
                                "engine": others[host_name].engine, "version": other_version})
            wanted.setdefault(others[host_name], []).append((spec, name))
            targets[spec] = (others[host_name], name)
        for target, specs in wanted.items():
            try:
                installed = {normalize_tag(model.name) for model in await target.list_models()}
            except BackendError as exc:
                say(f"r1tui bench: cannot list the models of {target.url}: {exc}")
                return None
            missing = [name for _, name in specs if normalize_tag(name) not in installed]
            if missing and not target.manages_models:
                say(f"r1tui bench: {engine_label(target.engine)} at {target.url} does not serve "
                    f"{', '.join(inert(m) for m in missing)}; it serves: "
                    f"{', '.join(sorted(inert(m) for m in installed)) or 'nothing'}")
                return None
            if missing:
                say(missing_models_message(missing, target.url))
                return None
        total = sum(len(batch) for batch in plan(models, len(prompts), runs, concurrent))
        done = 0
        where = " and ".join(f"{server['url']} ({engine_label(server['engine'])} {server['version'] or '?'})"
                             for server in servers)
        say(f"bench: {len(models)} model(s) × {len(prompts)} prompt(s) × {runs} run(s) on "
            f"{where}{', concurrently' if concurrent else ''}")

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
                graded = {True: ", right", False: ", wrong"}.get(result.correct, "")  # type: ignore[arg-type]
                cut = cut_text(result.thinking_cut, result.think_budget, result.reasoning_tokens)
                say(f"  ✓ {label(job)}: {result.eval_tps:.1f} tok/s, {result.reasoning_tokens}+"
                    f"{result.answer_tokens} tokens, {result.total_s:.1f} s{graded}" + (f" ({cut})" if cut else "")
                    + (" (cut off at the length limit)" if result.done_reason == "length" else ""))

        options = Settings(num_ctx=ctx or Settings.num_ctx).chat_options()
        results = await run_bench(backend, models, prompts, references=references, runs=runs,
                                  concurrent=concurrent, options=options, gpu_reader=gpu_reader,
                                  on_start=started, on_result=finished, targets=targets, think_budget=think_budget)
    finally:
        await backend.aclose()
        for other in others.values():
            await other.aclose()
    rows = [result.to_json() for result in results]
    summary = summarize(rows)
    margin = DEFAULT_MARGIN if margin is None else margin
    return {"server": {"url": backend.url, "version": version, "engine": backend.engine}, "servers": servers,
            "results": rows, "summary": summary,
            "verdict": verdict(summary, margin), "margin": margin}


def _servers(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every server the bench ran on (a report from before multi-host runs has only `server`)."""
    return report.get("servers") or [report["server"]]


def engine_label(engine: str) -> str:
    from tui.core.engines import engine_label as label

    return label(engine)


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
    ("peak_vram_bytes", "peak VRAM"), ("energy_j", "energy J"), ("correct", "right"), ("extracted", "answer"),
)
NUMERIC = {key for key, _ in COLUMNS} - {"model", "correct", "extracted"}
# The answer found, as shown in a table cell: enough to see why it was judged wrong.
ANSWER_CELL = 24


def _cell(key: str, row: dict[str, Any]) -> str:
    value = row.get(key)
    if key == "correct":
        return {True: "✓", False: "✗"}.get(value, "—")  # type: ignore[arg-type]
    if key == "extracted":
        from tui.core.sanitize import inert

        text = inert(value or "") or "—"
        return text if len(text) <= ANSWER_CELL else text[: ANSWER_CELL - 1] + "…"
    if key == "energy_j":
        return "—" if value is None else f"{value:.0f}"
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
    if all(r.get("correct") is None for r in rows):
        skip |= {"correct", "extracted"}  # nothing was graded: a timing bench, as before
    if all(r.get("energy_j") is None for r in rows):
        skip.add("energy_j")
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


SUMMARY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("model", "model"), ("accuracy", "right"), ("pass_at_k", "pass@k"), ("mean_reasoning_tokens", "reasoning tok"),
    ("mean_answer_tokens", "answer tok"), ("mean_total_s", "time s"), ("eval_tps", "tok/s"),
    ("peak_vram_bytes", "peak VRAM"), ("energy_j", "J/answer"), ("joules_per_correct", "J/right"),
)


def _summary_cell(key: str, entry: dict[str, Any]) -> str:
    from tui.core.sanitize import inert
    from tui.core.units import format_gib

    value = entry.get(key)
    if key == "model":
        return inert(value)
    if value is None:
        return "—"
    if key == "accuracy":
        return f"{entry['correct']}/{entry['graded_runs']} {value:.0%}"
    if key == "pass_at_k":
        return f"{value:.0%} (k={entry['k']})"
    if key == "peak_vram_bytes":
        return format_gib(value)
    if key in ("mean_reasoning_tokens", "mean_answer_tokens", "energy_j", "joules_per_correct"):
        return f"{value:.0f}"
    return f"{value:.1f}"


def _summary_rows(report: dict[str, Any]) -> tuple[list[tuple[str, str]], list[list[str]]]:
    """The summary's columns (those with something to say) and one row of cells per model."""
    summary = report.get("summary") or []
    columns = [(key, title) for key, title in SUMMARY_COLUMNS
               if key == "model" or any(entry.get(key) is not None for entry in summary)]
    return columns, [[_summary_cell(key, entry) for key, _ in columns] for entry in summary]


def _verdict_line(report: dict[str, Any]) -> str | None:
    from tui.core.sanitize import inert

    line = report.get("verdict")
    return inert(line) if line else None


def render_table(report: dict[str, Any]) -> str:
    """Aligned columns for a terminal; numbers right-aligned, errors listed under the table."""
    from tui.core.sanitize import inert

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
    header = " and ".join(f"{inert(server['url'])} · {engine_label(server.get('engine', 'ollama'))} "
                          f"{inert(server['version'] or '?')}" for server in _servers(report))
    errors = _errors(report)
    out = [header, ""] + lines + ([""] + [f"✖ {e}" for e in errors] if errors else [])
    if len(report.get("summary") or []) > 1 or any(r.get("correct") is not None for r in report["results"]):
        out += ["", "per model:"] + _aligned(*_summary_rows(report))
    verdict_line = _verdict_line(report)
    if verdict_line:
        out += ["", verdict_line]
    return "\n".join(out)


def _aligned(columns: list[tuple[str, str]], body: list[list[str]]) -> list[str]:
    rows = [[title for _, title in columns]] + body
    widths = [max(len(r[i]) for r in rows) for i in range(len(columns))]
    return ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths))).rstrip()
            for r in rows]


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
    where = " and ".join(f"{engine_label(server.get('engine', 'ollama'))} {_md(inert(server['version'] or '?'))} · "
                         f"`{_md(inert(server['url']))}`" for server in _servers(report))
    out = [f"**r1tui bench** · {where}", ""] + lines
    errors = _errors(report)
    if errors:
        out += [""] + [f"- ✖ {_md(e)}" for e in errors]
    columns_s, body = _summary_rows(report)
    if len(body) > 1 or any(r.get("correct") is not None for r in report["results"]):
        out += ["", "| " + " | ".join(title for _, title in columns_s) + " |",
                "|" + "|".join("---" if key == "model" else "---:" for key, _ in columns_s) + "|"]
        out += ["| " + " | ".join(_md(cell) for cell in cells) + " |" for cells in body]
    verdict_line = _verdict_line(report)
    if verdict_line:
        out += ["", f"**{_md(verdict_line)}**"]
    if prompts:
        out += [""]
        for index, prompt in enumerate(prompts, 1):
            label = f"Prompt {index}" if len(prompts) > 1 else "Prompt"
            out.append(f"{label}: {_md(inert(prompt.strip()))}")
    return "\n".join(out)
