"""Periods and year mentions in the text (rules).

Ranges:  "between 1997 and 2013", "from 1997 to 2013", "from 2004-11", "1999–2011", "in the 1990s"
         (a decade is 1990-1999), "in the 1990s and 2000s" (1990-2009).
Years:   a single year ("in 2014", "in September 2014", "since 2001", "by 2016") is stored as a period with
         start_year = end_year and kind 'year' (the `Period` record has no kind; it is derived from the
         years being equal). One table for both lets the `conflicts` view compare "the Jay report came
         out in 2014" with "... in 2015" the same way it compares two ranges.
A year that is part of a range is not also reported as a single year. "2002 and 2003" are two years, not a
range ("between" or "from" is needed for a range). Years outside 1800-2100 are ignored.
"""

from __future__ import annotations

import re

from newswatch.models import Period

_Y = r"(1[89]\d\d|20\d\d|2100)"
_RANGE_PATTERNS = [
    # "between 2011-12 and 2017-18" (academic or financial years) is 2011-2018
    re.compile(
        r"\bbetween\s+(?:the\s+years\s+)?" + _Y + r"(?:[–-]\d\d)?\s+and\s+" + _Y + r"(?:[–-](?P<tail>\d\d))?\b",
        re.IGNORECASE,
    ),
    re.compile(r"\bfrom\s+(?:at\s+least\s+)?" + _Y + r"\s+(?:to|until|till|through|and)\s+" + _Y + r"\b", re.IGNORECASE),
    re.compile(r"\b" + _Y + r"\s?[–—-]\s?(\d\d|" + _Y[1:-1] + r")\b(?![-–]\d)"),
]
_DECADES = re.compile(r"\b(?:in\s+)?the\s+(1[89]\d0|20\d0)s(?:\s+and\s+(?:the\s+)?(1[89]\d0|20\d0)s)?", re.IGNORECASE)
_YEAR = re.compile(r"(?<![\d,.£$€-])" + _Y + r"(?![\d%]|,\d)")


def _end_year(start: int, end: str) -> int:
    if len(end) == 2:
        century = start // 100 * 100
        e = century + int(end)
        return e if e > start else 0  # "1999-02" is not a range we trust; 0 is rejected by the caller
    return int(end)


def extract_periods(article_id: str, text: str, sentences: list[tuple[int, int]]) -> list[Period]:
    """Ranges and single years, one Period per mention, in text order."""
    out: list[tuple[int, Period]] = []
    for s_start, s_end in sentences:
        sent = text[s_start:s_end]
        norm_sent = " ".join(sent.split())[:1000]
        # characters already part of a range or decade: a mask, so that a sentence with thousands of years
        # (a table) stays linear instead of comparing every match with every earlier one
        covered = bytearray(len(sent))
        for pat in _RANGE_PATTERNS:
            for m in pat.finditer(sent):
                if any(covered[m.start() : m.end()]):
                    continue
                start = int(m.group(1))
                end = _end_year(start, m.group(2))
                if m.re.groupindex.get("tail") and m.group("tail"):
                    end = _end_year(end, m.group("tail")) or end
                if not (start < end <= start + 200):
                    continue
                covered[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
                out.append((s_start + m.start(), Period(article_id, start, end, m.group(0), norm_sent)))
        for m in _DECADES.finditer(sent):
            if any(covered[m.start() : m.end()]):
                continue
            start = int(m.group(1))
            last = int(m.group(2)) if m.group(2) else start
            covered[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
            out.append((s_start + m.start(), Period(article_id, start, last + 9, m.group(0), norm_sent)))
        for m in _YEAR.finditer(sent):
            if any(covered[m.start() : m.end()]):
                continue
            y = int(m.group(1))
            # "2,013 people" or "2013 people" with a counted noun is a figure, not a year
            after = sent[m.end() : m.end() + 20]
            if re.match(r"\s+(?:people|children|officers|cases|victims|pounds|times)\b", after):
                continue
            out.append((s_start + m.start(), Period(article_id, y, y, m.group(0), norm_sent)))
    out.sort(key=lambda x: x[0])
    return [p for _, p in out]
