"""A real headless Chromium renders the HTML digest: the page is not blank, every item's headline is visible and
the attention chart (the PNG next to the .html file) is loaded and shown.

The screenshot shown in docs/alerts.md (docs/alerts_digest.png) is regenerated with the golden-file flag:
    NEWSWATCH_UPDATE_GOLDEN=1 .venv/bin/pytest tests/alerts/test_alerts_chromium.py   (then look at the PNG)
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.digest_stage import run_digest
from newswatch.config import parse_config

REPO = Path(__file__).resolve().parents[2]
DOC_SCREENSHOT = REPO / "docs" / "alerts_digest.png"
WIDTH, HEIGHT = 800, 1100
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it"
)

# Appended to a copy of the page: for every headline and image, its box and computed style after layout. It runs
# on the load event, which waits for every image (loaded or failed); --dump-dom dumps the DOM after it.
PROBE = """<script>
window.addEventListener('load', () => {
  const box = el => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return {left: r.left, top: r.top, width: r.width, height: r.height,
            visibility: s.visibility, display: s.display, opacity: s.opacity, color: s.color};
  };
  const out = {
    headlines: [...document.querySelectorAll('h2')].map(h => ({text: h.innerText, ...box(h)})),
    images: [...document.images].map(i => ({id: i.id, src: i.getAttribute('src'), complete: i.complete,
                                            naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight,
                                            ...box(i)})),
  };
  const pre = document.createElement('pre');
  pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
        "--force-device-scale-factor=1", f"--window-size={WIDTH},{HEIGHT}",
        f"--user-data-dir={tmp_path / 'profile'}", "--no-first-run", "--disable-extensions",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


def _image_stats(png: Path) -> tuple[float, float, object]:
    """(grey variance, share of dark pixels, image) of a screenshot, via Pillow."""
    from PIL import Image, ImageStat

    img = Image.open(png).convert("L")
    var = ImageStat.Stat(img).var[0]
    hist = img.histogram()
    dark = sum(hist[:128]) / (img.width * img.height)
    return var, dark, img


NOW = datetime(2024, 10, 4, 7, 0, tzinfo=UTC)


def _earlier_coverage(warehouse) -> None:
    """Ten weeks of earlier stories (one or two a week, five on 26 September: an attention spike), told by an
    earlier digest: they make the attention chart, and the digest under test carries the seeds only."""
    n = 0
    for week in range(10, 0, -1):
        for _ in range(1 + week % 2):
            n += 1
            warehouse.add(f"bg{n}", title=f"Rotherham council report {n}", source="Yorkshire Post",
                          published=NOW - timedelta(weeks=week, hours=n))
    for i in range(5):
        warehouse.add(f"burst{i}", title=f"Report {i} of the IOPC statement", source=f"Outlet {i}",
                      published=datetime(2024, 9, 26, 9 + i, tzinfo=UTC))


def test_chromium_renders_the_digest_with_every_headline_visible(warehouse, load_seeds, tmp_path) -> None:
    _earlier_coverage(warehouse)
    cfg = parse_config(
        'unsubscribe_url = "https://news.example.org/unsubscribe/{watch}"\n'
        'view_url = "https://news.example.org/digests/{file}"\n'
        'edit_url = "https://news.example.org/watches/{watch}"\n'
        '[[watches]]\nname = "rotherham"\n'
        'description = "Rotherham child sexual exploitation and the IOPC investigation of South Yorkshire Police"\n'
        "query = 'Rotherham OR IOPC OR grooming'\nmax_items = 50\n",
        origin="test",
    )
    earlier = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path / "earlier"),
                         now=NOW - timedelta(days=3))
    assert earlier.status == "written" and earlier.items == 20
    load_seeds(warehouse)
    o = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path / "out"), now=NOW)
    assert o.status == "written" and o.html_path
    page = Path(o.html_path)
    headlines = [t for (t,) in warehouse.query(
        "select title from digest_items where digest_id = ? order by position", [o.digest_id])]
    assert len(headlines) == 2
    chart_file = page.with_suffix(".png")
    assert chart_file.is_file()

    shot = tmp_path / "digest.png"
    p = _chromium(tmp_path, f"--screenshot={shot}", page.as_uri())
    assert shot.is_file(), f"chromium wrote no screenshot (exit {p.returncode}): {p.stderr[-2000:]}"

    probe_page = page.with_name("probe.html")  # beside the page: the chart is named by a relative path
    probe_page.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    p = _chromium(tmp_path, "--dump-dom", probe_page.as_uri())
    m = re.search(r'<pre id="probe">(.*?)</pre>', p.stdout, re.S)
    assert m, f"no layout probe in the rendered DOM (exit {p.returncode}): {p.stderr[-2000:]}"
    probe = json.loads(html.unescape(m.group(1)))
    boxes = probe["headlines"]

    var, dark, img = _image_stats(shot)
    assert var > 200 and dark > 0.005, f"the screenshot looks blank (variance {var:.0f}, dark share {dark:.4f})"
    assert len(boxes) == len(headlines)
    for title, box in zip(headlines, boxes, strict=True):
        assert " ".join(title.split()) in " ".join(box["text"].split())
        assert box["display"] != "none" and box["visibility"] == "visible" and float(box["opacity"]) == 1.0
        assert box["width"] > 50 and box["height"] > 8
        assert box["left"] >= 0 and box["left"] + box["width"] <= WIDTH and 0 <= box["top"] < HEIGHT
        # ink where the layout says the headline is: the text really was painted there
        region = img.crop((int(box["left"]), int(box["top"]), int(box["left"] + box["width"]),
                           int(box["top"] + box["height"])))
        ink = sum(region.histogram()[:160]) / max(1, region.width * region.height)
        assert ink > 0.02, f"headline {title!r} has no ink in the screenshot ({ink:.3f})"

    # the attention chart: loaded from the PNG next to the page (a broken image has naturalWidth 0), laid out
    # at its width and painted
    (chart,) = probe["images"]
    assert chart["id"] == "attention-chart" and chart["src"] == chart_file.name
    assert chart["complete"] and chart["naturalWidth"] > 0 and chart["naturalHeight"] > 0
    from PIL import Image

    assert (chart["naturalWidth"], chart["naturalHeight"]) == Image.open(chart_file).size
    assert chart["display"] != "none" and chart["visibility"] == "visible"
    assert chart["width"] > 200 and chart["height"] > 50 and chart["left"] + chart["width"] <= WIDTH
    assert chart["top"] + chart["height"] <= HEIGHT, "the chart is below the screenshot"
    region = img.crop((int(chart["left"]), int(chart["top"]), int(chart["left"] + chart["width"]),
                       int(chart["top"] + chart["height"])))
    assert sum(region.histogram()[:200]) / (region.width * region.height) > 0.02, "the chart was not painted"

    if os.environ.get("NEWSWATCH_UPDATE_GOLDEN") == "1":
        # small enough for the repository: the page down to the chart, 64 colours
        bottom = max(int(max(b["top"] for b in boxes)) + 260, int(chart["top"] + chart["height"]) + 16)
        top = Image.open(shot).convert("RGB").crop((0, 0, WIDTH, min(HEIGHT, bottom)))
        top.quantize(colors=64).save(DOC_SCREENSHOT, optimize=True)
