"""Direct quotes and their speakers (rules over paragraphs, speakers linked to canonical entities).

What counts as a quote: words between double quote marks (straight or curly, mixed), or between single
quote marks used as quotation marks (UK style: 'a vivid and alarming picture'), of at least three words.
Shorter quoted words are scare quotes or nicknames ("facilitated", "Elizabeth") and are skipped.

Shapes handled:
- "X said:" / "X told Sky News:" / "X added:" / "... saying:" / "According to X, ..." before the quote;
- '"...," he added.' / '"...," said Mr X.' / '"...," X said.' after the quote;
- a quote split by its attribution, '"First part," she said. "Second part."', is one quote;
- a quote running over several paragraphs: a paragraph that leaves its quote open and a next paragraph that
  opens with a quote mark continue the same quote (UK/US convention);
- a paragraph that is only a quote, right after another quote, has the same speaker.
Speakers are a named person or organisation (canonical name through the article's entities), a role
("a South Yorkshire Police spokeswoman", "the watchdog"), or a pronoun resolved to the subject of the nearest
sentence before that names a person ("she", "he") or an organisation ("it"). A definite person role ("The Labour
MP said") is resolved the same way; "a spokesman" is kept as a role.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from extractors.facts.entities import ArticleEntities
from extractors.facts.names import FEMALE_NAMES as _FEMALE_NAMES
from extractors.facts.names import MALE_NAMES as _MALE_NAMES
from newswatch.models import EntityMention, Quote

_DQ = "\"“”„«»"
_SPEECH = (
    r"said|says|say|told|tells|tell|added|adds|saying|explained|explains|stated|states|wrote|writes|commented|"
    r"comments|insisted|insists|warned|warns|replied|replies|continued|continues|claimed|claims|concluded|"
    r"concludes|argued|argues|noted|notes|admitted|admits|declared|declares|revealed|reveals|announced|"
    r"announces|confirmed|confirms|asked|asks|responded|responds|acknowledged|acknowledges|described|describes|"
    r"called|calls|urged|urges|accepted|accepts|found|finds|stressed|stresses|quipped|joked|tweeted|posted|"
    r"recalled|conceded|emphasised|emphasized|predicted|reported|reports|pledged|promised|vowed|according to|"
    r"reacted|mused|interjected|retorted|exclaimed|cautioned|complained|lamented|suggested|observed|remarked|"
    r"countered|answered|recounted|boasted|bragged|scoffed|asserted|contended|maintained|wondered|fumed|"
    r"shouted|yelled|chimed in|shot back|pointed out|laughed|agreed|charged|mocked|"
    r"opined|thanked|remembered|labeling|labelling|labeled|labelled|put it|went on|telling|adding|noting|"
    r"writing|arguing|explaining|declaring|warning|insisting|beamed|boomed|emailed|texted|gushed|raved|"
    r"sighed|snapped|barked|blasted|chided|teased|cracked|marveled|marvelled|proclaimed|intoned|whispered"
)
class _SpeechVerbs:
    """Speech verbs in a text, like re.finditer of one big alternation but fast: the alternation is tried only
    at words that can start a verb (a set lookup), not at every character (it was most of the cost on long
    paragraphs full of quotes)."""

    def __init__(self, alternation: str):
        self.rx = re.compile(r"\b(?P<verb>" + alternation + r")\b", re.IGNORECASE)
        self.first = {v.split()[0].casefold() for v in alternation.split("|")}

    def finditer(self, string: str, pos: int = 0, endpos: int | None = None) -> Iterator[re.Match[str]]:
        end = len(string) if endpos is None else endpos
        last = pos
        for w in _WORD_AT.finditer(string, pos, end):
            if w.start() < last or w.group(0).casefold() not in self.first:
                continue
            if w.group(0).isupper():
                continue  # a headline in capitals ('RED STATES OUTNUMBER BLUE STATES - Jeffrey M. Jones:')
            m = self.rx.match(string, w.start(), end)
            if m:
                yield m
                last = m.end()

    def search(self, string: str, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None:
        return next(self.finditer(string, pos, endpos), None)

    def match(self, string: str, pos: int = 0) -> re.Match[str] | None:
        return self.rx.match(string, pos)


_WORD_AT = re.compile(r"[A-Za-z]+")
_DASH_SOURCE = re.compile(r"\s*[-–—]\s*([A-Z][\w.’' -]{1,60}?)[.,]?\s*$")
_SPEECH_RE = _SpeechVerbs(_SPEECH)
_PRONOUNS = {"he": "PERSON", "she": "PERSON", "they": "ANY", "it": "ORG", "we": "ANY", "i": "PERSON"}
# Indefinite roles that a later "he said" may refer to ("a spokesman for the force ... he said"); the wider
# _PERSON_ROLES below would take "an Iranian journalist" from the apposition of the named person the pronoun means.
_SPOKES_ROLES = (
    r"MP|minister|mayor|whistleblower|officer|lawyer|solicitor|barrister|judge|chief|director|commissioner|"
    r"councillor|campaigner|victim|survivor|mother|father|teacher|doctor|professor|analyst|detective|inspector|"
    r"president|chairman|chairwoman|chair|secretary|leader|constable|superintendent|author|founder"
)
# Every person role: the spokes roles and more.
_PERSON_ROLES = _SPOKES_ROLES + (
    r"|senator|governor|congressman|congresswoman|lawmaker|candidate|nominee|front-?runner|businessman|"
    r"businesswoman|billionaire|mogul|neurosurgeon|surgeon|attorney|prosecutor|sheriff|strategist|adviser|"
    r"advisor|pollster|host|anchor|activist|executive|CEO|pastor|rabbi|bishop|veteran|star|actor|actress|"
    r"singer|rapper|comedian|manager|chairperson|ambassador|diplomat|general|justice|premier|chancellor|"
    r"economist|researcher|scientist|writer|journalist|reporter|columnist|commentator|republican|democrat|"
    r"independent|politician|wife|husband|son|daughter|brother|sister|man|woman"
)
# role nouns that say which pronoun fits
_ROLE_GENDER = {
    "congresswoman": "f", "chairwoman": "f", "businesswoman": "f", "actress": "f", "mother": "f", "wife": "f",
    "daughter": "f", "sister": "f", "woman": "f", "spokeswoman": "f", "congressman": "m", "chairman": "m",
    "businessman": "m", "father": "m", "husband": "m", "son": "m", "brother": "m", "man": "m", "spokesman": "m",
}
_PRONOUN_GENDER = {"he": "m", "she": "f"}
_FIRST_NAMES = _FEMALE_NAMES | _MALE_NAMES
_ROLE_NOUNS = (
    r"spokes(?:wo)?man|spokesperson|representative|source|sources|official|officials|statement|report|summary|"
    r"watchdog|force|police|council|government|inquiry|review|investigation|letter|" + _PERSON_ROLES
)
_ROLE_RE = re.compile(
    r"\b(?P<det>[Aa]n?|[Tt]he|[Oo]ne|[Aa]nother)\s+(?P<mods>(?:[A-Za-z][\w’'-]*\s+){0,5}?)(?P<noun>" + _ROLE_NOUNS + r")\b"
    r"(?P<tail>\s+(?:for|at|from|of)\s+(?:the\s+)?(?:[A-Z][\w’'-]*)(?:\s+(?:[A-Z][\w’'-]*|of|for|and))*)?",
)
_LEAD_IN = re.compile(
    r"^(?:(?:but|and|however|meanwhile|yet|so|earlier|later|today|now|also|as)[, ]\s*)+|"
    r"^according to [^,]{1,80},\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class _Span:
    start: int  # offset of the first quoted character (after the mark)
    end: int  # offset after the last quoted character (before the closing mark, or paragraph end)
    closed: bool
    para: int
    single: bool = False


def _paragraphs(text: str) -> list[tuple[int, int]]:
    out = []
    for m in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text):
        if m.group(0).strip():
            out.append((m.start(), m.end()))
    return out


_DQ_MARK = re.compile("[" + _DQ + "]")


def _double_spans(text: str, p_start: int, p_end: int, para: int) -> list[_Span]:
    spans = []
    open_at: int | None = None
    for mark in _DQ_MARK.finditer(text, p_start, p_end):  # in C, not a Python loop over every character
        i = mark.start()
        if open_at is None:
            open_at = i + 1
        else:
            spans.append(_Span(open_at, i, True, para))
            open_at = None
    if open_at is not None:
        spans.append(_Span(open_at, p_end, False, para))
    return spans


_MAX_SENTENCE = 800
_SINGLE_RE = re.compile(r"(?:(?<=^)|(?<=[\s(\[—–-]))[‘'](?=[A-Za-z0-9])(?P<body>[^‘\n]{0,600}?[^\s‘])[’'](?![A-Za-z])")


def _single_spans(text: str, p_start: int, p_end: int, para: int, doubles: list[_Span]) -> list[_Span]:
    out = []
    seg = text[p_start:p_end]
    for m in _SINGLE_RE.finditer(seg):
        s, e = p_start + m.start("body"), p_start + m.end("body")
        if any(d.start - 1 <= s and e <= d.end + 1 for d in doubles):
            continue  # a quote inside a quote belongs to the outer quote
        out.append(_Span(s, e, True, para, single=True))
    return out


# A quoted term after a naming word is a name or a translation, not speech: the nickname "mkono wa damu", or
# "the man with the bloody hand"; so-called "protection contracts"; known as "the Jay report".
_NAMING = re.compile(
    r"(?:nickname[sd]?|dubbed|known as|so-called|named|titled|entitled|,[" + _DQ + r"’']?\s*or)\s*$", re.IGNORECASE
)


def _is_title(body: str) -> bool:
    """A quoted title of a work ("Once Upon A Time in Hollywood"), not speech: capitalised content words."""
    words = re.findall(r"[\w’'-]+", body)
    if not words or len(words) > 10 or re.search(r"[.!?,;:]\W*$", body):
        return False
    content = [w for w in words if w.casefold() not in {"a", "an", "the", "of", "in", "on", "and", "for", "to", "at"}]
    return bool(content) and sum(w[0].isupper() or w[0].isdigit() for w in content) >= 0.8 * len(content) and words[0][0].isupper()


def _words(s: str) -> int:
    return len(re.findall(r"\w+", s))


@dataclass
class _Logical:
    parts: list[_Span]
    attribution: tuple[int, int] | None = None  # (start, end) of the attribution between the first split parts


_BOUNDARY_CHARS = re.compile(r"[\n.!?]")


def _sentence_start(text: str, pos: int, floor: int) -> int:
    """Start of the sentence containing pos: after a line break, or after '.', '!' or '?' (and any closing
    quote marks) followed by white space. A full stop after a lone capital ("J. Smith") is not a boundary.
    The candidates are found by a regex (in C) and only they are checked: a paragraph of thousands of quotes
    made a character loop per call the cost of the whole article."""
    floor = max(floor, pos - _MAX_SENTENCE)  # no sentence is longer; bounds the work on odd inputs
    best = floor
    for m in _BOUNDARY_CHARS.finditer(text, floor, pos):
        i = m.start()
        ch = text[i]
        if ch == "\n":
            best = i + 1
            continue
        j = i + 1
        while j < len(text) and text[j] in _DQ + "’'":
            j += 1
        initial = ch == "." and i >= 1 and text[i - 1].isupper() and (i < 2 or not text[i - 2].isalpha())
        if j < len(text) and text[j].isspace() and not initial and j <= pos:
            while j < pos and text[j].isspace():
                j += 1
            best = j
    return best


def _sentence_end(text: str, pos: int, ceil: int) -> int:
    ceil = min(ceil, pos + _MAX_SENTENCE)
    m = re.search(r"[.!?](?=\s|$)", text[pos:ceil])
    return pos + m.end() if m else ceil


class _Speakers:
    """Finds and resolves speakers inside one article."""

    def __init__(self, text: str, ents: ArticleEntities, quoted: list[tuple[int, int]]):
        self.text = text
        self.ents = ents
        self.last_speaker: tuple[str, str, str] | None = None
        self.last_quote_end = -(10**9)
        spans = sorted(quoted)
        starts = [a for a, _ in spans]

        def inside(pos: int) -> bool:
            i = bisect.bisect_right(starts, pos) - 1
            return i >= 0 and pos < spans[i][1]

        # names inside quotes are not attributions (quoted spans do not overlap, so one lookup suffices);
        # "the Clintons" is not one person; a platform NER took for a
        # person ("Twitter") is not a speaker
        kept = [
            m for m in ents.mentions
            if not inside(m.start)
            and not (m.entity_type == "PERSON" and (m.surface in _PLATFORMS or (
                m.surface.endswith("s") and text[max(0, m.start - 4) : m.start].casefold() == "the ")))
        ]
        kept = _known_people(text, kept + _missed_people(text, kept))
        self.mentions: list[EntityMention] = sorted(kept, key=lambda m: m.start)
        self.starts = [m.start for m in self.mentions]
        self.gender = _genders(text, self.mentions)
        self._surnames: dict[str, str] | None = None

    def in_range(self, a: int, b: int) -> list[EntityMention]:
        lo = bisect.bisect_left(self.starts, a)
        hi = bisect.bisect_left(self.starts, b)
        return [m for m in self.mentions[lo:hi] if m.end <= b]

    def antecedent(
        self, pos: int, want: str, gender: str | None = None, depth: int = 0
    ) -> tuple[str, str, str, int] | None:
        """First entity of the nearest sentence before pos that names one of the wanted type (and, for a
        person, of a gender compatible with the pronoun or role: "she" is not Donald Trump).

        When that sentence's subject is itself a pronoun of the same gender ("He nodded only obliquely to his
        second-place finish behind Ted Cruz."), the people it names are not its subject: the pronoun goes on
        with the person before it, so the antecedent is looked for before that sentence (up to
        _PRONOUN_CHAIN sentences back)."""
        hi = bisect.bisect_left(self.starts, pos)

        def ok(m: EntityMention) -> bool:
            if m.end > pos or (want != "ANY" and m.entity_type != want):
                return False
            return gender is None or self.gender.get(m.entity, gender) == gender

        last = next((m for m in reversed(self.mentions[:hi]) if ok(m)), None)
        if last is None:
            return None
        s0 = _sentence_start(self.text, last.start, 0)
        if gender is not None and depth < _PRONOUN_CHAIN and (
            (opener := _PRONOUN_SUBJECT.match(self.text, s0)) is not None
            and _PRONOUN_GENDER.get(opener.group(1).casefold()) == gender
        ):
            chained = self.antecedent(s0, want, gender, depth + 1)
            if chained is not None:
                return chained
        lo = bisect.bisect_left(self.starts, s0)
        cands = [m for m in self.mentions[lo:hi] if ok(m)]
        # the subject of that sentence rather than a possessive or an object: "compared Michelle Obama's
        # appearance ..., the anchor Ilia Calderón reacted"
        subjects = [m for m in cands if not self.oblique(m)]
        back = lo
        for _ in range(_OBLIQUE_LOOKBACK):
            if subjects:
                break
            # only objects and possessives in that sentence ("... more liberal nominees than Obama?"): the
            # subject of a sentence before
            prev = next((m for m in reversed(self.mentions[:back]) if ok(m)), None)
            if prev is None:
                break
            p0 = _sentence_start(self.text, prev.start, 0)
            plo = bisect.bisect_left(self.starts, p0)
            subjects = [m for m in self.mentions[plo:back] if ok(m) and not self.oblique(m)]
            back = plo
        subjects = subjects or cands
        # "Trump, Sexton said, has created ...": the one who speaks in that sentence is the likelier "he"
        speaking = [m for m in subjects if _SPEAKS_AFTER.match(self.text, m.end, min(len(self.text), m.end + 120))]
        first = (speaking or subjects)[0]
        return first.entity, first.surface, first.entity_type, first.start

    def modifier(self, m: EntityMention) -> bool:
        """A name that modifies the role of the person named next: "Obama consultant Cornell Belcher", "Clinton
        campaign chairman John Podesta"."""
        mod = _MODIFIER.match(self.text, m.end, min(len(self.text), m.end + 80))
        if not mod:
            return False
        i = bisect.bisect_left(self.starts, mod.end())
        return i < len(self.mentions) and self.mentions[i].start == mod.end() and self.mentions[i].entity_type == "PERSON"

    def oblique(self, m: EntityMention) -> bool:
        """A mention that is a possessive or follows a preposition (rarely what a later pronoun means)."""
        if re.match(r"[’']s?\b", self.text[m.end : m.end + 2]):
            return True
        if self.modifier(m):
            return True
        return bool(re.search(r"\b(?:by|to|with|of|for|about|against|at|from|on|than|like|told|asked)\s+(?:the\s+)?(?:[A-Z][\w.-]*\s+){0,3}$",
                              self.text[max(0, m.start - 60) : m.start]))

    def from_clause(self, a: int, b: int, quote_pos: int, before_verb: bool = False) -> tuple[str, str, str] | None:
        """Speaker named in text[a:b] (an attribution clause): entity, pronoun or role."""
        clause = self.text[a:b]
        lead = _LEAD_IN.match(clause)
        if lead:
            a += lead.end()
            clause = self.text[a:b]
        ms = self.in_range(a, b)
        # "Asked by Stephanopoulos about Trump's criticism, Carson said" / "..., she replied": the subject is
        # after the last comma of the clause, when something is there
        comma = clause.rstrip(" ,:;").rfind(",")
        if (
            before_verb and comma > 0 and ms and ms[0].entity_type == "PERSON" and not self.text[a : ms[0].start].strip()
            and self.text[ms[0].end : ms[0].end + 1] == ","
        ):
            # "Michael Briggs, a spokesman for Sanders, said": the name the appositive describes
            return ms[0].entity, ms[0].surface, "PERSON"
        if comma > 0 and before_verb:
            tail = clause[comma + 1 :].strip(" ,:;")
            tail_end = a + len(clause.rstrip(" ,:;"))
            tail_persons = [m for m in ms if m.start >= a + comma and m.entity_type == "PERSON"]
            # only a bare name after the comma: ", a spokesman for House Speaker Paul Ryan," is an appositive
            if (
                tail_persons
                and tail_persons[-1].end >= tail_end - 1
                and _words(tail) <= 4
                # ", a spokesman for Sanders, said": the name after a preposition is not the subject
                and not re.search(r"\b(?:for|of|at|with|to|from|by|about)\s", self.text[a + comma : tail_persons[-1].start])
            ):
                return tail_persons[-1].entity, tail_persons[-1].surface, "PERSON"
            if tail.casefold() in ("he", "she"):
                return self.pronoun(tail.casefold(), quote_pos, a)
        if before_verb:
            # a name NER missed right before the verb beats a person named earlier in the clause
            tail = re.search(r"(?:[A-Z][a-z’'-]+\s+){1,2}[A-Z][a-z’'-]+\s*$", clause)
            if tail and not any(m.end > a + tail.start() for m in ms):
                named = self.unlabelled_name(a + tail.start(), b, [])
                if named:
                    return named
        if before_verb and ms and ms[-1].entity_type == "PERSON" and not self.text[ms[-1].end : b].strip(" ,"):
            # the name right before the verb is its subject: "Trump campaign spokeswoman Hope Hicks said"
            return ms[-1].entity, ms[-1].surface, "PERSON"
        if (
            before_verb and ms and ms[-1].entity_type in ("ORG", "NORP") and not self.text[ms[-1].end : b].strip()
            and not self.oblique(ms[-1])
        ):
            # '... in February, and Breitbart News responded:': the body right before the verb is its subject,
            # not a person named earlier in the sentence
            return ms[-1].entity, ms[-1].surface, "ORG"
        # a full name beats a stray one-word PERSON ("Director for Major Investigations, Steve Noonan"); a name
        # that modifies the next person's role is not the speaker ("said Cruz constituent Dan Golvach")
        persons = sorted((m for m in ms if m.entity_type == "PERSON"), key=lambda m: len(m.entity.split()) < 2)
        heads = [m for m in persons if not self.modifier(m)]
        persons = heads or persons
        if persons:
            return persons[0].entity, persons[0].surface, "PERSON"
        named = self.unlabelled_name(a, b, ms)
        if named:
            return named
        stripped = clause.strip(" ,:;").strip()
        first_word = stripped.split()[0].casefold() if stripped.split() else ""
        if first_word in ("he", "she") and _SPEECH_RE.match(stripped, len(first_word) + 1):
            return self.pronoun(first_word, quote_pos, a)  # 'she said, speaking by phone from Nice.'

        if first_word in _PRONOUNS and (len(stripped.split()) <= 4 or stripped.casefold() == first_word):
            return self.pronoun(first_word, quote_pos, a)
        role = _ROLE_RE.search(clause)
        others = [m for m in ms if m.entity_type in ("ORG", "GPE", "NORP", "EVENT", "FAC")]
        if role and (not others or role.start() <= others[0].start - a):
            det = role.group("det").lower()
            noun = role.group("noun")
            if det == "the" and re.fullmatch(_PERSON_ROLES, noun, re.IGNORECASE):
                ante = self.antecedent(a + role.start(), "PERSON", _ROLE_GENDER.get(noun.casefold()))
                if ante:
                    return ante[:3]
            phrase = " ".join(role.group(0).split())
            return det + phrase[len(role.group("det")) :], phrase, "ROLE"
        if others:
            return others[0].entity, others[0].surface, "ORG"
        last_word = stripped.split()[-1].casefold() if stripped.split() else ""
        for w in (first_word, last_word):
            if w in _PRONOUNS:
                return self.pronoun(w, quote_pos, a)
        lone = _LONE_NAME.fullmatch(stripped)
        if before_verb and lone and lone.group("name").casefold() not in _NOT_LONE_NAMES:
            # '"...," Viguerie concludes.': a capitalised word alone before the verb that NER left untagged
            name = lone.group("name")
            return self.surnames.get(name.casefold(), name), stripped, "PERSON"
        return self.bare_name(a, b) if not ms else None

    def bare_name(self, a: int, b: int) -> tuple[str, str, str] | None:
        """'Stated Stone:', '- Jeffrey M. Jones:', 'According to HuffPo:': a clause that is nothing but a name
        NER left untagged, in a form that says a source follows (a colon after it, or 'according to' or a
        speech verb before it). A person when its first word is a first name or its last a known surname,
        otherwise an organisation (a paper, a pollster)."""
        clause = self.text[a:b]
        m = _BARE_NAME.fullmatch(clause)
        if m is None:
            return None
        name = " ".join(m.group("name").split())
        toks = name.split()
        if toks[0].casefold() in _NOT_SAYERS or sum(t.isupper() and len(t) > 3 for t in toks) > 1:
            return None  # a pronoun, a function word, or a headline in capitals ('UN: PEACEKEEPERS PAYING')
        introduced = (
            self.text[b : b + 3].lstrip().startswith(":")
            or clause.rstrip().endswith(":")
            or _BEFORE_BARE.search(self.text, max(0, a - 24), a) is not None
        )
        if not introduced:
            return None
        last = re.sub(r"[’']s$", "", toks[-1]).casefold()
        if last in self.surnames:
            return self.surnames[last], name, "PERSON"
        if toks[0].casefold() in _FIRST_NAMES and len(toks) >= 2:
            return name, name, "PERSON"
        return name, name, "ORG"

    def main_subject(self, a: int, b: int, quote_pos: int) -> tuple[str, str, str] | None:
        """The subject of the clause text[a:b] before a participle: its first person that is not an object or a
        modifier, or its leading he/she."""
        clause = self.text[a:b]
        lead = _LEAD_IN.match(clause)
        if lead:
            a += lead.end()
            clause = self.text[a:b]
        first_word = clause.split()[0].casefold() if clause.split() else ""
        if first_word in ("he", "she"):
            return self.pronoun(first_word, quote_pos, a)
        for m in self.in_range(a, b):
            if m.entity_type == "PERSON" and not self.oblique(m):
                return m.entity, m.surface, "PERSON"
        return None

    def unlabelled_name(self, a: int, b: int, ms: list[EntityMention]) -> tuple[str, str, str] | None:
        """A person NER did not tag as one, in a short attribution clause: a known person's surname tagged as
        something else or not at all ("Cummings said"), or a capitalised first name and surname outside
        every other entity ("Concord resident Whit Symms said")."""
        clause = self.text[a:b]
        if _words(clause) > 8:
            return None
        surnames = self.surnames
        runs = list(_NAME_RUN.finditer(clause))
        for r in reversed(runs):
            toks = r.group(0).split()
            if toks[0].casefold() in _NOT_NAME_WORDS:
                toks = toks[1:]
            if not toks:
                continue
            last = re.sub(r"[’']s$", "", toks[-1]).casefold()
            if last in surnames:
                return surnames[last], " ".join(toks), "PERSON"
            start = a + r.start()
            if len(toks) >= 2 and not any(m.start < a + r.end() and start < m.end and m.entity_type != "PERSON" and
                                          m.surface.split()[-1] == toks[-1] for m in ms):
                if toks[0].casefold() in _FIRST_NAMES:
                    return " ".join(toks), " ".join(toks), "PERSON"
        return None

    @property
    def surnames(self) -> dict[str, str]:
        if self._surnames is None:
            by_last: dict[str, set[str]] = defaultdict(set)
            for m in self.mentions:
                if m.entity_type == "PERSON":
                    by_last[m.entity.split()[-1].casefold()].add(m.entity)
            self._surnames = {k: next(iter(v)) for k, v in by_last.items() if len(v) == 1}
        return self._surnames

    def pronoun(self, word: str, quote_pos: int, clause_pos: int) -> tuple[str, str, str] | None:
        want = _PRONOUNS[word]
        if want == "ORG" and self.last_speaker is not None and self.last_speaker[2] != "PERSON":
            return self.last_speaker  # "It grimly concluded": the report or body quoted just before
        pos = min(quote_pos, clause_pos)
        gender = _PRONOUN_GENDER.get(word)
        last = self.last_speaker
        if (
            want == "PERSON"
            and last is not None
            and last[2] == "PERSON"
            and pos - self.last_quote_end < _RECENT_SPEAKER_CHARS
            and (gender is None or self.gender.get(last[0], gender) == gender)
            and not any(
                m.entity_type == "PERSON" and m.entity != last[0] and not self.oblique(m)
                and (gender is None or self.gender.get(m.entity, gender) == gender)
                for m in self.in_range(self.last_quote_end, pos)
            )
        ):
            # '"...," he continued.' after a quote of Carson's is Carson, not the interviewer named in between
            return last
        ante = self.antecedent(pos, want, gender)
        if want == "PERSON":
            role = None
            for r in _ROLE_RE.finditer(self.text, max(0, pos - 600), pos):
                if re.search(r"[A-Z][\w’'.-]+,\s*$", self.text[max(0, r.start() - 40) : r.start()]):
                    continue  # "Dexter Wakefield, a minister with ...": the apposition of a named person
                if r.group("det").lower() in ("a", "an") and re.fullmatch(
                    r"spokes(?:wo)?man|spokesperson|representative|official|" + _SPOKES_ROLES, r.group("noun")
                ):
                    role = r
            if role is not None and (ante is None or role.start() > ante[3]):
                phrase = " ".join(role.group(0).split())
                return role.group("det").lower() + phrase[len(role.group("det")) :], phrase, "ROLE"
        if ante is not None:
            ante = ante[:3]
        if ante is None and want == "ORG":
            any_ante = self.antecedent(pos, "ANY")
            ante = any_ante[:3] if any_ante else None
        return ante


