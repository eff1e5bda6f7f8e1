"""The `newswatch` command: a thin shell over flows.pipeline and the warehouse. Nothing imports it.

Mistakes a user can make (missing file, bad config, unknown watch, locked database, bad SQL, a folder that
cannot be written) print one line on stderr and exit non-zero; they never print a traceback. A run's status
decides its exit code (docs/cli.md): succeeded and partial 0 (partial warns on stderr), failed 1, interrupted
128 + the signal.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import click

from newswatch.errors import NewswatchError, OutputError, UserError, describe_os_error

DB_HELP = "DuckDB file (default: $NEWSWATCH_DB or ./newswatch.duckdb)."
CONFIG_HELP = "Config file (TOML). Default: $NEWSWATCH_CONFIG, else the bundled demo watch."


def _db(db: str | None) -> str:
    from warehouse.db import default_db_path

    return db or default_db_path()


def _db_exists(db_path: str) -> bool:
    from warehouse.db import exists  # a file, or (DuckLake on PostgreSQL) a catalog with the schema

    return exists(db_path)


def _config(path: str | None):
    from flows.pipeline import validate_config
    from newswatch.config import load_config

    config = load_config(path)
    validate_config(config)
    if config.warehouse is not None:  # the config's backend, for this process and the ones it starts
        from warehouse.db import use_backend

        use_backend(config.warehouse.backend, config.warehouse.catalog, config.warehouse.data_path)
    return config


# Exit codes of a finished run by status (docs/cli.md); errors carry their own (newswatch/errors.py).
EXIT_FAILED = 1


def _interrupted_line(signum: int, run_id: str | None) -> str:
    import signal

    name = signal.Signals(signum).name
    if run_id:
        return (f"newswatch: interrupted by {name}: run {run_id} recorded as interrupted; "
                "stored batches are kept and the next run fetches the rest")
    return f"newswatch: interrupted by {name} before the run started; nothing was written"


class _Group(click.Group):
    """Turns expected errors into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewswatchError as e:
            click.echo(f"newswatch: error: {e}", err=True)
            sys.exit(e.exit_code)
        except KeyboardInterrupt as e:
            from flows.pipeline import hard_exit, interrupted_by

            signum = getattr(e, "signum", None) or interrupted_by() or 2
            click.echo(_interrupted_line(signum, getattr(e, "run_id", None)), err=True)
            # no waiting for fetch threads still finishing a chunk, and no child process left behind
            hard_exit(128 + signum)
        except BrokenPipeError:  # `newswatch sql ... | head`: the reader went away, nothing to say
            os._exit(EXIT_FAILED)
        except OSError as e:  # a file the command had to write (classified errors are raised above)
            click.echo(f"newswatch: error: cannot write {describe_os_error(e)}", err=True)
            sys.exit(EXIT_FAILED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newswatch")
@click.option("-v", "--verbose", is_flag=True, help="Log each stage's progress on stderr.")
def main(verbose: bool) -> None:
    """newswatch: follow a story across the news. Polls feeds, fetches and extracts articles, groups
    syndicated copies and stories, extracts facts, loads DuckDB and writes or sends a digest."""
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("newswatch: %(message)s"))
        for name in ("flows", "newswatch"):
            logger = logging.getLogger(name)
            logger.setLevel(logging.INFO)
            logger.addHandler(handler)


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--db", type=click.Path(dir_okay=False), help=DB_HELP)
@click.option("--watch", "watches", multiple=True, help="Only this watch (repeatable). Default: every watch.")
@click.option("--no-digest", is_flag=True, help="Do not write or send the digest at the end of the run.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Digest folder (default: config digest_dir).")
@click.option("--force", is_flag=True, help="Poll every enabled feed now, even those whose poll interval has not passed.")
@click.option("--batch-size", type=click.IntRange(1),
              help="Pages per batch: fetched, extracted and stored whole (an interrupted run keeps stored batches). "
              "Default: [run] batch_size.")
