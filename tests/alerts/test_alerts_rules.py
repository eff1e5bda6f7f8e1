"""Digest rules per watch: frequency, send time, quiet hours in a time zone, item kinds; bad input is one clear line."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.rules import decide
from flows.digest_stage import run_digest
from newswatch.config import DigestRules, parse_config
from newswatch.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def rules(**kw: object) -> DigestRules:
    return DigestRules.model_validate(kw, strict=True)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ---- the pure decision -----------------------------------------------------------------------------------


def test_as_it_happens_is_due_on_every_run() -> None:
    r = rules()
    assert decide(r, now=at("2026-11-22T03:00+00:00"), last_at=at("2026-11-22T02:59+00:00")).due


def test_daily_is_due_once_after_the_local_send_time() -> None:
    r = rules(frequency="daily", send_at="08:00", timezone="Europe/Paris")  # 07:00 UTC in winter
    last = at("2026-11-21T07:05+00:00")  # yesterday's digest
    before = decide(r, now=at("2026-11-22T06:59+00:00"), last_at=last)
    assert not before.due and before.next_at == at("2026-11-22T07:00+00:00")
    assert "next at 2026-11-22 08:00 CET" in before.reason
    assert decide(r, now=at("2026-11-22T07:00+00:00"), last_at=last).due
    # once today's digest went out, the next run the same day waits for tomorrow
    after = decide(r, now=at("2026-11-22T15:00+00:00"), last_at=at("2026-11-22T07:01+00:00"))
    assert not after.due and after.next_at == at("2026-11-23T07:00+00:00")


def test_daily_keeps_the_wall_clock_time_across_a_dst_change() -> None:
    r = rules(frequency="daily", send_at="08:00", timezone="Europe/London")
    # 2026-03-29: BST starts; 08:00 London is 08:00 UTC on the 28th and 07:00 UTC on the 29th
    d = decide(r, now=at("2026-03-28T09:00+00:00"), last_at=at("2026-03-28T08:00+00:00"))
    assert d.next_at == at("2026-03-29T07:00+00:00")


def test_first_digest_of_a_daily_watch_is_due_at_once() -> None:
    assert decide(rules(frequency="daily"), now=at("2026-11-22T03:00+00:00"), last_at=None).due


def test_weekly_goes_on_its_weekday_only() -> None:
    r = rules(frequency="weekly", weekday="friday", send_at="17:30", timezone="America/New_York")
    last = at("2026-11-20T22:31+00:00")  # Friday 17:31 New York (EST, UTC-5)
    saturday = decide(r, now=at("2026-11-21T23:00+00:00"), last_at=last)
    assert not saturday.due and saturday.next_at == at("2026-11-27T22:30+00:00")
    assert decide(r, now=at("2026-11-27T22:30+00:00"), last_at=last).due


def test_quiet_hours_wrap_midnight_and_hold_back_even_as_it_happens() -> None:
    r = rules(quiet_hours="22:00-07:00", timezone="Asia/Tokyo")  # UTC+9
    night = decide(r, now=at("2026-11-22T14:30+00:00"), last_at=None)  # 23:30 Tokyo
    assert not night.due and night.next_at == at("2026-11-22T22:00+00:00")  # 07:00 Tokyo
    assert "quiet hours" in night.reason
    assert decide(r, now=at("2026-11-22T22:00+00:00"), last_at=None).due
    assert decide(r, now=at("2026-11-22T12:59+00:00"), last_at=None).due  # 21:59 Tokyo


def test_a_daily_slot_inside_quiet_hours_goes_out_when_they_end() -> None:
    r = rules(frequency="daily", send_at="06:00", quiet_hours="23:00-07:30")
    last = at("2026-11-21T07:30+00:00")
    assert not decide(r, now=at("2026-11-22T06:30+00:00"), last_at=last).due
    assert decide(r, now=at("2026-11-22T07:30+00:00"), last_at=last).due
    assert decide(r, now=at("2026-11-22T07:31+00:00"), last_at=last).next_at is None


# ---- bad input: one clear line, non-zero exit ------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('frequency = "hourly"', "digest.frequency: unknown frequency 'hourly'; use one of as_it_happens, daily, weekly"),
        ('timezone = "Europe/Londn"', "digest.timezone: unknown time zone 'Europe/Londn'"),
        ('quiet_hours = "22-7"', 'quiet_hours \'22-7\' is not a range like "22:00-07:00"'),
        ('send_at = "8am"', "send_at '8am' is not a time like 08:00"),
        ('weekday = "funday"', "unknown weekday 'funday'"),
        ('include = ["news"]', "unknown item kind 'news'"),
        ("chart_weeks = 1", "digest.chart_weeks: Input should be greater than or equal to 2"),
        ('chart = "yes"', "digest.chart: 'yes' is not a boolean; write true or false"),
    ],
)
def test_bad_rules_are_one_line_naming_the_watch(line: str, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(f'[[watches]]\nname = "climate"\n[watches.digest]\n{line}\n', origin="nw.toml")
    text = str(e.value)
    assert "\n" not in text and text.startswith("nw.toml: watch 'climate': ") and message in text


def test_config_check_exits_non_zero_on_an_unknown_time_zone(tmp_path: Path) -> None:
    cfg = tmp_path / "nw.toml"
    cfg.write_text('[[watches]]\nname = "climate"\n[watches.digest]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    p = subprocess.run([sys.executable, "-m", "newswatch.cli", "config", "check", "--config", str(cfg)],
                       capture_output=True, text=True, cwd=REPO)
    assert p.returncode != 0
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown time zone 'Mars/Olympus'" in lines[0] and "Traceback" not in p.stderr


# ---- run_digest follows the rules ------------------------------------------------------------------------


def _config(extra: str) -> object:
    return parse_config(f'[[watches]]\nname = "rotherham"\n[watches.digest]\n{extra}\n', origin="test")


def test_a_daily_watch_waits_and_then_carries_everything_new(warehouse, now, tmp_path) -> None:
    cfg = _config('frequency = "daily"\nsend_at = "06:00"')  # NOW is 07:00 UTC
    warehouse.add("a1", title="Police chiefs to be investigated", source="Sky News", published=now - timedelta(hours=3))
    first = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now)
    assert first.status == "written" and first.items == 1
    warehouse.add("b1", title="Council apologises", source="ITV", published=now + timedelta(hours=1))
    later = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now + timedelta(hours=2))
    assert later.status == "waiting" and later.items == 0 and "next at 2026-11-23 06:00 UTC" in later.detail
    assert warehouse.query("select count(*) from digests") == [(1,)]
    nxt = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now + timedelta(days=1))
    assert nxt.status == "written" and nxt.items == 1


def test_quiet_hours_hold_the_digest_in_the_watch_time_zone(warehouse, now, tmp_path) -> None:
    cfg = _config('quiet_hours = "07:00-09:00"\ntimezone = "Europe/Berlin"')  # NOW = 08:00 Berlin
    warehouse.add("a1", title="Police chiefs to be investigated", source="Sky News")
    held = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now)
    assert held.status == "waiting" and "quiet hours" in held.detail
    assert run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now + timedelta(hours=1)).items == 1


def _text(path: str | None) -> str:
    from email import message_from_bytes, policy

    assert path
    msg = message_from_bytes(Path(path).read_bytes(), policy=policy.default)
    return msg.get_body(("plain",)).get_content()


def test_updates_left_out_stay_untold_and_new_stories_go(warehouse, now, tmp_path) -> None:
    cfg = _config('include = ["new_stories"]')
    warehouse.add("a1", title="Police chiefs to be investigated", source="Sky News", published=now - timedelta(hours=9))
    run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now - timedelta(hours=8))
    warehouse.add("a2", title="Watchdog names officers", source="BBC", story="a1", published=now - timedelta(hours=2))
    warehouse.add("b1", title="Council apologises to survivors", source="ITV", published=now - timedelta(hours=1))
    o = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now)
    text = _text(o.eml_path)
    assert o.items == 1 and "Council apologises" in text and "Watchdog names officers" not in text
    told = {r[0] for r in warehouse.query("select article_id from digest_articles")}
    assert told == {"a1", "b1"}  # a2 is not carried: enabling updates later still shows it


def test_only_figure_changes_keeps_just_the_stories_whose_figures_moved(warehouse, now, tmp_path) -> None:
    cfg = _config('include = ["figure_changes"]')
    warehouse.add("a1", title="1,400 children abused", source="BBC", published=now - timedelta(days=2))
    # the first digest (everything) tells a1 and its figure
    run_digest(warehouse.path, _config(""), "rotherham", out_dir=str(tmp_path), now=now - timedelta(days=1))
    warehouse.add("a2", title="Inquiry: 1,510 children", source="Sky News", story="a1", published=now - timedelta(hours=3))
    warehouse.add("b1", title="Council apologises", source="ITV", published=now - timedelta(hours=2))
    fig = (
        "INSERT INTO core.figures (article_id, seq, value, noun, noun_head, qualifier, currency, unit, surface, "
        "sentence) VALUES (?, 1, ?, 'children', 'children', NULL, NULL, NULL, ?, ?)"
    )
    warehouse.query(fig, ["a1", 1400, "1,400 children", "Some 1,400 children were abused."])
    warehouse.query(fig, ["a2", 1510, "1,510 children", "Some 1,510 children were abused."])
    # and their fact runs, as warehouse/facts.store_facts writes them (the fact trend tables follow fact_runs)
    for aid in ("a1", "a2"):
        warehouse.query("INSERT INTO core.fact_runs (article_id, extractor, content_hash, extracted_at, entities, "
                        "figures, periods, quotes) VALUES (?, 'test', NULL, now(), 0, 1, 0, 0)", [aid])
    o = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now)
    text = _text(o.eml_path)
    assert o.items == 1 and "figure changed: children 1,400 -> 1,510" in text and "Council apologises" not in text


def test_quotes_by_watched_people_are_shown(warehouse, now, tmp_path) -> None:
    cfg = _config('people = ["Sarah Champion"]')
    warehouse.add("a1", title="MP speaks on Rotherham", source="BBC")
    from warehouse.db import connect

    con = connect(warehouse.path, apply_schema=False)
    try:
        cols = {r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_schema='core' and table_name='quotes'"
        ).fetchall()}
        values = {"article_id": "a1", "quote_id": "q1", "speaker": "Sarah Champion", "speaker_type": "PERSON",
                  "speaker_surface": "Ms Champion", "quote": "This is a national scandal and it is not over",
                  "sentence": "x", "seq": 1, "paragraph": 0, "start": 0, "end": 10}
        use = [c for c in values if c in cols]
        con.execute(f"insert into core.quotes ({', '.join(use)}) values ({', '.join('?' for _ in use)})",
                    [values[c] for c in use])
    finally:
        con.close()
    o = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now)
    assert "quote: Sarah Champion: \u201cThis is a national scandal and it is not over\u201d" in _text(o.eml_path)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError):
        decide(rules(), now=datetime(2026, 1, 1), last_at=None)
    assert decide(rules(), now=datetime(2026, 1, 1, tzinfo=UTC), last_at=None).due


def test_the_rule_examples_in_docs_parse_and_show_every_rule() -> None:
    """docs/alerts.md's 'Examples, one per rule' block is a config that parses, with each rule in it."""
    from newswatch.config import FREQUENCIES, ITEM_KINDS

    doc = (REPO / "docs" / "alerts.md").read_text(encoding="utf-8")
    block = doc.split("### Examples, one per rule", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    rules_shown = [w.digest for w in parse_config(block, origin="docs/alerts.md").watches]
    assert {r.frequency for r in rules_shown} == set(FREQUENCIES)
    assert any(r.quiet_hours and r.timezone != "UTC" for r in rules_shown)
    narrowed = [r.include for r in rules_shown if r.include != list(ITEM_KINDS)]
    assert {k for inc in narrowed for k in inc} == set(ITEM_KINDS)  # every kind asked for on its own terms
    assert any(r.people for r in rules_shown)
    assert any(not r.chart for r in rules_shown) and any(r.chart_weeks != 12 for r in rules_shown)

