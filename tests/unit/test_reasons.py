"""core/reasons.py: every reason code the engine can give has words, and the headline says it."""
from __future__ import annotations

import re
from pathlib import Path

from ces.core import reasons

DOCS = Path(__file__).resolve().parents[2] / "docs" / "decisions.md"


def test_every_documented_reason_code_has_a_title() -> None:
    table = DOCS.read_text().split("## Reason codes", 1)[1].split("## ", 1)[0]
    codes = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.M))
    assert len(codes) >= 19
    assert codes <= set(reasons.TITLES), codes - set(reasons.TITLES)


def test_headlines() -> None:
    skip = {"decision": "skip", "reason": "sampled_out"}
    assert reasons.headline(skip, dry_run=True) == "Would not be asked: the user is not in the trigger's sample."
    assert reasons.headline(skip) == "Not asked: the user is not in the trigger's sample."
    assert reasons.headline({"decision": "prompt", "reason": "prompted"}, dry_run=True) == \
        "Would be asked: a trigger matched and every check passed."
    assert reasons.title("some_new_code") == "some new code"
