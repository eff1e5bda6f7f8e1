"""robots.txt parsing and matching per RFC 9309 (group selection, longest match, Allow wins ties, * and $),
and RobotsCache, which keeps robots.txt across runs for up to 24 h through load/save callbacks.

urllib.robotparser is not used: it applies the first matching rule instead of the longest one and
ignores wildcards (RFC 9309 section 2.2.2). Fetching lives in extractors/http/, which gets robots.txt
through the same guarded client as everything else; the per-run cache is the Fetcher's, the cross-run
one is RobotsCache (storage: warehouse/feeds.py robots_store, table core.robots_txt).

Typos tolerated, as Google's parser (google/robotstxt, kAllowFrequentTypos) and Scrapy's protego do:
`User agent:`, `useragent:`, `Dissallow:` (and `dissalow`, `disalow`, `diasllow`, `disallaw`), `Crawl delay:`,
and a missing colon when the line is exactly two words (`Disallow /private`). Everything else is RFC 9309:
exact keys, case-insensitive; other lines are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

from newswatch.models import FetchResult

# RFC 9309 2.5: crawlers SHOULD parse at least 500 KiB; we read exactly that much.
MAX_ROBOTS_BYTES = 500 * 1024
# RFC 9309 2.4: "Crawlers SHOULD NOT use the cached version for more than 24 hours, unless the robots.txt
# file is unreachable."
ROBOTS_MAX_AGE = timedelta(hours=24)
# How long a kept copy stands in for an unreachable robots.txt (5xx, timeout) instead of RFC 9309 2.3.1.4's
# "disallow everything": Google documents 30 days for its own crawler.
ROBOTS_STALE_MAX = timedelta(days=30)

# Misspelt keys that Google's parser and protego accept, mapped to the RFC 9309 key.
_KEY_TYPOS = {
    "useragent": "user-agent",
    "user agent": "user-agent",
    "dissallow": "disallow",
    "dissalow": "disallow",
    "disalow": "disallow",
    "diasllow": "disallow",
    "disallaw": "disallow",
    "crawl delay": "crawl-delay",
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One Allow or Disallow line of the selected groups."""

    allow: bool
    pattern: str  # normalised path pattern, may contain * and a trailing $

    def matches(self, path: str) -> bool:
        """Whether this rule's pattern matches a normalised path."""
        return pattern_matches(self.pattern, path)


def pattern_matches(pattern: str, path: str) -> bool:
    """RFC 9309 path matching: prefix match; '*' matches any run of characters; a final '$' anchors the end.

    Not a regex: a hostile robots.txt line such as `/*a*a*a*a*a*a*a*a*a*a*a*a*b$` makes a backtracking
    regex take exponential time. This is the classic greedy wildcard match, O(len(pattern) x len(path))
    at worst and linear in practice; patterns without '*' are a plain startswith/equality.
    """
    anchored = pattern.endswith("$")
    pat = pattern[:-1] if anchored else pattern
    star_at = pat.find("*")
    if star_at < 0:
        return path == pat if anchored else path.startswith(pat)
    if not path.startswith(pat[:star_at]):
        return False  # the literal part before the first '*' rules most paths out cheaply
    if not anchored:
        pat += "*"  # prefix match = the pattern followed by anything
    p = s = 0
    star = -1
    mark = 0
    n, m = len(pat), len(path)
    while s < m:
        if p < n and pat[p] == "*":
            star, mark = p, s
            p += 1
        elif p < n and pat[p] == path[s]:
            p += 1
            s += 1
        elif star >= 0:
            # let the last '*' swallow one more character and retry from there
            mark += 1
            s = mark
            p = star + 1
        else:
            return False
    while p < n and pat[p] == "*":
        p += 1
    return p == n


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """The rules that apply to one user agent on one host."""

    rules: tuple[Rule, ...] = ()
    crawl_delay: float | None = None
    disallow_all: bool = False  # robots.txt unreachable (5xx, timeout): RFC 9309 2.3.1.4
    source: str = ""  # 'parsed', 'missing', 'unreachable'

    @classmethod
    def allow_everything(cls, source: str = "missing") -> RobotsRules:
        """No robots.txt (4xx): everything may be fetched."""
        return cls(source=source)

    @classmethod
    def deny_everything(cls, source: str = "unreachable") -> RobotsRules:
        """robots.txt unavailable (5xx, 429, network): nothing may be fetched in this run."""
        return cls(disallow_all=True, source=source)

    def allowed(self, url_or_path: str) -> bool:
        """Whether the path (and query) of this URL may be fetched."""
        path = _path_of(url_or_path)
        if path == "/robots.txt":
            return True  # RFC 9309 2.2.2: /robots.txt is implicitly allowed
        if self.disallow_all:
            return False
        best: Rule | None = None
        for r in self.rules:
            if not r.matches(path):
                continue
            if (
                best is None
                or _specificity(r) > _specificity(best)
                or (_specificity(r) == _specificity(best) and r.allow and not best.allow)
            ):
                best = r
        return best is None or best.allow


