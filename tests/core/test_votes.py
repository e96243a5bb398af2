"""Blind A/B votes: kept in the history across restarts, ranked by Elo."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tui.core.elo import BASE_RATING, Vote, leaderboard
from tui.core.store import SCHEMA_VERSION, HistoryStore


def test_votes_survive_a_restart_in_order(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    times = iter([10.0, 20.0, 30.0])
    with HistoryStore(path, clock=lambda: next(times)) as store:
        store.add_vote("deepseek-r1:7b", "deepseek-r1:1.5b", "a", "What is 6 × 7?")
        store.add_vote("deepseek-r1:14b", "deepseek-r1:7b", "tie")
        store.add_vote("deepseek-r1:1.5b", "deepseek-r1:14b", "b")
    with HistoryStore(path) as store:
        votes = store.votes()
    assert [(v.model_a, v.model_b, v.winner) for v in votes] == [
        ("deepseek-r1:7b", "deepseek-r1:1.5b", "a"), ("deepseek-r1:14b", "deepseek-r1:7b", "tie"),
        ("deepseek-r1:1.5b", "deepseek-r1:14b", "b")]
    assert votes[0].prompt == "What is 6 × 7?" and votes[0].created_at == 10.0
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_vote_must_name_a_winner(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.db") as store:
        with pytest.raises(ValueError, match="a, b, tie"):
            store.add_vote("x:1b", "y:1b", "both")
        assert store.votes() == []


def test_elo_ranks_the_model_that_wins_more() -> None:
    votes = [Vote("big", "small", "a")] * 3 + [Vote("small", "big", "tie"), Vote("mid", "small", "a"),
                                                Vote("big", "mid", "a")]
    board = leaderboard(votes)
    assert [r.model for r in board] == ["big", "mid", "small"]
    big, mid, small = board
    assert big.rating > BASE_RATING > small.rating
    assert (big.wins, big.losses, big.ties, big.games) == (4, 0, 1, 5)
    assert (small.wins, small.losses, small.ties) == (0, 4, 1)
    assert sum(r.rating for r in board) == pytest.approx(3 * BASE_RATING)  # Elo moves points, never makes them


def test_a_tie_between_equals_changes_nothing() -> None:
    board = leaderboard([Vote("a:1b", "b:1b", "tie")])
    assert [r.rating for r in board] == [BASE_RATING, BASE_RATING]
