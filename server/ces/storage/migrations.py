"""The schema, as named sqlite-utils migrations. Never edit an applied one: add a new one."""
from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("ces")

# "The prompt is open", as the partial indexes of 0005 spell it. A query uses a partial index
# only when its WHERE repeats the index's condition, so the queries use this very string.
OPEN_PROMPT = "(status = 'issued' or status = 'delivered' or status = 'shown')"


@migrations(name="0001_spine")
def spine(db: Database) -> None:
    db["sites"].create({
        "id": int, "name": str, "site_key": str, "secret_key": str,
        "identity_verification": int, "settings": str, "created_at": float,
    }, pk="id", not_null={"name", "site_key", "secret_key"}, defaults={"identity_verification": 0, "settings": "{}"})
    db["sites"].create_index(["site_key"], unique=True)
    db["sites"].create_index(["secret_key"], unique=True)

    db["surveys"].create({
        "id": int, "site_id": int, "name": str, "metric": str, "default_locale": str,
        "texts": str, "followup_max_score": int, "appearance": str, "quota": str,
        "status": str, "created_at": float, "updated_at": float,
    }, pk="id", foreign_keys=[("site_id", "sites", "id")],
        not_null={"site_id", "name", "metric"},
        defaults={"default_locale": "en", "texts": "{}", "appearance": "{}", "quota": "{}", "status": "active"})
    db["surveys"].create_index(["site_id"])

    db["triggers"].create({
        "id": int, "site_id": int, "name": str, "event_name": str, "survey_id": int,
        "conditions": str, "source": str, "sample_rate": float, "variants": str,
        "delay_seconds": int, "ttl_seconds": int, "transaction_key": str, "priority": int,
        "recontact_wait": int, "status": str, "created_at": float, "updated_at": float,
    }, pk="id", foreign_keys=[("site_id", "sites", "id"), ("survey_id", "surveys", "id")],
        not_null={"site_id", "event_name"},
        defaults={"source": "backend", "sample_rate": 100.0, "variants": "[]", "delay_seconds": 0,
                  "ttl_seconds": 7 * 86400, "priority": 0, "recontact_wait": 30 * 86400,
                  "status": "active"})
    db["triggers"].create_index(["site_id", "event_name"])

    # Every event is kept with the decision taken on it, so "why was this user (not) asked?"
    # has an answer.
    db["events"].create({
        "id": int, "site_id": int, "event_id": str, "user_id": str, "name": str,
        "properties": str, "timestamp": float, "received_at": float, "source": str,
        "decision": str, "reason": str, "detail": str, "trigger_id": int, "prompt_id": str,
    }, pk="id", not_null={"site_id", "event_id", "user_id", "name"})
    db["events"].create_index(["site_id", "event_id"], unique=True)
    db["events"].create_index(["site_id", "user_id", "received_at"])

    db["prompts"].create({
        "id": str, "site_id": int, "user_id": str, "survey_id": int, "trigger_id": int,
        "event_row": int, "transaction": str, "status": str, "locale": str,
        "created_at": float, "deliver_after": float, "expires_at": float,
        "delivered_at": float, "shown_at": float, "closed_at": float,
    }, pk="id", foreign_keys=[("survey_id", "surveys", "id")],
        not_null={"site_id", "user_id", "survey_id", "status"})
    db["prompts"].create_index(["site_id", "user_id", "status"])
    db["prompts"].create_index(["survey_id", "created_at"])
    db["prompts"].create_index(["trigger_id", "transaction"])

    db["answers"].create({
        "id": int, "prompt_id": str, "site_id": int, "survey_id": int, "user_id": str,
        "score": int, "comment": str, "created_at": float, "followed_up_at": float,
    }, pk="id", foreign_keys=[("prompt_id", "prompts", "id"), ("survey_id", "surveys", "id")],
        not_null={"prompt_id", "site_id", "survey_id", "user_id", "score"})
    db["answers"].create_index(["prompt_id"], unique=True)
    db["answers"].create_index(["survey_id", "created_at"])

    db["users"].create({
        "site_id": int, "user_id": str, "traits": str, "updated_at": float,
    }, pk=("site_id", "user_id"), defaults={"traits": "{}"})