def run(config_path: str | None, db: str | None, watches: Sequence[str], no_digest: bool, out_dir: str | None,
        force: bool, batch_size: int | None) -> None:
    """One monitoring run of every watch in the config (the bundled demo watch by default)."""
    from flows import cluster
    from flows.pipeline import demo_feeds, interruptible, run_monitor

    with interruptible(on_grace=lambda n: _interrupted_line(n, None)):
        config = _config(config_path)
        db_path = _db(db)
        with demo_feeds(config) as extra, ExitStack() as stack:
            for url in extra:
                click.echo(f"demo: serving the seed feed at {url}")
            report = None
            try:  # runner = "dask": extraction and facts on the cluster; this process writes
                stages, _ = stack.enter_context(cluster.dask_stages(config))
            except cluster.DaskUnavailable as e:  # before anything is polled or written
                names = [config.watch(n).name for n in watches] if watches else [w.name for w in config.watches]
                report = cluster.record_failed_run(db_path, names, str(e))
            if report is None:
                report = run_monitor(config, db_path, watch_names=watches or None, extra_feeds=extra,
                                     digest=not no_digest, out_dir=out_dir, force=force, batch_size=batch_size,
                                     stages=stages)
    _finish(report)


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Config file; --watch must name one of its watches. Without it, nothing is filtered out.")
@click.option("--db", type=click.Path(dir_okay=False), help=DB_HELP)
@click.option("--watch", "watch_name", help="Watch to file the articles under (default: the config's first, or 'default').")
@click.option("--digest/--no-digest", default=False, help="Write/send the watch's digest afterwards.")
@click.option("--batch-size", type=click.IntRange(1),
              help="Articles per writer window (each batch is stored whole or not at all). Default: [run] "
              "batch_size.")
@click.argument("sources", nargs=-1, required=True)
def ingest(config_path: str | None, db: str | None, watch_name: str | None, digest: bool,
           batch_size: int | None, sources: Sequence[str]) -> None:
    """Ingest local files or folders (.txt, .html, feed files .xml/.rss/.atom/.json) or feed URLs.

    A .txt file's first non-empty line is its title. Links inside feed files are fetched under the same
    safety rules as any other link.
    """
    from flows.pipeline import ingest_sources, interruptible
    from newswatch.config import Config

    with interruptible(on_grace=lambda n: _interrupted_line(n, None)):
        if config_path or os.environ.get("NEWSWATCH_CONFIG"):
            config = _config(config_path)
            watch = config.watch(watch_name) if watch_name else config.watches[0]
        else:
            watch = _adhoc_watch(watch_name or "default")
            config = Config(watches=[watch])
        report = ingest_sources(config, _db(db), watch, sources, digest=digest, batch_size=batch_size)
    _finish(report)
    if not (config_path or os.environ.get("NEWSWATCH_CONFIG")) and not digest:
        click.echo(f"  filed under watch {watch.name!r}; its digest: newswatch digest --watch {watch.name}"
                   + ("" if _db(db) == "newswatch.duckdb" else f" --db {_db(db)}"))


def _adhoc_watch(name: str):
    """The watch of articles ingested without a config: no query, no recipients (digests go to files)."""
    from newswatch.config import WatchConfig

    return WatchConfig(name=name, description="ad-hoc ingest", query="")


def _finish(report: Any) -> None:
    """Print the run summary and exit by its status: a failure must be visible to cron and Prefect."""
    _print_summary(report)
    if report.status == "partial":
        click.echo(f"newswatch: warning: run {report.run_id} partial: {report.error}", err=True)
    elif report.status == "failed":
        click.echo(f"newswatch: error: run {report.run_id} failed: {report.error}", err=True)
        sys.exit(EXIT_FAILED)


