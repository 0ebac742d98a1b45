"""The `ces` command: serve, demo, and site management."""
from __future__ import annotations

import json
import time
import sys
from typing import Any

import click

from . import audit
from . import config as config_module
from .bootstrap import allow_own_origins, own_origins, script_tag, seed_default_site
from .cli_common import open_storage, report_query, survey_or_fail
from .cli_migrate import migrate_data
from .cli_admin import config_group, site_by_key, site_list, site_rotate_secret, site_update, webhook_group
from .storage.tokens import TokenStore


@click.group()
def main() -> None:
    """Customer Effort Score server."""


def _run(host: str | None, port: int | None, db: str | None, connections: int, demo: bool,
         workers: int | None = None) -> None:
    conf = config_module.resolve()
    from .server import worker_count
    try:
        workers = worker_count(workers, conf.get("REDIS_URL"))
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    db = db or conf["DATABASE"]          # --db, else CES_DATABASE (README), else ./ces.db
    host = host or conf["LISTEN_HOST"]   # --host, else CES_LISTEN_HOST (CES_HOST, deprecated)
    port = port or int(conf["PORT"])     # --port, else CES_PORT: for `ces demo` as for `ces serve`
    storage = open_storage(db)
    try:
        site = seed_default_site(storage, time.time(), origins=own_origins(host, port))
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    base = f"http://{host}:{port}"
    if site is not None:
        audit.record(storage, audit.cli_actor(), "site.create", f"site:{site['id']}",
                     {"name": site["name"], "first_run": True})
        click.echo("Created the default site, a CES 2.0 survey and triggers for "
                   "checkout_completed and ticket_closed.")
        click.echo(f"  site key:   {site['site_key']}")
        click.echo(f"  secret key: {site['secret_key']}   (keep it on your backend)")
        click.echo(f"  allowed origins (pages that may open the widget): {', '.join(site['allowed_origins'])}")
        click.echo("  Pages of any other origin are refused. For your shop's pages: "
                   f"`ces site update {site['site_key']} --add-origin https://shop.example` "
                   "(a new site: `ces site create NAME --origin https://shop.example`; before the first "
                   "run: CES_BOOTSTRAP_ORIGINS; docs/widget.md).")
        click.echo("Paste this into your pages:")
        click.echo("  " + script_tag(base, site["site_key"]))
        click.echo("Admin API: create a token with")
        click.echo(f"  ces token create NAME --db {db}      (add --site {site['site_key']} or --read-only to narrow it)")
        click.echo(f"API docs: {base}/api/docs   (the OpenAPI document: {base}/api/openapi.json)")
    from .first_run import dashboard_lines
    for line in dashboard_lines(storage, base, db, demo, site):
        click.echo(line)
    if demo:
        added = allow_own_origins(storage, host, port)
        if added:  # a database made by a run on another port: the demo's pages must open the widget
            click.echo(f"The demo's site now also allows origins {', '.join(added)} (allowed origins).")
            audit.record(storage, audit.cli_actor(), "site.update", f"site:{storage.first_site()['id']}",
                         {"allowed_origins_added": added, "by": "ces demo"})
        click.echo(f"Demo shop: {base}/demo/")
    click.echo(f"Listening on {base} (database {storage.describe()})")
    if workers > 1:
        click.echo(f"{workers} worker processes (--workers), ringing each other through CES_REDIS_URL")
    storage.shutdown()  # the server process opens its own connections
    from .server import serve
    serve(host, port, {"DATABASE": db, "DEMO": demo}, connections=connections, workers=workers)


_serve_options = [
    click.option("--host", default=None, help="Address to listen on (default: CES_LISTEN_HOST or 127.0.0.1)."),
    click.option("--port", default=None, type=int, help="Port to listen on (default: CES_PORT or 8000)."),
    click.option("--db", default=None, help="Database: a SQLite file or a postgresql:// URL (default: CES_DATABASE or ./ces.db)."),
    click.option("--connections", default=None, type=int,
                 help="Open connections (widget sockets included) one process holds  [default: 25000]."),
    # Before the event-loop worker each socket held a thread; the old flag still sets the bound.
    click.option("--threads", default=None, type=int, hidden=True),
    click.option("--workers", default=None, type=click.IntRange(min=1),
                 help="Worker processes (default: one per core when CES_REDIS_URL is set, else 1; "
                      "more than one needs CES_REDIS_URL)."),
]


