"""The whole pipeline over the seed fixture site, with the digest mailed to a real aiosmtpd server."""

from __future__ import annotations

import pytest

from flows.pipeline import run_monitor
from newswatch.config import SmtpSettings
from tests.nwtest import make_config as demo_config


@pytest.mark.slow
def test_seed_run_mails_one_digest_once(fixture_server, smtp_server, tmp_path):
    srv = smtp_server()
    cfg = demo_config()
    cfg = cfg.model_copy(
        update={
            "smtp": SmtpSettings(
                host="127.0.0.1", port=srv.port, starttls=False, sender="digest@newswatch.example"
            ),
            "unsubscribe_url": "https://news.example.org/unsubscribe",
        }
    )
    db = str(tmp_path / "nw.duckdb")
    out = tmp_path / "digests"
    first = run_monitor(cfg, db, extra_feeds=[fixture_server.feed_url], out_dir=str(out))
    (d,) = first.digests
    assert d.status == "sent", d.detail
    assert len(srv.accepted) == 1
    msg = srv.accepted[0]
    assert msg["Message-ID"] == d.message_id and msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = msg.get_body(("plain",)).get_content()
    # the five seeds: two stories; 001 and 002 are one text, so the Advertiser's copy is folded
    assert d.items == 2 and "2 new stories" in str(msg["Subject"])
    assert "Also ran in: Rotherham Advertiser" in text
    assert sorted(p.suffix for p in out.iterdir()) == [".eml", ".html"]

    second = run_monitor(cfg, db, extra_feeds=[fixture_server.feed_url], out_dir=str(out), force=True)
    assert second.digests[0].status == "empty"
    assert len(srv.accepted) == 1
