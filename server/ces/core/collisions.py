"""The fatigue diagnostic: which users were prompted by two or more surveys close together, and
which survey pairs collide for the same users. Pure: it gets the prompts, sorted.

A collision is two prompts of *different* surveys for one user less than `window` seconds apart
(by their contact time: when shown, else when created). A user counts once however many
collisions they had; a pair of surveys counts each user once. Two prompts of the same survey are
not a collision here (the survey wait is about those).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

DAY = 86_400


@dataclass
class Collisions:
    users_prompted: int = 0                  # users with at least one prompt in the period
    users_colliding: int = 0                 # ... prompted by 2+ surveys within the window
    pairs: dict[tuple[int, int], int] = field(default_factory=dict)  # (survey a < b) -> users

    def share(self) -> float | None:
        """The colliding users' share of the users prompted, in %; None with nobody prompted."""
        return None if not self.users_prompted else 100.0 * self.users_colliding / self.users_prompted

    def sorted_pairs(self) -> list[tuple[tuple[int, int], int]]:
        """Most users first, then by survey ids."""
        return sorted(self.pairs.items(), key=lambda kv: (-kv[1], kv[0]))


def count(prompts: Iterable[tuple[str, int, float]], window: float = DAY) -> Collisions:
    """`prompts`: (user_id, survey_id, contact time), sorted by user, then time."""
    out = Collisions()
    user: str | None = None
    recent: list[tuple[float, int]] = []        # this user's prompts still inside the window
    mine: set[tuple[int, int]] = set()          # this user's colliding pairs

    def close_user() -> None:
        if user is None:
            return
        out.users_prompted += 1
        if mine:
            out.users_colliding += 1
            for pair in mine:
                out.pairs[pair] = out.pairs.get(pair, 0) + 1

    for user_id, survey_id, t in prompts:
        if user_id != user:
            close_user()
            user, recent, mine = user_id, [], set()
        recent = [(u, s) for u, s in recent if t - u < window]
        for _, other in recent:
            if other != survey_id:
                mine.add((min(other, survey_id), max(other, survey_id)))
        recent.append((t, survey_id))
    close_user()
    return out
