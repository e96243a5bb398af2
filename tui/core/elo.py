"""A local Elo ranking from blind A/B votes (the compare view's blind mode).

Why Elo: it is what public model arenas use, so people read it at a glance,
and it turns a handful of pairwise "this answer was better" votes into one
ordering. Votes are replayed in the order they were cast, each moving the
two ratings by `K` times the surprise of the outcome (a tie counts half a
win to each). With few votes the numbers are rough: the table shows how
many votes each rating rests on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Literal

__all__ = ["BASE_RATING", "K", "OUTCOMES", "Rating", "Vote", "leaderboard"]

BASE_RATING = 1000.0
K = 32.0
Outcome = Literal["a", "b", "tie"]
OUTCOMES: tuple[str, ...] = ("a", "b", "tie")


@dataclass(frozen=True)
class Vote:
    """One blind comparison: two models answered `prompt`; `winner` is "a", "b" or "tie"."""

    model_a: str
    model_b: str
    winner: str
    prompt: str = ""
    created_at: float = 0.0


@dataclass
class Rating:
    model: str
    rating: float = BASE_RATING
    wins: int = 0
    losses: int = 0
    ties: int = 0

    @property
    def games(self) -> int:
        return self.wins + self.losses + self.ties

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "rating": round(self.rating, 1), "votes": self.games,
                "wins": self.wins, "losses": self.losses, "ties": self.ties}


def _expected(rating: float, other: float) -> float:
    return 1.0 / (1.0 + 10 ** ((other - rating) / 400.0))


def leaderboard(votes: Iterable[Vote], k: float = K) -> list[Rating]:
    """Every model that was voted on, best rating first (ties in rating: more votes first, then name)."""
    table: dict[str, Rating] = {}
    for vote in votes:
        if vote.winner not in OUTCOMES or vote.model_a == vote.model_b:
            continue
        a = table.setdefault(vote.model_a, Rating(vote.model_a))
        b = table.setdefault(vote.model_b, Rating(vote.model_b))
        score = {"a": 1.0, "b": 0.0, "tie": 0.5}[vote.winner]
        expected = _expected(a.rating, b.rating)
        a.rating, b.rating = a.rating + k * (score - expected), b.rating - k * (score - expected)
        if vote.winner == "a":
            a.wins, b.losses = a.wins + 1, b.losses + 1
        elif vote.winner == "b":
            b.wins, a.losses = b.wins + 1, a.losses + 1
        else:
            a.ties, b.ties = a.ties + 1, b.ties + 1
    return sorted(table.values(), key=lambda r: (-r.rating, -r.games, r.model))
