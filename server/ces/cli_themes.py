"""`ces themes show SURVEY_ID` (the top themes of its comments) and `ces themes customers SURVEY_ID`
(who had a high-effort answer in a theme, as text or CSV). Registered on the `ces` group by cli.py;
the same service as the API (themes.py), on the database file directly."""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import click

from . import themes as service
from .core.report_filters import FilterError, ReportQuery, parse
from .core.time_zones import site_time_zone
from .cli_common import open_storage, survey_or_fail
from .storage import Storage

_db_option = click.option("--db", default=None, help="SQLite database file (default: CES_DATABASE or ./ces.db).")
_filters = [
    click.option("--from", "from_", default=None, help="Start (ISO date or date-time, inclusive)."),
    click.option("--to", default=None, help="End (ISO date: that whole day; date-time: exclusive)."),
    click.option("--trigger", default=None, help="Trigger id(s), comma-separated (a touchpoint)."),
    click.option("--high-effort-max", "high_effort_max", type=int, default=None,
                 help="Highest score counted as high effort (default: the metric's negative answers)."),
]


def _with_filters(f: Any) -> Any:
    for option in reversed(_filters):
        f = option(f)
    return f


def _query(storage: Storage, survey: dict[str, Any], options: dict[str, Any], allowed: tuple[str, ...]) -> ReportQuery:
    args = [(k, str(v)) for k, v in options.items() if v is not None]
    try:
        q = parse(args, allowed, site_time_zone(storage.get_site(survey["site_id"])))
        service.high_effort_max(survey["metric"], q.high_effort_max)
        return q
    except FilterError as err:
        raise click.UsageError(f"{err.field}: {err.message}") from None


def _fmt(x: Any) -> str:
    return "—" if x is None else (f"{x:g}" if isinstance(x, float) else str(x))


@click.group()
def themes() -> None:
    """Themes of the comments, and the customers who share a problem."""


@themes.command("show")
@click.argument("survey_id", type=int)
@_with_filters
@click.option("--interval", type=click.Choice(["day", "week", "month"]), default="week", show_default=True)
@click.option("--top", type=int, default=10, show_default=True, help="How many themes to print.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON (same as the API).")
@_db_option
def show(survey_id: int, from_: str | None, to: str | None, trigger: str | None, high_effort_max: int | None,
         interval: str, top: int, as_json: bool, db: str | None) -> None:
    """Print the top themes of a survey's comments, most high-effort answers first."""
    storage = open_storage(db)
    survey = survey_or_fail(storage, survey_id)
    q = _query(storage, survey, {"from": from_, "to": to, "trigger": trigger, "high_effort_max": high_effort_max,
                                 "interval": interval}, ("interval", "high_effort_max"))
    r = service.theme_report(storage, survey, q)
    if as_json:
        click.echo(json.dumps(r, indent=2, ensure_ascii=False))
        return
    click.echo(f"Survey {survey_id}: {r['comments']} comments, {r['themed']} in a theme "
               f"(high effort: score ≤ {r['high_effort_max']})")
    for s in r["themes"][:top]:
        _print_section(s, r["headline_name"])
    if r["discovered"]:
        click.echo("Found among the other comments:")
        for s in r["discovered"][:top]:
            _print_section(s, r["headline_name"])


def _print_section(s: dict[str, Any], headline: str) -> None:
    share = s["high_effort_share"]
    ci = share["ci"] or {}
    score = s["score"]
    sci = score["headline_ci"] or {}
    change = s["trend"]["latest_vs_previous"]
    trend = ""
    periods = s["trend"]["periods"]
    if change and periods:
        interval = s["trend"]["interval"]
        trend = (f"  high effort in the {interval} of {periods[-1]['start']}: {change['high_effort_now']}, "
                 f"the {interval} before: {change['high_effort_before']}" + (" (grown)" if change["significant"] else ""))
    click.echo(f"  {s['label']:<44} {s['comments']:>6} comments  high effort {_fmt(share['share'])}% "
               f"[{_fmt(ci.get('low'))}, {_fmt(ci.get('high'))}]  {headline} {_fmt(score['headline'])} "
               f"[{_fmt(sci.get('low'))}, {_fmt(sci.get('high'))}]{trend}")
    for c in s["representative"][:2]:
        click.echo(f"      “{c['comment'][:100]}” ({c['score']})")


@themes.command("customers")
@click.argument("survey_id", type=int)
@click.option("--theme", default=None, help="Theme key (see `ces themes show --json`); none: any high-effort answer.")
@_with_filters
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (cells a spreadsheet could run made inert).")
@_db_option
def customers(survey_id: int, theme: str | None, from_: str | None, to: str | None, trigger: str | None,
              high_effort_max: int | None, as_csv: bool, db: str | None) -> None:
    """List the customers with a high-effort answer in a theme (and/or at a touchpoint), to contact."""
    storage = open_storage(db)
    survey = survey_or_fail(storage, survey_id)
    q = _query(storage, survey, {"from": from_, "to": to, "trigger": trigger, "high_effort_max": high_effort_max,
                                 "followed_up": "any", "page_size": 200}, ("high_effort_max", "followed_up",
                                                                           "page_size"))
    if theme is not None and not theme.startswith("found-"):
        known = {t.key for t in service.site_themes(storage, survey["site_id"])[0]}
        if theme not in known:
            raise click.UsageError(f"theme: no theme {theme!r} on this site ({', '.join(sorted(known))})")
    if as_csv:
        for piece in service.customers_csv(storage, survey, q, theme):
            click.echo(piece, nl=False)
        return
    page = 1
    while True:
        body = service.customers(storage, survey, replace(q, page=page), theme)
        for c in body["customers"]:
            click.echo(f"{c['user_id']}\t{c['email'] or ''}\t{c['name'] or ''}\tscore {c['score']}\t"
                       f"{'contacted' if c['contacted'] else 'not contacted'}\t{(c['comment'] or '')[:80]}")
        if page * q.page_size >= body["total"]:
            click.echo(f"{body['total']} customers", err=True)
            return
        page += 1


COMMANDS = (themes,)