@migrations(name="0002_admin_tokens")
def admin_tokens(db: Database) -> None:
    # Only a SHA-256 of each token is stored: a leaked database does not leak admin access.
    db["admin_tokens"].create({
        "id": int, "name": str, "token_hash": str, "created_at": float, "revoked_at": float,
        "last_used_at": float,
    }, pk="id", not_null={"name", "token_hash"})
    db["admin_tokens"].create_index(["token_hash"], unique=True)


@migrations(name="0004_rules_transactions")
def rules_transactions(db: Database) -> None:
    # "Never two prompts for the same transaction" is checked site-wide (any trigger with the same
    # key), so the lookup is by (site, transaction), not by trigger.
    db.execute("create index if not exists idx_prompts_site_transaction on prompts (site_id, \"transaction\") "
               "where \"transaction\" is not null")


@migrations(name="0003_reports_rollups_webhooks")
def reports_rollups_webhooks(db: Database) -> None:
    # The variant label a trigger's split chose for a prompt (null without variants): the
    # report's `variant` filter.
    if "variant" not in db["prompts"].columns_dict:
        db.execute("alter table prompts add column variant text")
    # Expiring due prompts (done before every funnel) reads only the open ones.
    db.execute("create index if not exists idx_prompts_open_expiry on prompts (expires_at) "
               "where status in ('issued','delivered','shown')")
    # The funnel: one covering range scan per survey and period.
    db.execute("create index if not exists idx_prompts_survey_funnel on prompts "
               "(survey_id, created_at, status, trigger_id, delivered_at, shown_at)")
    db.execute("create index if not exists idx_events_trigger_received on events (trigger_id, received_at)")
    # At-risk customers: each user's latest answer.
    db.execute("create index if not exists idx_answers_survey_user on answers (survey_id, user_id, created_at)")

    # Rollups of answers, refreshed incrementally (answers are append-only) by answer id.
    db.execute("create table if not exists report_rollup_state (name text primary key, last_id integer not null)")
    db.execute("""create table if not exists report_answers_daily (
        survey_id integer not null, day integer not null, trigger_id integer not null,
        locale text not null, variant text not null, score integer not null, n integer not null,
        primary key (survey_id, day, trigger_id, locale, variant, score)) without rowid""")
    db.execute("""create table if not exists report_props_daily (
        survey_id integer not null, key text not null, day integer not null, trigger_id integer not null,
        kind text not null, value text not null, score integer not null, n integer not null,
        primary key (survey_id, key, day, trigger_id, kind, value, score)) without rowid""")

    # Webhooks and their deliveries (the outbox: rows written in the answer's own transaction).
    db.execute("""create table if not exists webhooks (
        id integer primary key, site_id integer not null references sites(id), url text not null,
        secret text not null, events text not null, high_effort_max integer, description text,
        created_at real not null)""")
    db.execute("create index if not exists idx_webhooks_site on webhooks (site_id)")
    db.execute("""create table if not exists webhook_deliveries (
        id integer primary key, webhook_id integer not null, site_id integer not null,
        event_type text not null, msg_id text not null, payload text not null, status text not null,
        attempts integer not null default 0, next_attempt_at real not null, last_status integer,
        last_error text, replay_of integer, created_at real not null, updated_at real not null,
        delivered_at real)""")
    db.execute("create index if not exists idx_deliveries_due on webhook_deliveries (next_attempt_at) "
               "where status = 'pending'")
    db.execute("create index if not exists idx_deliveries_webhook on webhook_deliveries (webhook_id, id)")


