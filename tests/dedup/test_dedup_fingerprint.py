"""Fingerprints: boilerplate neither creates nor breaks a match, the simhash overflow guard, NumPy equality."""

from __future__ import annotations

import json

import pytest
from dedup_helpers import seed_articles
from simhash import Simhash

from extractors.dedup import align, is_copy
from extractors.fingerprint import (
    FINGERPRINT_VERSION,
    body_lines,
    fingerprint,
    hamming,
    is_boilerplate,
    segment,
    simhash64,
    simhash64_numpy,
    tokens,
)


def corpus_lines() -> list[str]:
    """Texts of the real corpus pages (extracted once into a git-ignored cache; see bench/dedup_corpus.py)."""
    from bench.dedup_corpus import ensure_corpus
    from tests.nwtest import skip_unless_shared

    skip_unless_shared("corpus/html")
    return ensure_corpus().read_text("utf-8").splitlines()

BODY = [
    "The county council approved a new budget for road repairs on Tuesday after a long debate.",
    "Councillors voted 31 to 12 in favour of spending an extra 4.5 million pounds over two years.",
    "The leader of the opposition said the money would not reach the villages that needed it most.",
    "Officials said the first contracts would be signed before the end of the summer holidays.",
    "Residents who want to report a pothole can use the council website or call the highways team.",
]


def test_boilerplate_lines_are_dropped():
    for line in [
        "READ MORE: South Yorkshire men appear at court accused of wounding woman",
        "CRIME: Sheffield schoolgirls injured in brawl in city park",
        "Hide Ad",
        "Advertisement",
        "Don't Miss",
        "Trending on GB News",
        "LATEST DEVELOPMENTS:",
        "|GETTY",
        "Around 1,400 children were sexually abused in Rotherham between 1997 and 2013",  # caption
        "Sign up to our newsletter",
        "Lesen Sie auch: The Captain's Quest 2017 - Contest auf schwimmender Miniramp am 19. August.",
        "À lire aussi : la réforme des retraites adoptée par le Sénat après un long débat.",
    ]:
        assert is_boilerplate(line), line
    for line in [
        'Mrs Senior said: "I know that from at least 2001 that senior officers were aware of this."',
        'She told Sky News: "I could not believe the lack of response.',
        BODY[0],
    ]:
        assert not is_boilerplate(line), line


def test_glued_and_repeated_captions_count_once():
    cap = "Jayne Senior ran the Risky Business youth project in Rotherham until 2011, one of the first."
    text = "\n".join([BODY[0], cap + cap, cap, BODY[1]])
    assert body_lines(text) == [BODY[0], cap, BODY[1]]


def test_boilerplate_does_not_create_a_match():
    # two different short articles with the same teaser lines, ad markers and captions
    chrome = [
        "READ MORE: Council tax bills to rise again next year",
        "Hide Ad",
        "NEWS: Police appeal after collision on the ring road",
        "Picture: the town hall",
    ]
    a = "\n".join([BODY[0], *chrome, BODY[1]])
    b = "\n".join(
        [
            "A new bus route will link the hospital with the railway station from next month.",
            *chrome,
            "The operator said buses would run every twenty minutes during the day and hourly at night.",
        ]
    )
    fa, fb = fingerprint("a", a), fingerprint("b", b)
    assert not set(fa.unit_simhashes) & set(fb.unit_simhashes)
    assert not is_copy(align(fa.units, fb.units), 0.3)


def test_boilerplate_does_not_break_a_match():
    clean = "\n".join(BODY)
    noisy = "\n".join(
        [
            BODY[0],
            "READ MORE: Something else entirely happened",
            "Hide Ad",
            BODY[1],
            BODY[2],
            "Advertisement",
            "APPEAL: Reward offered after garden burglary",
            BODY[3],
            BODY[4],
            "Most Read",
        ]
    )
    fa, fb = fingerprint("a", clean), fingerprint("b", noisy)
    assert fa.unit_simhashes == fb.unit_simhashes
    assert fa.doc_simhash == fb.doc_simhash
    assert align(fa.units, fb.units).shared_ratio == 1.0


