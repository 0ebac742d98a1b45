"""Parse time of one request body, before and after the strict reader (core/json_input.py).

  * before: what `request.get_json(force=True)` did, `json.loads` of the body's bytes;
  * after: `json_input.loads` (depth pre-scan, strict UTF-8, no NaN/Infinity, walk only when
    the text holds a \\u escape of a surrogate or NUL), and the same through `api/body.py`'s
    `json_object()` in a Flask request context against `request.get_json`.

Bodies: the decisions benchmark's batch of 100 events (bench_decisions.make_events), the same
with a float property per event, with accented text escaped as `\\u00e9` (Python's default
`ensure_ascii`: the backslash path), with an emoji escaped as a surrogate pair (the walk), and a
widget message (`event`, ~150 bytes). Best of `--repeat` runs of `--number` parses each.

    .venv/bin/python bench/bench_json_input.py [--number 2000] [--repeat 7]
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_decisions import make_events  # noqa: E402

from ces.api.body import json_object  # noqa: E402
from ces.core import json_input  # noqa: E402


def bodies() -> dict[str, bytes]:
    events = make_events(100, 1000)
    floats = [{**e, "properties": {**e["properties"], "price": e["properties"]["amount"] * 1.1}} for e in events]
    accents = [{**e, "properties": {**e["properties"], "city": "Besançon", "name": "Hélène"}} for e in events]
    emoji = [{**e, "properties": {**e["properties"], "mood": "\U0001F600"}} for e in events]
    message = {"type": "event", "id": "m-17", "name": "checkout_completed", "event_id": "ev-1",
               "properties": {"amount": 79.9, "country": "FR", "order_id": "o-123"}}
    return {"batch of 100 events": json.dumps({"events": events}).encode(),
            "… with a float each": json.dumps({"events": floats}).encode(),
            "… with escaped accents": json.dumps({"events": accents}).encode(),
            "… with an escaped emoji": json.dumps({"events": emoji}).encode(),
            "widget message": json.dumps(message).encode()}


def best_us(fn, number: int, repeat: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--number", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    from flask import Flask, request
    app = Flask(__name__)
    print(f"Python {platform.python_version()}, best of {args.repeat} x {args.number}")
    print("| body | bytes | json.loads | json_input.loads | ratio | request.get_json | json_object() | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name, raw in bodies().items():
        assert json_input.loads(raw) == json.loads(raw)
        before = best_us(lambda: json.loads(raw), args.number, args.repeat)
        after = best_us(lambda: json_input.loads(raw), args.number, args.repeat)
        with app.test_request_context("/", method="POST", data=raw, content_type="application/json"):
            request.get_data(cache=True)
            # get_json caches its result on the request: parse afresh each time, as one request does.
            flask_before = best_us(lambda: request.get_json(force=True, silent=True, cache=False),
                                   args.number, args.repeat)
            flask_after = best_us(json_object, args.number, args.repeat)
        print(f"| {name} | {len(raw):,} | {before:.1f} µs | {after:.1f} µs | {after / before:.2f} "
              f"| {flask_before:.1f} µs | {flask_after:.1f} µs | {flask_after / flask_before:.2f} |")


if __name__ == "__main__":
    main()