_FUNNEL_ROW = ("new.survey_id, cast(coalesce(new.created_at, 0) / 86400 as integer), coalesce(new.trigger_id, 0), "
               "coalesce(new.locale, ''), coalesce(new.variant, ''), new.status, "
               "(new.delivered_at is not null or new.shown_at is not null or new.status in ('answered','dismissed')), "
               "(new.shown_at is not null or new.status in ('answered','dismissed')), 1")
_FUNNEL_UPSERT = ("insert into report_funnel_daily (survey_id, day, trigger_id, locale, variant, status, delivered, "
                  f"shown, n) values ({_FUNNEL_ROW}) on conflict (survey_id, day, trigger_id, locale, variant, status, "
                  "delivered, shown) do update set n = n + 1;")


FUNNEL_REBUILD = (
    "insert into report_funnel_daily (survey_id, day, trigger_id, locale, variant, status, delivered, shown, n) "
    f"select {_FUNNEL_ROW.replace('new.', '').replace(', 1', '')}, count(*) from prompts "
    "where status in ('answered','dismissed','expired') group by 1, 2, 3, 4, 5, 6, 7, 8")


@migrations(name="0003_reports_funnel_rollup")
def reports_funnel_rollup(db: Database) -> None:
    # Closed prompts (answered, dismissed, expired) never change again: counted into a daily
    # rollup by SQL triggers, in the same transaction as whatever closed them. Open prompts are
    # few and counted live through a partial index.
    db.execute("""create table if not exists report_funnel_daily (
        survey_id integer not null, day integer not null, trigger_id integer not null, locale text not null,
        variant text not null, status text not null, delivered integer not null, shown integer not null,
        n integer not null,
        primary key (survey_id, day, trigger_id, locale, variant, status, delivered, shown)) without rowid""")
    db.execute("create index if not exists idx_prompts_open_survey on prompts (survey_id, created_at) "
               "where status in ('issued','delivered','shown')")
    db.execute("create trigger if not exists report_funnel_on_close after update of status on prompts "
               "when new.status in ('answered','dismissed','expired') "
               "and old.status not in ('answered','dismissed','expired') "
               f"begin {_FUNNEL_UPSERT} end")
    db.execute("create trigger if not exists report_funnel_on_insert after insert on prompts "
               "when new.status in ('answered','dismissed','expired') "
               f"begin {_FUNNEL_UPSERT} end")
    db.execute("delete from report_funnel_daily")
    db.execute(FUNNEL_REBUILD)
    # Events matched by a trigger: append-only, rolled up by id like the answers.
    db.execute("""create table if not exists report_events_daily (
        trigger_id integer not null, day integer not null, n integer not null,
        primary key (trigger_id, day)) without rowid""")


@migrations(name="0005_prompt_insert_cost")
def prompt_insert_cost(db: Database) -> None:
    # Every decision that asks inserts a prompt, so each index and trigger on `prompts` is paid
    # on the hot path (bench/bench_decisions.py). The product only ever inserts open prompts;
    # the insert trigger, which counted prompts inserted already closed, cost more than all the
    # indexes together (a trigger program runs per row even when its WHEN is false). Seeds and
    # imports that insert closed prompts call Reports.rebuild_funnel_rollup() instead.
    db.execute("drop trigger if exists report_funnel_on_insert")
    # Covered by idx_prompts_survey_funnel (survey_id, created_at, …), which starts the same.
    db.execute("drop index if exists idx_prompts_survey_id_created_at")
    # Transactions are looked up site-wide by idx_prompts_site_transaction (0004); nothing
    # reads prompts by (trigger_id, transaction).
    db.execute("drop index if exists idx_prompts_trigger_id_transaction")
    # The two partial indexes of open prompts, with their condition as ORs: SQLite evaluates
    # `status in (…)` in an index condition on every insert at several times the cost.
    db.execute("drop index if exists idx_prompts_open_expiry")
    db.execute("drop index if exists idx_prompts_open_survey")
    db.execute(f"create index idx_prompts_open_expiry on prompts (expires_at) where {OPEN_PROMPT}")
    # Covering for the report's count of open prompts (delivered? shown?), which otherwise reads
    # every open prompt's row: 150 ms of a 300 ms report with 62,000 open (bench/bench_report.py).
    db.execute("create index idx_prompts_open_survey on prompts (survey_id, created_at, delivered_at, shown_at, "
               f"status) where {OPEN_PROMPT}")


