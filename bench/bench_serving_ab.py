"""Decisions per second over HTTP, this checkout beside another one, interleaved in one run.

Used to show that a change of the serving model did not make `POST /api/v1/events` slower: each
round measures `ces serve` of the checkout at `--before` (its `server/` put first on PYTHONPATH)
and of this one, on the same prepared database, with bench_decisions.py's client (2 threads,
batches of 100, keep-alive).

    git worktree add /tmp/before <commit>
    .venv/bin/python bench/bench_serving_ab.py --before /tmp/before --rounds 3 --batches 300
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ONE = """
import json, sys
from pathlib import Path
sys.path.insert(0, %r)
import bench_decisions as b
print(json.dumps({k: v for k, v in b.measure_http(Path(sys.argv[1]), int(sys.argv[2])).items() if k != "events"}))
"""


def measure(server_dir: Path, db: Path, batches: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(server_dir)}
    out = subprocess.run([sys.executable, "-c", ONE % str(ROOT / "bench"), str(db), str(batches)], env=env,
                         capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, type=Path, help="a checkout (worktree) of the earlier commit")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=300)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_decisions
    rates: dict[str, list[float]] = {"before": [], "after": []}
    cpu: dict[str, list[float]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as tmp:
        seed = Path(tmp) / "seed.db"
        bench_decisions.prepare_db(seed)
        for _ in range(args.rounds):
            for name, where in (("before", args.before / "server"), ("after", ROOT / "server")):
                db = Path(tmp) / f"{name}.db"
                for suffix in ("", "-wal", "-shm"):
                    Path(str(db) + suffix).unlink(missing_ok=True)
                shutil.copy(seed, db)
                result = measure(where, db, args.batches)
                rates[name].append(result["rate"])
                cpu[name].append(result["cpu_rate"])
                print(f"{name}: {result['rate']:,.0f} decisions/s, {result['cpu_rate']:,.0f} per server CPU-second",
                      flush=True)
    b, a = statistics.median(rates["before"]), statistics.median(rates["after"])
    print(f"median of {args.rounds} rounds: before {b:,.0f}/s, after {a:,.0f}/s, ratio after/before {a / b:.2f}; "
          f"per CPU-second before {statistics.median(cpu['before']):,.0f}, after {statistics.median(cpu['after']):,.0f}")


if __name__ == "__main__":
    main()
