"""Builds the fixture site (one HTML page per seed, with page chrome) and the RSS feed from the seeds.

    python seeds/build_fixtures.py          # rewrite seeds/fixtures/
    python seeds/build_fixtures.py --check  # exit 1 if seeds/fixtures/ is not what this script builds

The pages and feed contain the token __BASE__ where the serving origin goes (e.g. http://127.0.0.1:8123);
newswatch/demo.py substitutes it when serving. URL paths are /<host><path>, so several outlets share one
loopback server and the outlet name comes from the page (og:site_name), as on the real web.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import tomllib
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "fixtures"
BASE = "__BASE__"

# Page chrome per outlet: navigation, related links, ad slots and footer differ as they do on real sites.
CHROME = {
    "Sky News": {
        "nav": ["Home", "UK", "World", "Politics", "US", "Climate", "Science & Tech", "Business", "Watch"],
        "related": ["Watch Sky News live", "Ex-officer jailed over misconduct", "Weather: heatwave to continue"],
        "footer": "© 2018 Sky UK. Terms of Use. Privacy & Cookies. Accessibility. Contact Us.",
    },
    "The Star": {
        "nav": ["News", "Sport", "Sheffield Wednesday", "Sheffield United", "What's On", "Lifestyle", "Jobs"],
        "related": ["Sheffield schoolgirls injured in brawl in city park", "Traffic: M1 delays near junction 33",
                    "Sheffield Wednesday sign new striker"],
        "footer": "© 2018 JPIMedia Publishing Ltd. All rights reserved. Cookie settings. Terms and conditions.",
    },
    "Rotherham Advertiser": {
        "nav": ["News", "Sport", "Millers", "Leisure", "Property", "Jobs", "Announcements"],
        "related": ["Rotherham United pre-season fixtures", "Town centre roadworks next week"],
        "footer": "© 2018 Garnett Dickinson Publishing. All rights reserved. Privacy. Contact.",
    },
    "GB News": {
        "nav": ["News", "Politics", "Royal", "Showbiz", "Sport", "Weather", "Watch", "Listen"],
        "related": ["Most read: Weather warning issued", "Politics live", "The People's Channel schedule"],
        "footer": "© 2024 GB News. All rights reserved. Privacy notice. Complaints. Advertise with us.",
    },
    "Yorkshire Post": {
        "nav": ["News", "Sport", "Business", "Opinion", "Heritage", "Food and Drink", "Read This"],
        "related": ["Azeem Rafiq says family has faced 'threats, attacks and intimidation'",
                    "Yorkshire weather: Met Office forecast", "Leeds United transfer news"],
        "footer": "© 2024 National World Publishing Ltd. All rights reserved. Cookie settings. Terms.",
    },
}


def _slug(s: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in s.lower()).strip("-")


def _seed_parts(text: str, meta: dict) -> tuple[str, list[str]]:
    """(title, body lines). The first non-empty line is the title unless seeds.toml gives one."""
    if meta.get("strip_prefix") and text.startswith(meta["strip_prefix"]):
        text = text[len(meta["strip_prefix"]) :]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if meta.get("title"):
        return meta["title"], lines
    return lines[0], lines[1:]


def render_page(*, site: str, host: str, path: str, title: str, body: list[str], published: str, author: str,
                section: str) -> str:
    chrome = CHROME[site]
    url = f"{BASE}/{host}{path}"
    nav = "\n".join(f'        <li><a href="{BASE}/{host}/{_slug(n)}">{html.escape(n)}</a></li>' for n in chrome["nav"])
    related = "\n".join(
        f'        <li><a href="{BASE}/{host}/related/{_slug(r)}">{html.escape(r)}</a></li>' for r in chrome["related"]
    )
    paras = []
    for i, line in enumerate(body):
        paras.append(f"      <p>{html.escape(line, quote=False)}</p>")
        if i in (3, 9):  # ad slots inside the article, as real pages have them
            paras.append('      <div class="ad-slot ad-inline" data-ad-unit="mpu"><span>Advertisement</span></div>')
    paras_html = "\n".join(paras)
    e = html.escape
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>{e(title)} | {e(site)}</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="description" content="{e(body[0][:200])}">
  <meta property="og:site_name" content="{e(site)}">
  <meta property="og:type" content="article">
  <meta property="og:title" content="{e(title)}">
  <meta property="og:url" content="{url}">
  <meta property="article:published_time" content="{published}">
  <meta property="article:section" content="{e(section)}">
  <meta name="author" content="{e(author)}">
  <link rel="canonical" href="{url}">
  <link rel="alternate" type="application/rss+xml" title="{e(site)}" href="{BASE}/feeds/rotherham.xml">
  <script>window.dataLayer = window.dataLayer || []; /* analytics */</script>
</head>
<body>
  <div class="cookie-banner">We use cookies to improve your experience. <button>Accept all</button></div>
  <header class="site-header">
    <a class="logo" href="{BASE}/{host}/">{e(site)}</a>
    <nav class="primary-nav">
      <ul>
{nav}
      </ul>
    </nav>
    <div class="ad-slot ad-leaderboard" data-ad-unit="leaderboard"><span>Advertisement</span></div>
  </header>
  <main>
    <article class="article">
      <h1 class="headline">{e(title)}</h1>
      <div class="byline">By <span class="author">{e(author)}</span>
        <time datetime="{published}">{published[:10]}</time></div>
      <div class="article-body">
{paras_html}
      </div>
      <div class="share">Share this article: Facebook Twitter Email</div>
    </article>
    <aside class="related">
      <h2>Related stories</h2>
      <ul>
{related}
      </ul>
      <div class="ad-slot ad-sidebar" data-ad-unit="sidebar"><span>Advertisement</span></div>
    </aside>
  </main>
  <footer class="site-footer">
    <p>{e(chrome["footer"])}</p>
  </footer>
</body>
</html>
"""


