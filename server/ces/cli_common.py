"""What every `ces` command module shares: the database as the options name it (migrated), a
survey or a clean error, and a report query parsed exactly like the HTTP query string. Its own
module so that cli.py and the modules whose commands it registers (cli_insights, cli_themes,
cli_privacy) import it, not each other."""
from __future__ import annotations

from typing import Any

import click

from . import config as config_module
from .core.report_filters import FilterError, ReportQuery, parse
from .core.time_zones import site_time_zone
from .storage import Storage


def open_storage(db: str | None) -> Storage:
    """--db, else CES_DATABASE, else ./ces.db; migrated."""
    conf = config_module.resolve({"DATABASE": db} if db else None)
    storage = Storage(conf["DATABASE"], conf["SQLITE_SYNCHRONOUS"])
    storage.migrate()
    return storage


def survey_or_fail(storage: Storage, survey_id: int) -> dict[str, Any]:
    survey = storage.get_survey(survey_id)
    if survey is None:
        raise click.ClickException(f"no survey {survey_id}")
    return survey


def report_query(options: dict[str, Any], extra: tuple[str, ...], allowed: tuple[str, ...],
                 storage: Storage | None = None, survey: dict[str, Any] | None = None) -> ReportQuery:
    """Options and `--where properties.k[op]=v` filters, parsed exactly like the HTTP query string
    (days in the survey's site's time zone, as in the API)."""
    site = storage.get_site(survey["site_id"]) if storage is not None and survey is not None else None
    args = [(k, str(v)) for k, v in options.items() if v is not None]
    for item in extra:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--where")
        args.append((key if key.startswith("properties.") else f"properties.{key}", value))
    try:
        return parse(args, allowed, site_time_zone(site))
    except FilterError as err:
        raise click.UsageError(f"{err.field}: {err.message}") from None
