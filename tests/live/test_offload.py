"""Long SQLite calls do not freeze the event loop (ces.offload), measured in a gevent process."""
from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = r"""
from gevent import monkey; monkey.patch_all()
import json, sqlite3, sys, time
import gevent
from ces.offload import off_loop

def slow_query():  # ~0.3 s of SQLite C code, the shape of a report over many answers
    conn = sqlite3.connect(":memory:")
    return conn.execute("with recursive c(x) as (select 1 union all select x + 1 from c where x < 3000000) "
                        "select count(*) from c").fetchone()[0]

def longest_gap(call):
    gaps, stop = [], []
    def ticker():
        last = time.perf_counter()
        while not stop:
            gevent.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now
    t = gevent.spawn(ticker)
    gevent.sleep(0.05)
    started = time.perf_counter()
    assert call() == 3000000
    took = time.perf_counter() - started
    stop.append(1)
    t.join()
    return max(gaps), took

inline = longest_gap(slow_query)
offloaded = longest_gap(lambda: off_loop(slow_query))
print(json.dumps({"inline": inline, "offloaded": offloaded}))
"""


def test_a_long_call_run_off_the_loop_lets_the_other_greenlets_run() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(out.stdout)
    (inline_gap, inline_took), (off_gap, off_took) = result["inline"], result["offloaded"]
    # Inline, the loop stands still for the whole call; off the loop it keeps ticking.
    assert inline_gap > 0.8 * inline_took, result
    assert off_gap < 0.25 * off_took, result


def test_off_loop_runs_inline_without_gevent() -> None:
    from ces.offload import off_loop
    assert off_loop(lambda a, b=0: a + b, 2, b=3) == 5
