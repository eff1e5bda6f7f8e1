"""Copies reuse the NER spans of the text they copy: the same facts as a full run, NER only on what changed."""

from __future__ import annotations

import re

import pytest

import extractors.facts.nlp as nlp_module
from extractors.facts import NerSpans, SpanCache, extract_facts_batch, extract_facts_with_spans, ner_spans
from extractors.facts.reuse import CONTEXT_WORDS, context_window, paragraphs, reuse_spans
from tests.facts.conftest import seed_texts


class CountingNlp:
    """The real pipeline, counting the characters it is given (how much NER ran)."""

    def __init__(self, nlp):
        self.nlp = nlp
        self.chars = 0
        self.texts: list[str] = []

    def pipe(self, texts, **kw):
        texts = list(texts)
        self.chars += sum(len(t) for t in texts)
        self.texts += texts
        return self.nlp.pipe(texts, **kw)


@pytest.fixture
def counting(monkeypatch):
    wrapper = CountingNlp(nlp_module.load_nlp())
    monkeypatch.setattr(nlp_module, "load_nlp", lambda full=False: wrapper)
    return wrapper


LEDE = "SHEFFIELD (Northern Wire) - Police chiefs face a watchdog inquiry, the Doncaster Free Press understands."


def edited_copy(original: str) -> tuple[str, list[str]]:
    """A syndicated copy: a new lede with an outlet credit, the fourth paragraph dropped, one figure changed.
    Returns the copy and its paragraphs that the original does not have."""
    pars = [original[s:e] for s, e in paragraphs(original)]
    out = [LEDE] + pars[:3] + pars[4:]
    new = [LEDE]
    for k in range(4, len(out)):
        m = re.search(r"\b\d+\b", out[k])
        if m:
            out[k] = out[k][: m.start()] + str(int(m.group()) + 7) + out[k][m.end() :]
            new.append(out[k])
            break
    return "\n\n".join(out), new


def expected_todo(copy: str, original: str, new_pars: list[str], *, strict: bool) -> list[str]:
    """The copy's paragraphs NER must see: the new ones, and with strict also every paragraph whose
    CONTEXT_WORDS words of text on either side in the copy are not those of the original (after the new lede,
    around the dropped paragraph)."""
    cp = [copy[s:e] for s, e in paragraphs(copy)]
    op = [original[s:e] for s, e in paragraphs(original)]
    todo = set(new_pars)
    if strict:
        for k, p in enumerate(cp):
            if p in new_pars:
                continue
            j = op.index(p)
            # the words before/after the paragraph, read from the joined paragraphs (the seeds' copies join
            # paragraphs with one blank line, like the originals)
            before_c, before_o = " ".join(cp[:k]).split(), " ".join(op[:j]).split()
            after_c, after_o = " ".join(cp[k + 1 :]).split(), " ".join(op[j + 1 :]).split()
            n = CONTEXT_WORDS
            if before_c[-n:] != before_o[-n:] or after_c[:n] != after_o[:n]:
                todo.add(p)
    return [p for p in cp if p in todo]


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("seed", ["000", "001", "002", "003", "004"])
def test_edited_copy_gets_the_facts_of_a_full_run_with_ner_on_the_changed_paragraphs_only(seed, strict, counting):
    original = seed_texts()[seed]
    copy, new_pars = edited_copy(original)
    assert len(new_pars) == 2, "each seed has a figure to change"
    full = extract_facts_batch([("copy", copy)])[0]
    full_spans = ner_spans([copy])[0]

    cache = SpanCache(strict=strict)
    extract_facts_with_spans([("orig", original)], reuse=cache)
    counting.texts = []
    facts, spans = extract_facts_with_spans([("copy", copy)], reuse=cache)[0]
    seen = list(counting.texts)

    # strict: equal by construction (up to one paragraph of reach); not strict: a paragraph next to an edit
    # keeps its old spans, which on the seeds changes nothing (bench/facts_reuse.py: 8 of 108 copies differ)
    assert facts == full
    assert spans == full_spans
    # NER saw the todo paragraphs, each run with one paragraph of context on either side, and nothing else
    _, todo = reuse_spans(copy, original, ner_spans([original])[0], strict=strict)
    got = [copy[s:e] for r in todo for s, e in paragraphs(copy) if r[0] <= s < r[1]]
    assert got == expected_todo(copy, original, new_pars, strict=strict)
    assert seen == [copy[slice(*context_window(copy, r))] for r in todo]
    assert sum(map(len, seen)) < (0.9 if strict else 0.6) * len(copy)


