"""`r1tui history`: the saved conversations, newest first, for scripts and quick looks over SSH.

`--json` prints one object whose shape is a contract:
{"database": str, "conversations": [{"id", "title", "model", "created_at", "updated_at", "turns"}]}
with times as ISO-8601 UTC strings; with --search each also has "snippet", the text around its match. Titles come from prompts (pasted text may
hold escape sequences), so the table shows them through `inert`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "history",
        help="list saved conversations (id, date, model, turns, title)",
        description="List the saved conversations, newest first. Use an id with `r1tui export ID`.",
    )
    parser.add_argument("--search", default=None, metavar="TEXT",
                        help="only conversations containing TEXT as a phrase (title, prompts, answers, reasoning); "
                             "several \"quoted phrases\" must all be there. Each result shows the text around its match")
    parser.add_argument("--limit", type=_limit, default=50, metavar="N",
                        help="show at most N conversations, 0 for all (default: 50)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.set_defaults(func=run)


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def run(args: argparse.Namespace) -> int:
    from tui.core.export import iso_utc, write_output
    from tui.core.store import HistoryStore, StoreError, default_path

    path = default_path()
    conversations = []
    if path.exists():  # a look at the history must not create one
        try:
            with HistoryStore(path) as store:
                conversations = store.list_conversations(args.search, limit=args.limit or None)
        except StoreError as exc:
            print(f"r1tui history: {exc}", file=sys.stderr)
            return 1
    if args.json:
        write_output(json.dumps({
            "database": str(path),
            "conversations": [
                {"id": c.id, "title": c.title, "model": c.model, "created_at": iso_utc(c.created_at),
                 "updated_at": iso_utc(c.updated_at), "turns": c.turn_count,
                 **({"snippet": c.snippet} if args.search else {})}
                for c in conversations
            ],
        }) + "\n")
        return 0
    if not conversations:
        if args.search:
            print(f"No saved conversation contains {args.search!r}.")
        else:
            print(f"No saved conversations yet (they are kept in {path}).")
        return 0
    write_output(_table(conversations) + "\n")
    return 0


def _table(conversations: list[Any]) -> str:
    from datetime import datetime

    from tui.core.sanitize import inert

    rows = [(str(c.id), datetime.fromtimestamp(c.updated_at).strftime("%Y-%m-%d %H:%M"), c.model,
             str(c.turn_count), c.title) for c in conversations]
    header = ("ID", "UPDATED", "MODEL", "TURNS", "TITLE")
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(4)]
    right = {0, 3}

    def fmt(cells: tuple[str, ...]) -> str:
        fixed = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells[:4], widths))]
        return "  ".join([*fixed, cells[4]]).rstrip()

    lines = [fmt(header)]
    for row, conversation in zip(rows, conversations):
        lines.append(fmt(row))
        if conversation.snippet:  # why it matched: the text around the match, made inert like the titles
            lines.append(" " * (widths[0] + 2) + inert(conversation.snippet))
    return "\n".join(lines)