@migrations(name="0006_site_allowed_origins")
def site_allowed_origins(db: Database) -> None:
    # The browser origins whose pages may open a site's widget socket (a JSON list; "*" = any,
    # "https://*.shop.example" = any subdomain). Sites that existed before the check keep working
    # as they did (any origin) until their owner narrows the list; new sites start from theirs.
    db.execute("alter table sites add column allowed_origins text not null default '[\"*\"]'")


@migrations(name="0200_i11_admin_contract")
def admin_contract(db: Database) -> None:
    # A site's time zone (an IANA name, e.g. "Europe/Paris"); reports may read it. Sites that
    # existed before keep UTC, which is what every report used until now.
    db.execute("alter table sites add column time_zone text not null default 'UTC'")
    # Secret rotation: the replaced secret keeps working (events, user hashes) until it expires.
    db.execute("alter table sites add column previous_secret_key text")
    db.execute("alter table sites add column previous_secret_expires_at real")
    db.execute("create index if not exists idx_sites_previous_secret on sites (previous_secret_key) "
               "where previous_secret_key is not null")
    db.execute("alter table webhooks add column previous_secret text")
    db.execute("alter table webhooks add column previous_secret_expires_at real")
    # Token scopes: one site (null: every site), read-only or read-write. Existing tokens keep
    # what they could do: every site, read-write.
    db.execute("alter table admin_tokens add column site_id integer references sites(id)")
    db.execute("alter table admin_tokens add column read_only integer not null default 0")
    # Configuration as code: a stable key per survey and trigger, unique on its site, so a file
    # names them without database ids. Rows without one get `survey-<id>` / `trigger-<id>`.
    for table, prefix in (("surveys", "survey"), ("triggers", "trigger")):
        db.execute(f"alter table {table} add column slug text")
        db.execute(f"update {table} set slug = '{prefix}-' || id")
        db.execute(f"create unique index idx_{table}_site_slug on {table} (site_id, slug)")
        # A row inserted without a slug gets one; when another row of the site already took
        # `<prefix>-<id>` (a slug set by hand or by an import), a random suffix keeps it unique.
        db.execute(f"""create trigger {table}_default_slug after insert on {table} when new.slug is null begin
            update {table} set slug = '{prefix}-' || new.id || case when exists (
                select 1 from {table} where site_id = new.site_id and slug = '{prefix}-' || new.id)
                then '-' || lower(hex(randomblob(3))) else '' end where id = new.id; end""")


@migrations(name="0300_i14_privacy")
def privacy(db: Database) -> None:
    # Opt-outs are keyed by the SHA-256 of the user id, never the id itself: an opt-out must
    # outlive the erasure of the person (an erased customer who said "don't ask me" stays unasked)
    # without keeping who they were.
    db.execute("""create table if not exists opt_outs (
        site_id integer not null, user_sha256 text not null, created_at real not null, source text not null,
        primary key (site_id, user_sha256)) without rowid""")
    # One row per erasure: who asked, when, and which user id (hashed). Nothing else about the person.
    db.execute("""create table if not exists erasures (
        id integer primary key, site_id integer not null, user_sha256 text not null, actor text not null,
        created_at real not null)""")
    # Changes made through the admin API and the CLI: who, what, when.
    db.execute("""create table if not exists audit_log (
        id integer primary key, created_at real not null, actor_kind text not null, actor_id text,
        actor_name text, action text not null, target text, detail text)""")
    db.execute("create index if not exists idx_audit_created on audit_log (created_at)")
    # Answers the retention anonymised (user id replaced by a token): never picked up again.
    if "anonymised_at" not in db["answers"].columns_dict:
        db.execute("alter table answers add column anonymised_at real")
    # Retention walks events and answers by id (their ids grow with time: no index to pay on the
    # event hot path); traits are updated in place, so they get an index by age.
    db.execute("create index if not exists idx_users_site_updated on users (site_id, updated_at)")