def render_feed(items: list[dict]) -> str:
    entries = []
    for it in sorted(items, key=lambda i: i["published"], reverse=True):
        pub = format_datetime(datetime.fromisoformat(it["published"]))
        # Feed links carry tracking parameters, as real feeds do; canonicalisation removes them.
        link = f"{BASE}/{it['host']}{it['path']}?utm_source=rss&amp;utm_medium=feed"
        entries.append(f"""    <item>
      <title>{html.escape(it['title'], quote=False)}</title>
      <link>{link}</link>
      <guid isPermaLink="false">{it['host']}:{_slug(it['path'])[-60:]}</guid>
      <pubDate>{pub}</pubDate>
      <dc:creator>{html.escape(it['site'])}</dc:creator>
      <description>{html.escape(it['summary'], quote=False)}</description>
    </item>""")
    body = "\n".join(entries)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>Rotherham abuse inquiry: regional coverage (newswatch fixture)</title>
    <link>{BASE}/</link>
    <description>Fixture feed built from the newswatch seed articles.</description>
    <language>en-gb</language>
{body}
  </channel>
</rss>
"""


def build() -> dict[str, str]:
    """Every fixture file as {relative path: content}."""
    cfg = tomllib.loads((HERE / "seeds.toml").read_text(encoding="utf-8"))
    files: dict[str, str] = {}
    items: list[dict] = []
    manifest: dict[str, dict] = {}
    for meta in cfg["seed"]:
        text = (HERE / meta["file"]).read_text(encoding="utf-8")
        title, body = _seed_parts(text, meta)
        page = render_page(site=meta["site"], host=meta["host"], path=meta["path"], title=title, body=body,
                           published=meta["published"], author=meta["author"], section=meta["section"])
        rel = f"site/{meta['host']}{meta['path']}".rstrip("/") + ("" if meta["path"].endswith((".htm", ".html")) else ".html")
        files[rel] = page
        manifest[f"/{meta['host']}{meta['path']}"] = {"file": rel, "seed": meta["file"], "published": meta["published"]}
        items.append({**meta, "title": title, "summary": body[0]})
    for meta in cfg.get("offtopic", []):
        body = [ln.strip() for ln in meta["text"].splitlines() if ln.strip()]
        page = render_page(site=meta["site"], host=meta["host"], path=meta["path"], title=meta["title"], body=body,
                           published=meta["published"], author="Star reporter", section="News")
        rel = f"site/{meta['host']}{meta['path']}.html"
        files[rel] = page
        manifest[f"/{meta['host']}{meta['path']}"] = {"file": rel, "seed": None, "published": meta["published"]}
        items.append({**meta, "summary": body[1]})
    files["feeds/rotherham.xml"] = render_feed(items)
    manifest["/feeds/rotherham.xml"] = {"file": "feeds/rotherham.xml", "seed": None, "published": None}
    files["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    return files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if the fixtures on disk differ from a fresh build")
    args = ap.parse_args()
    files = build()
    if args.check:
        stale = [rel for rel, content in files.items()
                 if not (OUT / rel).is_file() or (OUT / rel).read_text(encoding="utf-8") != content]
        for rel in stale:
            print(f"stale fixture: seeds/fixtures/{rel}", file=sys.stderr)
        return 1 if stale else 0
    for rel, content in files.items():
        p = OUT / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content, encoding="utf-8")
    print(f"wrote {len(files)} files under {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