def _connections(connections: int | None, threads: int | None) -> int:
    from .server import DEFAULT_CONNECTIONS
    if threads is not None:
        click.echo("--threads is deprecated (sockets no longer hold threads): use --connections.", err=True)
    return connections or threads or DEFAULT_CONNECTIONS


def _with_serve_options(f: Any) -> Any:
    for option in reversed(_serve_options):
        f = option(f)
    return f


@main.command()
@_with_serve_options
def serve(host: str | None, port: int | None, db: str | None, connections: int | None, threads: int | None,
          workers: int | None) -> None:
    """Run the server (gunicorn, gevent workers) on the SQLite file DB."""
    _run(host, port, db, _connections(connections, threads), demo=False, workers=workers)


@main.command()
@_with_serve_options
def demo(host: str | None, port: int | None, db: str | None, connections: int | None, threads: int | None,
         workers: int | None) -> None:
    """Run the server with the demo shop at /demo/."""
    _run(host, port, db, _connections(connections, threads), demo=True, workers=workers)


@main.group()
def site() -> None:
    """Manage sites (embedding applications)."""


@site.command("create")
@click.argument("name")
@click.option("--db", default=None, help="Database: a SQLite file or a postgresql:// URL (default: CES_DATABASE or ./ces.db).")
@click.option("--identity-verification/--no-identity-verification", default=False,
              help="Refuse widget users without a valid user hash.")
@click.option("--origin", "origins", multiple=True, metavar="ORIGIN",
              help="An origin whose pages may open the widget, e.g. https://shop.example or "
                   "https://*.shop.example, or '*' for any (repeatable; none: no browser page may).")
@click.option("--time-zone", default="UTC", show_default=True,
              help="IANA time zone of the site's days (quotas, report periods), e.g. Europe/Paris.")
@click.option("--json", "as_json", is_flag=True, help="Print the keys as JSON, for scripts.")
def site_create(name: str, db: str | None, identity_verification: bool, origins: tuple[str, ...],
                time_zone: str, as_json: bool) -> None:
    """Create a site and print its keys."""
    from .core import origins as origin_rules
    from .core.time_zones import time_zone_error
    from .storage.sites import SiteStore
    problem = origin_rules.list_problem(list(origins))
    if problem:
        raise click.BadParameter(problem, param_hint="--origin")
    if time_zone_error(time_zone):
        raise click.BadParameter(time_zone_error(time_zone), param_hint="--time-zone")  # type: ignore[arg-type]
    allowed = origin_rules.clean(origins)
    storage = open_storage(db)
    created = SiteStore(storage).create(name, time.time(), identity_verification, allowed, time_zone)
    audit.record(storage, audit.cli_actor(), "site.create", f"site:{created['id']}", {"name": name})
    keys = {"id": created["id"], "name": name, "site_key": created["site_key"],
            "secret_key": created["secret_key"], "identity_verification": identity_verification,
            "allowed_origins": allowed, "time_zone": time_zone}
    if as_json:
        click.echo(json.dumps(keys))
        return
    click.echo(f"site {created['id']} '{name}'")
    click.echo(f"  site key:   {created['site_key']}")
    click.echo(f"  secret key: {created['secret_key']}")
    click.echo(f"  allowed origins: {', '.join(allowed) or 'none (only non-browser clients; add --origin)'}")
    click.echo(f"  time zone:  {time_zone}")


site.add_command(site_list)
site.add_command(site_update)
site.add_command(site_rotate_secret)
main.add_command(config_group)
main.add_command(webhook_group)
main.add_command(migrate_data)


@main.group()
def token() -> None:
    """Manage admin API tokens (for the admin API and the dashboard)."""