# A pronoun refers to the previous quote's speaker when that quote ended this close before (about two paragraphs).
_RECENT_SPEAKER_CHARS = 600
_PLATFORMS = {"Twitter", "Facebook", "Instagram", "YouTube", "Snapchat", "Reddit", "Periscope", "Tumblr", "Google"}
_PARTICIPLE = re.compile(r"[a-z]+ing\b", re.IGNORECASE)
# A clause that is only a name: capitalised words, initials and '&' between them, after an optional "the" or dash
_BARE_NAME = re.compile(
    r"[\s\-–—]*(?:[Tt]he\s+)?(?P<name>(?:(?:[A-Z][\w’'.&-]*|[A-Z]\.|&)\s+){0,4}[A-Z][\w’'&-]*[\w])\s*:?\s*"
)
_BEFORE_BARE = re.compile(r"\b(?:according to|[Ss]tated|[Ss]aid|[Ww]rote|[Aa]dded|[Tt]weeted)\s+$")
_LONE_NAME = re.compile(r"(?:(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen)\.?\s+)?(?P<name>[A-Z][a-z]+(?:-[A-Z][a-z]+)?)")
_NOT_SPEAKERS = {"this", "that", "these", "those", "there", "here", "who", "which", "what", "everyone", "someone",
                 "nobody", "people", "many", "some", "others", "officials", "critics", "experts", "democrats",
                 "republicans", "police", "sources", "reports", "polls", "one", "all", "both", "none"}
