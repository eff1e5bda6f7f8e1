"""The attention chart in the digest: an inline PNG by Content-ID in the mail, a PNG next to the written .html,
nothing at all for a watch without trend data or with the chart switched off."""

from __future__ import annotations

import re
import struct
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path

import pytest

from alerts.render import DigestChart, RenderError, render_digest
from flows.digest_stage import run_digest
from newswatch.config import parse_config
from newswatch.models import Digest, DigestArticle, DigestItem

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _weeks_of_coverage(warehouse, now, weeks: int = 6) -> None:
    """One story in each of the `weeks` weeks before now, and two this week."""
    for i in range(1, weeks + 1):
        warehouse.add(f"w{i}", title=f"Earlier report {i}", source="Sky News", published=now - timedelta(weeks=i))
    warehouse.add("a1", title="Police chiefs to be investigated", source="Sky News", published=now - timedelta(hours=5))
    warehouse.add("b1", title="Council apologises to survivors", source="ITV", published=now - timedelta(hours=2))


def _config(smtp_port: int | None = None, digest: str = ""):
    text = '[[watches]]\nname = "rotherham"\nrecipients = ["desk@example.org"]\n'
    if digest:
        text += f"[watches.digest]\n{digest}\n"
    if smtp_port is not None:
        text += (f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nstarttls = false\n'
                 'sender = "digest@newswatch.example"\ntimeout_s = 5\nretries = 0\n')
    return parse_config(text, origin="test config")


def _ihdr(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE), "not a PNG (signature)"
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def _decoded_size(png: bytes) -> tuple[int, int]:
    from PIL import Image

    img = Image.open(BytesIO(png))
    img.load()  # decodes every pixel: a truncated or corrupt PNG raises here
    return img.size


def _parts(msg: EmailMessage) -> dict[str, list[EmailMessage]]:
    out: dict[str, list[EmailMessage]] = {}
    for part in msg.walk():
        out.setdefault(part.get_content_type(), []).append(part)
    return out


def test_the_chart_is_an_inline_png_whose_content_id_the_html_names(
    warehouse, smtp_server, now, tmp_path
) -> None:
    _weeks_of_coverage(warehouse, now)
    srv = smtp_server()
    o = run_digest(warehouse.path, _config(srv.port), "rotherham", out_dir=str(tmp_path), now=now)
    assert o.status == "sent" and len(srv.accepted) == 1
    msg = srv.accepted[0]
    assert msg.get_content_type() == "multipart/alternative"
    plain, related = list(msg.iter_parts())
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    assert related.get_param("type") == "text/html"
    html_part, png_part = list(related.iter_parts())
    assert html_part.get_content_type() == "text/html" and png_part.get_content_type() == "image/png"
    html = html_part.get_content()
    srcs = re.findall(r'<img id="attention-chart" src="cid:([^"]+)"', html)
    assert len(srcs) == 1
    assert png_part["Content-ID"] == f"<{srcs[0]}>"
    assert png_part.get_content_disposition() == "inline"
    png = png_part.get_content()
    width, height = _ihdr(png)
    assert width > 0 and height > 0 and _decoded_size(png) == (width, height)
    # the <img> keeps the PNG's proportions, so nothing is stretched while it loads
    w_attr, h_attr = (int(v) for v in re.search(r'width="(\d+)" height="(\d+)"', html).groups())
    assert abs(h_attr - height * w_attr / width) <= 1
    # the alt text and the plain-text part describe it; the text part says where the chart is
    assert "stories per week in watch rotherham" in html
    text = plain.get_content()
    assert "Attention chart: in the HTML version of this digest." in text
    assert "stories per week in watch rotherham" in " ".join(text.split())
    # the written .eml is the message that was sent
    assert Path(o.eml_path).read_bytes() == srv.handler.raw[0]


def test_the_digest_folder_keeps_the_png_next_to_the_html(warehouse, now, tmp_path) -> None:
    _weeks_of_coverage(warehouse, now)
    o = run_digest(warehouse.path, _config(), "rotherham", out_dir=str(tmp_path / "out"), now=now)
    assert o.status == "written"
    page = Path(o.html_path)
    html = page.read_text(encoding="utf-8")
    (src,) = re.findall(r'<img id="attention-chart" src="([^"]+)"', html)
    assert "/" not in src and not src.startswith("cid:")  # a relative path, in the same folder
    png_file = page.parent / src
    assert png_file.is_file() and png_file.name == page.name.removesuffix(".html") + ".png"
    # the same image the .eml carries inline
    msg = message_from_bytes(Path(o.eml_path).read_bytes(), policy=policy.default)
    (png_part,) = _parts(msg)["image/png"]
    assert png_file.read_bytes() == png_part.get_content()
    assert _ihdr(png_file.read_bytes()) == _decoded_size(png_file.read_bytes())


