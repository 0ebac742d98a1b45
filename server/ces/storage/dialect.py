"""Where SQLite and PostgreSQL spell SQL differently: every difference, named, in one place.

The storage code is written once, in the SQLite spelling it always had (`?` placeholders, the
functions and casts SQLite knows). The PostgreSQL engine runs the very same strings after
`to_postgres()` has rewritten the few mechanical spellings below, and PostgreSQL itself knows
the SQLite functions the queries call (`COMPAT_FUNCTIONS`, created by its first migration), so no
query has a second copy. What cannot be a spelling (locking, the rollups' SQL triggers, ids,
the migrations' DDL) is the engine's own code: `engine_postgres.py`, `migrations_postgres.py`.

This is Django's split turned around: Django writes `%s` and its SQLite backend converts
(`SQLiteCursorWrapper.convert_query`); here the SQLite spelling is the source and the rarer
engine converts, so the default engine runs its SQL untouched, at the speed it always had.

The rules, each applied outside string literals and quoted names:

* placeholders: `?` → `%s`, `?N` → `%(pN)s` (a numbered one repeats a parameter); a literal `%`
  → `%%` (psycopg reads `%` as the start of a placeholder);
* `cast(x as integer)` → `trunc((x)::double precision)::bigint`: SQLite truncates toward zero, PostgreSQL rounds;
  day numbers (`cast(t / 86400 as integer)`) must fall on the same day in both;
* `insert or ignore into …` → `insert into … on conflict do nothing`;
* `temp.name` → `pg_temp.name` (the connection's own temporary schema);
* SQLite planner hints that PostgreSQL has no use for: `not indexed`, `limit -1` (it keeps SQLite
  from flattening a subquery);
* `min(a, b)` / `max(a, b)` (SQLite's scalar forms) → `least(a, b)` / `greatest(a, b)`;
* `strftime('%Y-%m-%dT%H:%M:%fZ', col, 'unixepoch')` (ISO 8601 UTC, milliseconds) → `to_char(…)`;
* `a is ?` / `a is not ?` (SQLite's null-safe comparison) → `is not distinct from` / `is distinct from`;
* `cross join t on …` (SQLite: an inner join in this order) → `join t on …` (PostgreSQL has no ON for
  a cross join; its planner picks the order itself);
* `from (select …)` without a name → `… as ces_subN` (PostgreSQL 15 requires the name);
* `coalesce(sum(<condition>), 0)` (SQLite counts true conditions by summing them) →
  `count(*) filter (where <condition>)`;
* `cast(x as real)` → `… as double precision` (PostgreSQL's real is 4 bytes);
* `where 1` / `and (1)` (SQLite's true) → `true`;
* `on conflict … do update set n = n + excluded.n` → `… = <table>.n + excluded.n` (unqualified,
  PostgreSQL finds `n` ambiguous between the stored and the proposed row).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Sequence

# -- what cannot be a spelling: asked of the engine's dialect object (Django's `connection.ops`) ----

class Dialect:
    """SQLite's answers (the source spelling). Reached as `storage.dialect`, or `dialect_of(conn)`
    from code that only has a connection."""
    name = "sqlite"

    def number(self, expr: str) -> str:
        """`expr`, a JSON scalar from json_extract/json_each, as a number for `<` comparisons
        (SQLite's json_extract already returns one; PostgreSQL's returns text)."""
        return expr

    def latest_per_group(self, group: str, latest: str, columns: str, source: str) -> str:
        """One row per `group` value: the row with the greatest `latest` (`columns` from it).
        SQLite returns the other columns of the row holding max() (its documented bare-column rule)."""
        return f"select {columns}, max({latest}) as {latest.split('.')[-1]} from {source} group by {group}"


class PostgresDialect(Dialect):
    name = "postgresql"

    def number(self, expr: str) -> str:
        return f"ces_num({expr})"

    def latest_per_group(self, group: str, latest: str, columns: str, source: str) -> str:
        return (f"select distinct on ({group}) {columns}, {latest} as {latest.split('.')[-1]} from {source} "
                f"order by {group}, {latest} desc")


SQLITE, POSTGRES = Dialect(), PostgresDialect()


def dialect_of(conn: Any) -> Dialect:
    """The dialect of a connection the storage code was handed (sqlite3's has none: SQLite)."""
    return getattr(conn, "dialect", SQLITE)


# -- the SQL text rewrite ---------------------------------------------------------------------------

_TOKEN = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|\?\d+|\?|%|[^'"?%]+""", re.S)


def _placeholders(sql: str) -> tuple[str, bool]:
    """`?` → `%s` and `?N` → `%(pN)s` outside literals; (new sql, uses numbered placeholders)."""
    out, numbered = [], False
    for tok in _TOKEN.findall(sql):
        if tok == "?":
            out.append("%s")
        elif tok.startswith("?"):
            numbered = True
            out.append(f"%(p{tok[1:]})s")
        elif tok == "%":
            out.append("%%")
        elif tok.startswith("'"):
            out.append(tok.replace("%", "%%"))  # psycopg reads `%` everywhere, literals included
        else:
            out.append(tok)
    return "".join(out), numbered


def _outside_literals(sql: str, fn: Any) -> str:
    """Apply `fn` to the parts of `sql` that are not string literals or quoted names."""
    parts = re.split(r"""('(?:[^']|'')*'|"(?:[^"]|"")*")""", sql)
    return "".join(p if i % 2 else fn(p) for i, p in enumerate(parts))


def _matching_paren(sql: str, open_at: int) -> int:
    """Index of the `)` closing the `(` at `open_at` (literals skipped)."""
    depth, i, quote = 0, open_at, None
    while i < len(sql):
        c = sql[i]
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unbalanced parentheses in {sql!r}")


def _balanced(expr: str) -> bool:
    depth = 0
    for c in expr:
        depth += c == "("
        depth -= c == ")"
        if depth < 0:
            return False
    return depth == 0


def _top_level_comma(inner: str) -> bool:
    depth, quote = 0, None
    for c in inner:
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            return True
    return False


_CALL = re.compile(r"\b(cast|min|max|coalesce)\s*\(", re.I)
_BOOLEAN = re.compile(r"(=|<|>|\bis\b|\bin\s*\(|\bnot\b|\bor\b|\band\b)", re.I)


def _calls(sql: str) -> str:
    """cast(x as integer) → trunc(x)::bigint; two-argument min/max → least/greatest (nested too)."""
    pos = 0
    while (m := _CALL.search(sql, pos)) is not None:
        if sql[:m.start()].count("'") % 2:  # inside a string literal
            pos = m.end()
            continue
        open_at = m.end() - 1
        close = _matching_paren(sql, open_at)
        inner = sql[open_at + 1:close]
        name = m.group(1).lower()
        if name == "cast":
            cast = re.match(r"(?s)(.*)\s+as\s+integer\s*$", inner, re.I)
            if cast:
                sql = f"{sql[:m.start()]}trunc(({cast.group(1)})::double precision)::bigint{sql[close + 1:]}"
                pos = m.start() + len("trunc((")
                continue
        elif name == "coalesce":
            counted = re.match(r"(?s)\s*sum\s*\((.*)\)\s*,\s*0\s*$", inner)
            if counted and _BOOLEAN.search(counted.group(1)) and _balanced(counted.group(1)):
                # coalesce(sum(<condition>), 0): the number of rows where it holds. PostgreSQL counts
                # them natively (a FILTER); summing booleans needs the slower SQL aggregate.
                sql = f"{sql[:m.start()]}count(*) filter (where {counted.group(1)}){sql[close + 1:]}"
                pos = m.start() + len("count(*) filter (where ")
                continue
        elif _top_level_comma(inner):
            word = "least" if name == "min" else "greatest"
            sql = f"{sql[:m.start()]}{word}({inner}){sql[close + 1:]}"
            pos = m.start() + len(word) + 1
            continue
        pos = m.end()
    return sql


_FROM_SUBQUERY = re.compile(r"\b(from|join)\s*\(\s*select\b", re.I)
_NOT_ALIAS = {"where", "group", "order", "limit", "join", "left", "right", "inner", "cross", "union", "on", "having",
              "offset", "natural", "full", "except", "intersect", "window"}


def _subquery_aliases(sql: str) -> str:
    """`from (select …)` without a name gets one (PostgreSQL before 16 requires it; SQLite does not)."""
    pos, n = 0, 0
    while (m := _FROM_SUBQUERY.search(sql, pos)) is not None:
        open_at = sql.index("(", m.start())
        close = _matching_paren(sql, open_at)
        after = re.match(r"\s*([A-Za-z_]\w*)?", sql[close + 1:])
        word = (after.group(1) or "").lower() if after else ""
        if not word or word in _NOT_ALIAS:
            n += 1
            sql = f"{sql[:close + 1]} as ces_sub{n}{sql[close + 1:]}"
        pos = open_at + 1
    return sql


def _words(part: str) -> str:
    part = re.sub(r"\bcross\s+join\s+(\w+(?:\s+\w+)?)\s+on\b", r"join \1 on", part, flags=re.I)
    part = re.sub(r"\bis\s+not\s+(?=\?)", "is distinct from ", part, flags=re.I)
    part = re.sub(r"\bis\s+(?=\?)", "is not distinct from ", part, flags=re.I)
    part = re.sub(r"\bas\s+real\b", "as double precision", part, flags=re.I)
    part = re.sub(r"\bwhere\s+1(?=\s+(order|group|limit)\b|\s*$)", "where true", part, flags=re.I)
    part = re.sub(r"\band\s+\(1\)", "and (true)", part, flags=re.I)
    part = re.sub(r"\bnot\s+indexed\b", "", part, flags=re.I)
    part = re.sub(r"\blimit\s+-1\b", "", part, flags=re.I)
    part = re.sub(r"\btemp\.", "pg_temp.", part, flags=re.I)
    return part


_INSERT_IGNORE = re.compile(r"^\s*insert\s+or\s+ignore\s+into\b", re.I)


def _qualify_upsert(sql: str) -> str:
    """In `on conflict … do update set a = f(a, excluded.a)`, the stored row's `a` becomes `t.a`:
    PostgreSQL finds a bare column there ambiguous between the stored and the proposed row."""
    table = re.match(r"\s*insert\s+into\s+(\w+)", sql, re.I)
    upsert = re.search(r"\bdo\s+update\s+set\s+", sql, re.I)
    if not table or not upsert:
        return sql
    head, tail = sql[:upsert.end()], sql[upsert.end():]
    names = set(re.findall(r"(?:^|,)\s*(\w+)\s*=(?!=)", tail))
    for name in names:
        tail = re.sub(rf"(?<![.\w]){name}\b(?!\s*=(?!=))", f"{table.group(1)}.{name}", tail)
    return head + tail


_ISO = re.compile(r"strftime\('%Y-%m-%dT%H:%M:%fZ', ([\w.]+), 'unixepoch'\)", re.I)


@lru_cache(maxsize=4096)
def to_postgres(sql: str) -> tuple[str, bool]:
    """The PostgreSQL spelling of one SQLite statement; (sql, uses numbered placeholders).

    Cached: the product runs a few hundred distinct statements, each rewritten once per process.
    """
    sql = _ISO.sub(r"""to_char(to_timestamp(\1) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')""", sql)
    ignore = bool(_INSERT_IGNORE.match(sql))
    if ignore:
        sql = _INSERT_IGNORE.sub("insert into", sql, count=1)
    sql = _subquery_aliases(_calls(_outside_literals(sql, _words)))
    if ignore:
        sql = sql.rstrip().rstrip(";") + " on conflict do nothing"
    sql = _qualify_upsert(sql)
    return _placeholders(sql)


def postgres_params(numbered: bool, params: Sequence[Any] | None) -> Any:
    """The parameters as psycopg wants them for a statement from `to_postgres()`."""
    if params is None:
        return ()
    if numbered:
        return {f"p{i}": v for i, v in enumerate(params, start=1)}
    return tuple(params) if not isinstance(params, (tuple, dict)) else params


# -- SQLite functions the queries use, defined in PostgreSQL ------------------------------------------
# JSON is stored as text in both engines (the columns are TEXT). JSON paths are SQLite's `$.a.b`.
# json_extract returns text in PostgreSQL (a function has one return type): queries that compare
# a JSON value with a number compare `cast(json_extract(…) as integer)` or use json_type first.

COMPAT_FUNCTIONS = r"""
create or replace function ces_json_path(path text) returns text[] language sql immutable as $$
  select case when path = '$' then '{}'::text[]
              else string_to_array(regexp_replace(path, '^\$\.?', ''), '.') end $$;

create or replace function json_valid(doc text) returns boolean language plpgsql immutable as $$
begin
  if doc is null then return null; end if;
  perform doc::jsonb;
  return true;
exception when others then
  return false;
end $$;

create or replace function ces_jsonb(doc text) returns jsonb language plpgsql immutable as $$
begin
  return doc::jsonb;
exception when others then
  return null;
end $$;

create or replace function ces_sqlite_type(v jsonb) returns text language sql immutable as $$
  select case jsonb_typeof(v)
    when 'string' then 'text' when 'null' then 'null' when 'object' then 'object' when 'array' then 'array'
    when 'boolean' then (case when v = 'true'::jsonb then 'true' else 'false' end)
    when 'number' then (case when (v #>> '{}') ~ '^-?[0-9]+$' then 'integer' else 'real' end)
  end $$;

create or replace function json_type(doc text, path text) returns text language sql immutable as $$
  select ces_sqlite_type(ces_jsonb(doc) #> ces_json_path(path)) $$;

create or replace function json_extract(doc text, path text) returns text language sql immutable as $$
  select case when jsonb_typeof(ces_jsonb(doc) #> ces_json_path(path)) = 'boolean'
              then (case when (ces_jsonb(doc) #> ces_json_path(path)) = 'true'::jsonb then '1' else '0' end)
              else ces_jsonb(doc) #>> ces_json_path(path) end $$;

create or replace function json_each(doc text) returns table (key text, value text, type text)
language sql immutable as $$
  select e.key, case when jsonb_typeof(e.value) = 'boolean' then (case when e.value = 'true'::jsonb then '1' else '0' end)
                     else e.value #>> '{}' end, ces_sqlite_type(e.value)
  from jsonb_each(case when jsonb_typeof(ces_jsonb(doc)) = 'object' then ces_jsonb(doc) else '{}'::jsonb end) e
  union all
  select (a.n - 1)::text, a.v #>> '{}', ces_sqlite_type(a.v)
  from jsonb_array_elements(case when jsonb_typeof(ces_jsonb(doc)) = 'array' then ces_jsonb(doc) else '[]'::jsonb end)
       with ordinality a(v, n) $$;

create or replace function ces_num(v text) returns double precision language plpgsql immutable as $$
begin
  return v::double precision;
exception when others then
  return null;
end $$;

create or replace function instr(haystack text, needle text) returns integer language sql immutable as $$
  select strpos(haystack, needle) $$;

create or replace function ces_count_true(state bigint, v boolean) returns bigint language sql immutable as $$
  select case when v is null then state else coalesce(state, 0) + v::int end $$;

do $$ begin
  if not exists (select 1 from pg_aggregate a join pg_proc p on p.oid = a.aggfnoid
                 where p.proname = 'sum' and p.proargtypes = '16'::oidvector) then
    create aggregate sum(boolean) (sfunc = ces_count_true, stype = bigint);
  end if;
end $$;
"""