_MODIFIER = re.compile(
    r"(?:[’']s)?\s+(?:(?:campaign|press|communications|senior|deputy|chief|top|former|policy|political|national|"
    r"digital|media|staff|of|spokes(?:wo)?man|spokesperson|aide|consultant|pollster|constituent|supporter|ally|"
    r"friend|donor|delegate|voter|" + _PERSON_ROLES + r")\s+){1,4}",
    re.IGNORECASE,
)
_OBLIQUE_LOOKBACK = 1
# A sentence opening with "He"/"She" (after a conjunction or adverb at most) has a pronoun for its subject.
_PRONOUN_SUBJECT = re.compile(
    r"[\s\"“”'‘’(]*(?:(?:But|And|Then|Still|Yet|Now|Later|So|Instead|Meanwhile|Earlier|Previously|Also)\b,?\s+)?"
    r"(He|She)\b(?![’'-])"
)
_PRONOUN_CHAIN = 3
_NAME_RUN = re.compile(r"(?<![\w’'])[A-Z][a-z’'-]+(?:\s+[A-Z][a-z’'-]+){0,2}")
_SPEAKS_AFTER = re.compile(r"(?:\s*,[^,.!?]{1,100},)?\s*(?:" + _SPEECH + r")\b", re.IGNORECASE)
_FIRST_LAST = re.compile(r"(?<![\w’'.-])([A-Z][a-z]+)\s+(?:[A-Z]\.\s+)?[A-Z][a-z’'-]+(?:-[A-Z][a-z]+)?(?![\w’'-])")
_NOT_NAME_WORDS = {"but", "and", "the", "a", "an", "mr", "mrs", "ms", "dr", "sen", "rep", "gov", "then", "when",
                   "in", "on", "at", "as", "so", "yet", "also", "later", "earlier", "meanwhile", "today"}
