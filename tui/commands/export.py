"""`r1tui export ID`: one saved conversation as Markdown or JSON (see tui/export.py for the JSON shape).

To standard output and in a Markdown file the text is inert (escape sequences
from model output shown as visible symbols); JSON keeps the exact text, with
such characters escaped. `-o FILE` is readable by the user only (mode 0600).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a saved conversation to Markdown or JSON",
        description="Export a saved conversation (ids from `r1tui history`) to Markdown or JSON.",
    )
    parser.add_argument("id", type=int, metavar="ID", help="the conversation's id, as `r1tui history` lists it")
    parser.add_argument("--format", choices=("md", "json"), default="md", help="output format (default: md)")
    parser.add_argument("--no-reasoning", action="store_true",
                        help="leave the model's reasoning out (Markdown folds it into <details> otherwise)")
    parser.add_argument("-o", "--output", default=None, metavar="FILE",
                        help="write to FILE (mode 0600) instead of standard output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tui.core.export import render, write_output
    from tui.core.store import ConversationNotFound, HistoryStore, StoreError, default_path

    path = default_path()
    if not path.exists():
        print(f"r1tui export: no saved conversation has the id {args.id} (no history yet at {path})", file=sys.stderr)
        return 1
    try:
        with HistoryStore(path) as store:
            record = store.load_record(args.id)
    except ConversationNotFound:
        print(f"r1tui export: no saved conversation has the id {args.id}; `r1tui history` lists them",
              file=sys.stderr)
        return 1
    except StoreError as exc:
        print(f"r1tui export: {exc}", file=sys.stderr)
        return 1
    text = render(record, args.format, reasoning=not args.no_reasoning)
    try:
        write_output(text, args.output)
    except OSError as exc:
        print(f"r1tui export: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if args.output and args.output != "-":
        print(f"exported conversation {args.id} to {args.output}", file=sys.stderr)
    return 0
