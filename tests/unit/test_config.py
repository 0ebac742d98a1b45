"""The app factory honours its configuration sources, later ones winning."""
from __future__ import annotations

import json

from ces import config
from ces.app import create_app


def test_defaults_file_env_overrides(tmp_path) -> None:
    conf_file = tmp_path / "ces.json"
    conf_file.write_text(json.dumps({"database": "from-file.db", "port": 9000, "max_batch": 10}))
    env = {"CES_CONFIG": str(conf_file), "CES_PORT": "9100", "CES_DEMO": "true", "CES_WEBHOOK_TIMEOUT": "2.5"}
    resolved = config.resolve({"MAX_BATCH": 5}, environ=env)
    assert resolved["DATABASE"] == "from-file.db"   # file over default
    assert resolved["PORT"] == 9100                  # env over file
    assert resolved["DEMO"] is True
    assert resolved["WEBHOOK_TIMEOUT"] == 2.5 and resolved["WEBHOOK_MAX_ATTEMPTS"] == 8
    assert resolved["MAX_BATCH"] == 5                # override over all
    assert config.resolve(environ={})["DATABASE"] == "ces.db"


def test_factory_uses_test_config(tmp_path) -> None:
    db = tmp_path / "x.db"
    app = create_app({"DATABASE": str(db)})
    assert app.config["DATABASE"] == str(db)
    assert db.exists()
    tables = set(app.extensions["ces"].storage.db.table_names())
    assert {"sites", "surveys", "triggers", "events", "prompts", "answers"} <= tables
    assert app.extensions["ces"].storage.one("pragma journal_mode")["journal_mode"] == "wal"
    assert "demo.page" not in app.view_functions
    assert "demo.page" in create_app({"DATABASE": str(db), "DEMO": True}).view_functions