_NOT_LONE_NAMES = _NOT_NAME_WORDS | _NOT_SPEAKERS
_NOT_SAYERS = _NOT_LONE_NAMES | _PRONOUNS.keys()


_SAYS = re.compile(r"(?<![\w’'.-])([A-Z][a-z]+)\s+(?:said|says|added|adds|told|tells|wrote|writes|noted|explained)\b")
_CAP_WORD = re.compile(r"(?<![\w’'.-])[A-Z][a-z]+(?:-[A-Z][a-z]+)?(?![\w-])")


def _known_people(text: str, mentions: list[EntityMention]) -> list[EntityMention]:
    """Later mentions of the article's people that NER tagged as something else or not at all: a person's
    surname or full name tagged ORG or PRODUCT ("Cole said", "Pate claimed"), or left untagged, becomes a
    PERSON mention of that person, so pronouns and roles can find them. One pass over the capitalised words."""
    by_last: dict[str, set[str]] = defaultdict(set)
    full: dict[str, str] = {}
    mentions = [_person_by_first_name(m) for m in mentions]
    for m in mentions:
        if m.entity_type == "PERSON":
            # the surface's surname too: a canonical name can be longer than any one mention
            for name in (m.entity, re.sub(r"[’']s?$", "", m.surface)):
                by_last[name.split()[-1]].add(m.entity)
                full[name] = m.entity
    people = {k: next(iter(v)) for k, v in by_last.items() if len(v) == 1}
    people.update(full)
    # a capitalised word that speaks at least twice ("Sexton said", "Sexton added") and NER never took for a
    # person is one: speech verbs are said by people far more often than by one-word organisations
    speaking = Counter(
        w.group(1) for w in _SAYS.finditer(text)
        if w.group(1).casefold() not in _NOT_SAYERS and w.group(1) not in people
    )
    for word, n in speaking.items():
        if n >= 2:
            people[word] = word
    if not people:
        return mentions
    out = []
    taken = bytearray(len(text))
    for m in mentions:
        taken[m.start : m.end] = b"\x01" * (m.end - m.start)
        if m.entity_type != "PERSON":
            surface = re.sub(r"[’']s?$", "", m.surface)
            if surface in people:
                m = EntityMention(m.article_id, people[surface], "PERSON", m.surface, m.start, m.end)
        out.append(m)
    for w in _CAP_WORD.finditer(text):
        if w.group(0) in people and not taken[w.start()] and not taken[w.end() - 1]:
            out.append(EntityMention("", people[w.group(0)], "PERSON", w.group(0), w.start(), w.end()))
    return out