@migrations(name="0400_i18_asking_well")
def asking_well(db: Database) -> None:
    # Triggers: occurrence conditions (a JSON list), and the events that call off a pending
    # delayed prompt (a JSON list of names; optionally only for the same transaction).
    triggers = db["triggers"].columns_dict
    if "occurrences" not in triggers:
        db.execute("alter table triggers add column occurrences text not null default '[]'")
    if "cancel_events" not in triggers:
        db.execute("alter table triggers add column cancel_events text not null default '[]'")
    if "cancel_same_transaction" not in triggers:
        db.execute("alter table triggers add column cancel_same_transaction integer not null default 0")
    # Visits: a tab's session, as the widget reports it. The current visit of a user is the one
    # seen last, so the lookup is by (site, user, last_seen_at).
    db.execute("""create table if not exists visits (
        site_id integer not null, user_id text not null, visit_id text not null,
        started_at real not null, last_seen_at real not null,
        primary key (site_id, user_id, visit_id)) without rowid""")
    db.execute("create index if not exists idx_visits_user_seen on visits (site_id, user_id, last_seen_at)")
    # Cancelled prompts (a cancel event came before the delay ended) never change again: counted
    # into the funnel's daily rollup like the other closed prompts, under their own status.
    db.execute("create trigger if not exists report_funnel_on_cancel after update of status on prompts "
               "when new.status = 'cancelled' and old.status in ('issued','delivered','shown') "
               f"begin {_FUNNEL_UPSERT} end")


# The dashboard's accounts (issue 12). Plain DDL in lists, so the PostgreSQL engine can port them.
# installation_secrets: secrets made once per installation (the session-signing key), so every
# process and restart signs and checks sessions alike, with no key in code or a config file.
# dashboard_users: people who log in with an email and a password (`ces user create`); only a
# salted slow hash of it; site_id null = every site, like an admin token.
I12SHELL_DASHBOARD_SQL = [
    """create table if not exists installation_secrets (
        name TEXT primary key, value TEXT not null, created_at REAL not null)""",
    """create table if not exists dashboard_users (
        id INTEGER primary key, email TEXT not null, password_hash TEXT not null, site_id INTEGER,
        read_only INTEGER not null default 0, created_at REAL not null, disabled_at REAL)""",
    "create unique index if not exists idx_dashboard_users_email on dashboard_users (email)",
]
# A site's newest answers (the dashboard's live feed) from an index, also for a small site
# among many on a large database. Answers are few next to events.
I12SHELL_ANSWER_FEED_SQL = ["create index if not exists idx_answers_site_id on answers (site_id, id)"]


@migrations(name="0500_i12shell_dashboard")
def dashboard_accounts(db: Database) -> None:
    for sql in I12SHELL_DASHBOARD_SQL:
        db.execute(sql)


@migrations(name="0501_i12shell_answer_feed")
def answer_feed(db: Database) -> None:
    for sql in I12SHELL_ANSWER_FEED_SQL:
        db.execute(sql)


# The results page's lists. At-risk customers (each user's latest answer, its score and whether
# it was followed up) read from the index alone; it replaces the narrower (survey_id, user_id,
# created_at). Comments, newest first, from a partial index of the answers that have one (with
# their prompt_id: a trigger, locale or variant filter joins the prompts without reading the answers).
I12_RESULTS_SQL = [
    "create index if not exists idx_answers_survey_user_latest on answers "
    "(survey_id, user_id, created_at, score, followed_up_at)",
    "drop index if exists idx_answers_survey_user",
    "create index if not exists idx_answers_survey_commented on answers (survey_id, created_at, prompt_id) "
    "where comment is not null and comment != ''",
]


