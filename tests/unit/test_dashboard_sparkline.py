"""The Overview's trend line geometry (dashboard/sparkline.py): pure."""
from __future__ import annotations

import re

from ces.dashboard.sparkline import HEIGHT, PAD, WIDTH, sparkline


def _points(path: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"[ML]([\d.]+) ([\d.]+)", path)]


def test_no_points_no_line() -> None:
    assert sparkline([], 12) is None


def test_points_sit_in_their_weeks_and_higher_is_up() -> None:
    line = sparkline([(0, 40.0, None, None), (11, 80.0, None, None)], 12)
    assert line is not None
    (x0, y0), (x1, y1) = _points(line.line)
    assert x0 == PAD and x1 == WIDTH - PAD  # first and last week at the edges
    assert y1 < y0  # a higher score is drawn higher (smaller y)
    assert PAD <= y1 <= HEIGHT - PAD and PAD <= y0 <= HEIGHT - PAD
    assert line.last == (x1, y1) and line.band == ""


def test_interval_band_and_flat_lines_not_magnified() -> None:
    banded = sparkline([(3, 50.0, 40.0, 60.0), (4, 52.0, 45.0, 59.0), (5, 51.0, 44.0, 58.0)], 12)
    assert banded is not None and len(banded.band.split(" ")) == 6  # upper 3 + lower 3 points
    flat = sparkline([(0, 70.0, None, None), (1, 70.5, None, None)], 12)
    ys = [y for _, y in _points(flat.line)]
    assert abs(ys[0] - ys[1]) < 2  # half a point on a 10-point minimum span: nearly flat