_ORG_WORDS = {
    "foundation", "institute", "center", "centre", "university", "college", "campaign", "committee", "company",
    "group", "fund", "party", "association", "council", "news", "times", "post", "journal", "media", "county",
    "city", "state", "street", "avenue", "hall", "school", "church", "bank", "house", "tower", "project",
}


def _person_by_first_name(m: EntityMention) -> EntityMention:
    """A two- or three-word name that NER tagged as an organisation but starts with a common first name
    ("Carly Fiorina" as ORG) is a person."""
    toks = m.surface.split()
    if (
        m.entity_type in ("ORG", "GPE", "PRODUCT", "NORP", "FAC", "WORK_OF_ART")
        and 2 <= len(toks) <= 3
        and toks[0].casefold() in _FIRST_NAMES
        and all(t[:1].isupper() and t.casefold() not in _ORG_WORDS for t in toks)
    ):
        return EntityMention(m.article_id, m.entity, "PERSON", m.surface, m.start, m.end)
    return m


def _missed_people(text: str, mentions: Sequence[EntityMention]) -> list[EntityMention]:
    """People NER did not tag, as speaker candidates only (not stored as entities): a common first name and a
    capitalised surname outside every entity span ("Jennifer Green, director of the literacy program")."""
    taken = bytearray(len(text))
    for m in mentions:
        taken[m.start : m.end] = b"\x01" * (m.end - m.start)
    out = []
    for r in _FIRST_LAST.finditer(text):
        if any(taken[r.start() : r.end()]):
            continue
        # a known first name, or a name described like a person: "Maryam Violet, an Iranian journalist",
        # "Mattie Thomas, 66,"
        if r.group(1).casefold() in _FIRST_NAMES or (
            _PERSON_APPOSITION.match(text, r.end()) and not any(w.casefold() in _ORG_WORDS for w in r.group(0).split())
        ):
            name = r.group(0)
            out.append(EntityMention("", name, "PERSON", name, r.start(), r.end()))
    return out


