"""The one canonical-URL function (feed entries and article ids) and the "is this a web URL" test.

`canonicalize_url` is used for a feed entry's link (what is fetched, and how one article reached through two
feeds is fetched once) and, through extractors.articles, for an article's canonical URL, whose hash is the
article id (newswatch.models.stable_id). Stored ids must not move: a rule that rewrote a URL that was already
canonical would make a refetch of a stored page a second article. So every rule below only removes a
difference between two spellings of one document; a URL with none of them comes back unchanged, byte for
byte, which is what the old article-id normaliser (lower-case scheme and host, no default port, no
fragment, '/' for an empty path) returned for it.

Rules, in order:
- scheme and host lower-cased; a non-ASCII host IDNA-encoded; a trailing dot on the host dropped;
- the default port (80 for http, 443 for https) dropped; the fragment dropped; an empty path is '/';
- percent-escapes (path and query): an escaped unreserved character (RFC 3986 2.3: letters, digits, -._~) is
  decoded, other escapes are upper-cased (RFC 3986 6.2.2: both keep the URL's meaning); spaces and non-ASCII
  characters are escaped (an IRI and its URI are one page). Escaped reserved characters (%2F, %3A, %26...)
  stay escaped: decoding them can change what a server reads;
- query: tracking parameters removed (utm_* and other prefixes, fbclid, gclid, mc_cid, ..., see
  _TRACKING_EXACT), empty '&&' pieces removed, the remaining pieces sorted (by decoded name, then value).
  Each piece is kept as written otherwise: '?article8532' keeps no '=' (SPIP, Dotclear read the raw query)
  and '+' is not rewritten to '%20';
- AMP renderings: a last path segment 'amp' (/story/amp, /story/amp/), a leading '/amp/' segment, a '.amp'
  or '.amp.html' suffix, and the parameters ?amp, ?amp=1, ?outputType=amp.
Not done, on purpose: trailing slashes and 'index.html' are kept (servers may tell them apart, and stored
ids of such URLs would move); 'amp.' hosts are kept (amp.example.com may be www.example.com or
example.com: the page's rel=canonical, followed by extractors.articles, settles it); http and https, and
www. and bare hosts, stay different URLs; mid-path /amp/ segments (/news/amp/123) are kept.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

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


def _query(query: str) -> str:
    """Tracking parameters and empty pieces removed, the rest sorted, each piece as written (escapes normalised)."""
    kept: list[tuple[str, str, str]] = []
    for piece in query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        dname, dvalue = unquote_plus(name), unquote_plus(value)
        if _is_tracking(dname, dvalue):
            continue
        kept.append((dname, dvalue, _normalise_pct(piece, safe="/?:@!$&'()*+,;=")))
    kept.sort()
    return "&".join(piece for _, _, piece in kept)


def canonicalize_url(url: str) -> str:
    """The canonical form of a web URL: one document -> one string (rules in the module docstring).

    Idempotent, and the identity on a URL that is already canonical. Strings that are not hierarchical
    URLs are returned stripped but otherwise unchanged.
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
    return urlunsplit((scheme, netloc, path, _query(parts.query), ""))


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
