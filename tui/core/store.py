"""Chat history in SQLite, saved while the model streams so that nothing is lost on a crash.

Users come back to a GPU box over SSH and expect yesterday's chats to be there,
even when the SSH session died in the middle of a reply. So a turn is written
when it starts, every batch of streamed text is committed as it arrives, and
the turn is completed when it finishes.

Why the streamed text goes to its own table: appending with
`UPDATE turns SET reasoning = reasoning || ?` rewrites the whole (growing) row
on every commit, so a long R1 reasoning (tens of kB) would cost more with every
chunk. Inserting a small `turn_chunks` row costs the same whether it is the
first chunk or the thousandth; `finish_turn` then writes the full text once and
drops the chunks. A turn the app never finished (killed process, lost SSH
session) is rebuilt from its chunks when loaded and shown as interrupted.

Durability: WAL with `synchronous=NORMAL` commits without an fsync; a commit
survives the process being killed (only a power loss or OS crash may drop the
last commits, and even then the file stays consistent). So a killed session
loses at most the chunk that was being written.

The store may be used from several threads (the TUI writes streamed text from a
worker thread, so a lock held by another process never stalls the screen): one
connection, made without sqlite3's same-thread check, and a lock around every
use. Several r1tui processes may share the file: WAL lets them read while one writes, and writers
wait up to `BUSY_TIMEOUT_SECONDS` for each other.
"""

from __future__ import annotations

import json
import re
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from tui.core.conversation import Conversation, Turn, TurnState
from tui.core.elo import OUTCOMES, Vote
from tui.core.metrics import GenerationStats

__all__ = ["APPLICATION_ID", "BUSY_TIMEOUT_SECONDS", "INTERRUPTED_ERROR", "MIGRATIONS", "SCHEMA_VERSION",
           "SNIPPET_CONTEXT", "TITLE_LENGTH", "ConversationInfo", "ConversationNotFound", "ConversationRecord",
           "HistoryStore", "StoreError", "TurnRecord", "default_path", "make_title", "reasoning_control_of",
           "restore_reasoning_control", "search_phrases",
           "snippet_around"]

# "r1tu" in ASCII: marks the file as ours, so a foreign SQLite file is refused rather than altered.
APPLICATION_ID = 0x72317475
BUSY_TIMEOUT_SECONDS = 5.0
TITLE_LENGTH = 60
# Why a turn left streaming in the file (r1tui killed mid-reply) is shown stopped; the chat shows it as it is.
INTERRUPTED_ERROR = "interrupted: r1tui exited while it streamed"

