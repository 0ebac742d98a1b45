"""Deterministic, sticky sampling and variant choice.

The decision is a function of (site, trigger, user) only - never of the event -
so a user who fires the trigger 50 times is sampled exactly like a user who fires
it once (drawing per event over-samples heavy users), and the same user always
gets the same answer on every server process, across restarts. That is why the
hash is sha256 and not Python's hash(), which is salted per process.

Two different salts keep the two draws independent: being sampled in says nothing
about which variant a user gets, so a 20 % sample split 50/50 is 10 % + 10 %.

Raising a rate only adds users (bucket < 20 implies bucket < 30): people already
sampled in stay in when a product team widens the sample.
"""
from __future__ import annotations

import hashlib
import math
from typing import Sequence, TypeVar

SurveyId = TypeVar("SurveyId")

_SAMPLE_SALT = "ces.sample.v1"
_VARIANT_SALT = "ces.variant.v1"
# The largest float below 100, in case rounding ever lands exactly on 100.
_TOP = math.nextafter(100.0, 0.0)
_TWO52 = float(1 << 52)


def bucket(*parts: str) -> float:
    """A stable number in [0, 100) for these parts.

    Each part is length-prefixed before hashing so ("ab", "c") and ("a", "bc")
    land in different buckets (a plain join with a separator would not
    guarantee that when a part contains the separator).
    """
    h = hashlib.sha256()
    for part in parts:
        h.update(_framed(part))
    return _to_bucket(h)


def _framed(part: object) -> bytes:
    data = str(part).encode("utf-8")
    return len(data).to_bytes(8, "big") + data


def _to_bucket(h: "hashlib._Hash") -> float:
    # 52 bits fit a float's mantissa exactly, so the fraction is < 1 before scaling.
    n = int.from_bytes(h.digest()[:8], "big") >> 12
    return min(n / _TWO52 * 100.0, _TOP)


_PREFIXES: dict[tuple[str, str, int | str], "hashlib._Hash"] = {}
_MAX_PREFIXES = 4096


def _prefix(salt: str, site_key: str, trigger_id: int | str) -> "hashlib._Hash":
    """The hash state after the parts shared by every user of one trigger (cached: a plain dict
    costs a third of what functools.lru_cache does on this path)."""
    key = (salt, site_key, trigger_id)
    h = _PREFIXES.get(key)
    if h is None:
        h = hashlib.sha256()
        for part in (salt, site_key, str(trigger_id)):
            h.update(_framed(part))
        if len(_PREFIXES) >= _MAX_PREFIXES:
            _PREFIXES.clear()  # bounded; rebuilt on demand
        _PREFIXES[key] = h
    return h


def user_bucket(salt: str, site_key: str, trigger_id: int | str, user_id: str) -> float:
    """bucket(salt, site_key, str(trigger_id), user_id), hashing only the user's part per call.

    The hot path of every decision: the trigger's part is hashed once and its state copied.
    """
    h = _prefix(salt, site_key, trigger_id).copy()
    data = str(user_id).encode("utf-8")
    h.update(len(data).to_bytes(8, "big") + data)
    n = int.from_bytes(h.digest()[:8], "big") >> 12   # as _to_bucket, inlined: once per decision
    return min(n / _TWO52 * 100.0, _TOP)


def sampled_in(rate_percent: float, site_key: str, trigger_id: int | str, user_id: str) -> bool:
    """Whether this user is in the trigger's sample (sticky per user)."""
    if type(rate_percent) is not float or not 0.0 <= rate_percent <= 100.0:
        _check_rate(rate_percent)
    # bucket < rate: 0 % asks nobody, 100 % asks everybody (bucket is always < 100).
    return user_bucket(_SAMPLE_SALT, site_key, trigger_id, user_id) < rate_percent


def choose_variant(variants: Sequence[tuple[SurveyId, float]], site_key: str,
                   trigger_id: int | str, user_id: str) -> SurveyId:
    """The survey this user gets among weighted variants (weights sum to 100).

    Sticky per user while the variant list is unchanged. A weight of 0 is never
    chosen (it keeps a variant listed while switched off).
    """
    check_weights(variants)
    return pick_variant(variants, site_key, trigger_id, user_id)


def pick_variant(variants: Sequence[tuple[SurveyId, float]], site_key: str,
                 trigger_id: int | str, user_id: str) -> SurveyId:
    """choose_variant() for weights already checked (a trigger checks its own once, when built)."""
    point = user_bucket(_VARIANT_SALT, site_key, trigger_id, user_id)
    cumulative = 0.0
    for survey_id, weight in variants:
        cumulative += weight
        if weight > 0 and point < cumulative:
            return survey_id
    # Float sums such as 33.3 + 33.3 + 33.4 can fall a hair short of 100:
    # the remainder belongs to the last variant that can be chosen at all.
    return next(s for s, w in reversed(variants) if w > 0)


def _check_rate(rate: float) -> None:
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 100:
        raise ValueError(f"sampling rate must be a number in 0..100, got {rate!r}")


def check_weights(variants: Sequence[tuple[object, float]]) -> None:
    if not variants:
        raise ValueError("at least one variant is needed")
    weights = [w for _, w in variants]
    if any(isinstance(w, bool) or not isinstance(w, (int, float)) or not w >= 0 for w in weights):
        raise ValueError("variant weights must be non-negative numbers")
    if not math.isclose(sum(weights), 100.0, abs_tol=1e-6):
        raise ValueError(f"variant weights must sum to 100, got {sum(weights)}")
