"""Response bodies: Content-Type, decoding with a cap on decompressed bytes (gzip bombs), binary refusal."""

from __future__ import annotations

import zlib
from typing import Any

import httpcore

from extractors.http.policy import parse_content_type
from extractors.http.result import _Exchange
from extractors.sniff import SNIFF_BYTES, binary_mime, sniff


class _Decoder:
    """Content-Encoding decoder that never produces more than `cap` bytes (gzip bombs)."""

    def __init__(self, encoding: str | None) -> None:
        enc = (encoding or "identity").strip().lower()
        self.encoding = enc
        self._finished = False
        self._extra_member = False
        self._fed = False
        if enc in ("gzip", "x-gzip"):
            self._z: Any = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif enc == "deflate":
            self._z = None  # decided on the first bytes: zlib-wrapped or raw deflate
        elif enc in ("identity", ""):
            self._z = False
        else:
            raise ValueError(f"unsupported Content-Encoding {encoding!r}")

    def feed(self, data: bytes, limit: int) -> bytes:
        """Decode a chunk, producing at most limit+1 bytes (one more than allowed shows the cap was hit)."""
        if self._z is False:
            return data[: limit + 1]
        self._fed = self._fed or bool(data)
        if self._z is None:
            wbits = (
                zlib.MAX_WBITS
                if data[:1]
                and (data[0] & 0x0F) == 8
                and len(data) > 1
                and ((data[0] << 8) | data[1]) % 31 == 0
                else -zlib.MAX_WBITS
            )
            self._z = zlib.decompressobj(wbits)
        out = bytearray()
        chunk = data
        while chunk and not self._finished:
            if self._z.eof:
                # Bytes after the end of the stream: another gzip member (RFC 1952 allows several), or
                # trailing junk that browsers ignore. Try a new member; junk ends decoding quietly.
                if self.encoding not in ("gzip", "x-gzip"):
                    self._finished = True
                    break
                self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self._extra_member = True
            try:
                piece = self._z.decompress(chunk, limit + 1 - len(out))
            except zlib.error:
                if not self._extra_member:
                    raise
                self._finished = True
                break
            out += piece
            if len(out) > limit:
                break
            chunk = self._z.unconsumed_tail or (self._z.unused_data if self._z.eof else b"")
        return bytes(out)

    def truncated(self) -> bool:
        """True when the compressed stream ended before its end marker: the body was cut off in transfer.

        zlib decodes a prefix without complaint, so without this check half a gzip body (the connection
        closed early, Content-Length matching what was sent) is stored as a complete page or feed.
        """
        return self._fed and not self._finished and self._z not in (None, False) and not self._z.eof


def read_body(resp: httpcore.Response, ex: _Exchange, kind: str, cap: int) -> None:
    """Read a 2xx body into ex under the cap (decompressed bytes), or set ex.outcome to why it was refused."""
    mime, charset = parse_content_type(ex.headers.get("content-type"))
    if kind != "robots" and binary_mime(mime):
        ex.outcome = "not_html"
        ex.detail = f"content type {mime} is not a page or feed"
        return
    declared = ex.headers.get("content-length", "")
    enc = ex.headers.get("content-encoding")
    if declared.isdigit() and int(declared) > cap and not enc and kind != "robots":
        ex.outcome = "too_large"
        ex.detail = f"Content-Length {declared} exceeds the {cap}-byte cap for {kind}s"
        return
    try:
        decoder = _Decoder(enc)
    except ValueError as e:
        ex.outcome = "decode_error"
        ex.detail = str(e)
        return
    body = bytearray()
    raw = 0
    sniffed = False
    capped = False
    try:
        for chunk in resp.iter_stream():
            raw += len(chunk)
            body += decoder.feed(chunk, cap - len(body))
            if len(body) > cap or raw > cap:
                if kind == "robots":
                    del body[cap:]  # RFC 9309 2.5: parse the first 500 KiB
                    capped = True
                    break
                ex.outcome = "too_large"
                ex.detail = f"body exceeds the {cap}-byte cap for {kind}s (decompressed)"
                return
            if not sniffed and kind != "robots" and len(body) >= 512:
                sniffed = True
                if _refused_as_binary(ex, bytes(body[:SNIFF_BYTES]), mime, charset):
                    return
    except zlib.error as e:
        ex.outcome = "decode_error"
        ex.detail = f"corrupt {decoder.encoding} body: {e}"
        return
    if not capped and decoder.truncated():
        # transient: the next try (or run) usually gets the whole body; a partial text is never stored
        ex.outcome = "error"
        ex.detail = f"{decoder.encoding} body cut off before its end ({raw} compressed bytes received)"
        ex.retry_now = True
        return
    if not sniffed and kind != "robots" and _refused_as_binary(ex, bytes(body[:SNIFF_BYTES]), mime, charset):
        return
    ex.body = bytes(body)


def _refused_as_binary(ex: _Exchange, head: bytes, mime: str | None, charset: str | None) -> bool:
    """Mark the exchange not_html when the body starts like a binary format, whatever its Content-Type says."""
    what = sniff(head, charset).binary
    if what:
        ex.outcome = "not_html"
        ex.detail = f"body is {what} (Content-Type {mime or 'missing'})"
    return what is not None
