"""URL canonicalisation and the "is this a web URL" test, so one article reached through two feeds is fetched once."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

# Query parameters that only say how a reader arrived, never which document they asked for.
# Exact names (lower case) and prefixes. Kept conservative: a parameter that can select content
# (page, id, ref on some CMSs) is not here.
_TRACKING_EXACT = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "ocid",
        "cmpid",
        "smid",
        "smtyp",
        "s_cid",
        "wt.mc_id",
        "xtor",
        "ito",
        "rss",
        "ref_src",
        "ref_url",
        "__twitter_impression",
        "amp",  # ?amp, ?amp=1: the AMP rendering of the same article
        "outputtype",  # ?outputType=amp (Washington Post style)
    }
)
_TRACKING_PREFIXES = ("utm_", "at_", "ns_", "pk_", "mtm_", "hsa_", "vero_", "oly_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")


def _is_tracking(name: str, value: str) -> bool:
    n = name.lower()
    if n == "outputtype":
        return value.lower() == "amp"
    if n in _TRACKING_EXACT:
        return True
    return n.startswith(_TRACKING_PREFIXES)


def _normalise_pct(part: str, safe: str) -> str:
    """Decode percent-escapes of unreserved characters, upper-case the rest, escape raw unsafe characters."""

    def fix(m: re.Match[str]) -> str:
        ch = chr(int(m.group(1), 16))
        return ch if ch in _UNRESERVED else "%" + m.group(1).upper()

    part = _PCT.sub(fix, part)
    # quote() leaves existing %XX alone because '%' is in safe; it escapes spaces and non-ASCII.
    return quote(part, safe=safe + "%")


def _strip_amp_path(path: str) -> str:
    # /news/story/amp, /news/story/amp/, /amp/news/story, /news/story.amp, /news/story.amp.html
    segs = path.split("/")
    if len(segs) > 2 and segs[1].lower() == "amp":
        segs = [""] + segs[2:]
    while len(segs) > 2 and segs[-1] == "" and segs[-2].lower() == "amp":
        segs = segs[:-2] + [""]
    if len(segs) > 2 and segs[-1].lower() == "amp":
        segs = segs[:-1]
    last = segs[-1]
    low = last.lower()
    if low.endswith(".amp"):
        segs[-1] = last[:-4]
    elif low.endswith(".amp.html") or low.endswith(".amp.htm"):
        segs[-1] = last[: low.rindex(".amp.")] + last[low.rindex(".amp.") + 4 :]
    out = "/".join(segs)
    return out or "/"


def _host(hostname: str) -> str:
    host = hostname.lower().rstrip(".")
    if host and not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass  # leave it; the fetcher will refuse it with a clear reason
    return host


def canonicalize_url(url: str) -> str:
    """The canonical form of a web URL: same document -> same string.

    Lower-cases scheme and host (IDNA-encodes non-ASCII hosts), drops the default port, the fragment,
    tracking parameters (utm_*, fbclid, gclid, mc_cid, ...) and AMP forms (/amp, ?amp=1, /amp/ prefix,
    .amp suffix), normalises percent-escapes and sorts the query. Idempotent. Strings that are not
    hierarchical URLs are returned stripped but otherwise unchanged.
    """
    raw = url.strip()
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return raw
    scheme = parts.scheme.lower()
    if not scheme or not parts.netloc:
        return raw
    host = _host(parts.hostname or "")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{port}"
    if "@" in parts.netloc:
        netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
    path = _normalise_pct(parts.path or "/", safe="/:@!$&'()*+,;=")
    if scheme in _DEFAULT_PORTS:
        path = _strip_amp_path(path)
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k, v)]
    pairs.sort()
    query = urlencode(pairs, quote_via=quote, safe="/:@!$'()*,;")
    return urlunsplit((scheme, netloc, path, query, ""))


def is_web_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host and no user:password@ part."""
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        return False
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        return False
    if "@" in parts.netloc:
        return False
    return bool(parts.hostname)