def _specificity(rule: Rule) -> int:
    # "the most specific match found MUST be used. The most specific match is the match that has the
    # most octets." Octets of the pattern as written (after normalisation).
    return len(rule.pattern.encode("utf-8"))


_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _normalise(path: str) -> str:
    """Percent-encoding normal form for comparison: %XX upper case, unreserved decoded, non-ASCII encoded."""
    # quote() escapes non-ASCII (as UTF-8), spaces and unsafe ASCII and leaves existing %XX alone;
    # then each %XX is upper-cased, or decoded when it stands for an unreserved character.
    return _PCT.sub(_fix_escape, quote(path, safe="!#$&'()*+,/:;=?@[]%"))


def _fix_escape(m: re.Match[str]) -> str:
    ch = chr(int(m.group(1), 16))
    return ch if ch in _UNRESERVED else "%" + m.group(1).upper()


def _path_of(url_or_path: str) -> str:
    if url_or_path.startswith("/"):
        raw = url_or_path.split("#", 1)[0]
    else:
        parts = urlsplit(url_or_path)
        raw = (parts.path or "/") + (("?" + parts.query) if parts.query else "")
    return _normalise(raw)


def product_token(user_agent: str) -> str:
    """The product token of a User-Agent ('newswatch/0.1 (+https://...)' -> 'newswatch'), lower case."""
    token = user_agent.strip().split("/", 1)[0].split()[0] if user_agent.strip() else ""
    return token.lower()


def parse_robots(content: bytes | str, user_agent: str) -> RobotsRules:
    """Parse robots.txt and return the rules for this user agent (RFC 9309 2.2).

    Groups whose user-agent line equals our product token (case-insensitive) are merged; if none
    match, the '*' groups are used; if there are none, everything is allowed. Unknown lines are
    ignored, and so are lines without a colon unless they are exactly two words (see the module docstring).
    """
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    text = text.lstrip("\ufeff")
    token = product_token(user_agent)
    # groups: list of (agents, rules, crawl_delay)
    groups: list[tuple[list[str], list[Rule], list[float]]] = []
    current: tuple[list[str], list[Rule], list[float]] | None = None
    in_agents = False
    for raw_line in text.splitlines():
        # str methods, not a regex: a 500 KiB line of spaces made `\s*(.*?)\s*$` quadratic
        line = raw_line.split("#", 1)[0]
        key, sep, value = line.partition(":")
        if not sep:
            # "Disallow /private": a missing colon, accepted (as Google does) only for exactly two words
            words = line.split(None, 2)
            if len(words) != 2:
                continue
            key, value = words
        key = " ".join(key.split()).lower()
        key = _KEY_TYPOS.get(key, key)
        if not key or not key.replace("-", "").isalpha():
            continue
        value = value.strip()
        if key == "user-agent":
            if current is None or not in_agents:
                current = ([], [], [])
                groups.append(current)
            current[0].append(value.lower())
            in_agents = True
            continue
        if current is None:
            continue  # rules before any user-agent line belong to no group
        in_agents = False
        if key in ("allow", "disallow"):
            if not value:
                continue  # "Disallow:" with no path is no rule
            pattern = _normalise(value)
            if not pattern.startswith("/") and not pattern.startswith("*"):
                pattern = "/" + pattern
            current[1].append(Rule(allow=(key == "allow"), pattern=pattern))
        elif key == "crawl-delay":
            try:
                delay = float(value)
            except ValueError:
                continue
            if delay >= 0 and delay == delay:  # not NaN
                current[2].append(delay)
    chosen = [g for g in groups if token and token in g[0]]
    if not chosen:
        chosen = [g for g in groups if "*" in g[0]]
    if not chosen:
        return RobotsRules(source="parsed")
    rules = tuple(r for g in chosen for r in g[1])
    delays = [d for g in chosen for d in g[2]]
    return RobotsRules(rules=rules, crawl_delay=max(delays) if delays else None, source="parsed")


# ---- robots.txt across runs (RFC 9309 section 2.4) -----------------------------------------------------------