_PERSON_APPOSITION = re.compile(r",\s+(?:\d{1,3},|(?:an?|the)\s+(?:[A-Za-z][\w-]*\s+){0,4}(?:" + _PERSON_ROLES + r"|resident|"
                                r"voter|supporter|student|worker|delegate|journalist|spokes(?:wo)?man)\b)")


def _genders(text: str, mentions: Sequence[EntityMention]) -> dict[str, str]:
    """'m' or 'f' for the people of an article whose gender the text shows: a title (Mr, Mrs, Ms), a common
    first name, else the majority of the first he/his/him or she/her that follows a mention of them alone
    in its sentence (before another person is named)."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    persons = [m for m in mentions if m.entity_type == "PERSON"]
    for i, m in enumerate(persons):
        title = re.match(r"(Mr|Mrs|Ms|Miss|Sir|Dame|Lady|Lord)\b", m.surface)
        if title:
            votes[m.entity]["m" if title.group(1) in ("Mr", "Sir", "Lord") else "f"] += 3
        nxt = persons[i + 1].start if i + 1 < len(persons) else len(text)
        window = text[m.end : min(nxt, m.end + 200)]
        pr = re.search(r"\b(he|his|him|himself|she|her|hers|herself)\b", window, re.IGNORECASE)
        if pr:
            votes[m.entity]["m" if pr.group(1).casefold().startswith("h") and pr.group(1).casefold() not in ("her", "hers", "herself") else "f"] += 1
    out = {}
    for p in {m.entity for m in persons}:
        first = p.split()[0].casefold() if len(p.split()) > 1 else ""
        if first in _FEMALE_NAMES:
            out[p] = "f"
        elif first in _MALE_NAMES:
            out[p] = "m"
        elif votes[p]:
            (g, n), *rest = votes[p].most_common()
            if not rest or n > rest[0][1]:
                out[p] = g
    return out


# Words after the speech verb of a sentence that introduces the quote after it ("said in a statement.").
_INTRO_TAIL_WORDS = 4
_HEADING_DASH = re.compile(r"\s[-–—]\s")


def _find_before(text: str, span: _Span, para_start: int) -> tuple[int, int] | None:
    """The attribution clause before a quote in its sentence: (clause start, verb end)."""
    s0 = _sentence_start(text, span.start - 1, para_start)
    window = text[s0 : span.start - 1]
    verbs = list(_SPEECH_RE.finditer(window))
    if not verbs:
        # 'Donald Trump: "Appreciate the congrats ..."': a name and a colon introduce the quote
        if window.rstrip().endswith(":"):
            # 'VOTERS CARE MORE ABOUT ... - Frank Newport and Jim Harter: "..."': the name after a heading's dash
            dash = list(_HEADING_DASH.finditer(window))
            c0 = dash[-1].end() if dash else 0
            if _words(window[c0:]) <= 12:
                return s0 + c0, s0 + len(window.rstrip()) - 1
        return None
    v = verbs[-1]
    if not window[: v.start()].strip() and _words(window[v.end() :]) <= 12:
        return s0 + v.end(), span.start - 1  # 'Said Dorothy Poynter, who grew up with Ali, "We were ..."'
    if v.group("verb").lower() == "according to":
        m = re.match(r"\s*([^,]{1,80})", window[v.end() :])
        if m:
            return s0 + v.end(), s0 + v.end() + m.end()
    return s0, s0 + v.start()


def _inverted(text: str, span: _Span, para_start: int) -> tuple[int, int] | None:
    """'..., says a report highlighting the “...”': the speaker follows a say-verb that follows a comma."""
    s0 = _sentence_start(text, span.start - 1, para_start)
    window = text[s0 : span.start - 1]
    verbs = list(_SPEECH_RE.finditer(window))
    if not verbs:
        return None
    v = verbs[-1]
    post = window[v.end() :]
    if (
        v.group("verb").lower() in ("said", "says", "say", "added", "adds", "wrote", "writes", "claims", "claimed")
        and window[: v.start()].rstrip().endswith(",")
        and re.match(r"\s*(?:[Aa]n?\s|[Tt]he\s|[A-Z])", post)
        and _words(post) <= 8
    ):
        return s0 + v.end(), span.start - 1
    return None


# After a quote, plural nouns that double as verbs ("in intelligence reports, an investigation found") would
# stop the search too early, so they are left out there.
_NOUN_LIKE = {"reports", "notes", "calls", "claims", "finds", "states", "comments", "describes", "concludes"}
_SPEECH_AFTER = "|".join(v for v in _SPEECH.split("|") if v not in _NOUN_LIKE)
_AFTER_RE = re.compile(
    r"^[\s,;–—-]*(?P<pre>(?:(?:[A-Z][a-z]{0,3}\.|\([A-Z][\w.-]{0,20}\)|[^\s.!?]+)\s+){0,7}?)(?P<verb>" + _SPEECH_AFTER + r")\b(?P<post>(?:\s+(?:[A-Z][a-z]{0,3}\.|[^\s.,;:!?]+)){0,8})",
    re.IGNORECASE,
)


_AFTER_APPOSITIVE_RE = re.compile(
    r"^[\s,;–—-]*(?P<name>(?:[A-Z][\w.’'-]*\s+){0,4}[A-Z][\w’'-]+)\s*,[^.!?" + _DQ + r"]{1,200}?,\s*"
    r"(?P<verb>" + _SPEECH_AFTER + r")\b"
)


def _find_after(text: str, span: _Span, para_end: int) -> tuple[int, int, bool] | None:
    """The attribution right after a closed quote: '"...," he added.', '"...," said Mr X', '"...," X said'."""
    if not span.closed:
        return None
    after_start = span.end + 1
    para_end = min(para_end, after_start + _MAX_SENTENCE)  # an attribution is short; bounds the work
    nxt = _DQ_MARK.search(text, after_start, para_end)
    limit = nxt.start() if nxt else para_end
    m = _AFTER_RE.match(text[after_start:limit])
    if not m:
        # '"...," Robert McDuff, attorney for one of four groups to file suit, said in a statement.'
        m = _AFTER_APPOSITIVE_RE.match(text[after_start:limit])
        if m:
            return after_start + m.start("name"), after_start + m.end("name"), True
        return None
    return _after_parts(m, after_start)


# '"...," in sharp contrast to previous elections, says Dante Scala, a political scientist ...': the quote's
# sentence goes on unquoted, then an inverted attribution names the speaker after the verb
_AFTER_TAIL_RE = re.compile(
    r"^[^.!?\n" + _DQ + r"]{0,200}?,\s*(?:said|says|added|adds|wrote|writes|explained|noted|argued|argues)\s+"
    r"(?P<name>(?:(?:[A-Z][a-z]{0,3}\.|[A-Z][\w’'-]*)\s+){0,3}[A-Z][\w’'-]*)"
)


def _find_after_tail(text: str, span: _Span, para_end: int) -> tuple[int, int] | None:
    """The name after an inverted attribution that ends the quote's unquoted tail (see _AFTER_TAIL_RE)."""
    if not span.closed:
        return None
    after_start = span.end + 1
    limit = min(para_end, after_start + _MAX_SENTENCE)
    nxt = _DQ_MARK.search(text, after_start, limit)
    m = _AFTER_TAIL_RE.match(text[after_start : nxt.start() if nxt else limit])
    return (after_start + m.start("name"), after_start + m.end("name")) if m else None


