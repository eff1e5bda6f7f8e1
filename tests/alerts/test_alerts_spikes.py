"""The spikes item kind end to end: articles stored in a real DuckDB file, the trend tables refreshed by the digest
stage itself, the spikes view's new spikes told in the next digest, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

from flows.digest_stage import run_digest
from newswatch.config import parse_config
from warehouse.db import connect, insert_rows

QUIET_DAYS = 28  # one story a day before the burst: the spikes view's whole trailing window
BURST = 6  # stories on the burst day: robust z-score (6 - 1) / 1 = 5 >= 3.5 (sql/50_trends.sql)


def _config(include: str = ""):
    text = '[[watches]]\nname = "rotherham"\nrecipients = ["desk@example.org"]\nmax_items = 40\n'
    if include:
        text += f"[watches.digest]\ninclude = {include}\n"
    return parse_config(text, origin="test config")


def _mention(warehouse, article_id: str, *entities: str) -> None:
    con = connect(warehouse.path, apply_schema=False)
    try:
        insert_rows(con, "core.entity_mentions", [
            {"article_id": article_id, "seq": i, "entity": e, "entity_type": "ORG", "surface": e, "start_char": 0,
             "end_char": len(e), "local_entity": e} for i, e in enumerate(entities)])
    finally:
        con.close()


def _quiet_month(warehouse, now: datetime) -> None:
    """One story a day, each naming South Yorkshire Police, for the QUIET_DAYS days before now's day."""
    day0 = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC)
    for i in range(QUIET_DAYS, 0, -1):
        aid = f"q{i}"
        warehouse.add(aid, title=f"Rotherham council meeting {i}", source="Yorkshire Post",
                      published=day0 - timedelta(days=i) + timedelta(hours=12))
        _mention(warehouse, aid, "South Yorkshire Police")


def _burst(warehouse, now: datetime) -> None:
    """BURST stories on now's day (before now), each naming the IOPC and South Yorkshire Police."""
    day0 = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC)
    for i in range(BURST):
        aid = f"b{i}"
        warehouse.add(aid, title=f"IOPC to investigate police chiefs, report {i}", source=f"Outlet {i}",
                      published=day0 + timedelta(minutes=30 + 50 * i))
        _mention(warehouse, aid, "IOPC", "South Yorkshire Police")


def _text(path: str) -> str:
    msg = message_from_bytes(Path(path).read_bytes(), policy=policy.default)
    return msg.get_body(("plain",)).get_content()


def test_a_spike_in_the_trend_views_is_told_in_the_next_digest_and_never_again(warehouse, now, tmp_path) -> None:
    cfg = _config()
    assert "spikes" in cfg.watches[0].digest.include  # the default kinds include spikes
    _quiet_month(warehouse, now)
    quiet = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path / "1"), now=now - timedelta(hours=6))
    assert quiet.status == "written" and quiet.items == QUIET_DAYS
    assert "attention spike:" not in _text(quiet.eml_path)
    assert warehouse.query("select count(*) from spikes") == [(0,)]

    # the burst is stored the way a run stores a batch: nothing refreshes the trend tables but the digest stage
    _burst(warehouse, now)
    assert warehouse.query("select count(*) from spikes") == [(0,)]
    o = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path / "2"), now=now)
    assert o.status == "written" and o.items == BURST
    spikes = warehouse.query("select coalesce(entity, ''), day, stories, baseline from spikes order by entity nulls first")
    assert [(e, d, s) for e, d, s, _ in spikes] == [
        ("", now.date(), BURST), ("IOPC", now.date(), BURST), ("South Yorkshire Police", now.date(), BURST)]
    text = " ".join(_text(o.eml_path).split())
    html = Path(o.html_path).read_text(encoding="utf-8")
    lines = [f"attention spike: {e or 'the watch rotherham'}, {s} stories on {d:%Y-%m-%d} "
             f"(usually {round(b)} a day)" for e, d, s, b in spikes]
    for line in lines:
        assert line in text and line in html
    # told by this digest (the ledger), counted in the headline
    told = warehouse.query("select entity, day from digest_spikes where digest_id = ? order by entity", [o.digest_id])
    assert told == [(e, d) for e, d, _, _ in spikes]
    assert f"{BURST} new stories, 3 attention spikes" in text
    # the attention chart marks the burst's week and says so
    assert "1 week with an attention spike" in text

    # more coverage the same day: the day is still a spike, but it was told
    warehouse.add("late", title="IOPC names the officers", source="ITV", published=now - timedelta(minutes=10))
    _mention(warehouse, "late", "IOPC")
    later = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path / "3"), now=now + timedelta(hours=1))
    assert later.status == "written" and later.items == 1
    assert warehouse.query("select stories from spikes where entity = 'IOPC'") == [(BURST + 1,)]
    assert "attention spike:" not in _text(later.eml_path)
    assert warehouse.query("select count(*) from digest_spikes") == [(3,)]
    # and nothing else new: no digest at all
    again = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path / "4"), now=now + timedelta(hours=2))
    assert again.status == "empty"


def test_a_watch_without_the_spikes_kind_is_not_told_spikes(warehouse, now, tmp_path) -> None:
    cfg = _config('["new_stories", "updates"]')
    _quiet_month(warehouse, now)
    _burst(warehouse, now)
    o = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now)
    assert o.status == "written" and o.items == QUIET_DAYS + BURST
    assert warehouse.query("select count(*) from spikes") == [(3,)]  # the spikes are there...
    assert "attention spike:" not in _text(o.eml_path)  # ...but not asked for
    assert warehouse.query("select count(*) from digest_spikes") == [(0,)]


def test_a_digest_of_spikes_only_from_real_trend_data(warehouse, now, tmp_path) -> None:
    cfg = _config('["spikes"]')
    _quiet_month(warehouse, now)
    first = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path / "1"), now=now - timedelta(hours=6))
    assert first.status == "empty"  # no spike yet, and stories are not asked for
    _burst(warehouse, now)
    o = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path / "2"), now=now)
    assert o.status == "written" and o.items == 0
    msg = message_from_bytes(Path(o.eml_path).read_bytes(), policy=policy.default)
    assert msg["Subject"].startswith("[rotherham] 3 attention spikes: attention spike: ")
    assert run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path / "3"),
                      now=now + timedelta(hours=1)).status == "empty"