RobotsLoad = Callable[[str], "tuple[datetime, int, bytes] | None"]  # origin -> (fetched_at, HTTP status, body)
RobotsSave = Callable[[str, datetime, int, bytes], None]  # origin, fetched_at, HTTP status, body


def robots_answer(res: FetchResult) -> str:
    """What a robots.txt fetch says, decided here only (RFC 9309 2.3.1; table in docs/fetching.md):

    'rules' (2xx: parse the body), 'missing' (4xx except 429, 410 included: allow everything), 'unreachable'
    (any 5xx, 429, timeout or connection error: disallow everything; a kept copy may stand in), 'refused'
    (anything else, such as a redirect the guard refused or a 3xx without Location: disallow everything this run).
    Deliberately by the RFC's codes, not FetchResult.transient: a 501 robots.txt is unreachable here, though
    the pages of its host are then terminal (501 is never asked again).
    """
    code = res.http_status
    if res.status == "ok":
        return "rules" if code is not None and 200 <= code < 300 else "refused"
    if res.status in ("timeout", "error"):
        return "unreachable"
    if res.status in ("gone", "http_error") and code is not None:
        if code >= 500 or code == 429:
            return "unreachable"
        if 400 <= code < 500:
            return "missing"
    return "refused"


def _keepable(res: FetchResult) -> bool:
    """Answers worth keeping: a robots.txt (2xx) or its absence (4xx except 429). Never an unreachable one."""
    return robots_answer(res) in ("rules", "missing")


def _unreachable(res: FetchResult) -> bool:
    """RFC 9309 2.3.1.3/2.3.1.4: a 5xx or 429, or no answer at all (timeout, connection error)."""
    return robots_answer(res) == "unreachable"


@dataclass(frozen=True, slots=True)
class RobotsCache:
    """robots.txt kept across runs through a load/save callback pair (no storage of its own).

    `fetch(origin, get)` answers as the network would, as a FetchResult, so the Fetcher classifies it as
    before: a copy younger than 24 h is returned without a request; otherwise `get()` fetches robots.txt and
    a 2xx or 4xx answer is saved; when robots.txt is unreachable (5xx, 429, timeout) a copy up to 30 days
    old stands in for it (RFC 9309 2.4 "unless the robots.txt file is unreachable"). A callback that fails
    (a locked warehouse) is a cache miss or a copy not kept, never a failed fetch. Without callbacks
    (`RobotsCache()`) every call fetches: the Fetcher's behaviour before this cache.
    """

    load: RobotsLoad | None = None
    save: RobotsSave | None = None
    max_age: timedelta = ROBOTS_MAX_AGE
    stale_max: timedelta = ROBOTS_STALE_MAX
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731 - tests pass their own time

    def fetch(self, origin: str, get: Callable[[], FetchResult]) -> FetchResult:
        """robots.txt of origin ('scheme://host:port'): kept copy if fresh, else get(); see the class docstring."""
        now = self.clock()
        kept = None
        if self.load is not None:
            try:
                kept = self.load(origin)
            except Exception:  # noqa: BLE001 - the warehouse is an optimisation here, never a reason to fail
                kept = None
        age = (now - kept[0]) if kept is not None else timedelta.max  # no copy: too old for either limit
        if kept is not None and timedelta(0) <= age < self.max_age:
            return _from_copy(origin, kept, f"robots.txt kept from {kept[0]:%Y-%m-%d %H:%M} UTC")
        res = get()
        if _keepable(res):
            if self.save is not None and res.http_status is not None:
                try:
                    self.save(origin, now, res.http_status, res.body[:MAX_ROBOTS_BYTES] if res.status == "ok" else b"")
                except Exception:  # noqa: BLE001 - not kept this time; fetched again next run
                    pass
            return res
        if _unreachable(res) and kept is not None and timedelta(0) <= age < self.stale_max:
            return _from_copy(
                origin, kept,
                f"robots.txt unreachable ({res.detail or res.status}); using the copy from {kept[0]:%Y-%m-%d %H:%M} UTC",
            )
        return res


def _from_copy(origin: str, kept: tuple[datetime, int, bytes], detail: str) -> FetchResult:
    fetched_at, code, body = kept
    url = origin + "/robots.txt"
    if 200 <= code < 300:
        return FetchResult(url=url, final_url=url, status="ok", http_status=code, body=body, detail=detail,
                           fetched_at=fetched_at)
    status = "gone" if code == 410 else "http_error"
    return FetchResult(url=url, final_url=url, status=status, http_status=code, detail=detail, fetched_at=fetched_at)
