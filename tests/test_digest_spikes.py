"""A digest delayed past SPIKE_DAYS still tells the spikes since the last told digest (and never twice)."""

from __future__ import annotations

from datetime import timedelta

from flows.digest_stage import run_digest
from tests.alerts.conftest import now, warehouse  # noqa: F401 (fixtures)
from tests.alerts.test_alerts_spikes import BURST, _burst, _config, _quiet_month, _text
from warehouse.digests import SPIKE_DAYS


def test_a_digest_delayed_past_a_week_still_tells_the_spikes_since_the_last_one(warehouse, now, tmp_path) -> None:  # noqa: F811
    cfg = _config()
    _quiet_month(warehouse, now)
    quiet = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path / "1"), now=now - timedelta(hours=6))
    assert quiet.status == "written" and "attention spike:" not in _text(quiet.eml_path)
    _burst(warehouse, now)
    # the next digest comes ten days after the burst (a weekly digest that was delayed): the burst's day is
    # before its last SPIKE_DAYS days, but after the last told digest
    late = now + timedelta(days=SPIKE_DAYS + 3)
    o = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path / "2"), now=late)
    assert o.status == "written" and o.items == BURST
    text = " ".join(_text(o.eml_path).split())
    assert f"attention spike: IOPC, {BURST} stories on {now.date():%Y-%m-%d}" in text, text
    again = run_digest(warehouse.path, cfg, "rotherham", out_dir=str(tmp_path / "3"), now=late + timedelta(hours=1))
    assert again.eml_path is None or "attention spike:" not in _text(again.eml_path)
