"""`ces drivers`, `ces fix-first`, `ces alerts run`: the insights of docs/insights.md from the
command line, computed exactly as the API does (driver_report.py, alerts.py)."""
from __future__ import annotations

import json
import time
from typing import Any

import click

from .cli_common import open_storage, report_query, survey_or_fail
from .core.report_filters import FilterError
from .storage import answer_props


def _common(storage: Any, survey_id: int, options: dict[str, Any], where: tuple[str, ...],
            allowed: tuple[str, ...]) -> tuple[dict[str, Any], Any]:
    survey = survey_or_fail(storage, survey_id)
    return survey, report_query(options, where, allowed, storage, survey)


def caught_up(storage: Any, fn: Any, *args: Any) -> Any:
    """fn(*args); when the answers' properties are still being copied after an upgrade (the
    server's background job, docs/reports.md "Fast filters"), this command finishes the copy
    first, as the operator asked for the ranking now."""
    try:
        return fn(*args)
    except answer_props.CatchingUp as err:
        click.echo(f"Copying {err.behind} answers' properties first (the server does it in the background)...",
                   err=True)
        answer_props.refresh(storage)
        return fn(*args)


def print_ranking(r: dict[str, Any], top: int) -> None:
    click.echo(f"What drives effort ({r['tests']} values tested, Benjamini–Hochberg at {r['fdr']:g}, "
               f"min n {r['min_n']}):")
    shown = 0
    for p in r["properties"]:
        if shown >= top:
            break
        e = p["effect"]
        if e is None:
            continue
        shown += 1
        ci = e["difference_ci"] or {}
        worst = p["most_effort"]
        click.echo(f"  {p['source']} {p['key']}: {e['value']} {e['difference']:+.1f} "
                   f"[{ci.get('low')}, {ci.get('high')}] q={e['q']}"
                   + (f"; most effort at {worst['value']} ({worst['difference']:+.1f})" if worst and worst != e else ""))
    if not shown:
        click.echo("  no property makes a significant difference")


def print_fix_first(r: dict[str, Any], top: int) -> None:
    click.echo("Fix first (respondents × effort gap):")
    if not r["items"]:
        click.echo("  nothing scores below its touchpoint")
    for i in r["items"][:top]:
        if i["dimension"] == "theme":
            what = f"theme {i['theme']}"
        elif i["key"]:
            what = f"{i['key']} {i['value']}" + (f" within theme {i['theme']}" if i["theme"] else "")
        else:
            what = "the touchpoint itself"
        ci = i["impact_ci"] or {}
        click.echo(f"  {i['touchpoint'] or i['trigger_id'] or '—'} × {what}: impact {i['impact']:g} "
                   f"[{ci.get('low')}, {ci.get('high')}], {i['respondents']} respondents, gap {i['effort_gap']:+g}"
                   + ("  *" if i["finding"] else ""))


_filters = [
    click.option("--from", "from_", default=None, help="Start (ISO date or date-time, inclusive)."),
    click.option("--to", default=None, help="End (ISO date: that whole day; date-time: exclusive)."),
    click.option("--trigger", default=None, help="Trigger id(s), comma-separated."),
    click.option("--where", "where", multiple=True, help="Event property filter, e.g. channel=chat (repeatable)."),
    click.option("--min-n", "min_n", type=int, default=None, help="Fewest answers on each side to test a value (30)."),
    click.option("--fdr", type=float, default=None, help="False discovery rate of the correction (0.05)."),
    click.option("--db", default=None, help="SQLite database file."),
    click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (same as the API)."),
]


def _with(f: Any) -> Any:
    for option in reversed(_filters):
        f = option(f)
    return f


@click.command("drivers")
@click.argument("survey_id", type=int)
@_with
@click.option("--top", type=int, default=10, show_default=True, help="Properties printed.")
def drivers_command(survey_id: int, from_: str | None, to: str | None, trigger: str | None, where: tuple[str, ...],
                    min_n: int | None, fdr: float | None, db: str | None, as_json: bool, top: int) -> None:
    """What drives effort: every event property and user trait ranked, corrected for many tests."""
    from . import driver_report
    storage = open_storage(db)
    survey, q = _common(storage, survey_id, {"from": from_, "to": to, "trigger": trigger, "min_n": min_n,
                                             "fdr": fdr}, where, ("min_n", "fdr"))
    try:
        r = caught_up(storage, driver_report.ranking, storage, survey, q, time.time())
    except FilterError as err:
        raise click.UsageError(f"{err.field}: {err.message}") from None
    if as_json:
        click.echo(json.dumps(r, indent=2, ensure_ascii=False))
    else:
        print_ranking(r, top)


@click.command("fix-first")
@click.argument("survey_id", type=int)
@_with
@click.option("--top", type=int, default=10, show_default=True, help="Items printed.")
def fix_first_command(survey_id: int, from_: str | None, to: str | None, trigger: str | None, where: tuple[str, ...],
                      min_n: int | None, fdr: float | None, db: str | None, as_json: bool, top: int) -> None:
    """Fix first: touchpoint × driver (× theme) items ranked by respondents × effort gap."""
    from . import driver_report
    storage = open_storage(db)
    survey, q = _common(storage, survey_id, {"from": from_, "to": to, "trigger": trigger, "min_n": min_n,
                                             "fdr": fdr}, where, ("min_n", "fdr"))
    try:
        r = caught_up(storage, driver_report.fix_first_items, storage, survey, q, time.time(),
                      driver_report.theme_source(), max(top, 1))
    except FilterError as err:
        raise click.UsageError(f"{err.field}: {err.message}") from None
    if as_json:
        click.echo(json.dumps(r, indent=2, ensure_ascii=False))
    else:
        print_fix_first(r, top)


@click.group("alerts")
def alerts_group() -> None:
    """Score drops (`score.dropped`) and digests, sent as webhooks (docs/insights.md)."""


@alerts_group.command("run")
@click.option("--site", "site_id", type=int, default=None, help="One site (default: every site).")
@click.option("--db", default=None, help="SQLite database file.")
def alerts_run(site_id: int | None, db: str | None) -> None:
    """Check for score drops and send the digests that are due, now (the server does it every
    ALERTS_INTERVAL seconds); the deliveries go out with the server's webhook sender."""
    from . import alerts
    from .services import Services
    storage = open_storage(db)
    sent = alerts.run(Services(storage), time.time(), site_id)
    for s in sent:
        click.echo(f"{s['kind']}: survey {s['survey_id'] or '—'}, period ending {s['period_end']:.0f}")
    click.echo(f"{len(sent)} notice(s) queued")


COMMANDS = (drivers_command, fix_first_command, alerts_group)
