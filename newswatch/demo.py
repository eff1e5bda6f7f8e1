"""The embedded loopback server for the demo watch: serves the seed feed and pages with real HTTP headers.

`make run` starts it on 127.0.0.1 (port DEMO_PORT, random if busy) and points the demo watch at its feed, so the demo goes
through the real path (HTTP, conditional GET, robots.txt, trafilatura) without touching the internet.
Tests use the same server. Responses carry Content-Type with charset, ETag, Last-Modified and
Cache-Control; conditional requests get 304; gzip is used when the client accepts it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "seeds" / "fixtures"
FEED_PATH = "/feeds/rotherham.xml"
# The demo serves on a fixed loopback port when it is free, so that URLs (and so article ids) are the same
# from one `make run` to the next; tests pass port=0 for a random one.
DEMO_PORT = 18731
ROBOTS = b"User-agent: *\nAllow: /\n"


@dataclass
class FixtureSite:
    """The fixture files, rendered for one origin. Files can be added or replaced by tests."""

    root: Path = FIXTURES
    pages: dict[str, tuple[bytes, str, datetime | None]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self, base: str) -> None:
        manifest = json.loads((self.root / "manifest.json").read_text(encoding="utf-8"))
        for url_path, info in manifest.items():
            body = (self.root / info["file"]).read_text(encoding="utf-8").replace("__BASE__", base).encode("utf-8")
            ctype = "application/rss+xml; charset=utf-8" if url_path.endswith(".xml") else "text/html; charset=utf-8"
            published = datetime.fromisoformat(info["published"]) if info.get("published") else None
            self.pages[url_path] = (body, ctype, published)

    def put(self, url_path: str, body: bytes, content_type: str, modified: datetime | None = None) -> None:
        with self.lock:
            self.pages[url_path] = (body, content_type, modified)


def _handler(site: FixtureSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "newswatch-demo/1"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            path = self.path.split("?", 1)[0].split("#", 1)[0]
            with site.lock:
                site.requests.append(("GET", self.path, dict(self.headers.items())))
                entry = site.pages.get(path)
            if path == "/robots.txt":
                self._send(200, ROBOTS, "text/plain; charset=utf-8", None)
                return
            if entry is None:
                self._send(404, b"not found\n", "text/plain; charset=utf-8", None)
                return
            body, ctype, modified = entry
            self._send(200, body, ctype, modified)

        def _send(self, status: int, body: bytes, ctype: str, modified: datetime | None) -> None:
            etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
            last_mod = format_datetime(modified.astimezone(UTC), usegmt=True) if modified else None
            if status == 200 and self._not_modified(etag, modified):
                self.send_response(304)
                self.send_header("ETag", etag)
                if last_mod:
                    self.send_header("Last-Modified", last_mod)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            gz = "gzip" in (self.headers.get("Accept-Encoding") or "") and len(body) > 512
            payload = gzip.compress(body, mtime=0) if gz else body
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            if gz:
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Vary", "Accept-Encoding")
            if status == 200:
                self.send_header("ETag", etag)
                self.send_header("Cache-Control", "max-age=60")
                if last_mod:
                    self.send_header("Last-Modified", last_mod)
            self.end_headers()
            self.wfile.write(payload)

        def _not_modified(self, etag: str, modified: datetime | None) -> bool:
            inm = self.headers.get("If-None-Match")
            if inm is not None:
                return etag in [t.strip() for t in inm.split(",")]
            ims = self.headers.get("If-Modified-Since")
            if ims and modified:
                try:
                    return modified.astimezone(UTC).replace(microsecond=0) <= parsedate_to_datetime(ims)
                except (TypeError, ValueError):
                    return False
            return False

    return Handler


@dataclass(frozen=True)
class DemoServer:
    base: str
    feed_url: str
    site: FixtureSite


@contextmanager
def serve_fixtures(root: Path = FIXTURES, host: str = "127.0.0.1", port: int = 0) -> Iterator[DemoServer]:
    """Serve the fixture site on a loopback port (0: random; busy fixed port: random) for the block."""
    site = FixtureSite(root=root)
    try:
        server = ThreadingHTTPServer((host, port), _handler(site))
    except OSError:
        server = ThreadingHTTPServer((host, 0), _handler(site))
    server.daemon_threads = True
    base = f"http://{host}:{server.server_address[1]}"
    site.load(base)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield DemoServer(base=base, feed_url=base + FEED_PATH, site=site)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
