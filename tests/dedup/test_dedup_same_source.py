"""Copies carried by one source (an outlet republishing, a folder of local files) and the same text at a new URL:
boilerplate is what otherwise different texts share, so a text's own copies never hide it (issue 10 §1)."""

from __future__ import annotations

from dedup_helpers import T0, article_row, days, load
from test_dedup_stage import STORY, group, groups

from extractors.dedup import align, boilerplate_units, is_copy, strip_shared_edges
from warehouse.db import connect
from warehouse.digests import record_digest, select_new

FOOTER = (
    "This article was produced by our newsroom and is shared with partner titles in the network. "
    "Got a story for us? Contact the news desk by email and we will get back to you as soon as possible."
)
OTHER_BODIES = [
    [
        "A new bus route will link the hospital with the railway station from next month, the council said.",
        "The operator said buses would run every twenty minutes during the day and hourly at night.",
        "Passengers will be able to pay with a contactless card or with the operator's own phone app.",
    ],
    [
        "The town library will reopen on Saturday after a two year refurbishment costing 3 million pounds.",
        "Visitors will find a new children's floor, a cafe and study rooms that can be booked online.",
        "The old reading room has been restored with the help of a grant from the heritage fund.",
    ],
    [
        "Police are appealing for witnesses after a lorry overturned on the bypass early on Friday morning.",
        "Nobody was seriously hurt but the road was closed for eight hours while the load was recovered.",
        "Officers would like to hear from drivers who have dashcam footage of the crash or the lorry.",
    ],
]


def _copies() -> list[str]:
    """Three edited copies of STORY: new lede, a dropped sentence, a changed figure, a truncation."""
    return [
        "\n".join(["Magistrates fined a water company for sewage spills into two rivers on Monday.", *STORY[1:], "Hide Ad"]),
        "\n".join([*STORY[:3], *STORY[4:]]).replace("410 dry days", "412 dry days"),
        "\n".join(STORY[:5]),
    ]


def test_copies_from_one_source_are_grouped_and_its_footer_is_boilerplate(tmp_path):
    # A folder of local files: one source, no dates, everything first seen in one run. Before, every
    # sentence that the source carried in two other articles was its template, so the copies were lost.
    con = connect(tmp_path / "w.duckdb")
    rows = [article_row("orig", "\n".join([*STORY, FOOTER]), source="local file", first_seen_at=T0)]
    rows += [
        article_row(f"copy{i}", f"{text}\n{FOOTER}", source="local file", first_seen_at=T0 + days(0.001 * (i + 1)))
        for i, text in enumerate(_copies())
    ]
    rows += [
        article_row(f"other{i}", "\n".join([*body, FOOTER]), source="local file", first_seen_at=T0 + days(0.01 * (i + 1)))
        for i, body in enumerate(OTHER_BODIES)
    ]
    load(con, rows)
    group(con, [r["article_id"] for r in rows])
    g = groups(con)
    assert {g[f"copy{i}"][0] for i in range(3)} == {g["orig"][0]}
    # the shared footer does not make the other articles copies of anything
    assert len({g[f"other{i}"][0] for i in range(3)} | {g["orig"][0]}) == 4
    bp = con.execute("SELECT boilerplate FROM core.article_units WHERE article_id = 'other2'").fetchone()[0]
    assert len(bp) == 2  # the footer's two sentences, learned from the otherwise different texts


def test_copies_in_separate_runs_from_one_outlet(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    load(con, [article_row("orig", "\n".join(STORY), source="Bugle", published_at=T0)])
    group(con, ["orig"])
    for i, text in enumerate(_copies()):
        load(con, [article_row(f"copy{i}", text, source="Bugle", published_at=T0 + days(0.1 * (i + 1)))])
        group(con, [f"copy{i}"])
    g = groups(con)
    assert {g[f"copy{i}"] for i in range(3)} == {g["orig"]}


def test_same_text_at_a_new_url_is_one_text_and_not_sent_again(tmp_path):
    # A headline change changes the slug: the same outlet serves the same text at a new URL. It must join
    # the text's copy group, so the digest does not send it again as an update.
    con = connect(tmp_path / "w.duckdb")
    text = "\n".join([*STORY, FOOTER])
    load(con, [article_row("old-url", text, title="Water firm fined", source="Bugle", published_at=T0)])
    group(con, ["old-url"])
    plan = select_new(con, "test", now=T0 + days(1))
    assert plan is not None and len(plan.digest.items) == 1
    record_digest(
        con, plan, status="written", subject="s", message_id="<m@test>", recipients=(), eml_path=None, html_path=None
    )
    assert select_new(con, "test", now=T0 + days(1)) is None
    moved = article_row("new-url", text, title="Water company fined 12m pounds", source="Bugle", published_at=T0)
    load(con, [moved])
    group(con, ["new-url"])
    g = groups(con)
    assert g["new-url"] == g["old-url"]
    edge = con.execute("SELECT shared_ratio FROM core.syndication_edges").fetchall()
    assert edge == [(1.0,)]
    assert select_new(con, "test", now=T0 + days(2)) is None


def test_strip_shared_edges_only_strips_a_template():
    a = ["Header sentence of the outlet for all of its articles.", *STORY[:3], FOOTER]
    b = ["Header sentence of the outlet for all of its articles.", *OTHER_BODIES[0], FOOTER]
    assert strip_shared_edges(a, b) == (STORY[:3], OTHER_BODIES[0])  # different texts: ends are template
    assert strip_shared_edges(a, a) == (a, a)  # the same text: nothing to strip
    truncated = a[:3]
    assert strip_shared_edges(a, truncated) == (a, truncated)
    edited = [*a[:2], a[2].replace("410", "412"), *a[3:]]
    assert strip_shared_edges(a, edited) == (a, edited)  # one sentence edited in between: still one text


def test_strip_shared_edges_keeps_a_long_shared_opening():
    # a same-source copy truncated after its first paragraphs, then another outlet's teasers and footer: the
    # identical opening is the text, not a header template (it was stripped, and the copy was missed)
    a = [*STORY, FOOTER]
    b = [*STORY[:5], *OTHER_BODIES[0], "Another outlet's footer sentence that no other article has ever had."]
    assert strip_shared_edges(a, b) == (a, b)
    assert is_copy(align(a, b), 0.3)


def test_strip_shared_edges_stub_and_templated_lede():
    footer = [FOOTER.split(". ")[0] + ".", FOOTER.split(". ", 1)[1]]
    long = [*STORY, *footer]
    # a stub page (the outlet's footer around nothing) is not the same text as every article of the outlet
    assert strip_shared_edges(footer, long) == ([], STORY)
    # an outlet's templated lede aligns, but one sentence of eight is not one text: the footer is template
    lede = "City Times has learned the details behind the report, {}, and what it means now."
    a = [lede.format("water firm fined"), *STORY[1:], *footer]
    b = [lede.format("library reopens"), *OTHER_BODIES[1], *footer]
    assert strip_shared_edges(a, b) == (a[:-2], b[:-2])


def test_boilerplate_counts_copy_groups_once():
    texts = {1: frozenset({"g1"}), 2: frozenset({"g1", "g2"}), 3: frozenset({"g1", "g2", "g3"})}
    assert boilerplate_units([1, 2, 3], texts) == {2, 3}
    # the candidate's own group does not count: 2 is shared with g1 and one other text only
    assert boilerplate_units([1, 2, 3], texts, exclude={"g1"}) == {3}
    assert boilerplate_units([1, 2, 3], texts, stock={1}) == {1, 2, 3}
