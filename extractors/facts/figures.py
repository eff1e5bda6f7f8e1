"""Figures: numbers in digits or words with the counted noun phrase, qualifier, currency and unit (rules).

"at least 1,400 children" -> Figure(value=1400, noun='children', qualifier='at least')
"£6m operation"           -> Figure(value=6000000, noun='operation', currency='GBP')
"Fourteen officers"       -> Figure(value=14, noun='officers')
"the number of victims had risen to 1,510" -> Figure(value=1510, noun='victims')
"over 12 years"           -> Figure(value=12, noun='years', unit='years', qualifier='more than')

Not figures: years (a four-digit number 1800-2100 written without a comma), dates ("10 July", "July 10"),
times, ordinals, numbers inside words or handles ("@NCA_UK", "COVID-19"), and the word "one" (almost always a
pronoun: "one of them", "one was cleared"). A figure without a counted noun is kept only when it is money or
a percentage.
"""

from __future__ import annotations

import re

from newswatch.models import Figure

WORD_NUMBERS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "a hundred": 100,
    "a thousand": 1000, "a dozen": 12, "dozen": 12,
}
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_UNITS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_SIMPLE_WORDS = "|".join(sorted((k for k in WORD_NUMBERS if " " not in k), key=len, reverse=True))
_TENS_UNITS = r"(?:" + "|".join(_TENS) + r")[- ](?:" + "|".join(_UNITS) + r")"
# "two hundred and fifty", "a hundred and one", "three thousand five hundred": one figure, read by text2num
# (the parts used to become separate figures, 2 and 50)
_COMPOUND = (
    r"(?:(?:a|one|" + _TENS_UNITS + "|" + _SIMPLE_WORDS + r")\s+(?:hundred|thousand)"
    r"(?:(?:\s+and)?[\s-]+(?:" + _TENS_UNITS + "|one|" + _SIMPLE_WORDS + r"|thousand)\b)*)"
)
_WORD_NUM_RE = r"(?:" + _COMPOUND + "|" + _TENS_UNITS + "|" + _SIMPLE_WORDS + r")"
MULTIPLIERS = {
    "k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9, "b": 1e9, "billion": 1e9,
    "trillion": 1e12, "tn": 1e12,
}
CURRENCIES = {"£": "GBP", "$": "USD", "€": "EUR", "¥": "JPY", "US$": "USD"}
_CURRENCY_WORDS = {"pounds": "GBP", "pound": "GBP", "dollars": "USD", "euros": "EUR", "euro": "EUR"}
QUALIFIERS = [
    ("at least", "at least"), ("at most", "at most"), ("more than", "more than"), ("over", "more than"),
    ("in excess of", "more than"), ("upwards of", "more than"), ("just over", "more than"),
    ("fewer than", "less than"), ("less than", "less than"), ("under", "less than"), ("just under", "less than"),
    ("up to", "up to"), ("as many as", "up to"), ("nearly", "nearly"), ("almost", "nearly"),
    ("close to", "nearly"), ("around", "around"), ("about", "around"), ("approximately", "around"),
    ("roughly", "around"), ("some", "around"), ("an estimated", "around"), ("estimated", "around"),
    ("circa", "around"), ("c.", "around"), ("exactly", "exactly"), ("only", "only"), ("just", "only"),
    ("risen to", None), ("rose to", None),
]
_QUAL_RE = re.compile(
    r"(?P<q>" + "|".join(re.escape(q) for q, _ in sorted(QUALIFIERS, key=lambda x: -len(x[0]))) + r")\s+$",
    re.IGNORECASE,
)
_QUAL_MAP = {q: v for q, v in QUALIFIERS}
MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_NUMBER = re.compile(
    r"(?<![\w@#/.,-])"
    r"(?P<cur>US\$|[£$€¥])?\s?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|" + _WORD_NUM_RE + r")"
    r"(?:\s?(?P<mult>k|m|mn|bn|b|tn|thousand|million|billion|trillion)\b)?"
    r"(?P<pct>\s?(?:%|per\s?cent|percent))?"
    r"(?![\w@]|[.,]\d|-\d)",
    re.IGNORECASE,
)
# Words that end a counted noun phrase (verbs, prepositions, conjunctions, pronouns).
_STOP = set(
    """of to in by were was had have has is are be been being who which that from for with at on as after before
    during since until than then when where while but or if so because though although into onto over under
    about against between through per each it its their they them he she his her we our you your this these
    those there here not no also all more most less said says say told added later earlier ago old aged
    did do does could would should will may might can must shall across among including such like out up down
    off away back still just only yet already now today yesterday tomorrow year years month months my me us
    him your mine ours theirs whilst amid despite instead spoke told went came took made gave got left saw knew
    thought became began ran won lost paid met held brought stood fell rose sent wrote led kept felt heard meant
    put set hit cut let died lived says""".split()
)
_UNIT_NOUNS = {
    "years": "years", "year": "years", "months": "months", "month": "months", "weeks": "weeks",
    "week": "weeks", "days": "days", "day": "days", "hours": "hours", "miles": "miles", "km": "km",
    "metres": "metres", "meters": "metres", "tonnes": "tonnes", "tons": "tonnes", "kg": "kg",
}
_NUMBER_OF = re.compile(
    r"number of (?P<noun>[a-z]+) (?:had |has |have )?(?:risen|rose|fallen|fell|increased|grown|"
    r"climbed|dropped|reached|reach|stands|stood|now stands)(?: to| at)? $",
    re.IGNORECASE,
)
MAX_SENTENCE_CHARS = 1000  # stored context; a longer "sentence" is a table or a list without full stops
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