@migrations(name="0510_i12results_at_risk_index")
def results_at_risk_index(db: Database) -> None:
    for sql in I12_RESULTS_SQL:
        db.execute(sql)


# Themes of comments (issue 15, server/ces/themes.py). Plain DDL in a list, for the PostgreSQL port.
I15_THEMES_SQL = [
    # A site's own theme settings (renames, merges, added terms, its own themes): one JSON document
    # validated by core/themes.check_config; the starter themes live in the code.
    """create table if not exists site_themes (
        site_id integer primary key references sites(id), config text not null, updated_at real not null)""",
    # Each comment's themes, stored lazily by the first report that needs them. `version` is
    # core/themes.version_key of the lexicon and the site's settings: another version means themed
    # again. `answered_at` is the answer's own: a reused answer id never keeps another's themes.
    # `themes` is "|key|key|" (keys are [a-z0-9-]), so "in theme k" is `themes like '%|k|%'`.
    """create table if not exists comment_themes (
        answer_id integer primary key, survey_id integer not null, version text not null,
        answered_at real not null, primary_theme text, themes text not null)""",
    "create index if not exists idx_comment_themes_survey on comment_themes (survey_id, version)",
    # theme.grown alerts sent: one per survey, theme and period, so the periodic check never repeats one.
    """create table if not exists theme_alerts (
        survey_id integer not null, theme text not null, period_end real not null,
        site_id integer not null, created_at real not null, primary key (survey_id, theme, period_end))""",
]


@migrations(name="0700_i15themes_comment_themes")
def comment_themes(db: Database) -> None:
    for sql in I15_THEMES_SQL:
        db.execute(sql)


@migrations(name="0710_i15drivers_answer_props")
def answer_props_table(db: Database) -> None:
    # Each answer's event properties beside it, one row per property (storage/answer_props.py): a
    # report filtered on a property reads one index range instead of joining prompts and events
    # and parsing JSON. Only the tables here: the answers that exist are copied by the background
    # job (answer_props_job.py) in short transactions, so that a large installation starts at once
    # (this step copied them all before: 89 s to 800 s at 1M answers with the server not serving).
    from . import answer_props
    for sql in answer_props.I15_ANSWER_PROPS_SQL:
        db.execute(sql)


@migrations(name="0710_i15drivers_insight_notices")
def insight_notices(db: Database) -> None:
    # The score drops and digests already sent (alerts.py): each period announced once.
    from . import insights
    for sql in insights.I15_INSIGHT_NOTICES_SQL:
        db.execute(sql)


# Plain DDL (portable: the PostgreSQL engine converts the list with pg_ddl()).
I16_SCALE_OUT_SQL = [
    # When one process took the ringing of a delayed prompt that fell due (docs/deployment.md,
    # "Several processes"): the claim is an update of this column, so exactly one process rings it.
    "alter table prompts add column rung_at real",
    "create index if not exists idx_prompts_delayed_unrung on prompts (deliver_after) "
    "where status = 'issued' and rung_at is null and deliver_after > created_at",
    # One row per server process, refreshed by its sweep: the widgets connected across processes.
    """create table if not exists server_processes (
        id text primary key, host text not null, pid integer not null, sockets integer not null,
        started_at real not null, seen_at real not null)""",
]


@migrations(name="0800_i16_scale_out")
def scale_out(db: Database) -> None:
    for sql in I16_SCALE_OUT_SQL:
        db.execute(sql)


# Each process's widgets per site ({"site id": count} as JSON): the dashboard's "connected now"
# for one site, across processes (the total alone answers only /healthz).
I16_PRESENCE_SITES_SQL = ["alter table server_processes add column site_sockets text"]


