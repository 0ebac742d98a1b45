"""core/collisions.py: users prompted by two surveys within the window, and the colliding pairs."""
from __future__ import annotations

from ces.core.collisions import DAY, count

H = 3600


def test_two_surveys_inside_a_day_collide_once_per_user() -> None:
    prompts = [("ann", 1, 0), ("ann", 2, 5 * H), ("ann", 2, 6 * H),   # 1+2 within 24 h
               ("bob", 1, 0), ("bob", 2, DAY),                        # exactly 24 h apart: not within
               ("cat", 3, 0), ("cat", 3, H),                          # the same survey twice: not a collision
               ("dan", 2, 0), ("dan", 3, H), ("dan", 1, 2 * H)]       # three surveys: three pairs
    found = count(prompts)
    assert found.users_prompted == 4 and found.users_colliding == 2
    assert found.pairs == {(1, 2): 2, (2, 3): 1, (1, 3): 1}
    assert found.sorted_pairs()[0] == ((1, 2), 2)
    assert found.share() == 50.0


def test_window_is_a_parameter_and_empty_input_is_zero() -> None:
    assert count([("ann", 1, 0), ("ann", 2, 3 * H)], window=2 * H).users_colliding == 0
    assert count([("ann", 1, 0), ("ann", 2, 3 * H)], window=4 * H).users_colliding == 1
    empty = count([])
    assert empty.users_prompted == 0 and empty.share() is None and empty.pairs == {}


def test_old_prompts_leave_the_window() -> None:
    # 1 at 0 h, 2 at 30 h (1 is out of the window by then), 1 again at 40 h: 2 and 1 collide.
    found = count([("ann", 1, 0), ("ann", 2, 30 * H), ("ann", 1, 40 * H)])
    assert found.pairs == {(1, 2): 1}
