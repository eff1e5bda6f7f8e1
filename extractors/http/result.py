"""One exchange (before classification) and the FetchResult it becomes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from extractors.http.policy import parse_content_type
from extractors.http.status import REDIRECT_CODES
from newswatch.models import FetchResult


@dataclass
class _Exchange:
    """One request/response (or its failure), before classification."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    outcome: str = "ok"  # ok | too_large | not_html | timeout | error | decode_error
    detail: str = ""
    retry_now: bool = False  # worth another try within this run (a transient status or a reset connection)
    attempts: int = 1  # tries for this hop, set by _exchange_with_retries


def _since(t0: float) -> float:
    return round(time.monotonic() - t0, 4)


def classify(
    ex: _Exchange,
    common: dict[str, Any],
    permanent: str | None,
    kind: str,
    etag: str | None,
    last_modified: str | None,
    started: float,
    max_retry_after_s: float,
) -> FetchResult:
    """The FetchResult of the last hop's exchange (its transient flag is set by Fetcher.fetch)."""
    mime, charset = parse_content_type(ex.headers.get("content-type"))
    common = dict(
        common, content_type=mime, charset=charset, permanent_redirect=permanent,
        cache_control=ex.headers.get("cache-control"), expires=ex.headers.get("expires"),
    )
    elapsed = _since(started)
    # tries of the last hop only: "HTTP 503 after 3 tries" even when a redirect came first
    tries = f" after {ex.attempts} tries" if ex.attempts > 1 else ""
    if ex.outcome in ("timeout", "error"):
        return FetchResult(status=ex.outcome, detail=ex.detail + tries, elapsed_s=elapsed, **common)
    if ex.outcome in ("too_large", "not_html", "decode_error"):
        status = "error" if ex.outcome == "decode_error" else ex.outcome
        return FetchResult(status=status, detail=ex.detail, elapsed_s=elapsed, **common)
    code = ex.status or 0
    new_etag = ex.headers.get("etag")
    new_lm = ex.headers.get("last-modified")
    if code == 304:
        # A 304 need not repeat the validators; keep the ones we sent so the caller does not lose them.
        return FetchResult(
            status="not_modified",
            etag=new_etag or etag,
            last_modified=new_lm or last_modified,
            detail="HTTP 304 not modified",
            elapsed_s=elapsed,
            **common,
        )
    if 200 <= code < 300:
        return FetchResult(
            status="ok", body=ex.body, etag=new_etag, last_modified=new_lm, elapsed_s=elapsed, **common
        )
    if code == 410:
        return FetchResult(status="gone", detail="HTTP 410 gone", elapsed_s=elapsed, **common)
    if code in REDIRECT_CODES:
        return FetchResult(
            status="http_error", detail=f"HTTP {code} without Location", elapsed_s=elapsed, **common
        )
    extra = ""
    if (
        common.get("retry_after_s") is not None
        and common["retry_after_s"] > max_retry_after_s
    ):
        extra = (
            f"; Retry-After {common['retry_after_s']:.0f}s exceeds max_retry_after_s, will retry next run"
        )
    return FetchResult(
        status="http_error", detail=f"HTTP {code}{tries}{extra}", elapsed_s=elapsed, **common
    )