@migrations(name="0810_i16_presence_sites")
def presence_sites(db: Database) -> None:
    for sql in I16_PRESENCE_SITES_SQL:
        db.execute(sql)


# -- 0900: the funnel's rollups per property value (dropped by 0920: the report columns answer those
# reports, storage/report_columns.py). Kept so that a database is built step by step as before.
_PR_CLOSED_SQL = "('answered','dismissed','expired','cancelled')"
_PR_FUNNEL_KEY = "survey_id, key, day, trigger_id, kind, value, status, delivered, shown"
_PR_EVENTS_KEY = "trigger_id, key, day, kind, value"

I15FAST_PROP_ROLLUPS_SQL = [
    f"""create table if not exists report_funnel_props_daily (
        survey_id integer not null, key text not null, day integer not null, trigger_id integer not null,
        kind text not null, value text not null, status text not null, delivered integer not null,
        shown integer not null, n integer not null, primary key ({_PR_FUNNEL_KEY}))""",
    f"""create table if not exists report_events_props_daily (
        trigger_id integer not null, key text not null, day integer not null, kind text not null,
        value text not null, n integer not null, primary key ({_PR_EVENTS_KEY}))""",
    # Closed since the walk began and not counted yet; a deleted prompt leaves it (never counted).
    """create table if not exists funnel_props_queue (
        prompt_id text primary key references prompts(id) on delete cascade)""",
    "create table if not exists prop_rollups_state (name text primary key, last_id integer not null)",
]
QUEUE_ON_CLOSE_SQLITE = (
    "create trigger if not exists funnel_props_on_close after update of status on prompts "
    f"when new.status in {_PR_CLOSED_SQL} and old.status not in {_PR_CLOSED_SQL} "
    "begin insert into funnel_props_queue (prompt_id) values (new.id) on conflict (prompt_id) do nothing; end")
QUEUE_ON_CLOSE_PG = [
    """create or replace function ces_funnel_props_queue() returns trigger language plpgsql as $$
begin
  insert into funnel_props_queue (prompt_id) values (new.id) on conflict (prompt_id) do nothing;
  return null;
end $$""",
    "create trigger funnel_props_on_close after update of status on prompts for each row "
    f"when (new.status in {_PR_CLOSED_SQL} and old.status not in {_PR_CLOSED_SQL}) "
    "execute function ces_funnel_props_queue()",
]


@migrations(name="0900_i15fast_prop_rollups")
def prop_rollups(db: Database) -> None:
    # The funnel per event-property value (tables and the queue's SQL trigger; dropped by 0920).
    for sql in I15FAST_PROP_ROLLUPS_SQL:
        db.execute(sql)
    db.execute(QUEUE_ON_CLOSE_SQLITE)


@migrations(name="0910_i15cols_report_columns")
def report_columns(db: Database) -> None:
    # Report columns (storage/report_columns.py): a report under any property filter reads arrays.
    # Tables and SQL triggers only: the background job walks the prompts closed before and seals.
    from . import report_columns as rc
    for sql in [*rc.I15COLS_SQL, *rc.TRIGGERS_SQLITE]:
        db.execute(sql)


# The rollups per property value of 0900 go: the report columns answer every filtered report
# (their one filter shape included, as fast), and the queue's SQL trigger cost every answer.
I15COLS_DROP_PROP_ROLLUPS_SQL = [
    "drop table if exists report_funnel_props_daily",
    "drop table if exists report_events_props_daily",
    "drop table if exists funnel_props_queue",
    "drop table if exists prop_rollups_state",
]


@migrations(name="0920_i15cols_drop_prop_rollups")
def drop_prop_rollups(db: Database) -> None:
    db.execute("drop trigger if exists funnel_props_on_close")
    for sql in I15COLS_DROP_PROP_ROLLUPS_SQL:
        db.execute(sql)
