"""The PNG chart's own date ticks (matplotlib's date locators are not used): few, inside the series, years shown."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from warehouse.trends import TrendPoint, TrendSeries, _date_ticks, render_png


def test_ticks_stay_inside_the_series_are_few_and_show_the_year_where_it_changes() -> None:
    for first, last in [(date(2024, 12, 1), date(2026, 11, 30)), (date(2026, 1, 1), date(2026, 1, 5)),
                        (date(2026, 1, 1), date(2026, 2, 20)), (date(2025, 12, 20), date(2026, 1, 3)),
                        (date(2026, 1, 15), date(2026, 5, 3)), (date(2016, 1, 1), date(2026, 1, 1))]:
        ticks = _date_ticks(first, last)
        assert 1 <= len(ticks) <= 10, (first, last, ticks)
        assert all(first <= d <= last for d, _ in ticks)
        assert [d for d, _ in ticks] == sorted(d for d, _ in ticks)
        years = [d.year for d, _ in ticks]
        assert [str(d.year) in label for d, label in ticks] == [
            i == 0 or years[i] != years[i - 1] for i in range(len(ticks))]
    assert [label for _, label in _date_ticks(date(2025, 12, 1), date(2026, 3, 1))] == [
        "Dec\n2025", "Jan\n2026", "Feb", "Mar"]


def test_two_watches_draw_two_panels(tmp_path: Path) -> None:
    def s(watch: str) -> TrendSeries:
        pts = tuple(TrendPoint(watch, "week", date(2026, 1, 5) + timedelta(weeks=i), i % 4, 1, i % 4, i, 1, i == 3)
                    for i in range(30))
        return TrendSeries(watch, None, "week", pts)

    one, two = tmp_path / "one.png", tmp_path / "two.png"
    render_png([s("a")], one)
    render_png([s("a"), s("b")], two)
    height = lambda p: int.from_bytes(p.read_bytes()[20:24], "big")  # noqa: E731 - PNG IHDR height
    assert one.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert height(two) == 2 * height(one)
