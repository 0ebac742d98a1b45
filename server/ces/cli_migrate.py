"""`ces migrate-data`: move an installation from its SQLite file to PostgreSQL."""
from __future__ import annotations

import click

from .storage import Storage


@click.command("migrate-data")
@click.option("--from", "source", required=True, help="The SQLite database file to copy (e.g. ces.db).")
@click.option("--to", "target", required=True, help="The PostgreSQL database: postgresql://user@host/db (empty).")
def migrate_data(source: str, target: str) -> None:
    """Copy every row of a SQLite installation into an empty PostgreSQL database, then compare
    every table's row count. One transaction: on any failure the target stays empty.
    Stop the servers using the SQLite file first (rows written during the copy would be left behind)."""
    from .storage import migrate_data as md
    from .storage.engine_postgres import PostgresStorage
    src, dst = Storage(source), Storage(target)
    if isinstance(src, PostgresStorage) or not isinstance(dst, PostgresStorage):
        raise click.UsageError("--from is a SQLite file and --to a postgresql:// URL")
    try:
        src.migrate()  # an older file gets the columns the PostgreSQL schema has
        dst.migrate()
        total = md.totals(md.plan(src, dst))
        with click.progressbar(length=total, label="Copying rows", show_pos=True,
                               item_show_func=lambda t: t) as bar:
            counts = md.copy_all(src, dst, progress=lambda table, n: bar.update(n, table))
    except (md.TargetNotEmpty, ValueError) as err:
        raise click.ClickException(str(err)) from None
    finally:
        src.shutdown()
        dst.shutdown()
    width = max(len(t) for t in counts)
    for table, (n_src, n_dst) in counts.items():
        click.echo(f"  {table:<{width}}  {n_src:>10}  {n_dst:>10}  {'ok' if n_src == n_dst else 'DIFFERENT'}")
    click.echo(f"Copied {sum(s for s, _ in counts.values())} rows; every table's count matches. "
               f"Serve with: CES_DATABASE={dst.describe()} ces serve")