def _value(m: re.Match[str]) -> float | None:
    raw = m.group("num").lower().replace(",", "")
    if raw in WORD_NUMBERS:
        v: float = WORD_NUMBERS[raw]
    elif re.search(r"\b(?:hundred|thousand)\b", raw):
        from text_to_num import text2num

        try:
            v = text2num(re.sub(r"^a\s", "one ", " ".join(raw.split())), "en")
        except ValueError:
            return None
    elif re.match(r"^[a-z]+[- ][a-z]+$", raw):
        a, b = re.split(r"[- ]", raw)
        v = WORD_NUMBERS.get(a, 0) + _UNITS.index(b) + 1
    else:
        try:
            v = float(raw)
        except ValueError:
            return None
    if m.group("mult"):
        v *= MULTIPLIERS[m.group("mult").lower()]
    return v


def _noun_phrase(after: str) -> tuple[str, int]:
    """The counted noun phrase at the start of `after`: up to four lower-case words before a stop word."""
    words: list[str] = []
    pos = 0
    for w in _WORD.finditer(after):
        gap = after[pos : w.start()]
        if words and gap.strip() not in ("", "-"):
            break  # punctuation ends the phrase
        if not words and gap.strip():
            break
        token = w.group(0)
        low = token.lower()
        if low in _STOP and not (low in ("year", "years", "month", "months") and not words):
            # "and" joins adjectives: "47 current and former officers"
            break
        if low == "and" or low == "or":
            if not words:
                break
            words.append(low)
            pos = w.end()
            continue
        if low in ("a", "an", "the") or low in ("above", "below"):
            break  # "two streets and a square": the determiner starts another phrase
        if words and low.endswith("ed") and len(low) > 4:
            break  # "500 local residents filed complaints": a past tense after the noun ends the phrase
        if not token[0].islower() and not words and not re.fullmatch(r"[A-Z]{2,}s", token):
            # "18 Downing Street": a capitalised word is not a counted noun, unless an adjective before a
            # lower-case word follows ("three African postcolonial activists"); "NGOs", "MPs" are nouns
            nxt = re.match(r"\s+([a-z][a-z'-]*)", after[w.end() :])
            if not nxt or nxt.group(1) in _STOP:
                break
        words.append(token)
        pos = w.end()
        if len(words) >= 4:
            break
    # a phrase cannot end in a verb or adverb: "two senior officers received my" -> "senior officers",
    # "Seven retired before" -> nothing (adjectives such as "injured people" stay, a noun follows them)
    while words and (words[-1] in ("and", "or") or re.search(r"(?:ed|ly)$", words[-1]) and len(words[-1]) > 4):
        words.pop()
    consumed = 0
    if words:
        consumed = after.find(words[-1]) + len(words[-1])
    return " ".join(words), consumed