def test_a_watch_without_trend_data_gets_no_chart_and_no_broken_image(warehouse, now, tmp_path) -> None:
    # coverage in this week only: no trend yet
    warehouse.add("a1", title="Police chiefs to be investigated", source="Sky News", published=now - timedelta(hours=5))
    warehouse.add("b1", title="Council apologises to survivors", source="ITV", published=now - timedelta(days=1))
    o = run_digest(warehouse.path, _config(), "rotherham", out_dir=str(tmp_path), now=now)
    assert o.status == "written" and o.items == 2
    msg = message_from_bytes(Path(o.eml_path).read_bytes(), policy=policy.default)
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert "image/png" not in _parts(msg)
    html = Path(o.html_path).read_text(encoding="utf-8")
    assert "<img" not in html and "Attention over" not in html
    assert "Attention chart" not in msg.get_body(("plain",)).get_content()
    assert list(tmp_path.glob("*.png")) == []


def test_the_chart_can_be_switched_off(warehouse, now, tmp_path) -> None:
    _weeks_of_coverage(warehouse, now)
    cfg = _config(digest="chart = false")
    assert cfg.watches[0].digest.chart is False
    o = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path), now=now)
    assert o.status == "written"
    assert "<img" not in Path(o.html_path).read_text(encoding="utf-8")
    assert b"image/png" not in Path(o.eml_path).read_bytes() and list(tmp_path.glob("*.png")) == []


def test_chart_weeks_sets_the_window(warehouse, now, tmp_path) -> None:
    # coverage 6 weeks ago and this week: a 4-week chart has one covered week, so none; 8 weeks shows it
    warehouse.add("old", title="Earlier report", source="Sky News", published=now - timedelta(weeks=6))
    warehouse.add("a1", title="Police chiefs to be investigated", source="Sky News", published=now - timedelta(hours=5))
    short = run_digest(warehouse.path, _config(digest="chart_weeks = 4"), "rotherham", out_dir=str(tmp_path / "a"),
                       now=now)
    assert "<img" not in Path(short.html_path).read_text(encoding="utf-8")
    warehouse.add("b1", title="Council apologises to survivors", source="ITV", published=now - timedelta(hours=2))
    cfg = _config(digest="chart_weeks = 8")
    long = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path / "b"), now=now + timedelta(hours=1))
    html = Path(long.html_path).read_text(encoding="utf-8")
    assert "Attention over the last 8 weeks" in html and "<img" in html


@pytest.mark.parametrize("bad", [b"", b"GIF89a" + b"\0" * 40, PNG_SIGNATURE + b"\0\0\0\rIHDR" + b"\0" * 8])
def test_a_chart_that_is_not_a_png_is_refused(bad: bytes, now) -> None:
    digest = Digest("d1", "rotherham", now, (DigestItem(
        story_id="s1", title="Police chiefs to be investigated",
        lead=DigestArticle("a1", "Sky News", "Police chiefs to be investigated", "https://news.example/a1", now),
        others=(), copies=0, outlets=1, summary="", new_facts=(), is_update=False),), None)
    with pytest.raises(RenderError):
        render_digest(digest, chart=DigestChart(bad, "x.png", "caption", "alt"))


def test_rendering_with_a_chart_gives_the_same_bytes_twice(warehouse, now, tmp_path) -> None:
    _weeks_of_coverage(warehouse, now)
    o = run_digest(warehouse.path, _config(), "rotherham", out_dir=str(tmp_path), now=now)
    (png_file,) = tmp_path.glob("*.png")
    chart = DigestChart(png_file.read_bytes(), png_file.name, "caption", "alt")
    digest = Digest(o.digest_id, "rotherham", now, (), None)
    one = render_digest(digest, chart=chart, spikes=["attention spike: the watch rotherham"])
    two = render_digest(digest, chart=chart, spikes=["attention spike: the watch rotherham"])
    assert one.message == two.message  # the inner boundary is derived from digest_id too
    assert f"<chart-{o.digest_id}@".encode() in one.message