class _SqlCommand(click.Command):
    """`newswatch sql "$(cat warehouse/examples/x.sql)"`: a query that starts with a '-- title' comment is the
    QUERY, not an unknown option."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[-1].startswith("--") and any(c.isspace() for c in args[-1]) and "--" not in args[:-1]:
            args = [*args[:-1], "--", args[-1]]
        return super().parse_args(ctx, args)


@main.command(cls=_SqlCommand)
@click.option("--db", type=click.Path(dir_okay=False), help=DB_HELP)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="table: aligned text (long cells cut); csv; json: an array of objects, one per row.")
@click.option("--max-width", default=60, show_default=True, help="Cut table cells longer than this (0: never).")
@click.option("--file", "query_file", type=click.Path(dir_okay=False, allow_dash=True),
              help="Read the query from FILE ('-': standard input), e.g. warehouse/examples/*.sql.")
@click.argument("query", required=False)
def sql(db: str | None, fmt: str, max_width: int, query_file: str | None, query: str | None) -> None:
    """Run a SQL query against the warehouse (read-only) and print the result.

    QUERY is the SQL text, or '-' to read it from standard input; --file FILE reads it from a file. A query
    file's leading '-- title' comment is printed as a heading (table format).
    """
    import duckdb

    from warehouse.db import connect_reader

    if query_file is not None and query is not None:
        raise UserError("give the query either as QUERY or with --file, not both")
    if query_file is None and query is None:
        raise UserError("no query: give QUERY, --file FILE, or '-' to read standard input")
    source = query_file if query_file is not None else (query if query == "-" else None)
    if source is not None:
        query = _read_query(source)
    assert query is not None
    title = _query_title(query)
    if not query.strip() or not _strip_comments(query).strip():
        raise UserError(f"{source or 'the query'} holds no SQL statement")
    con = connect_reader(_db(db))  # its read copy while a run holds the file (docs/trends.md)
    try:
        try:
            cur = con.execute(query)
            if cur.description is None:
                return
            cols = [d[0] for d in cur.description]
            rows = cur.fetchall()
        except duckdb.Error as e:
            raise UserError(f"SQL error: {str(e).splitlines()[0]}") from None
    finally:
        con.close()
    if title and fmt == "table":
        click.echo(f"{title}\n{'=' * min(len(title), 100)}")
    click.echo(format_rows(cols, rows, fmt, max_width), nl=False)


def _read_query(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        with open(source, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        raise UserError(f"{source}: no such query file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{source}: cannot read the query file: {getattr(e, 'strerror', None) or e}") from None


def _query_title(query: str) -> str | None:
    """The leading '-- ...' comment lines of a query file, joined: the examples' title convention."""
    lines: list[str] = []
    for ln in query.lstrip().splitlines():
        if not ln.startswith("--"):
            break
        lines.append(ln[2:].strip())
    return " ".join(x for x in lines if x) or None


def _strip_comments(query: str) -> str:
    return "\n".join(ln for ln in query.splitlines() if not ln.strip().startswith("--"))


def _jsonable(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return v


def format_rows(cols: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, max_width: int = 60) -> str:
    if fmt == "json":
        return json.dumps([{c: _jsonable(v) for c, v in zip(cols, r, strict=True)} for r in rows],
                          ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if v is None else _jsonable(v) for v in r])
        return buf.getvalue()

    def cell(v: Any) -> str:
        s = "NULL" if v is None else str(_jsonable(v))
        s = s.replace("\n", " ")
        return s if not max_width or len(s) <= max_width else s[: max_width - 1] + "…"

    table = [[cell(v) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in table]) for i, c in enumerate(cols)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip(),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in table]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--db", type=click.Path(dir_okay=False), help=DB_HELP)
@click.option("--watch", "watches", multiple=True, help="Only this watch (repeatable).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Digest folder (default: config digest_dir).")
def digest(config_path: str | None, db: str | None, watches: Sequence[str], out_dir: str | None) -> None:
    """Write (or send, when SMTP is configured) each watch's digest of what is new since the last one."""
    from flows.pipeline import not_delivered, run_digests, run_lock

    config = _config(config_path)
    db_path = _db(db)
    if not _db_exists(db_path):
        raise UserError(f"database {db_path} does not exist; run `newswatch run` or `newswatch ingest` first")
    config = _with_ingested_watches(config, db_path, watches)
    names = [config.watch(w).name for w in watches] if watches else [w.name for w in config.watches]
    with run_lock(db_path, watches=names):  # never two deliveries at once (the outbox's crash window relies on it)
        outcomes = run_digests(config, db_path, names, out_dir=out_dir)
    for d in outcomes:
        _print_digest(d)
    failed = not_delivered(outcomes)
    if failed:  # a digest that was not delivered is a failure cron and Prefect must see (the files stay written)
        click.echo(f"newswatch: error: {failed}", err=True)
        sys.exit(EXIT_FAILED)


