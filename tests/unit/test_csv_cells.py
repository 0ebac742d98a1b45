"""CSV cells (core/csv_cells.py): text a spreadsheet would run as a formula gets a leading quote;
numbers, negative ones included, stay numbers; other text is untouched."""
from __future__ import annotations

import pytest

from ces.core.csv_cells import cell, row


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x","y")', "+1+2", "-1+2", "@SUM(A1)", "\tx", "\rx", "-", "="])
def test_formula_text_is_quoted(value: str) -> None:
    assert cell(value) == "'" + value


@pytest.mark.parametrize("value", [-3, -2.5, 0, 7, None, "", "plain", " =not first", "a=b", "'already", "é=1"])
def test_everything_else_is_untouched(value) -> None:
    assert cell(value) is value or cell(value) == value
    assert type(cell(value)) is type(value)


def test_row() -> None:
    assert row([1, "-5", -5, "@x", None]) == [1, "'-5", -5, "'@x", None]