@token.command("create")
@click.argument("name")
@click.option("--db", default=None, help="Database: a SQLite file or a postgresql:// URL (default: CES_DATABASE or ./ces.db).")
@click.option("--site", "site_key", default=None, help="Only this site (by its key); default: every site.")
@click.option("--read-only", is_flag=True, help="Read, never change (GET only).")
def token_create(name: str, db: str | None, site_key: str | None, read_only: bool) -> None:
    """Create an admin token and print it (it is stored hashed: this is the only time it is shown)."""
    storage = open_storage(db)
    site_id = site_by_key(storage, site_key)["id"] if site_key else None
    row, secret = TokenStore(storage).create(name, time.time(), site_id, read_only)
    audit.record(storage, audit.cli_actor(), "token.create", f"token:{row['id']}",
                 {"name": name, "site_id": site_id, "read_only": read_only})
    click.echo(secret)
    scope = f"site {site_key} only" if site_key else "every site"
    click.echo(f"token {row['id']} '{name}' created ({scope}, {'read-only' if read_only else 'read-write'}); "
               "it is shown only now.", err=True)


@token.command("list")
@click.option("--db", default=None, help="Database: a SQLite file or a postgresql:// URL.")
def token_list(db: str | None) -> None:
    """List admin tokens (never their secret)."""
    for row in TokenStore(open_storage(db)).list():
        state = "revoked" if row["revoked_at"] else "active"
        scope = f"site {row['site_key']}" if row["site_id"] else "every site"
        click.echo(f"{row['id']}\t{row['name']}\t{state}\t{scope}\t{'read-only' if row['read_only'] else 'read-write'}")


@token.command("revoke")
@click.argument("token_id", type=int)
@click.option("--db", default=None, help="Database: a SQLite file or a postgresql:// URL.")
def token_revoke(token_id: int, db: str | None) -> None:
    """Revoke an admin token by its id."""
    storage = open_storage(db)
    if not storage.revoke_admin_token(token_id, time.time()):
        raise click.ClickException(f"no active token {token_id}")
    audit.record(storage, audit.cli_actor(), "token.revoke", f"token:{token_id}")
    click.echo(f"token {token_id} revoked")


# -- reports ----------------------------------------------------------------------------------------

_filter_options = [
    click.option("--from", "from_", default=None, help="Start (ISO date or date-time, inclusive)."),
    click.option("--to", default=None, help="End (ISO date: that whole day; date-time: exclusive)."),
    click.option("--trigger", default=None, help="Trigger id(s), comma-separated."),
    click.option("--variant", default=None), click.option("--locale", default=None),
    click.option("--where", "where", multiple=True, help="Event property filter, e.g. channel=chat or "
                 "'wait_minutes[gte]=10' (repeatable)."),
]


def _with_filters(f: Any) -> Any:
    for option in reversed(_filter_options):
        f = option(f)
    return f


def _fmt(x: Any) -> str:
    return "—" if x is None else (f"{x:g}" if isinstance(x, float) else str(x))


@main.command()
@click.argument("survey_id", type=int)
@_with_filters
@click.option("--interval", type=click.Choice(["day", "week", "month"]), default="week", show_default=True)
@click.option("--driver", default=None, help="Event property to rank as an effort driver.")
@click.option("--buckets", default=None, help="Bucket lower bounds for a numeric driver, e.g. 0,5,15.")
@click.option("--db", default=None, help="Database: a SQLite file or a postgresql:// URL.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (same as the API).")
@click.option("--insights", is_flag=True, help="Also print what drives effort and what to fix first (docs/insights.md).")
def report(survey_id: int, from_: str | None, to: str | None, trigger: str | None, variant: str | None,
           locale: str | None, where: tuple[str, ...], interval: str, driver: str | None, buckets: str | None,
           db: str | None, as_json: bool, insights: bool = False) -> None:
    """Print a survey's report: score, funnel, trend, touchpoints and drivers."""
    from . import reports as reports_module
    storage = open_storage(db)
    survey = survey_or_fail(storage, survey_id)
    q = report_query({"from": from_, "to": to, "trigger": trigger, "variant": variant, "locale": locale,
                       "interval": interval, "driver": driver, "buckets": buckets}, where,
                      ("interval", "driver", "buckets"), storage, survey)
    r = reports_module.build_report(storage, survey, q, time.time())
    if as_json:
        click.echo(json.dumps(r, indent=2, ensure_ascii=False))
        return
    s = r["score"]
    ci = s["headline_ci"] or {}
    click.echo(f"Survey {survey_id} ({r['metric']}): {r['headline_name']} {_fmt(s['headline'])} "
               f"[{_fmt(ci.get('low'))}, {_fmt(ci.get('high'))}]  n={s['n']}  mean={_fmt(s['mean'])}"
               + ("  (low sample)" if s["low_sample"] else ""))
    f = r["funnel"]
    click.echo("Funnel: " + " → ".join(f"{k.replace('_', ' ')} {_fmt(f[k])}" for k in
                                      ("events_matched", "issued", "delivered", "shown", "answered"))
               + f"  (dismissed {f['dismissed']}, expired {f['expired']}, open {f['open']}; "
               f"response rate {_fmt(f['response_rate'])}%)")
    click.echo(f"Over time ({interval}):")
    for p in r["over_time"]["periods"]:
        click.echo(f"  {p['start']}  {_fmt(p['headline']):>7}  n={p['n']}")
    click.echo("By touchpoint:")
    for t in r["by_touchpoint"]:
        click.echo(f"  {t['name'] or t['trigger_id']}: {_fmt(t['headline'])}  n={t['n']}")
    if r["drivers"]:
        click.echo(f"Effort drivers ({r['drivers']['property']}), most effort first:")
        for v in r["drivers"]["values"]:
            click.echo(f"  {v['value']:>10}: {_fmt(v['headline']):>7}  n={v['n']}  vs rest {_fmt(v['difference'])}"
                       + ("  *" if v["significant"] else ""))
    if insights:
        from . import cli_insights, driver_report
        from .core.report_filters import FilterError
        try:
            cli_insights.print_ranking(cli_insights.caught_up(storage, driver_report.ranking, storage, survey, q,
                                                             time.time()), 5)
            cli_insights.print_fix_first(driver_report.fix_first_items(
                storage, survey, q, time.time(), driver_report.theme_source(), 5), 5)
        except FilterError as err:
            raise click.UsageError(f"{err.field}: {err.message}") from None


