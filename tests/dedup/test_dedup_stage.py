"""The dedup stage's behaviour over several runs, in a real DuckDB file: late originals, revisions,
story windows, outlet templates, shared quotes, facts tables, and the Prefect-friendly path entry point."""

from __future__ import annotations

from dedup_helpers import ROOT, STORY, T0, article_row, days, load, seed_articles, seed_rows

from flows.dedup_stage import group_articles as _group
from newswatch.config import DedupSettings
from newswatch.models import stable_id
from tests.support.backends import warehouse_contract
from warehouse.db import apply_sql, connect, transaction

pytestmark = warehouse_contract()  # the SQL contract: runs on the DuckDB file and both DuckLake catalogs

S = DedupSettings()



def group(con, ids, settings=S):
    with transaction(con):  # the pipeline calls the stage inside its batch transaction
        return _group(con, ids, settings)


def groups(con):
    return {
        a: (s, t)
        for a, s, t in con.execute(
            "SELECT article_id, syndication_id, story_id FROM core.article_groups"
        ).fetchall()
    }


def copy_of_story(lede: str, figure_from: str = "", figure_to: str = "") -> str:
    body = [s.replace(figure_from, figure_to) if figure_from else s for s in STORY[1:7]]
    return "\n".join([lede, "READ MORE: Other news from the county", *body, "Hide Ad"])


