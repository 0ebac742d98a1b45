"""A small trend line drawn server-side as inline SVG geometry (no script, no library: a dozen
points per survey do not need a chart library, and the page is complete before any JS runs)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

WIDTH, HEIGHT, PAD = 120.0, 36.0, 3.0


@dataclass(frozen=True)
class Sparkline:
    line: str          # SVG path of the headline
    band: str          # SVG polygon points of the 95 % interval ("" when none)
    last: tuple[float, float]
    width: float = WIDTH
    height: float = HEIGHT


def sparkline(points: Sequence[tuple[int, float, float | None, float | None]], slots: int,
              min_span: float = 10.0) -> Sparkline | None:
    """`points`: (slot, value, interval low, interval high), slots 0..slots-1; None without points."""
    if not points:
        return None
    values = [v for _, v, _, _ in points] + [b for _, _, lo, hi in points for b in (lo, hi) if b is not None]
    low, high = min(values), max(values)
    if high - low < min_span:  # a flat line stays flat-looking, not magnified noise
        mid = (high + low) / 2
        low, high = mid - min_span / 2, mid + min_span / 2

    def x(slot: int) -> float:
        return PAD + (WIDTH - 2 * PAD) * (slot / max(1, slots - 1))

    def y(value: float) -> float:
        return round(HEIGHT - PAD - (HEIGHT - 2 * PAD) * (value - low) / (high - low), 2)

    line = " ".join(f"{'M' if i == 0 else 'L'}{x(s):.2f} {y(v)}" for i, (s, v, _, _) in enumerate(points))
    banded = [(s, lo, hi) for s, _, lo, hi in points if lo is not None and hi is not None]
    band = ""
    if len(banded) >= 2:
        upper = [f"{x(s):.2f},{y(hi)}" for s, _, hi in banded]
        lower = [f"{x(s):.2f},{y(lo)}" for s, lo, _ in reversed(banded)]
        band = " ".join(upper + lower)
    slot, value = points[-1][0], points[-1][1]
    return Sparkline(line, band, (round(x(slot), 2), y(value)))