# Each entry brings the schema from version i to i + 1 (PRAGMA user_version). Never edit a
# released entry: append a new one, so every older file migrates step by step.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: conversations, their turns, and the chunks of turns still streaming.
    (
        """CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL DEFAULT '',
            model TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE turns (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            prompt TEXT NOT NULL,
            model TEXT NOT NULL,
            reasoning TEXT NOT NULL DEFAULT '',
            answer TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL,
            error TEXT,
            options TEXT NOT NULL DEFAULT '{}',
            started_at REAL NOT NULL,
            finished_at REAL,
            think_seconds REAL NOT NULL DEFAULT 0,
            ttft_seconds REAL,
            reasoning_tokens INTEGER NOT NULL DEFAULT 0,
            answer_tokens INTEGER NOT NULL DEFAULT 0,
            eval_count INTEGER,
            eval_duration_ns INTEGER,
            prompt_eval_count INTEGER,
            prompt_eval_duration_ns INTEGER,
            load_duration_ns INTEGER,
            total_duration_ns INTEGER,
            UNIQUE (conversation_id, idx)
        )""",
        """CREATE TABLE turn_chunks (
            id INTEGER PRIMARY KEY,
            turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
            reasoning TEXT NOT NULL,
            answer TEXT NOT NULL
        )""",
        "CREATE INDEX turn_chunks_by_turn ON turn_chunks (turn_id, id)",
        "CREATE INDEX conversations_by_update ON conversations (updated_at)",
    ),
    # 2: why the server stopped (GenerationStats.done_reason) and the conversation's system prompt.
    (
        "ALTER TABLE turns ADD COLUMN done_reason TEXT",
        "ALTER TABLE conversations ADD COLUMN system_prompt TEXT NOT NULL DEFAULT ''",
    ),
    # 3: regenerated answers. Every answer is a row of its own (idx stays the order rows were written);
    # `position` is the place in the conversation it answers (NULL: its idx), `shown` the answer on screen.
    (
        "ALTER TABLE turns ADD COLUMN position INTEGER",
        "ALTER TABLE turns ADD COLUMN shown INTEGER NOT NULL DEFAULT 1",
    ),
    # 4: blind A/B votes from the compare view (the Elo leaderboard of `r1tui bench --leaderboard`).
    (
        """CREATE TABLE votes (
            id INTEGER PRIMARY KEY,
            created_at REAL NOT NULL,
            prompt TEXT NOT NULL DEFAULT '',
            model_a TEXT NOT NULL,
            model_b TEXT NOT NULL,
            winner TEXT NOT NULL CHECK (winner IN ('a', 'b', 'tie'))
        )""",
    ),
    # 5: reasoning control (tui.core.thinking_budget): the budget, how the reasoning was cut, a loop
    # flag, thinking off, and the context size the turn ran in; JSON (`reasoning_control_of`).
    (
        "ALTER TABLE turns ADD COLUMN reasoning_control TEXT",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(Exception):
    """The history cannot be used; the message names the file and what to do, fit to show a user."""


class ConversationNotFound(LookupError):
    def __init__(self, conversation_id: int) -> None:
        super().__init__(f"no saved conversation has the id {conversation_id}")
        self.conversation_id = conversation_id


@dataclass(frozen=True)
class ConversationInfo:
    """One line of the history list. Times are Unix seconds (UTC)."""

    id: int
    title: str
    model: str
    created_at: float
    updated_at: float
    turn_count: int
    # When listed by a search: a short stretch of text around the first match (raw text: make it inert to show).
    snippet: str = ""


@dataclass
class TurnRecord:
    """A saved turn with what `Turn` does not hold: its row id, request options and times."""

    id: int
    index: int
    turn: Turn
    options: dict[str, Any]
    started_at: float
    finished_at: float | None
    interrupted: bool = False


@dataclass
class ConversationRecord:
    info: ConversationInfo
    system_prompt: str = ""
    turns: list[TurnRecord] = field(default_factory=list)  # the answers shown, one per place
    # Index in `turns` → every answer to that prompt, oldest first (places answered more than once).
    alternatives: dict[int, list[TurnRecord]] = field(default_factory=dict)

    def conversation(self) -> Conversation:
        return Conversation(turns=[record.turn for record in self.turns], system_prompt=self.system_prompt,
                            alternatives={index: [record.turn for record in records]
                                          for index, records in self.alternatives.items()})


def default_path() -> Path:
    from tui.core.config import data_dir

    return data_dir() / "history.db"


def make_title(prompt: str) -> str:
    """The first prompt on one line, cut to fit a list row."""
    text = " ".join(prompt.split())
    return text if len(text) <= TITLE_LENGTH else text[: TITLE_LENGTH - 1].rstrip() + "…"


def _like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


SNIPPET_CONTEXT = 40  # characters of context each side of a search match


def search_phrases(search: str | None) -> list[str]:
    """What a search looks for: each "quoted" part is a phrase, and the words outside quotes are one
    phrase too (`integration by parts` finds those words together, not every "by"). Case-insensitive;
    runs of spaces count as one."""
    text = search or ""
    phrases = [" ".join(part.split()) for part in re.findall(r'"([^"]*)"', text)]
    rest = " ".join(re.sub(r'"[^"]*"', " ", text).replace('"', " ").split())
    return [phrase for phrase in [*phrases, rest] if phrase]


def snippet_around(text: str, phrase: str, context: int = SNIPPET_CONTEXT) -> str | None:
    """`…text before MATCH text after…` on one line, or None when `phrase` is not in `text`."""
    flat = " ".join(text.split())
    match = re.search(re.escape(phrase), flat, re.IGNORECASE)
    if match is None:
        return None
    start, end = max(0, match.start() - context), min(len(flat), match.end() + context)
    if start > 0 and " " in flat[start:match.start()]:
        start = flat.index(" ", start) + 1  # don't open on half a word
    if end < len(flat) and " " in flat[match.end():end]:
        end = flat.rindex(" ", match.end(), end)
    return ("…" if start > 0 else "") + flat[start:end] + ("…" if end < len(flat) else "")


def reasoning_control_of(turn: Turn) -> dict[str, Any]:
    """What a turn's reasoning control did, as saved (and exported)."""
    return {"think_budget": turn.think_budget, "thinking_cut": turn.thinking_cut, "loop_flagged": turn.loop_flagged,
            "thinking_off": turn.thinking_off, "context_size": turn.context_size}


def restore_reasoning_control(turn: Turn, saved: str | None) -> None:
    """The saved reasoning control back on a loaded turn; a missing or unreadable value leaves the defaults."""
    try:
        data = json.loads(saved) if saved else {}
    except json.JSONDecodeError:
        return
    if not isinstance(data, dict):
        return
    turn.think_budget = int(data.get("think_budget") or 0)
    cut = data.get("thinking_cut")
    turn.thinking_cut = cut if isinstance(cut, str) else None
    turn.loop_flagged = bool(data.get("loop_flagged"))
    turn.thinking_off = bool(data.get("thinking_off"))
    turn.context_size = int(data.get("context_size") or 0)


_STATS_COLUMNS = ("eval_count", "eval_duration_ns", "prompt_eval_count", "prompt_eval_duration_ns",
                  "load_duration_ns", "total_duration_ns", "done_reason")


class HistoryStore:
    """Saved conversations in one SQLite file (default `$XDG_DATA_HOME/r1tui/history.db`, mode 0600)."""

    def __init__(self, path: Path | str | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._clock = clock
        self._lock = threading.RLock()
        self._alternative_for: dict[int, int] = {}  # conversation id → turn index its next turn answers again
        self._db = self._open()

    # -- opening --------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        path = self.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Created here, not by SQLite, so it is private from the start (SQLite gives
            # its -wal and -shm files the same mode as the database).
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        except OSError as exc:
            raise StoreError(f"cannot open the chat history {path}: {exc.strerror or exc}") from exc
        try:
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the chat history {path}: {exc}") from exc
        try:
            db.row_factory = sqlite3.Row
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            if app_id not in (0, APPLICATION_ID):
                raise StoreError(f"{path} is an SQLite file of another program, not an r1tui history; "
                                 "move it aside and r1tui will start a new one")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            self._migrate(db)
        except sqlite3.OperationalError as exc:  # locked, read-only folder, out of space
            db.close()
            raise StoreError(f"cannot open the chat history {path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            db.close()
            raise StoreError(f"the chat history {path} is damaged or not a database ({exc}); "
                             "move it aside and r1tui will start a new one") from exc
        except BaseException:
            db.close()
            raise
        return db

    def _migrate(self, db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        db.execute("BEGIN IMMEDIATE")  # re-read under the write lock: another r1tui may be migrating
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0 and db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
                raise StoreError(f"{self.path} is an SQLite file of another program, not an r1tui history; "
                                 "move it aside and r1tui will start a new one")
            if version > SCHEMA_VERSION:
                raise StoreError(f"the chat history {self.path} was written by a newer r1tui (schema {version}; "
                                 f"this version knows up to {SCHEMA_VERSION}); upgrade r1tui to open it")
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number]:
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "HistoryStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._errors():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """sqlite3 errors (disk full, locked by another r1tui for too long) as a StoreError to show;
        one thread at a time."""
        with self._lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise StoreError(f"chat history {self.path}: {exc}") from exc

    # -- writing while streaming ----------------------------------------------------

    def new_conversation(self, model: str, system_prompt: str = "") -> int:
        now = self._clock()
        with self._errors():
            cursor = self._db.execute(
                "INSERT INTO conversations (model, system_prompt, created_at, updated_at) VALUES (?, ?, ?, ?)",
                (model, system_prompt, now, now))
        return int(cursor.lastrowid or 0)

    def start_turn(self, conversation_id: int, turn: Turn, options: dict[str, Any]) -> int:
        """Save a turn that has just been sent (with whatever text it already has); returns its id."""
        now = self._clock()
        with self._transaction() as db:
            row = db.execute("SELECT title FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            if row is None:
                raise ConversationNotFound(conversation_id)
            index = db.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM turns WHERE conversation_id = ?",
                               (conversation_id,)).fetchone()[0]
            position = self._claim_alternative(db, conversation_id)
            cursor = db.execute(
                "INSERT INTO turns (conversation_id, idx, prompt, model, reasoning, answer, state, options, started_at,"
                " position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, index, turn.prompt, turn.model, turn.reasoning, turn.answer,
                 TurnState.STREAMING.value, json.dumps(options, sort_keys=True), now, position))
            # The title comes from the first prompt unless the user has named the conversation.
            title = row["title"] or make_title(turn.prompt)
            db.execute("UPDATE conversations SET title = ?, model = ?, updated_at = ? WHERE id = ?",
                       (title, turn.model, now, conversation_id))
        self._alternative_for.pop(conversation_id, None)  # saved: a failed try keeps it for the retry
        return int(cursor.lastrowid or 0)

    # -- regenerated answers and forks ---------------------------------------------------

    def expect_alternative(self, conversation_id: int, turn_index: int) -> None:
        """The next turn saved in this conversation is another answer to its turn `turn_index`
        (counted in places, as the chat shows them), and becomes the one shown."""
        self._alternative_for[conversation_id] = turn_index

    def _positions(self, db: sqlite3.Connection, conversation_id: int) -> list[int]:
        return [row[0] for row in db.execute(
            "SELECT DISTINCT COALESCE(position, idx) AS p FROM turns WHERE conversation_id = ? ORDER BY p",
            (conversation_id,))]

    def _claim_alternative(self, db: sqlite3.Connection, conversation_id: int) -> int | None:
        turn_index = self._alternative_for.get(conversation_id)  # dropped once the turn is saved
        if turn_index is None:
            return None
        positions = self._positions(db, conversation_id)
        if not 0 <= turn_index < len(positions):
            return None
        position = positions[turn_index]
        db.execute("UPDATE turns SET shown = 0 WHERE conversation_id = ? AND COALESCE(position, idx) = ?",
                   (conversation_id, position))
        return position

    def show_alternative(self, conversation_id: int, turn_index: int, number: int) -> None:
        """Answer `number` (from 1, oldest first) of turn `turn_index` is the one shown from now on."""
        with self._transaction() as db:
            positions = self._positions(db, conversation_id)
            if not 0 <= turn_index < len(positions):
                raise LookupError(f"conversation {conversation_id} has no turn {turn_index}")
            ids = [row[0] for row in db.execute(
                "SELECT id FROM turns WHERE conversation_id = ? AND COALESCE(position, idx) = ? ORDER BY idx",
                (conversation_id, positions[turn_index]))]
            if not 1 <= number <= len(ids):
                raise LookupError(f"turn {turn_index} has no answer {number}")
            for number_of, turn_id in enumerate(ids, 1):
                db.execute("UPDATE turns SET shown = ? WHERE id = ?", (int(number_of == number), turn_id))

    def fork(self, conversation_id: int, keep_turns: int) -> int:
        """A new conversation, "<title> (fork)", holding copies of the first `keep_turns` turns
        (with their other answers); the original stays as it is. Returns the new id."""
        now = self._clock()
        with self._transaction() as db:
            row = db.execute("SELECT title, model, system_prompt FROM conversations WHERE id = ?",
                             (conversation_id,)).fetchone()
            if row is None:
                raise ConversationNotFound(conversation_id)
            title = f"{row['title']} (fork)" if row["title"] else ""
            cursor = db.execute(
                "INSERT INTO conversations (title, model, system_prompt, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (title, row["model"], row["system_prompt"], now, now))
            new_id = int(cursor.lastrowid or 0)
            kept = self._positions(db, conversation_id)[:max(0, keep_turns)]
            columns = [info[1] for info in db.execute("PRAGMA table_info(turns)")
                       if info[1] not in ("id", "conversation_id")]
            names = ", ".join(columns)
            for position in kept:
                db.execute(f"INSERT INTO turns (conversation_id, {names}) SELECT ?, {names} FROM turns"
                           " WHERE conversation_id = ? AND COALESCE(position, idx) = ? ORDER BY idx",
                           (new_id, conversation_id, position))
        return new_id

    def append(self, turn_id: int, reasoning_delta: str = "", answer_delta: str = "") -> None:
        """Commit one batch of streamed text; cheap (one small insert), call it per UI batch."""
        if not reasoning_delta and not answer_delta:
            return
        with self._errors():
            self._db.execute("INSERT INTO turn_chunks (turn_id, reasoning, answer) VALUES (?, ?, ?)",
                             (turn_id, reasoning_delta, answer_delta))

    def finish_turn(self, turn_id: int, turn: Turn) -> None:
        """Write the finished turn (full text, state, figures) once; its streamed chunks are dropped."""
        stats = turn.stats
        figures: tuple[Any, ...] = (
            (stats.eval_count, stats.eval_duration_ns, stats.prompt_eval_count, stats.prompt_eval_duration_ns,
             stats.load_duration_ns, stats.total_duration_ns, stats.done_reason)
            if stats is not None else (None,) * len(_STATS_COLUMNS))
        state = turn.state if turn.state is not TurnState.STREAMING else TurnState.STOPPED
        now = self._clock()
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE turns SET reasoning = ?, answer = ?, state = ?, error = ?, finished_at = ?, think_seconds = ?,"
                " ttft_seconds = ?, reasoning_tokens = ?, answer_tokens = ?, reasoning_control = ?, "
                + ", ".join(f"{column} = ?" for column in _STATS_COLUMNS) + " WHERE id = ?",
                (turn.reasoning, turn.answer, state.value, turn.error, now, turn.think_seconds, turn.ttft_seconds,
                 turn.reasoning_tokens, turn.answer_tokens, json.dumps(reasoning_control_of(turn), sort_keys=True),
                 *figures, turn_id))
            if cursor.rowcount == 0:
                raise LookupError(f"no saved turn has the id {turn_id}")
            db.execute("DELETE FROM turn_chunks WHERE turn_id = ?", (turn_id,))
            db.execute("UPDATE conversations SET updated_at = ? WHERE id = (SELECT conversation_id FROM turns"
                       " WHERE id = ?)", (now, turn_id))

    # -- managing ---------------------------------------------------------------------

    def rename(self, conversation_id: int, title: str) -> None:
        title = " ".join(title.split())
        if not title:
            raise ValueError("a conversation's title cannot be empty")
        with self._errors():
            cursor = self._db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))
        if cursor.rowcount == 0:
            raise ConversationNotFound(conversation_id)

    def delete(self, conversation_id: int) -> None:
        with self._errors():
            cursor = self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        if cursor.rowcount == 0:
            raise ConversationNotFound(conversation_id)

    # -- blind A/B votes ------------------------------------------------------------------

    def add_vote(self, model_a: str, model_b: str, winner: str, prompt: str = "") -> None:
        """Save one blind comparison's outcome: `winner` is "a", "b" or "tie"."""
        if winner not in OUTCOMES:
            raise ValueError(f"a vote's winner is one of {', '.join(OUTCOMES)}, not {winner!r}")
        with self._errors():
            self._db.execute("INSERT INTO votes (created_at, prompt, model_a, model_b, winner) VALUES (?, ?, ?, ?, ?)",
                             (self._clock(), prompt, model_a, model_b, winner))

    def votes(self) -> list[Vote]:
        """Every vote, in the order cast (Elo replays them in that order)."""
        with self._errors():
            rows = self._db.execute(
                "SELECT model_a, model_b, winner, prompt, created_at FROM votes ORDER BY created_at, id").fetchall()
        return [Vote(row["model_a"], row["model_b"], row["winner"], row["prompt"], row["created_at"]) for row in rows]

    # -- reading ------------------------------------------------------------------------

    def list_conversations(self, search: str | None = None, limit: int | None = 200) -> list[ConversationInfo]:
        """Newest first; conversations without a turn (a new chat never sent) are left out.

        `search` matches conversations containing each of its phrases (see `search_phrases`;
        case-insensitive for ASCII letters) in a title, prompt, answer or reasoning, streamed
        chunks included; each result then carries a snippet around the first match.
        """
        conditions: list[str] = []
        parameters: list[Any] = []
        phrases = search_phrases(search)
        for phrase in phrases:
            pattern = _like_pattern(phrase)
            conditions.append(
                "(c.title LIKE ?1 ESCAPE '\\'"
                " OR EXISTS (SELECT 1 FROM turns s WHERE s.conversation_id = c.id AND (s.prompt LIKE ?1 ESCAPE '\\'"
                " OR s.answer LIKE ?1 ESCAPE '\\' OR s.reasoning LIKE ?1 ESCAPE '\\'))"
                " OR EXISTS (SELECT 1 FROM turn_chunks k JOIN turns s ON s.id = k.turn_id WHERE s.conversation_id"
                " = c.id AND (k.answer LIKE ?1 ESCAPE '\\' OR k.reasoning LIKE ?1 ESCAPE '\\')))"
                .replace("?1", f"?{len(parameters) + 1}"))
            parameters.append(pattern)
        where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
        limit_clause = f"LIMIT {int(limit)}" if limit is not None else ""
        # A turn answered again counts once (its answers share a position).
        sql = (f"SELECT c.id, c.title, c.model, c.created_at, c.updated_at,"
               f" COUNT(DISTINCT COALESCE(t.position, t.idx)) AS turn_count"
               f" FROM conversations c JOIN turns t ON t.conversation_id = c.id {where}"
               f" GROUP BY c.id ORDER BY c.updated_at DESC, c.id DESC {limit_clause}")
        with self._errors():
            rows = self._db.execute(sql, parameters).fetchall()
            infos = [self._info(row) for row in rows]
            if phrases:
                infos = [replace(info, snippet=self._snippet(info, phrases[0])) for info in infos]
        return infos

    def _snippet(self, info: ConversationInfo, phrase: str) -> str:
        """Around the phrase's first place: the prompts, answers and reasoning in turn order, then
        the text of turns still streaming (their chunks), then the title (it may have been renamed)."""
        texts: list[str] = []
        for row in self._db.execute("SELECT id, prompt, answer, reasoning FROM turns WHERE conversation_id = ?"
                                    " ORDER BY idx", (info.id,)):
            texts += [row["prompt"], row["answer"], row["reasoning"]]
        for chunk in self._db.execute("SELECT k.answer, k.reasoning FROM turn_chunks k JOIN turns s"
                                      " ON s.id = k.turn_id WHERE s.conversation_id = ? ORDER BY k.id", (info.id,)):
            texts += [chunk["answer"], chunk["reasoning"]]
        texts.append(info.title)
        return next((found for text in texts if (found := snippet_around(text, phrase)) is not None), "")

    def info(self, conversation_id: int) -> ConversationInfo:
        with self._errors():
            row = self._db.execute(
                "SELECT c.id, c.title, c.model, c.created_at, c.updated_at,"
                " (SELECT COUNT(DISTINCT COALESCE(t.position, t.idx)) FROM turns t WHERE t.conversation_id = c.id)"
                " AS turn_count"
                " FROM conversations c WHERE c.id = ?", (conversation_id,)).fetchone()
        if row is None:
            raise ConversationNotFound(conversation_id)
        return self._info(row)

    def load(self, conversation_id: int) -> Conversation:
        """The conversation as the chat screen holds it, ready to be continued."""
        return self.load_record(conversation_id).conversation()

    def load_record(self, conversation_id: int) -> ConversationRecord:
        """Everything saved about a conversation (for export and the history screen)."""
        info = self.info(conversation_id)
        with self._errors():
            system_prompt = self._db.execute("SELECT system_prompt FROM conversations WHERE id = ?",
                                             (conversation_id,)).fetchone()[0]
            rows = self._db.execute("SELECT * FROM turns WHERE conversation_id = ? ORDER BY idx",
                                    (conversation_id,)).fetchall()
            places: dict[int, list[tuple[sqlite3.Row, TurnRecord]]] = {}
            for row in rows:  # the answers to one place, in the order they were written
                place = row["position"] if row["position"] is not None else row["idx"]
                places.setdefault(place, []).append((row, self._turn_record(row)))
        records: list[TurnRecord] = []
        alternatives: dict[int, list[TurnRecord]] = {}
        for place in sorted(places):
            answers = places[place]
            for _, record in answers:
                record.index = len(records)  # the turn's place in the conversation, alternatives alike
            shown = [record for row, record in answers if row["shown"]] or [answers[-1][1]]
            records.append(shown[-1])
            if len(answers) > 1:
                alternatives[len(records) - 1] = [record for _, record in answers]
        return ConversationRecord(info=info, system_prompt=system_prompt, turns=records, alternatives=alternatives)

    def _turn_record(self, row: sqlite3.Row) -> TurnRecord:
        reasoning, answer = row["reasoning"], row["answer"]
        state = TurnState(row["state"])
        error = row["error"]
        interrupted = state is TurnState.STREAMING
        if interrupted:
            # Never finished: its text is in the chunks. Shown as stopped, since nothing streams it now.
            chunks: Sequence[sqlite3.Row] = self._db.execute(
                "SELECT reasoning, answer FROM turn_chunks WHERE turn_id = ? ORDER BY id", (row["id"],)).fetchall()
            reasoning += "".join(chunk["reasoning"] for chunk in chunks)
            answer += "".join(chunk["answer"] for chunk in chunks)
            state, error = TurnState.STOPPED, INTERRUPTED_ERROR
        stats = None
        if row["eval_count"] is not None:
            stats = GenerationStats(**{column: row[column] for column in _STATS_COLUMNS})
        turn = Turn(
            prompt=row["prompt"], model=row["model"], reasoning=reasoning, answer=answer, state=state, error=error,
            stats=stats, think_seconds=row["think_seconds"], ttft_seconds=row["ttft_seconds"],
            reasoning_tokens=row["reasoning_tokens"], answer_tokens=row["answer_tokens"])
        restore_reasoning_control(turn, row["reasoning_control"])
        try:
            options = json.loads(row["options"])
        except json.JSONDecodeError:
            options = {}
        return TurnRecord(id=row["id"], index=row["idx"], turn=turn, options=options if isinstance(options, dict)
                          else {}, started_at=row["started_at"], finished_at=row["finished_at"],
                          interrupted=interrupted)

    @staticmethod
    def _info(row: sqlite3.Row) -> ConversationInfo:
        return ConversationInfo(id=row["id"], title=row["title"], model=row["model"], created_at=row["created_at"],
                                updated_at=row["updated_at"], turn_count=row["turn_count"])
