"""The one hardened HTTP client for feeds, pages and robots.txt (timeouts, deadline, caps, SSRF pinning, politeness).

Every request goes through the same path:

    check_url (scheme, userinfo, port)      -> blocked
    resolve once, check every address       -> blocked          (extractors/netguard.py)
    robots.txt of the host (cached)         -> blocked
    per-host slot (concurrency + delay)                         (politeness.py)
    GET over a pinned connection            -> the TCP connection goes to an address that was checked (transport.py)
    status: 3xx -> next hop (re-checked from the top), 304, 410, transient codes -> retry with backoff (status.py)
    body read with a total deadline and a cap on DECOMPRESSED bytes, binary content sniffed          (body.py)

and ends as one FetchResult (result.py), whose `transient` says whether to ask again next run; nothing raises
out of fetch()/fetch_many() for a network problem. The Fetcher (client.py) ties the parts together.
docs/fetching.md explains each policy and setting, and has the status table.
"""

from __future__ import annotations

from extractors.http.client import Fetcher
from extractors.http.policy import KINDS, parse_content_type, parse_retry_after
from extractors.http.politeness import MAX_CRAWL_DELAY_S
from extractors.http.status import (
    HOST_PAUSE_STATUS,
    PERMANENT_REDIRECT_CODES,
    REDIRECT_CODES,
    RETRY_STATUS,
    TERMINAL_5XX,
    TRANSIENT_4XX,
    TRANSIENT_FETCH_STATUSES,
    HttpClass,
    http_class,
    is_transient,
)

__all__ = [
    "HOST_PAUSE_STATUS",
    "KINDS",
    "MAX_CRAWL_DELAY_S",
    "PERMANENT_REDIRECT_CODES",
    "REDIRECT_CODES",
    "RETRY_STATUS",
    "TERMINAL_5XX",
    "TRANSIENT_4XX",
    "TRANSIENT_FETCH_STATUSES",
    "Fetcher",
    "HttpClass",
    "http_class",
    "is_transient",
    "parse_content_type",
    "parse_retry_after",
]
