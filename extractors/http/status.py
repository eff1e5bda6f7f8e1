"""HTTP status codes decided once: the class of a code, and whether an outcome is worth a try next run."""

from __future__ import annotations

from enum import StrEnum

REDIRECT_CODES = (301, 302, 303, 307, 308)
PERMANENT_REDIRECT_CODES = (301, 308)


class HttpClass(StrEnum):
    """What an HTTP status code means to the fetcher: the one decision; docs/fetching.md has the table."""

    OK = "ok"  # 2xx
    NOT_MODIFIED = "not_modified"  # 304
    REDIRECT = "redirect"  # 301/302/303/307/308: followed (without a Location: terminal http_error)
    GONE = "gone"  # 410
    TRANSIENT = "transient"  # retried now (up to `retries`) and, failing that, next run
    TERMINAL = "terminal"  # final for this URL: not retried now nor next run


# 5xx codes that say the server will never serve this request, however often we ask (RFC 9110 15.6,
# RFC 2295, RFC 5842, RFC 2774). Every other 5xx is the server's trouble now, Cloudflare's 520-524 (the origin
# failed, refused, timed out) and proxies' 598/599 included.
TERMINAL_5XX = frozenset({501, 505, 506, 508, 510})
TRANSIENT_4XX = frozenset({408, 429})  # Request Timeout, Too Many Requests: ask again later


def http_class(code: int) -> HttpClass:
    """The class of an HTTP status code (any integer; unknown codes follow their hundred)."""
    if 200 <= code < 300:
        return HttpClass.OK
    if code == 304:
        return HttpClass.NOT_MODIFIED
    if code in REDIRECT_CODES:
        return HttpClass.REDIRECT
    if code == 410:
        return HttpClass.GONE
    if code in TRANSIENT_4XX or (500 <= code < 600 and code not in TERMINAL_5XX):
        return HttpClass.TRANSIENT
    return HttpClass.TERMINAL


# The statuses retried within a run (derived, for readers of the old name).
RETRY_STATUS = frozenset(c for c in range(100, 600) if http_class(c) is HttpClass.TRANSIENT)
TRANSIENT_FETCH_STATUSES = frozenset({"timeout", "error"})  # no usable answer: the next run asks again


def is_transient(status: str, http_status: int | None) -> bool:
    """Is a fetch outcome worth trying again next run? The value of FetchResult.transient, decided here only.

    timeout and error (DNS, connect, reset, TLS, corrupt or cut-off body, redirect loops) are; an http_error is
    when its code is TRANSIENT; ok, not_modified, gone, blocked, too_large, not_html and other codes are not.
    """
    if status in TRANSIENT_FETCH_STATUSES:
        return True
    return status == "http_error" and http_status is not None and http_class(http_status) is HttpClass.TRANSIENT


HOST_PAUSE_STATUS = frozenset({429, 503})  # a Retry-After with these pauses the whole host