def _with_ingested_watches(config: Any, db_path: str, wanted: Sequence[str]) -> Any:
    """Watches named with --watch that the config lacks but the warehouse holds articles for (`newswatch ingest`
    without a config files them under 'default'): digest them as ad-hoc watches (no query, no recipients, so
    the digest is written to files) instead of refusing."""
    from warehouse.db import connect

    known = {w.name for w in config.watches}
    missing = [w for w in wanted if w not in known]
    if not missing:
        return config
    con = connect(db_path, read_only=True)
    try:
        present = {r[0] for r in con.execute(
            "SELECT DISTINCT watch FROM core.watch_articles WHERE watch IN (SELECT unnest(?::VARCHAR[]))", [missing]
        ).fetchall()}
        stored = [r[0] for r in con.execute("SELECT DISTINCT watch FROM core.watch_articles ORDER BY 1").fetchall()]
    finally:
        con.close()
    for w in missing:
        if w not in present:
            from newswatch.errors import UnknownWatchError

            raise UnknownWatchError(
                f"no watch named {w!r}: the config has {', '.join(sorted(known))}"
                + (f"; the database has articles for {', '.join(stored)}" if stored else "")
            )
    return config.model_copy(update={"watches": [*config.watches, *(_adhoc_watch(w) for w in missing)]})


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--db", type=click.Path(dir_okay=False), help=DB_HELP)
def reprocess(config_path: str | None, db: str | None) -> None:
    """Recompute facts and syndication/story groups made by an older version, and judge every stored article
    each watch of the config can see that it has not matched yet (a watch added later, a changed query).
    Every run also does both (the second only for watches whose query, languages or feeds changed)."""
    from flows.pipeline import feeds_of, judge_stored, link_across_articles, reprocess_stale, run_lock

    config = _config(config_path)
    db_path = _db(db)
    if not _db_exists(db_path):
        raise UserError(f"database {db_path} does not exist; run `newswatch run` or `newswatch ingest` first")
    with run_lock(db_path, watches=[w.name for w in config.watches]):
        judged, _ = judge_stored(db_path, "reprocess", list(config.watches), feeds_of(config.watches), everything=True)
        c = reprocess_stale(db_path, config)
        link_across_articles(db_path)
    click.echo(f"recomputed facts for {c['facts_recomputed']} article(s), groups for {c['groups_recomputed']}")
    for w in config.watches:
        click.echo(f"watch {w.name}: judged {judged[('judged_stored', w.name)]} stored article(s) it had not "
                   f"matched, {judged[('matched', w.name)]} now match")


@main.command()
@click.option("--db", type=click.Path(dir_okay=False), help=DB_HELP)
@click.argument("dest", type=click.Path(dir_okay=False))
def snapshot(db: str | None, dest: str) -> None:
    """Write a consistent copy of the database for long analyses while runs continue.

    The copy is written under a temporary name and renamed into place when complete.
    """
    import duckdb

    from warehouse.db import snapshot as take_snapshot

    src = _db(db)
    try:
        path = take_snapshot(src, dest)
    except OSError as e:
        raise OutputError(f"cannot write the snapshot: {describe_os_error(e)}") from None
    except duckdb.Error as e:  # the temporary copy cannot be created in DEST's folder
        raise OutputError(f"cannot write the snapshot {dest}: {str(e).splitlines()[0]}") from None
    click.echo(f"snapshot written to {path}")


@main.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("check")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
def config_check(config_path: str | None) -> None:
    """Validate the config and print it resolved, secrets masked."""
    from newswatch.config import masked

    cfg = _config(config_path)
    click.echo(json.dumps(masked(cfg), indent=2))


def _print_digest(d: Any) -> None:
    status = getattr(d, "status", "?")
    if status == "empty":
        click.echo(f"digest {d.watch}: nothing new since the last digest")
        return
    if status == "waiting":  # the watch's digest rules say not now (frequency, quiet hours)
        click.echo(f"digest {d.watch}: waiting, {d.detail}")
        return
    paths = [p for p in (getattr(d, "eml_path", None), getattr(d, "html_path", None)) if p]
    where = f": {' and '.join(paths)}" if paths else ""
    detail = f" ({d.detail})" if getattr(d, "detail", "") and (not paths or status == "failed") else ""
    click.echo(f"digest {d.watch}: {d.items} item(s) {status}{where}{detail}")


