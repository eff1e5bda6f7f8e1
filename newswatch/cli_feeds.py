"""`newswatch feeds`: list, enable, disable, check, import (OPML) and export (OPML). A thin shell over
warehouse/feeds.py and extractors/opml.py; registered from newswatch/cli.py's extra-commands block.

Mistakes (a URL in no watch, a file that is not OPML, an unknown watch) raise UserError subclasses, which
newswatch/cli.py's group prints as one line with a non-zero exit; nothing is changed then.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from newswatch.errors import ConfigError, SourceError, UserError

DB_HELP = "DuckDB file (default: $NEWSWATCH_DB or ./newswatch.duckdb)."
CONFIG_HELP = "Config file (TOML). Default: $NEWSWATCH_CONFIG, else the bundled demo watch."
LIST_COLUMNS = ("watch", "feed_url", "health", "last_poll", "next_poll", "failures", "disabled_reason")
MORE_COLUMNS = ("title", "poll_interval_s", "interval_source", "last_status", "last_detail", "poll_url")


def _config(path: str | None) -> Any:
    from newswatch.config import load_config

    return load_config(path)


def _db(db: str | None) -> str:
    from warehouse.db import default_db_path

    return db or default_db_path()


def _db_exists(db_path: str) -> bool:
    from warehouse.db import exists  # a file, or (DuckLake on PostgreSQL) a catalog with the schema

    return exists(db_path)


def _when(d: datetime | None) -> str:
    return "" if d is None else d.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _duration(seconds: float) -> str:
    s = int(seconds)
    if s >= 86_400 and s % 86_400 == 0:
        return f"{s // 86_400} d"
    if s >= 3_600:
        return f"{s / 3_600:.1f} h".replace(".0 h", " h")
    if s >= 60:
        return f"{s // 60} min"
    return f"{s} s"


def _watches_of(config: Any, url: str) -> list[str]:
    return [w.name for w in config.watches if url in w.feeds]


def _configured_key(config: Any, db_path: str, url: str) -> str:
    """The configured feed URL meant by url (itself, or the feed a permanent redirect moved to url).
    UserError when it is in no watch of the config: nothing is changed."""
    if _watches_of(config, url):
        return url
    if _db_exists(db_path):
        from warehouse.db import connect
        from warehouse.feeds import get_feed_states

        configured = [u for w in config.watches for u in w.feeds]
        con = connect(db_path, read_only=True)
        try:
            states = get_feed_states(con, configured)
        finally:
            con.close()
        for key, st in states.items():
            if st.redirected_to == url:
                return key
    names = ", ".join(w.name for w in config.watches)
    raise UserError(f"feed {url} is in no watch of the config (watches: {names}); nothing changed")


@click.group()
def feeds() -> None:
    """Feeds of the configured watches: health, enable/disable, a test poll, OPML import and export."""


@feeds.command("list")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--db", type=click.Path(dir_okay=False), help=DB_HELP)
@click.option("--watch", "watches", multiple=True, help="Only this watch (repeatable). Default: every watch.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="table: the main columns; csv and json add title, interval, last status and detail.")
def list_cmd(config_path: str | None, db: str | None, watches: Sequence[str], fmt: str) -> None:
    """Every feed of the watches with its health, last and next poll, failures and why it is disabled.

    health: ok, quiet (no new entry for 30 days), failing, never_ok, disabled, never_polled.
    """
    from newswatch.cli import format_rows
    from warehouse.db import connect
    from warehouse.feeds import list_feeds

    config = _config(config_path)
    chosen = [config.watch(w) for w in watches] if watches else list(config.watches)
    pairs = [(w.name, u) for w in chosen for u in w.feeds]
    db_path = _db(db)
    con = connect(db_path, read_only=True) if _db_exists(db_path) else None
    try:
        listing = list_feeds(con, pairs)
    finally:
        if con is not None:
            con.close()
    cols = LIST_COLUMNS if fmt == "table" else LIST_COLUMNS + MORE_COLUMNS
    rows = []
    for f in listing:
        if fmt == "table":
            nxt = "next run" if f.health == "never_polled" else ("" if f.health == "disabled" else _when(f.next_poll))
            rows.append([f.watch, f.feed_url, f.health, _when(f.last_poll), nxt, f.failures, f.disabled_reason or ""])
        else:
            rows.append([f.watch, f.feed_url, f.health, f.last_poll, f.next_poll, f.failures, f.disabled_reason,
                         f.title, f.poll_interval_s, f.interval_source, f.last_status, f.last_detail, f.poll_url])
    click.echo(format_rows(cols, rows, fmt, max_width=70), nl=False)


@feeds.command("enable")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--db", type=click.Path(dir_okay=False), help=DB_HELP)
@click.argument("url")
def enable_cmd(config_path: str | None, db: str | None, url: str) -> None:
    """Enable a disabled feed again (after a 410, too many failures, or `feeds disable`): due on the next run."""
    from warehouse.db import session
    from warehouse.feeds import enable_feed, get_feed_states

    config = _config(config_path)
    db_path = _db(db)
    key = _configured_key(config, db_path, url)
    if not _db_exists(db_path):
        click.echo(f"feed {key} has never been polled; it is enabled (nothing changed)")
        return
    with session(db_path) as con:
        st = get_feed_states(con, [key]).get(key)
        if st is None or not st.disabled:
            click.echo(f"feed {key} is not disabled (nothing changed)")
            return
        enable_feed(con, key)
    click.echo(f"feed {key} enabled (was disabled: {st.disabled_reason}); it is polled on the next run")


@feeds.command("disable")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--db", type=click.Path(dir_okay=False), help=DB_HELP)
@click.option("--reason", default="", help="Why (recorded as the disabled reason).")
@click.argument("url")
def disable_cmd(config_path: str | None, db: str | None, reason: str, url: str) -> None:
    """Stop polling a feed until `newswatch feeds enable` (it stays in the config)."""
    from warehouse.db import session
    from warehouse.feeds import disable_feed, get_feed_states

    config = _config(config_path)
    db_path = _db(db)
    key = _configured_key(config, db_path, url)
    now = datetime.now(UTC)
    with session(db_path) as con:
        st = get_feed_states(con, [key]).get(key)
        if st is not None and st.disabled:
            click.echo(f"feed {key} is already disabled ({st.disabled_reason}); nothing changed")
            return
        disable_feed(con, key, f"disabled by hand {now:%Y-%m-%d %H:%M} UTC" + (f": {reason}" if reason else ""), now)
    click.echo(f"feed {key} disabled; `newswatch feeds enable {key}` polls it again")


@feeds.command("check")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Config whose [fetch] settings are used (user agent, timeouts, robots.txt). " + CONFIG_HELP)
@click.option("--entries", "show", default=5, show_default=True, type=click.IntRange(0),
              help="How many entries to print.")
@click.argument("url")
def check_cmd(config_path: str | None, show: int, url: str) -> None:
    """Poll one feed now through the real fetcher and parser and print what came back. Nothing is stored."""
    from extractors.feeds import parse_fetched_feed
    from extractors.http import Fetcher
    from warehouse.feeds import feed_hint, http_freshness, preview_schedule

    config = _config(config_path)
    with Fetcher(config.effective_fetch()) as f:
        r = f.fetch(url, kind="feed")
    parts = [f"HTTP {r.http_status}" if r.http_status else "no response"]
    if r.http_status:
        parts.append(r.content_type or "no content type")
    if r.body:
        parts.append(f"{len(r.body):,} bytes")
    parts.append(f"{r.elapsed_s:.2f} s" + (f", {r.attempts} tries" if r.attempts > 1 else ""))
    click.echo(f"feed {url}: {r.status} ({', '.join(parts)})")
    if r.final_url != url:
        click.echo(f"  final URL: {r.final_url}" + (" (moved permanently)" if r.permanent_redirect else ""))
    if r.detail:
        click.echo(f"  detail: {r.detail}")
    if r.etag or r.last_modified:
        click.echo(f"  validators: ETag {r.etag or '-'}, Last-Modified {r.last_modified or '-'}")
    fresh = http_freshness(r.cache_control, r.expires, r.fetched_at)
    if r.cache_control or r.expires:
        click.echo(f"  caching: Cache-Control {r.cache_control or '-'}, Expires {r.expires or '-'}"
                   + (f" -> fresh for {_duration(fresh[0])}" if fresh else " -> no freshness (revalidate)"))
    if r.status != "ok":
        raise SourceError(f"feed {url}: {r.status}" + (f" ({r.detail})" if r.detail else ""))
    parsed = parse_fetched_feed(r, url)
    click.echo(f"  format {parsed.format or 'none'}, title {parsed.title!r}, {len(parsed.entries)} entries, "
               f"{len(parsed.warnings)} warning(s)")
    hint = feed_hint(parsed)
    if hint:
        click.echo(f"  the feed asks: {hint[1]} -> every {_duration(hint[0])}")
    for e in parsed.entries[:show]:
        click.echo(f"    {_when(e.published_at) or '(undated)':16}  {e.title[:80]}  {e.link or '(no link)'}")
    for w in parsed.warnings[:10]:
        click.echo(f"  warning: {w}")
    if parsed.format is None and not parsed.entries:
        raise SourceError(f"feed {url}: not a feed ({parsed.warnings[-1] if parsed.warnings else 'no entries'})")
    plan = preview_schedule(r, parsed, datetime.now(UTC))
    click.echo(f"  next poll after a first poll like this one: in {_duration(plan.interval_s)} ({plan.source})")


def _config_path_given(config_path: str | None) -> str | None:
    return config_path or os.environ.get("NEWSWATCH_CONFIG") or None


@feeds.command("import")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--watch", "watch_name", help="Watch to add the feeds to (required when the config has several).")
@click.option("--write", is_flag=True,
              help="Add them to the config file itself (comments kept; the previous version is kept as FILE.bak). "
                   "Without it the TOML lines to add are printed and nothing is changed.")
@click.argument("opml_file", type=click.Path(dir_okay=False))
def import_cmd(config_path: str | None, watch_name: str | None, write: bool, opml_file: str) -> None:
    """Add the feeds of an OPML file (a feed reader's export) to a watch."""
    from extractors.opml import add_feeds_to_config_text, parse_opml, toml_feed_lines
    from newswatch.config import parse_config

    path = Path(opml_file)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SourceError(f"{opml_file}: cannot be read ({e.strerror or e})") from None
    doc = parse_opml(data, opml_file)
    if not doc.feeds:
        raise SourceError(f"{opml_file}: no feed outlines (xmlUrl) in this OPML file; nothing changed")
    config = _config(config_path)
    if watch_name is None and len(config.watches) > 1:
        names = ", ".join(w.name for w in config.watches)
        raise UserError(f"the config has several watches ({names}); name one with --watch")
    watch = config.watch(watch_name) if watch_name else config.watches[0]
    new = [f for f in doc.feeds if f.url not in watch.feeds]
    have = len(doc.feeds) - len(new)
    for w in doc.warnings:
        click.echo(f"# skipped: {w}")
    if not new:
        click.echo(f"# all {len(doc.feeds)} feed(s) of {opml_file} are already in watch {watch.name!r}; nothing to add")
        return
    if not write:
        click.echo(f"# {len(new)} feed(s) of {opml_file} for watch {watch.name!r} ({have} already in it). "
                   "Add these lines to its feeds array (or run again with --write):")
        if watch.feeds:
            click.echo("\n".join(toml_feed_lines(new)))
        else:
            click.echo("feeds = [\n" + "\n".join(toml_feed_lines(new)) + "\n]")
        return
    target = _config_path_given(config_path)
    if target is None:
        raise ConfigError("--write needs a config file: give --config FILE (the bundled demo is not edited)")
    text = Path(target).read_text(encoding="utf-8")
    new_text = add_feeds_to_config_text(text, watch.name, new, origin=target)
    parse_config(new_text, origin=target)  # the whole config still validates (feed URLs and all)
    tmp = Path(f"{target}.newswatch-tmp")
    tmp.write_text(new_text, encoding="utf-8")
    shutil.copy2(target, f"{target}.bak")
    os.replace(tmp, target)
    click.echo(f"added {len(new)} feed(s) to watch {watch.name!r} in {target} ({have} already in it); "
               f"previous version: {target}.bak")


@feeds.command("export")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--db", type=click.Path(dir_okay=False), help=DB_HELP + " Feed titles come from it when it exists.")
@click.option("--watch", "watches", multiple=True, help="Only this watch (repeatable). Default: every watch.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
def export_cmd(config_path: str | None, db: str | None, watches: Sequence[str], out_path: str | None) -> None:
    """OPML of the watches' feeds (one folder per watch), for a feed reader or `newswatch feeds import`."""
    from extractors.opml import write_opml
    from warehouse.db import connect
    from warehouse.feeds import get_feed_states

    config = _config(config_path)
    chosen = [config.watch(w) for w in watches] if watches else list(config.watches)
    db_path = _db(db)
    titles: dict[str, str | None] = {}
    if _db_exists(db_path):
        con = connect(db_path, read_only=True)
        try:
            titles = {u: s.title for u, s in get_feed_states(con, [u for w in chosen for u in w.feeds]).items()}
        finally:
            con.close()
    data = write_opml([(w.name, [(u, titles.get(u)) for u in w.feeds]) for w in chosen])
    if out_path:
        Path(out_path).write_bytes(data)
        click.echo(f"wrote {sum(len(w.feeds) for w in chosen)} feed(s) of {len(chosen)} watch(es) to {out_path}")
    else:
        click.echo(data.decode("utf-8"), nl=False)
