"""`ces migrate-data`: a SQLite installation moved to PostgreSQL, every table's count and the
report the same afterwards, and the new database goes on where the old one stopped."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ces.storage import Storage
from ces.storage.migrate_data import REPORT_COLUMNS
from ces.testing import LiveServer, ces_serve, fresh_rows, http, release

from contract_helpers import answer_through_widget

pytestmark = [pytest.mark.postgresql, pytest.mark.timeout(180)]
CES = str(Path(sys.executable).with_name("ces"))


def _report(url: str, survey_id: int, token: str, query: str = "") -> dict:
    status, body = http("GET", f"{url}/api/v1/surveys/{survey_id}/report{query}", token=token)
    assert status == 200, body
    body.pop("generated_at", None)
    return body


def test_migrate_data_moves_every_row_and_the_report_is_the_same(pg_cluster, tmp_path: Path) -> None:
    db = tmp_path / "ces.db"
    server = LiveServer(db)
    try:
        for i, score in enumerate((2, 6, 7, 3, 5)):
            answer_through_widget(server, server.site, f"user-{i}", "checkout_completed", score,
                                  comment="slow" if score < 4 else None)
        status, body = server.post_events({"events": [
            {"user_id": f"other-{i}", "name": "ticket_closed", "properties": {"plan": "pro"}} for i in range(30)]})
        assert status == 200, body
        before = _report(server.url, server.survey_id, server.admin_token)
        # In another zone: the report columns answer it (built again on the target).
        before_paris = _report(server.url, server.survey_id, server.admin_token, "?tz=Europe/Paris")
        assert before_paris["source"] == "columns" and before_paris["score"]["n"] == 5
        survey_id, token = server.survey_id, server.admin_token
    finally:
        server.stop()
    source = Storage(str(db))
    tables = [t for t in source.table_names() if t != "_sqlite_migrations"]
    counts = {t: source.db.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}
    release(source)
    assert counts["answers"] == 5 and counts["events"] == 35

    url = pg_cluster.new_database(migrated=False)
    run = subprocess.run([CES, "migrate-data", "--from", str(db), "--to", url], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert "every table's count matches" in run.stdout
    for table, n in counts.items():
        if table in REPORT_COLUMNS:  # derived, not copied: built again on the target (its prompts' log is)
            continue
        assert fresh_rows(url, f'select count(*) from "{table}"') == [(n,)], table

    proc, pg_url = ces_serve(url)
    try:
        assert _report(pg_url, survey_id, token) == before  # same rows, same rollups: the same report
        assert _report(pg_url, survey_id, token, "?tz=Europe/Paris") == before_paris  # its closed prompts walked in
        assert fresh_rows(url, "select count(*) from report_closed_prompts") == [(counts["report_closed_prompts"],)]
        # The copy's ids go on: a new survey and new events are stored after the copied ones.
        status, survey = http("POST", f"{pg_url}/api/v1/surveys", {"name": "After the move", "metric": "ces7"}, token)
        assert status == 201, survey
        assert survey["id"] > survey_id
    finally:
        proc.terminate()
        proc.wait(timeout=15)

    again = subprocess.run([CES, "migrate-data", "--from", str(db), "--to", url], capture_output=True, text=True,
                           timeout=120)
    assert again.returncode != 0 and "already has sites" in again.stderr
    assert fresh_rows(url, "select count(*) from answers") == [(5,)]  # refused: nothing added twice