def test_late_original_becomes_the_syndication_id(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    copy = copy_of_story(
        "A court has fined the water company after years of sewage spills into local rivers."
    )
    load(
        con, [article_row("copy", copy, source="Echo", published_at=T0 + days(1), first_seen_at=T0 + days(1))]
    )
    group(con, ["copy"])
    assert groups(con)["copy"][0] == "copy"
    # the original, published a day earlier, is only seen in the next run
    load(
        con,
        [article_row("orig", "\n".join(STORY), source="Bugle", published_at=T0, first_seen_at=T0 + days(2))],
    )
    counts = group(con, ["orig"])
    g = groups(con)
    assert g["orig"][0] == g["copy"][0] == "orig"
    assert g["orig"][1] == g["copy"][1]
    assert counts["syndication_groups"] == 1
    (aid, of) = con.execute("SELECT article_id, copy_of FROM core.syndication_edges").fetchone()
    assert (aid, of) == ("copy", "orig")


def test_changed_figures_are_reported(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    load(con, [article_row("orig", "\n".join(STORY), title="Water firm fined", published_at=T0)])
    copy = copy_of_story(STORY[0], "410 dry days", "415 dry days")
    load(
        con,
        [
            article_row(
                "copy", copy, title="Water company fined 12m", source="Echo", published_at=T0 + days(0.2)
            )
        ],
    )
    group(con, ["orig", "copy"])
    row = con.execute(
        "SELECT figures_added, figures_removed, headline_changed, sentences_edited FROM syndication_edges"
    ).fetchone()
    assert row == (["415"], ["410"], True, 1)


def test_revision_recomputes_without_duplicates_and_keeps_the_story(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    load(con, [article_row("a", "\n".join(STORY), published_at=T0)])
    group(con, ["a"])
    story = groups(con)["a"][1]
    revised = "\n".join(STORY[:4] + ["The company said it would appeal against the size of the fine."])
    load(con, [article_row("a", revised, published_at=T0)])
    counts = group(con, ["a"])
    assert counts["recomputed"] == 1
    assert groups(con)["a"][1] == story
    n_units = con.execute("SELECT len(simhashes) FROM core.article_units WHERE article_id = 'a'").fetchone()[
        0
    ]
    assert n_units == 5
    assert con.execute("SELECT count(*) FROM core.unit_keys").fetchone()[0] == 5
    assert con.execute("SELECT count(*) FROM core.fingerprints").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM core.simhash_bands").fetchone()[0] == 4


def test_same_topic_months_later_starts_a_new_story_but_a_reprint_joins(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    load(con, [article_row("first", "\n".join(STORY), source="Bugle", published_at=T0)])
    group(con, ["first"])
    followup = "\n".join(
        [
            "The water company fined last spring for sewage spills has lost its appeal against the penalty.",
            "Judges at the appeal court said the 12 million pounds fine was fair given the deliberate breaches.",
            STORY[1],  # background paragraph reused verbatim
            STORY[2],
            "The company said it accepted the ruling and had already finished work at two of the three sites.",
            "Campaigners welcomed the decision but said discharges had continued at the third treatment works.",
            "Monthly figures published by the company show 37 discharges since the start of the year.",
        ]
    )
    load(con, [article_row("later", followup, source="Bugle", published_at=T0 + days(150))])
    reprint = "\n".join(STORY[:7])
    load(con, [article_row("reprint", reprint, source="Archive", published_at=T0 + days(160))])
    group(con, ["later", "reprint"])
    g = groups(con)
    assert g["later"][0] == "later"  # reused background months later is not syndication
    assert g["later"][1] != g["first"][1]  # and not the same story without strong evidence
    assert g["reprint"] == (g["first"][0], g["first"][1])  # a reprint is a copy, at any distance


def test_outlet_template_does_not_link_different_articles(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    footer = (
        "The Daily Bugle is owned by Bugle Media Group, which has published local news in the county since 1885. "
        "Our reporters cover courts, councils and schools across the region every day."
    )
    bodies = [
        [
            "A new bus route will link the hospital with the railway station from next month.",
            "The operator said buses would run every twenty minutes during the day and hourly at night.",
        ],
        [
            "The town library will reopen on Saturday after a two year refurbishment costing 3 million pounds.",
            "Visitors will find a new children's floor, a cafe and study rooms that can be booked online.",
        ],
        [
            "Police are appealing for witnesses after a lorry overturned on the bypass early on Friday morning.",
            "Nobody was seriously hurt but the road was closed for eight hours while the load was recovered.",
        ],
        [
            "A primary school has been rated outstanding by inspectors for the first time in its history.",
            "Inspectors praised the reading programme and the way pupils with special needs were supported.",
        ],
    ]
    ids = []
    for i, body in enumerate(bodies):
        ids.append(f"bugle{i}")
        load(
            con,
            [
                article_row(
                    ids[-1], "\n".join([*body, footer]), source="Daily Bugle", published_at=T0 + days(i)
                )
            ],
        )
        group(con, [ids[-1]])
    g = groups(con)
    # The second article shares only the footer with the first: identical trailing sentences of one outlet
    # are dropped for same-outlet pairs. From the third article on, the footer is the outlet's template.
    assert [g[i][0] for i in ids] == ids
    # and the footer does not make the outlet's articles one story either
    assert len({g[i][1] for i in ids}) == len(ids)


def test_shared_quotes_alone_are_not_a_copy(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    quote = [
        '"We are determined to get to the bottom of what happened and we will publish everything we find," '
        "the spokesperson said.",
        '"This is a significant step, but there is still a great deal of work to do before anyone can say the '
        'problem has been solved."',
    ]
    a = "\n".join([STORY[0], quote[0], STORY[2], quote[1], STORY[4]])
    b = "\n".join(
        [
            "Ministers have ordered a review of how water companies report sewage spills to regulators.",
            quote[0],
            "The review will look at the monitors fitted to storm overflows and who checks their data.",
            quote[1],
            "Its findings are due before the end of the year, the environment department said on Monday.",
        ]
    )
    load(
        con,
        [
            article_row("a", a, source="Bugle", published_at=T0),
            article_row("b", b, source="Echo", published_at=T0),
        ],
    )
    group(con, ["a", "b"])
    g = groups(con)
    assert g["a"][0] != g["b"][0]


def test_facts_tables_feed_story_profiles(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    seeds = seed_articles()
    load(con, seed_rows())
    rows = []
    for s in seeds:
        for seq, ent in enumerate(
            ["South Yorkshire Police", "Independent Office for Police Conduct", "Rotherham"]
        ):
            rows.append((s["article_id"], seq, ent, "ORG", ent, 0, 1, ent))
    con.executemany("INSERT INTO core.entity_mentions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    group(con, [s["article_id"] for s in seeds])
    key = {s["article_id"]: s["key"] for s in seeds}
    g = {key[a]: (key[sid], key[st]) for a, (sid, st) in groups(con).items()}
    assert g["001"][0] == g["002"][0] == "001"
    assert g["000"][1] == g["001"][1] == g["002"][1] != g["003"][1] == g["004"][1]
    profile = con.execute(
        "SELECT profile FROM core.story_assignments WHERE article_id = ?", [seeds[0]["article_id"]]
    ).fetchone()[0]
    assert "e:independent office for police conduct" in profile


def test_every_article_gets_both_rows_even_without_text_units(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    load(con, [article_row("stub", "Photo gallery", published_at=None), article_row("x", "\n".join(STORY))])
    counts = group(con, ["stub", "x", "missing-id"])
    assert counts["fingerprinted"] == 2
    assert con.execute("SELECT count(*) FROM core.fingerprints").fetchone()[0] == 2
    assert groups(con)["stub"] == ("stub", "stub")


def test_grouping_persists_across_connections(tmp_path):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    aid = stable_id("one")
    load(con, [article_row(aid, "\n".join(STORY), published_at=T0)])
    con.close()
    con = connect(path)
    with transaction(con):
        assert _group(con, [aid], S)["fingerprinted"] == 1
    con.close()
    con = connect(path)  # a later run: the stored state says nothing is left to recompute
    with transaction(con):
        assert _group(con, [aid], S)["recomputed"] == 0
    con.close()


def test_works_without_the_facts_tables(tmp_path):
    # dedup can run before (or without) the facts stage: only the core and dedup schema files applied
    con = connect(tmp_path / "w.duckdb", apply_schema=False)
    for name in ("00_core.sql", "20_dedup.sql"):
        apply_sql(con, (ROOT / "warehouse" / "sql" / name).read_text("utf-8"))
    assert not con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('entity_mentions', 'figures', 'periods')"
    ).fetchone()[0]
    load(con, [article_row("orig", "\n".join(STORY), published_at=T0)])
    load(con, [article_row("copy", copy_of_story(STORY[0]), source="Echo", published_at=T0 + days(1))])
    counts = group(con, ["orig", "copy"])
    assert counts["copies_grouped"] == 1 and counts["stories"] == 1


OTHER = [
    "The county library service will close four branches next year to save 1.8 million pounds.",
    "Councillors said the mobile library would visit the affected villages twice a week instead.",
    "A petition against the closures has been signed by more than 6,000 residents since March.",
    "The cabinet member for culture said the decision had been the hardest of her time in office.",
    "Volunteers in two of the villages have offered to run their branch as a community library.",
    "The final decision will be taken at a meeting of the full council at the end of the month.",
]


def _wire_copy(i: int, body: list[str]) -> str:
    # the same wire text, the outlet's credit in the lede and one paragraph dropped
    kept = [s for j, s in enumerate(body) if j != 1 + i % (len(body) - 1)]
    return "\n".join([f"(Outlet {i}) - {kept[0]}", *kept[1:]])


def test_a_copy_is_verified_against_its_group_not_every_member(tmp_path):
    # 30 outlets run one wire story, in several runs: every copy joins the original's group and story, with
    # one verified edge to the group (its original), not one per earlier member (issue 9 §3: cost per copy
    # must not grow with the group)
    con = connect(tmp_path / "w.duckdb")
    load(con, [article_row("wire", "\n".join(STORY), source="Wire", published_at=T0)])
    group(con, ["wire"])
    ids = [f"c{i:02d}" for i in range(30)]
    for start in range(0, 30, 10):
        chunk = ids[start : start + 10]
        load(
            con,
            [
                article_row(c, _wire_copy(i, STORY), source=f"Outlet {i}", published_at=T0 + days(0.01 * (i + 1)))
                for i, c in enumerate(chunk, start=start)
            ],
        )
        group(con, chunk)
    g = groups(con)
    assert {g[c] for c in ids} == {g["wire"]} and g["wire"][0] == "wire"
    edges = con.execute("SELECT article_id, copy_of FROM core.syndication_edges ORDER BY article_id").fetchall()
    assert [a for a, _ in edges] == ids  # one edge per copy
    assert {o for _, o in edges} == {"wire"}  # verified against the group's original


def test_copies_of_one_text_never_become_its_boilerplate(tmp_path, monkeypatch):
    # A sentence in more than MAX_UNIT_TEXTS other texts is a stock phrase; counted in articles, a text run
    # by that many outlets made its own sentences stock and its next copies were not found. Counted in texts
    # (copy groups), its copies are one text. The limit is lowered here so that a few copies reach it.
    import flows.dedup_stage as stage

    monkeypatch.setattr(stage, "MAX_UNIT_TEXTS", 3)
    con = connect(tmp_path / "w.duckdb")
    load(con, [article_row("wire", "\n".join(STORY), source="Wire", published_at=T0)])
    group(con, ["wire"])
    ids = [f"c{i}" for i in range(8)]
    for i, c in enumerate(ids):
        load(con, [article_row(c, _wire_copy(i, STORY), source=f"Outlet {i}", published_at=T0 + days(0.1 * (i + 1)))])
        group(con, [c])
    g = groups(con)
    assert {g[c][0] for c in ids} == {"wire"}


def test_an_article_copying_two_groups_merges_them_under_the_earliest(tmp_path):
    # A round-up that runs most of two wire stories links both copy groups: every member of both now points
    # at the earliest original, and the members stored in earlier runs are re-pointed too.
    con = connect(tmp_path / "w.duckdb")
    load(con, [article_row("water", "\n".join(STORY), source="Wire", published_at=T0)])
    load(con, [article_row("water-copy", _wire_copy(0, STORY), source="Echo", published_at=T0 + days(0.2))])
    group(con, ["water", "water-copy"])
    load(con, [article_row("library", "\n".join(OTHER), source="Wire", published_at=T0 + days(0.1))])
    load(con, [article_row("library-copy", _wire_copy(1, OTHER), source="Echo", published_at=T0 + days(0.3))])
    group(con, ["library", "library-copy"])
    g = groups(con)
    assert g["water"][0] != g["library"][0]
    roundup = "\n".join([*STORY[:6], *OTHER[:5]])
    load(con, [article_row("roundup", roundup, source="Gazette", published_at=T0 + days(0.5))])
    group(con, ["roundup"])
    g = groups(con)
    assert {g[a][0] for a in ("water", "water-copy", "library", "library-copy", "roundup")} == {"water"}