@main.command()
@click.argument("survey_id", type=int)
@_with_filters
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), default="-",
              help="Output file (default: standard output).")
@click.option("--db", default=None, help="Database: a SQLite file or a postgresql:// URL.")
def export(survey_id: int, from_: str | None, to: str | None, trigger: str | None, variant: str | None,
           locale: str | None, where: tuple[str, ...], fmt: str, out: str, db: str | None) -> None:
    """Export a survey's answers (with prompt, trigger, event and user), streamed, with a progress bar."""
    from . import reports as reports_module
    from .storage.reports import Reports
    storage = open_storage(db)
    survey = survey_or_fail(storage, survey_id)
    q = report_query({"from": from_, "to": to, "trigger": trigger, "variant": variant, "locale": locale,
                       "format": fmt}, where, ("format",), storage, survey)
    total = Reports(storage).count_answers(q, survey_id)
    with click.open_file(out, "w", encoding="utf-8") as fh, \
            click.progressbar(length=total, label=f"Exporting {total} answers", file=sys.stderr,
                              show_pos=True) as bar:
        for piece in reports_module.export_lines(storage, survey, q, fmt):
            fh.write(piece)
            # A piece holds whole rows: count its records (CSV comments may hold newlines, so
            # count rows by the export's own chunking instead of lines).
            bar.update(min(total - bar.pos, piece.count("\n") if fmt == "jsonl" else _csv_rows(piece)))
    click.echo(f"exported {total} answers to {out if out != '-' else 'standard output'}", err=True)


def _csv_rows(piece: str) -> int:
    import csv
    import io
    return sum(1 for _ in csv.reader(io.StringIO(piece)))


# Themes of the comments and the customers who share a problem (cli_themes.py).
from .cli_themes import COMMANDS as _THEME_COMMANDS  # noqa: E402

for _command in _THEME_COMMANDS:
    main.add_command(_command)

# People's data, retention, backups and the audit log live in their own module (cli_privacy.py).
from .cli_privacy import COMMANDS as _PRIVACY_COMMANDS  # noqa: E402

for _command in _PRIVACY_COMMANDS:
    main.add_command(_command)
# Dashboard users (`ces user create EMAIL`, …) join the same `ces user` group (cli_users.py).
from .cli_users import attach as _attach_dashboard_users  # noqa: E402

_attach_dashboard_users(main.commands["user"])  # type: ignore[arg-type]


# What drives effort, fix first, alerts (cli_insights.py, docs/insights.md).
from .cli_insights import COMMANDS as _INSIGHT_COMMANDS  # noqa: E402

for _command in _INSIGHT_COMMANDS:
    main.add_command(_command)