def test_reused_spans_are_the_originals_moved_to_the_copy():
    original = "Alice Smith met Bob Jones.\n\nThe ORG met in Paris.\n\nDropped paragraph here."

    def at(word: str) -> tuple[int, int]:
        return original.index(word), original.index(word) + len(word)

    ents = (at("Alice Smith") + ("PERSON",), at("Bob Jones") + ("PERSON",), at("Paris") + ("GPE",),
            at("Dropped") + ("ORG",))
    sents = (at("Alice Smith met Bob Jones."), at("The ORG met in Paris."), at("Dropped paragraph here."))
    spans = NerSpans("p", "en", ents, sents)
    copy = "A new lede.\n\nAlice  Smith met Bob Jones.\n\nThe ORG met in Paris."
    # strict (the default): every paragraph here has a new neighbour, so NER runs on the whole copy
    assert reuse_spans(copy, original, spans)[1] == ((0, len(copy)),)
    got, todo = reuse_spans(copy, original, spans, strict=False)
    assert [copy[s:e] for s, e in todo] == ["A new lede."]
    # the doubled space: same words, so the offsets follow the non-space characters
    assert [(copy[s:e], label) for s, e, label in got.ents] == [
        ("Alice  Smith", "PERSON"), ("Bob Jones", "PERSON"), ("Paris", "GPE")]
    assert [copy[s:e] for s, e in got.sentences] == ["Alice  Smith met Bob Jones.", "The ORG met in Paris."]


def test_copies_in_one_batch_reuse_the_first_and_unrelated_texts_run_in_full(counting):
    texts = seed_texts()
    original = texts["001"]
    copy, _ = edited_copy(original)
    other = texts["003"]
    cache = SpanCache()
    got = extract_facts_with_spans([("o", original), ("c", copy), ("x", other)], reuse=cache)
    assert counting.chars < len(original) + len(other) + 0.6 * len(copy)
    assert [f for f, _ in got] == extract_facts_batch([("o", original), ("c", copy), ("x", other)])
    assert len(cache) == 3


def test_cache_is_bounded_and_keeps_pipelines_apart():
    cache = SpanCache(capacity=2)
    texts = seed_texts()
    for k in ("000", "001", "003"):
        cache.add(texts[k], NerSpans("pipe-a", "en"))
    assert len(cache) == 2
    assert cache.best(texts["000"], pipeline="pipe-a", language="en") is None  # evicted
    assert cache.best(texts["003"], pipeline="pipe-a", language="en") is not None
    assert cache.best(texts["003"], pipeline="pipe-b", language="en") is None  # another model's spans
    assert cache.best("Nothing in common with any stored text at all, not one paragraph.",
                      pipeline="pipe-a", language="en") is None


def test_the_shared_tok2vec_is_removed_and_no_span_changes():
    """NER has its own tok2vec in the small models: the pipeline without the shared one gives the same entity
    and sentence spans as the model with it (which is what the facts were measured with)."""
    import spacy

    nlp = nlp_module.load_nlp()
    assert "tok2vec" not in nlp.pipe_names and "ner" in nlp.pipe_names
    kept = spacy.load(nlp_module.MODEL, exclude=list(nlp_module.EXCLUDED))
    assert "tok2vec" in kept.pipe_names
    kept.add_pipe("paragraph_breaks", before="ner")
    kept.add_pipe("sentencizer")
    texts = list(seed_texts().values())

    def spans(p):
        return [(tuple((e.start_char, e.end_char, e.label_) for e in d.ents),
                 tuple((s.start_char, s.end_char) for s in d.sents)) for d in p.pipe(texts)]

    assert spans(nlp) == spans(kept)