def _print_summary(report: Any) -> None:
    from warehouse.db import connect

    c = report.counts
    click.echo(f"run {report.run_id}: {report.status}")
    click.echo(
        f"  feeds polled {c['feeds_polled']} (not modified {c['feeds_not_modified']}, failed {c['feeds_failed']}), "
        f"entries {c['entries_seen']}, pages fetched {c['pages_fetched']}"
        + (f", pages failed {c['pages_failed']}" if c["pages_failed"] else "")
    )
    for url, why in getattr(report, "feed_failures", ()):
        click.echo(f"  feed failed: {url}: {why}")
    for url, when in getattr(report, "not_due", ()):
        click.echo(f"  feed not due: {url}: next poll "
                   + (f"{when.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if when else "now") + " (--force polls it now)")
    if getattr(report, "nothing_ingested", None):
        click.echo(f"  nothing could be ingested: {report.nothing_ingested}")
    click.echo(
        f"  articles new {c['articles_new']}, revised {c['articles_revised']}, unchanged {c['articles_unchanged']}; "
        f"skipped {sum(report.skips.values())}"
        + (" (" + ", ".join(f"{s}/{r}: {n}" for (s, r), n in sorted(report.skips.items())) + ")" if report.skips else "")
    )
    wc = getattr(report, "watch_counts", {})
    for w in dict.fromkeys(w for w, _ in sorted(wc)):
        # per watch: one page can be on topic for one watch and off topic for another
        click.echo(f"  watch {w}: matched {wc.get((w, 'matched'), 0)}, off topic {wc.get((w, 'off_topic'), 0)}"
                   + (f", other language {wc[(w, 'language')]}" if wc.get((w, "language")) else "")
                   + (f" (stored articles judged without a fetch: {wc[(w, 'judged_stored')]})"
                      if wc.get((w, "judged_stored")) else ""))
    con = connect(report.db_path, read_only=True)
    try:
        totals = con.execute(
            "SELECT count(*), count(DISTINCT syndication_id), count(DISTINCT story_id), "
            "count(*) - count(DISTINCT syndication_id) FROM articles"
        ).fetchone()
        facts = con.execute(
            "SELECT (SELECT count(*) FROM entity_mentions), (SELECT count(*) FROM figures), "
            "(SELECT count(*) FROM periods), (SELECT count(*) FROM quotes)"
        ).fetchone()
    finally:
        con.close()
    click.echo(
        f"  warehouse: {totals[0]} articles = {totals[1]} distinct texts ({totals[3]} syndicated "
        f"cop{'y' if totals[3] == 1 else 'ies'} grouped) in {totals[2]} stories"
    )
    click.echo(
        f"  facts: {facts[0]} entity mentions, {facts[1]} figures, {facts[2]} periods, {facts[3]} quotes"
    )
    click.echo(f"  database: {os.path.abspath(report.db_path)}")
    for d in report.digests:
        _print_digest(d)
    db_arg = "" if os.path.abspath(report.db_path) == os.path.abspath("newswatch.duckdb") else f" --db {report.db_path}"
    prog = sys.argv[0] if os.path.basename(sys.argv[0]) == "newswatch" and os.sep in sys.argv[0] else "newswatch"
    if os.path.isabs(prog) and prog.startswith(os.getcwd() + os.sep):
        prog = os.path.relpath(prog)
    click.echo(f'  try: {prog} sql{db_arg} "select source, title, syndication_id, story_id from articles"')


# ---- commands that live in their own modules (registered here; each module imports only click and stages) ----
# (this block is edited by the trends/feeds owners; keep one add_command line per command)
def _register_extra_commands() -> None:
    from newswatch.cli_feeds import feeds
    from newswatch.cli_trends import export, trends

    main.add_command(trends)
    main.add_command(export)
    main.add_command(feeds)


_register_extra_commands()


def console() -> None:
    """The `newswatch` script ([project.scripts]): main(), then, after a read-only command that finished and
    wrote everything, the process ends without Python's finalisation. Tearing down the ~400 modules a
    `newswatch trends` loads (DuckDB's among them) took 45-70 ms of its ~430 ms as a new process (measured in
    docs/benchmarks.md); it frees nothing the system does not free at exit. Any other command, a png chart, and
    any error exit normally (at-exit handlers, such as publishing a run's read copy, must run)."""
    from newswatch import cli_trends

    cli_trends.forget_finished()   # a trends call made in this process before (a test's CliRunner) does not count
    try:
        main()
    except SystemExit as e:
        if e.code in (None, 0) and cli_trends.finished_reading():
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except BrokenPipeError:   # `newswatch trends | head`: nothing more to say
                os._exit(EXIT_FAILED)
            logging.shutdown()
            os._exit(0)
        raise


if __name__ == "__main__":
    console()
