"""Export: CSV and JSON lines through the real API, streamed with bounded memory."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time

from ces.storage.reports import Reports
from ces.testing import LiveServer

DAY = 86400


def bulk_seed(server: LiveServer, n: int, t0: float = 1_767_225_600.0) -> None:
    """n answered prompts with their events, inserted with executemany (fast)."""
    storage = server.services.storage
    site, survey = server.site["id"], server.survey_id
    trigger = storage.one("select id from triggers order by id limit 1")["id"]
    with storage.write() as db:
        conn = db.conn
        base = conn.execute("select coalesce(max(id), 0) from events").fetchone()[0]
        conn.executemany(
            "insert into events (id, site_id, event_id, user_id, name, properties, timestamp, received_at, source, "
            "decision, reason, trigger_id, prompt_id) values (?,?,?,?,?,?,?,?,'backend','prompt','prompted',?,?)",
            ((base + i + 1, site, f"ev{i}", f"user{i % 5000}", "checkout_completed",
              json.dumps({"channel": ["chat", "email"][i % 2], "transfers": i % 4, "order": f"A-{i}"}),
              t0 + i, t0 + i, trigger, f"p_x{i}") for i in range(n)))
        conn.executemany(
            "insert into prompts (id, site_id, user_id, survey_id, trigger_id, event_row, status, locale, created_at, "
            "deliver_after, expires_at, delivered_at, shown_at, closed_at) values (?,?,?,?,?,?,'answered','en',?,?,?,?,?,?)",
            ((f"p_x{i}", site, f"user{i % 5000}", survey, trigger, base + i + 1, t0 + i, t0 + i, t0 + i + 7 * DAY,
              t0 + i, t0 + i, t0 + i + 5) for i in range(n)))
        conn.executemany(
            "insert into answers (prompt_id, site_id, survey_id, user_id, score, comment, created_at) "
            "values (?,?,?,?,?,?,?)",
            ((f"p_x{i}", site, survey, f"user{i % 5000}", 1 + i % 7, "too slow, \"really\"\nsecond line" if i % 10 == 0 else None,
              t0 + i + 5) for i in range(n)))
    Reports(storage).rebuild_funnel_rollup()  # prompts were inserted already closed


def test_export_csv_and_jsonl_small(live_server: LiveServer) -> None:
    bulk_seed(live_server, 25)
    status, text = live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/export?format=csv")
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(text.decode())))
    assert len(rows) == 25
    assert rows[0]["comment"] == 'too slow, "really"\nsecond line' and rows[0]["trigger_name"]
    assert json.loads(rows[1]["properties"]) == {"channel": "email", "transfers": 1, "order": "A-1"}
    assert rows[0]["answered_at"].endswith("Z") and rows[0]["event_name"] == "checkout_completed"
    status, text = live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/export?format=jsonl"
                                     "&properties.channel=chat")
    records = [json.loads(line) for line in text.decode().splitlines()]
    assert len(records) == 13 and all(r["properties"]["channel"] == "chat" for r in records)
    assert [r["answer_id"] for r in records] == sorted(r["answer_id"] for r in records)
    status, body = live_server.admin("GET", f"/api/v1/surveys/{live_server.survey_id}/export?format=xml")
    assert status == 400 and "format" in body["error"]["fields"]
    assert live_server.admin("GET", "/api/v1/surveys/4242/export")[0] == 404


# Run in a fresh process, so the measure holds the export server only (no threads left over by
# other tests): the real app on a loopback port, streamed by a client reading 64 KiB at a time.
# The background copy into answer_props is off here: it would copy the 100,000 answers just
# seeded while the export runs (20,000 per transaction, ~12-14 MB each), which tracemalloc counts
# too; the export itself reads the base tables and is what this measures.
MEASURE = r"""
import json, sys, threading, time, tracemalloc, urllib.request
from werkzeug.serving import make_server
from ces.app import create_app
from ces.storage import Storage
db, survey_id = sys.argv[1], int(sys.argv[2])
token = Storage(db).create_admin_token("measure", time.time())[1]
app = create_app({"DATABASE": db, "ANSWER_PROPS_INTERVAL": 0})
server = make_server("127.0.0.1", 0, app, threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
req = urllib.request.Request(f"http://127.0.0.1:{server.server_port}/api/v1/surveys/{survey_id}/export?format=jsonl",
                             headers={"Authorization": f"Bearer {token}"})
tracemalloc.start(1)
size = lines = 0
with urllib.request.urlopen(req, timeout=60) as resp:
    streamed = resp.headers.get("Content-Length") is None
    while chunk := resp.read(65536):
        size += len(chunk)
        lines += chunk.count(b"\n")
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"size": size, "lines": lines, "peak": peak, "streamed": streamed}))
server.shutdown()
"""


def test_export_of_100k_answers_streams_with_bounded_memory(live_server: LiveServer) -> None:
    n = 100_000
    bulk_seed(live_server, n)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", MEASURE, live_server.db_path, str(live_server.survey_id)],
                          capture_output=True, text=True, timeout=55)
    assert proc.returncode == 0, proc.stderr
    m = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"export peak {m['peak'] / 1e6:.1f} MB, {m['size'] / 1e6:.1f} MB, {time.monotonic() - started:.1f} s")
    assert m["lines"] == n and m["streamed"]
    # Holding the export would take more than its size (~53 MB); streaming keeps the peak to a
    # few chunks of 500 rows plus a fixed cost. The peak is 1.9 MB, or 10.2-10.4 MB when a
    # transient ~8.4 MB allocation of the server lands inside the measure (always with a fast
    # client such as curl, about one run in three with this one). That transient is the same at
    # 25,000, 50,000, 100,000 and 200,000 answers (13 to 107 MB exports, measured 2026-11-23),
    # so it is a constant, not growth; its source is not identified (docs/reports.md). The bound
    # is set above it: a 4 MB bound made this test fail by luck.
    assert m["size"] > 20_000_000
    assert m["peak"] < 16_000_000, f"peak {m['peak'] / 1e6:.1f} MB for a {m['size'] / 1e6:.1f} MB export"


def test_cli_export_and_report(live_server: LiveServer, tmp_path) -> None:
    from click.testing import CliRunner

    from ces.cli import main

    bulk_seed(live_server, 300)
    runner = CliRunner()
    out = tmp_path / "answers.jsonl"
    result = runner.invoke(main, ["export", str(live_server.survey_id), "--db", live_server.db_path,
                                  "--format", "jsonl", "--out", str(out), "--where", "channel=chat"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 150 and {r["properties"]["channel"] for r in records} == {"chat"}
    assert "exported 150 answers" in result.output
    out_csv = tmp_path / "answers.csv"
    assert runner.invoke(main, ["export", str(live_server.survey_id), "--db", live_server.db_path,
                                "--out", str(out_csv)]).exit_code == 0
    assert len(list(csv.DictReader(out_csv.open()))) == 300
    result = runner.invoke(main, ["report", str(live_server.survey_id), "--db", live_server.db_path,
                                  "--driver", "transfers", "--interval", "day"])
    assert result.exit_code == 0, result.output
    assert "n=300" in result.output and "Funnel:" in result.output and "Effort drivers (transfers)" in result.output
    result = runner.invoke(main, ["report", str(live_server.survey_id), "--db", live_server.db_path, "--json"])
    assert json.loads(result.output)["score"]["n"] == 300
    bad = runner.invoke(main, ["report", str(live_server.survey_id), "--db", live_server.db_path, "--from", "soon"])
    assert bad.exit_code == 2 and "from" in bad.output
    assert runner.invoke(main, ["report", "999", "--db", live_server.db_path]).exit_code == 1
