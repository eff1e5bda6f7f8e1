"""The `newswatch trends` and `newswatch export` commands (registered by newswatch/cli.py); shells over
warehouse.trends and warehouse.export."""

from __future__ import annotations

from datetime import datetime

import click

from newswatch.errors import UserError

DB_HELP = "DuckDB file (default: $NEWSWATCH_DB or ./newswatch.duckdb)."

# Set when `trends` (table/csv/json) has closed its connection and written all its output, and no at-exit work
# of this code base is pending: newswatch.cli.console may then end the process without finalisation (a ~10%
# faster command). Connections are closed, so a schema or trend refresh connect_reader made is on disk already.
_finished: list[bool] = []


def finished_reading() -> bool:
    return bool(_finished)


def forget_finished() -> None:
    _finished.clear()


def _db(db: str | None) -> str:
    from warehouse.db import default_db_path

    return db or default_db_path()


@click.command()
@click.option("--db", type=click.Path(dir_okay=False), help=DB_HELP)
@click.option("--watch", help="Only this watch (default: every watch in the warehouse).")
@click.option("--entity", help="The series of one canonical entity (entity_mentions.entity) instead of the whole watch.")
@click.option("--by", type=click.Choice(["day", "week"]), default="day", show_default=True, help="Period.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day (YYYY-MM-DD, UTC).")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day (default: the last with coverage).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "png"]), default="table",
              show_default=True,
              help="table: a bar chart in the terminal; csv/json: one row per period (attention's columns plus "
                   "is_spike); png: a chart (needs --out).")
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file instead of stdout (required for png).")
def trends(db: str | None, watch: str | None, entity: str | None, by: str, since: datetime | None,
           until: datetime | None, fmt: str, out: str | None) -> None:
    """Attention over time: stories per day or week (syndicated copies once), with spikes marked.

    Reads the live database, or its read copy while a run holds the live one (see docs/trends.md).
    """
    from warehouse import trends as tr
    from warehouse.db import connect_reader

    if fmt == "png" and not out:
        raise UserError("--format png needs --out FILE.png")
    con = connect_reader(_db(db))
    try:
        watches = tr.resolve_watches(con, watch)
        if entity is not None and len(watches) > 1:
            raise UserError(f"--entity needs --watch (the warehouse has {len(watches)} watches: "
                            f"{', '.join(watches)})")
        all_series = tr.series_of(con, watches, entity=entity, by=by, since=since.date() if since else None,
                                  until=until.date() if until else None)
    finally:
        con.close()
    if fmt == "png":
        assert out is not None
        path = tr.write_atomically(out, lambda p: tr.render_png(all_series, p))
        click.echo(f"chart written to {path}")
    else:
        text = {"table": tr.render_table, "csv": tr.render_csv, "json": tr.render_json}[fmt](all_series)
        if out:
            path = tr.write_atomically(out, text)
            click.echo(f"{fmt} written to {path}")
        else:
            click.echo(text, nl=False)
    from warehouse.db import exit_work_pending

    # not after png: matplotlib registers at-exit work of its own (the temporary config folder it makes when
    # MPLCONFIGDIR cannot be written), and its import dwarfs what an early exit saves
    if fmt != "png" and not exit_work_pending():   # e.g. DuckLake's extension links folder
        _finished.append(True)


@click.command()
@click.option("--db", type=click.Path(dir_okay=False), help=DB_HELP)
@click.option("--format", "fmt", type=click.Choice(["parquet"]), default="parquet", show_default=True,
              help="Output format.")
@click.argument("dest", type=click.Path(file_okay=False))
def export(db: str | None, fmt: str, dest: str) -> None:
    """Export every public view and core table to DEST/<name>/ (Parquet, by month where there is a date).

    DEST is replaced whole when the export is complete; a killed export leaves the previous one intact.
    """
    from warehouse.db import connect_reader
    from warehouse.export import export_parquet

    con = connect_reader(_db(db))
    try:
        done = export_parquet(con, dest)
    finally:
        con.close()
    rows = sum(t.rows for t in done)
    click.echo(f"exported {len(done)} views and tables ({rows} rows) to {dest}")