def extract_figures(article_id: str, text: str, sentences: list[tuple[int, int]]) -> list[Figure]:
    """All figures in the text; `sentences` are (start, end) character spans covering the text."""
    figures: list[Figure] = []
    for s_start, s_end in sentences:
        sent = text[s_start:s_end]
        norm_sent = " ".join(sent.split())[:MAX_SENTENCE_CHARS]
        for m in _NUMBER.finditer(sent):
            num = m.group("num")
            low = num.lower()
            is_word = low[0].isalpha()
            if low in ("one", "a hundred", "a thousand") or (low == "dozen"):
                continue
            value = _value(m)
            if value is None:
                continue
            # bounded windows: every rule looks a few words around the number, and a sentence without full
            # stops (a table, a list) must not make this quadratic
            before = sent[max(0, m.start() - 120) : m.start()]
            after = sent[m.end() : m.end() + 200]
            currency = None
            if m.group("cur"):
                currency = CURRENCIES.get(m.group("cur"))
            # years and dates are periods, not figures
            if (
                not is_word
                and not m.group("cur")
                and re.fullmatch(r"\d{4}", num)
                and 1800 <= int(num) <= 2100
                and not m.group("mult")
                and not m.group("pct")
            ):
                continue
            if re.search(r"\b(?:" + MONTHS + r")\.?\s*$", before, re.IGNORECASE):
                continue
            if re.match(r"\s*(?:st|nd|rd|th)?\s*(?:of\s+)?(?:" + MONTHS + r")\b", after, re.IGNORECASE) and not is_word:
                continue
            if re.match(r"\s*(?:am|pm|a\.m\.|p\.m\.)\b|:\d", after, re.IGNORECASE):
                continue
            if re.match(r"(?:st|nd|rd|th)\b", after):
                continue
            if re.search(r"\d{4}[–-]$", before):  # "2004-11": the end of a year range
                continue
            noun, consumed = _noun_phrase(after)
            unit = None
            if m.group("pct"):
                unit = "percent"
                if not noun:
                    of = re.match(r"\s+of\s+(?:the\s+|all\s+)?([a-z][a-z -]{0,40}?)(?=[,.;:]|\s+(?:were|was|had|have|are|is|said)\b|$)", after)
                    noun = of.group(1).strip() if of else ""
            if not currency:
                cw = re.match(r"\s*(pounds|pound|dollars|euros|euro)\b", after, re.IGNORECASE)
                if cw:
                    currency = _CURRENCY_WORDS[cw.group(1).lower()]
                    noun, consumed = _noun_phrase(after[cw.end() :])
            if noun:
                head = noun.split()[-1].lower()
                unit = unit or _UNIT_NOUNS.get(head)
            if not noun:
                nm = _NUMBER_OF.search(before)
                if nm:
                    noun = nm.group("noun")
            if not noun and not currency and unit != "percent":
                continue
            if is_word and not noun:
                continue
            qualifier = None
            surface_start = m.start()
            q = _QUAL_RE.search(before)
            if q:
                qualifier = _QUAL_MAP.get(q.group("q").lower())
                if qualifier is not None:
                    surface_start = q.start()
                if q.group("q").lower() == "over" and unit in ("years", "months", "weeks", "days", "hours"):
                    # "spent over three years": over means during, not more than
                    qualifier, surface_start = None, m.start()
            surface = sent[surface_start : m.end() + consumed].strip()
            figures.append(
                Figure(
                    article_id=article_id,
                    value=float(value),
                    noun=noun,
                    qualifier=qualifier,
                    currency=currency,
                    surface=surface,
                    sentence=norm_sent,
                    unit=unit,
                )
            )
    return figures
