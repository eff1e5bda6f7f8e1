"""Golden feed files: each tests/feeds/data/feeds/<name> is parsed and compared with <name>.expected.json beside it.

Regenerate after an intended change with `NEWSWATCH_REGEN_GOLDEN=1 .venv/bin/pytest tests/feeds/test_feed_golden.py`
and review the diff (lemon24/reader's habit: the expected parse is data, checked in next to its input).
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from extractors.feeds import parse_feed
from newswatch.models import ParsedFeed

DATA = Path(__file__).parent / "data" / "feeds"
NOW = datetime(2026, 1, 1, tzinfo=UTC)  # fixed "now" so the plausibility window is reproducible
CONTENT_TYPES = {".json": "application/feed+json", ".xml": "application/rss+xml"}
OVERRIDES = {"html_page.xml": "text/html; charset=utf-8", "empty.xml": None}
INPUTS = sorted(p for p in DATA.iterdir() if not p.name.endswith(".expected.json"))


def as_plain(parsed: ParsedFeed) -> dict:
    def conv(v: object) -> object:
        if isinstance(v, datetime):
            return v.isoformat()
        if isinstance(v, tuple | list):
            return [conv(x) for x in v]
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {f.name: conv(getattr(v, f.name)) for f in dataclasses.fields(v)}
        return v

    return conv(parsed)  # type: ignore[return-value]


@pytest.mark.parametrize("path", INPUTS, ids=[p.name for p in INPUTS])
def test_golden_parse(path: Path) -> None:
    ctype = OVERRIDES.get(path.name, CONTENT_TYPES.get(path.suffix))
    got = as_plain(parse_feed(path.read_bytes(), f"https://feeds.example.test/{path.name}", ctype, now=NOW))
    expected_path = path.with_name(path.name + ".expected.json")
    if os.environ.get("NEWSWATCH_REGEN_GOLDEN") == "1":
        expected_path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert expected_path.exists(), f"no golden file {expected_path.name}; run with NEWSWATCH_REGEN_GOLDEN=1"
    assert got == json.loads(expected_path.read_text(encoding="utf-8"))


def test_every_input_has_a_golden_file() -> None:
    goldens = {p.name.removesuffix(".expected.json") for p in DATA.glob("*.expected.json")}
    assert goldens == {p.name for p in INPUTS}