def test_units_are_sentences_and_short_fragments_merge():
    units = segment(
        "The report was published today. It said more. The council will respond in full next week."
    )
    assert units == [
        "The report was published today. It said more.",
        "The council will respond in full next week.",
    ]


def test_overflow_guard_on_a_long_page():
    # A feature repeated more than 255 times: simhash 2.1.2 raises OverflowError under NumPy 2 for such a
    # weight; our guard splits the weight and must give the fingerprint of the true count.
    long_page = " ".join(["police watchdog investigation"] * 400) + " " + " ".join(BODY)
    with pytest.raises(OverflowError):
        Simhash(long_page)  # the package's own text path, unguarded: shows the hazard is real here
    fp = fingerprint("long", long_page)
    assert fp.doc_simhash > 0
    feats = tokens(long_page)
    assert simhash64(feats) == simhash64_numpy(feats)
    # the guarded value equals the package's value on an equivalent unweighted feature list (no overflow there)
    assert simhash64(feats) == Simhash(feats).value


def test_numpy_variant_identical_on_real_texts():
    texts = [json.loads(line)["text"] for line in corpus_lines()[:40]]
    texts += [s["text"] for s in seed_articles()]
    for t in texts:
        assert fingerprint("x", t) == fingerprint("x", t, use_numpy=True)


def test_fingerprint_record():
    s = seed_articles()[1]
    fp = fingerprint(s["article_id"], s["text"])
    assert fp.version == FINGERPRINT_VERSION
    assert len(fp.units) == len(fp.unit_simhashes) > 5
    assert all(0 <= h < 2**64 for h in fp.unit_simhashes)
    assert fp.word_count < len(s["text"].split())  # teasers and headline labels excluded
    assert fingerprint("empty", "").unit_simhashes == ()


def test_textbook_doc_threshold_misses_the_seed_copies():
    seeds = {s["key"]: s for s in seed_articles()}
    a, b = fingerprint("a", seeds["001"]["text"]), fingerprint("b", seeds["002"]["text"])
    assert hamming(a.doc_simhash, b.doc_simhash) > 3  # measured 19 bits: whole-document simhash misses them
    assert is_copy(align(a.units, b.units), 0.3)


def test_overflow_guard_on_a_real_long_page():
    # gregoryszorc.com.python3: a 6,700-word page on which the package's own text path overflows (a 4-char
    # shingle occurs 268 times); fingerprint() must work on it and agree with the NumPy variant.
    page = next(
        json.loads(line)["text"]
        for line in corpus_lines()
        if json.loads(line)["id"] == "gregoryszorc.com.python3"
    )
    with pytest.raises(OverflowError):
        Simhash(page)
    fp = fingerprint("long", page)
    assert len(fp.units) > 100
    assert fp == fingerprint("long", page, use_numpy=True)
    assert simhash64(Simhash(0)._tokenize(page)) == simhash64_numpy(Simhash(0)._tokenize(page))


def test_access_walls_are_not_units():
    # A paywalled page carries its headline and the wall; the wall is not what the article is about
    # (real pairs: it kept a snowmobile-crash page out of the crash's story).
    page = (
        "Two hurt when snowmobile crashed into a tree near the lake on Sunday.\n"
        "Subscribers, click below to login or register your subscription to continue receiving unlimited "
        "access to the site.\n"
        "E-mail or Username: Password REMEMBER ME SIGN IN or sign in with your account today.\n"
    )
    assert segment(page) == ["Two hurt when snowmobile crashed into a tree near the lake on Sunday."]
    # one marker is news, not a wall
    news = "Voters in the county must register before the deadline on Friday, officials said."
    assert segment(news) == [news]
