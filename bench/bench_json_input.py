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

`--endpoint N` instead times N requests `POST /api/v1/events` (batches of 100, Flask's test client,
a fresh SQLite file, the default site) per round, for an A/B of the whole request: it imports only
`ces.app`, so it also runs on an older checkout (`PYTHONPATH=/tmp/old/server`, after
`git archive <commit> server | tar -x -C /tmp/old`); run both alternately.
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


def endpoint(requests: int, rounds: int) -> None:
    """Median ms per POST /api/v1/events of 100 events, over `rounds` rounds of `requests`."""
    import statistics
    import tempfile
    import time

    import ces
    from ces.app import create_app
    from ces.bootstrap import seed_default_site
    from ces.services import Services
    from ces.storage import Storage
    db = tempfile.mktemp(suffix=".db")
    services = Services(Storage(db, "NORMAL"))
    app = create_app({"DATABASE": db}, services=services)
    site = seed_default_site(services.storage, time.time())
    client = app.test_client()
    headers = {"Authorization": f"Bearer {site['secret_key']}", "Content-Type": "application/json"}
    per_round = []
    for r in range(rounds):
        raws = [json.dumps({"events": make_events(100, 1000, seed=r * requests + i)}).encode() for i in range(requests)]
        start = time.perf_counter()
        for raw in raws:
            assert client.post("/api/v1/events", data=raw, headers=headers).status_code == 200
        per_round.append((time.perf_counter() - start) / requests * 1e3)
    print(f"{Path(ces.__file__).parent}: POST /api/v1/events (100 events) median {statistics.median(per_round):.2f} ms "
          f"per request, rounds {', '.join(f'{x:.2f}' for x in per_round)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--number", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--endpoint", type=int, default=0, metavar="N")
    args = ap.parse_args()
    if args.endpoint:
        endpoint(args.endpoint, args.repeat)
        return
    from flask import Flask, request

    from ces.api.body import json_object
    from ces.core import json_input
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