def _after_parts(m: re.Match[str], offset: int) -> tuple[int, int, bool]:
    """(start, end, before_verb) of the subject in an attribution matched by _AFTER_RE: the words before the
    verb ('X said'), else those after it ('said X')."""
    if m.group("pre").strip():
        return offset + m.start("pre"), offset + m.end("pre"), True
    return offset + m.start("post"), offset + m.end("post"), False


def opens_para_text(text: str, para_start: int, span: _Span) -> bool:
    """True when the quote's mark is the first thing in its paragraph."""
    return text[para_start : span.start].strip() in tuple(_DQ)


def extract_quotes(article_id: str, text: str, ents: ArticleEntities) -> list[Quote]:
    """All direct quotes in the text with their speakers, in text order."""
    paras = _paragraphs(text)
    per_para: list[list[_Span]] = []
    for i, (a, b) in enumerate(paras):
        d = _double_spans(text, a, b, i)
        s = _single_spans(text, a, b, i, d)
        per_para.append(sorted(d + s, key=lambda x: x.start))

    # join multi-paragraph quotes, then split quotes inside one paragraph
    logical: list[_Logical] = []
    carry: _Logical | None = None  # a quote left open at the end of the previous paragraph
    for i, spans in enumerate(per_para):
        p_start = paras[i][0]
        for j, sp in enumerate(spans):
            opens_para = j == 0 and not sp.single and text[p_start : sp.start - 1].strip() == ""
            if carry is not None and opens_para:
                carry.parts.append(sp)
                cur = carry
            else:
                if carry is not None:
                    logical.append(carry)
                cur = _Logical([sp])
            carry = None
            if not sp.closed and not sp.single:
                carry = cur  # open at the end of the paragraph: may continue in the next one
            else:
                logical.append(cur)
        if not spans and carry is not None:
            logical.append(carry)
            carry = None
    if carry is not None:
        logical.append(carry)

    merged: list[_Logical] = []
    for lq in logical:
        if merged:
            prev = merged[-1]
            a, b = prev.parts[-1], lq.parts[0]
            between = text[a.end + 1 : b.start - 1] if a.closed else ""
            if (
                a.closed
                and a.para == b.para
                # '"Part one," he said. "Part two."': the first part ends in a comma (inside or after the mark)
                and (text[a.start : a.end].rstrip()[-1:] in (",", "?", "!") or re.match(r"^\s*[,–—]", between))
                and not a.single
                and not b.single
                and 0 < _words(between) <= 16
                # 'the book titled "The Tragedy of Lyndon Johnson," explaining, "..."': a title is not speech
                and not _NAMING.search(text[max(0, a.start - 40) : a.start - 1])
                and _SPEECH_RE.search(between)
                and not re.search(r"[.!?]\s", between.strip())  # one clause: '," said X, who led it. "'
                and re.search(r"[.,]\s*$", between)
            ):
                prev.parts.extend(lq.parts)
                if prev.attribution is None:  # the first attribution names the speaker; later ones repeat it
                    prev.attribution = (a.end + 1, b.start - 1)
                continue
        merged.append(lq)

    kept = []
    for lq in merged:
        # parts of a split quote end in the comma that replaced a full stop: drop it when joining
        body = " ".join(text[p.start : p.end].strip().rstrip(",") for p in lq.parts)
        body = " ".join(body.split()).strip(" ,")
        if _words(body) >= 3 and not _is_title(body) and not _NAMING.search(text[max(0, lq.parts[0].start - 40) : lq.parts[0].start - 1]):
            kept.append((lq, body))
    quoted = [(p.start, p.end) for lq, _ in kept for p in lq.parts]
    quote_paras = {p.para for lq, _ in kept for p in lq.parts}
    # attribution clauses are searched in a copy where quoted words are blanked: a speech verb or a name
    # inside a quote ("... continued to filter through") is not an attribution
    chars = list(text)
    for a, b in quoted:
        chars[a:b] = " " * (b - a)
    masked = "".join(chars)
    speakers = _Speakers(masked, ents, quoted)
    quoted_starts = {a - 1 for a, _ in quoted}
    out: list[Quote] = []
    prev_speaker: tuple[str, str, str] | None = None
    prev_para = -10
    for lq, body in kept:
        first = lq.parts[0]
        para_start, para_end = paras[first.para]
        speaker: tuple[str, str, str] | None = None
        if lq.attribution is not None:
            a0, a1 = lq.attribution
            # matched on the slice: _AFTER_RE is anchored with '^', which match(text, pos) only meets at a
            # line start, so the attribution between two parts was never parsed as one
            am = _AFTER_RE.match(text[a0:a1])
            if am:
                # '"I told Donald Trump ...," Sessions said when endorsing Trump. "...": the verb's subject
                s0, s1, bv = _after_parts(am, a0)
                speaker = speakers.from_clause(s0, s1, first.start, before_verb=bv)
            if speaker is None:
                speaker = speakers.from_clause(a0, a1, first.start)
        if speaker is None:
            clause = _find_before(masked, first, para_start)
            if clause and _PARTICIPLE.match(masked, clause[1]) and masked[clause[0] : clause[1]].rstrip(" " + _DQ).endswith(","):
                # 'Trump took to Twitter, writing: "..."': the subject of the main clause speaks
                speaker = speakers.main_subject(clause[0], clause[1], first.start)
            if clause and speaker is None:
                speaker = speakers.from_clause(clause[0], clause[1], first.start, before_verb=True)
            inv = _inverted(masked, first, para_start) if clause and (speaker is None or speaker[2] != "PERSON") else None
            if inv:
                # a named person before the verb wins; otherwise the inverted subject ("says a report")
                speaker = speakers.from_clause(inv[0], inv[1], first.start) or speaker
            if speaker is None and clause:
                # 'Boreing said the members will still meet, but said, "..."': the subject of the first verb
                verbs = list(_SPEECH_RE.finditer(masked, clause[0], clause[1]))
                if verbs:
                    speaker = speakers.from_clause(clause[0], verbs[0].start(), first.start, before_verb=True)
        opens_para = opens_para_text(text, para_start, first)
        if speaker is None:
            last = lq.parts[-1]
            lp_start, lp_end = paras[last.para]
            after = _find_after(text, last, lp_end)
            if after:
                speaker = speakers.from_clause(after[0], after[1], first.start, before_verb=after[2])
            if speaker is None and (tail := _find_after_tail(text, last, lp_end)):
                speaker = speakers.from_clause(tail[0], tail[1], first.start)
        if speaker is None and not opens_para:
            # (after the clause behind the quote was looked for) 'Sam Lau, the communications director, said in a statement. "There are no paper ballots."'
            s_start = _sentence_start(text, first.start - 1, para_start)
            if s_start > para_start and not text[s_start : first.start - 1].strip():
                # the sentence before: from a position before its closing punctuation (from the space after
                # it, that full stop was taken for the start of the sentence, and no clause was ever found)
                e = len(text[:s_start].rstrip().rstrip(_DQ + "’'").rstrip(".!?")) - 1
                p0 = _sentence_start(text, max(e, para_start), para_start)
                verbs = list(_SPEECH_RE.finditer(masked, p0, s_start))
                # that sentence ends with its speech verb ("said in a statement.", "told reporters."): a verb
                # earlier in it ("Trump called LeVell, a former chairman, onto the stage.") introduces nothing
                if verbs and p0 not in quoted_starts and _words(masked[verbs[-1].end() : s_start]) <= _INTRO_TAIL_WORDS:
                    speaker = speakers.from_clause(p0, verbs[0].start(), first.start, before_verb=True)
        if speaker is None and first.para == prev_para:
            speaker = prev_speaker  # '"Have I started?" Sanders replied. "Look, the answer is yes."'
        if speaker is None and opens_para and first.para - prev_para == 1:
            speaker = prev_speaker  # a quote paragraph right after a quote: same speaker
        if speaker is None and opens_para and first.para > 0 and first.para - 1 not in quote_paras:
            # "The updated summary also notes that ...", then the quote as its own paragraph
            pa, pb = paras[first.para - 1]
            s0 = _sentence_start(text, pb - 1, pa)
            verbs = list(_SPEECH_RE.finditer(masked[s0:pb]))
            intro = masked[s0:pb].rstrip()
            if verbs:
                speaker = speakers.from_clause(s0, s0 + verbs[0].start(), first.start, before_verb=True)
            if (speaker is None and intro.endswith(":") and _words(intro) <= 12
                    and (not verbs or not masked[s0 : s0 + verbs[0].start()].strip())):
                # 'Stated Stone:' or 'Pew Research:' on a line of its own, then the quote as the next paragraph
                speaker = speakers.from_clause(s0 + (verbs[0].end() if verbs else 0), s0 + len(intro) - 1, first.start)
        last_para = lq.parts[-1].para
        if speaker is None and last_para + 1 < len(paras):
            # a fact-check's quote, then its source on a line of its own: '"…"' / '- Hillary Clinton.'
            na, nb = paras[last_para + 1]
            dash = _DASH_SOURCE.match(text, na, nb)
            if dash:
                speaker = speakers.from_clause(dash.start(1), dash.end(1), first.start)
        if speaker is None and opens_para and first.para - prev_para <= 2:
            speaker = prev_speaker
        sentence_end = _sentence_end(text, first.start, para_end)
        sentence = " ".join(text[_sentence_start(text, first.start - 1, para_start) : sentence_end].split())
        out.append(
            Quote(
                article_id=article_id,
                quote=body,
                speaker=speaker[0] if speaker else None,
                speaker_surface=speaker[1] if speaker else None,
                speaker_type=speaker[2] if speaker else None,
                sentence=sentence[:1000],
            )
        )
        if speaker is not None:
            prev_speaker = speaker
            speakers.last_speaker = speaker
            speakers.last_quote_end = lq.parts[-1].end
        prev_para = lq.parts[-1].para
    return _repeated_quotes(out)


_QUOTE_WORD = re.compile(r"\w+")
# A quote the article also runs elsewhere (a pull quote, a summary box) shares this many words with it at least.
_REPEAT_MIN_WORDS = 8


def _repeated_quotes(quotes: list[Quote]) -> list[Quote]:
    """A quote left without a speaker that the same article runs again with one (a pull quote repeating a
    quote of the body, a summary repeating the lead's quote) gets that speaker: both open with the same
    _REPEAT_MIN_WORDS words (looked up by them, so an article of thousands of quotes costs one pass)."""
    def opening(q: Quote) -> str | None:
        ws = _QUOTE_WORD.findall(q.quote.casefold())
        return " ".join(ws[:_REPEAT_MIN_WORDS]) if len(ws) >= _REPEAT_MIN_WORDS else None

    said: dict[str, Quote] = {}
    for q in quotes:
        if q.speaker is not None and (k := opening(q)) is not None:
            said.setdefault(k, q)
    if not said:
        return quotes
    out = []
    for q in quotes:
        if q.speaker is None and (k := opening(q)) is not None and (same := said.get(k)) is not None:
            q = replace(q, speaker=same.speaker, speaker_surface=same.speaker_surface, speaker_type=same.speaker_type)
        out.append(q)
    return out
