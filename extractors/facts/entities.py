"""Entity mentions and their canonical names inside one article (spaCy NER spans plus rules).

Canonicalisation, in order:
1. user aliases from the config (surface -> canonical, case-insensitive) win over everything;
2. spans are trimmed: a leading "the", a possessive "'s", and a glued acronym ("... Conduct (IOPC") is split;
3. acronyms defined in the text, "Independent Office for Police Conduct (IOPC)", and undefined acronyms whose
   letters are the initials of an organisation named in the same article ("SYP" for South Yorkshire Police);
   a near-miss acronym (two letters swapped, "IPOC" for IOPC) is linked when its correct form is in the article;
4. organisation names are case-normalised: function words lower-case ("Office For Police" = "Office for Police");
5. titles and honorifics are dropped (Dr, Prof, Professor, Mr, Mrs, Ms, Chief Constable, ...); a title followed
   by a capitalised word is a PERSON mention even when NER missed it ("Mrs Senior");
6. a surname (or first name) on its own is the one full name in the article that ends (starts) with it:
   "Mrs Senior" -> Jayne Senior, "Dr Heal" -> Angie Heal.
The type of a canonical entity is the majority NER label of its mentions, corrected by name rules
(".. Police", ".. Agency" are ORG; "Operation X" is EVENT; a titled name is PERSON).
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from extractors.facts.gazetteer import is_city, is_not_entity, is_place, is_platform
from extractors.facts.names import FIRST_NAMES
from newswatch.models import Alias, EntityMention

KEPT_LABELS = {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT"}
FUNCTION_WORDS = {"of", "for", "and", "the", "on", "in", "at", "to", "de", "du", "von", "van", "&"}
# Longest first so that "Deputy Chief Constable" wins over "Chief Constable" and "Constable".
TITLES = sorted(
    [
        "Deputy Chief Constable", "Assistant Chief Constable", "Chief Constable", "Chief Superintendent",
        "Detective Chief Inspector", "Detective Inspector", "Detective Sergeant", "Detective Superintendent",
        "Det Supt", "Det Insp", "Det Sgt", "Det Ch Insp", "Supt", "Inspector", "Sergeant", "Sgt", "PC", "DC",
        "Constable", "Professor", "Prof", "Dr", "Doctor", "Mr", "Mrs", "Ms", "Miss", "Mx", "Sir", "Dame", "Lord",
        "Lady", "Baroness", "Baron", "Cllr", "Councillor", "Judge", "Justice", "Rev", "Reverend", "Father",
        "President", "Prime Minister", "Minister", "Secretary", "Mayor", "Senator", "Governor", "Rep",
        "Captain", "Capt", "General", "Gen", "Colonel", "Col", "Major", "Lieutenant", "Lt", "MP", "MEP",
        "Whistleblower", "Commissioner", "Director", "Chancellor",
    ],
    key=lambda t: -len(t),
)
_TITLE_RE = re.compile(r"^(?:(?:" + "|".join(re.escape(t) for t in TITLES) + r")\.?\s+)+")
# Titles that mark a person without being part of a role phrase.
_HONORIFICS = ("Dr", "Prof", "Professor", "Mr", "Mrs", "Ms", "Miss", "Sir", "Dame", "Lord", "Lady", "Mx",
               "Deputy Chief Constable", "Chief Constable", "Baroness", "Cllr", "Councillor", "Det Supt",
               "Det Insp", "Det Sgt", "Detective Chief Inspector", "Detective Inspector", "Rev")
_CAP = r"[A-Z][a-zA-Z'’-]+"
_TITLED_NAME = re.compile(
    r"\b(?P<title>" + "|".join(re.escape(t) for t in sorted(_HONORIFICS, key=lambda t: -len(t))) + r")\.?\s+"
    r"(?P<name>" + _CAP + r"(?:\s+" + _CAP + r"){0,2})"
)
_ORG_TAILS = {
    "police", "agency", "office", "council", "conduct", "commission", "committee", "news", "service",
    "services", "ministry", "department", "party", "force", "court", "university", "trust", "channel",
    "authority", "bank", "company", "corporation", "inc", "ltd", "plc", "group", "association", "union",
    "institute", "foundation", "board", "parliament", "government", "network", "times", "guardian", "bbc",
    "post", "press", "school", "college", "hospital", "nhs", "fund", "society", "club", "watch",
}
# Country abbreviations that are not defined in articles because every reader knows them.
_COUNTRY_ABBREVIATIONS = {"us": "United States", "u.s.": "United States", "u.s": "United States",
                          "usa": "United States", "u.s.a.": "United States", "uk": "United Kingdom",
                          "u.k.": "United Kingdom", "u.k": "United Kingdom", "eu": "European Union"}
# Names of US political news every reader knows (docs/facts.md, "Entity annotation guideline"): a party's members
# and its adjective are one group ("Democratic senators", "a Democrat", "Democrats said" -> Democrats), "GOP" is the
# Republican Party, "America" on its own the United States, and the AP abbreviations of the states in party tags and
# datelines ("R-Ky.", "Madison, Wis.") the states.
_PARTY_GROUPS = {"democrat": "Democrats", "democrats": "Democrats", "democratic": "Democrats",
                 "republican": "Republicans", "republicans": "Republicans"}
# the other names of the Islamic State, resolved to it when the article writes "Islamic State" (else one stands alone)
_ISLAMIC_STATE_NAMES = {"isis", "isil", "daesh"}
_KNOWN_NAMES = {"gop": ("Republican Party", "ORG"), "america": ("United States", "GPE"),
                "nyc": ("New York City", "GPE"), "ap": ("Associated Press", "ORG")}
# names NER reads as common words or misses in news prose ("raising sums from Wall Street", "on Twitter"); the
# social networks are only those whose names are no ordinary word
_KNOWN_SPANS = re.compile(
    r"(?<![\w@#./-])(?:(?P<ORG>Wall Street|Islamic State|Twitter|Facebook|Instagram|YouTube|Reddit|TikTok|LinkedIn"
    r"|WhatsApp|Snapchat)|(?P<EVENT>Super Tuesday))(?![\w-]|\.[a-z])"
)
_AP_STATES = {
    "ala.": "Alabama", "ariz.": "Arizona", "ark.": "Arkansas", "calif.": "California", "colo.": "Colorado",
    "conn.": "Connecticut", "del.": "Delaware", "fla.": "Florida", "ga.": "Georgia", "ill.": "Illinois",
    "ind.": "Indiana", "kan.": "Kansas", "ky.": "Kentucky", "la.": "Louisiana", "md.": "Maryland",
    "mass.": "Massachusetts", "mich.": "Michigan", "minn.": "Minnesota", "miss.": "Mississippi", "mo.": "Missouri",
    "mont.": "Montana", "neb.": "Nebraska", "nev.": "Nevada", "n.h.": "New Hampshire", "n.j.": "New Jersey",
    "n.m.": "New Mexico", "n.y.": "New York", "n.c.": "North Carolina", "n.d.": "North Dakota", "okla.": "Oklahoma",
    "ore.": "Oregon", "pa.": "Pennsylvania", "r.i.": "Rhode Island", "s.c.": "South Carolina", "s.d.": "South Dakota",
    "tenn.": "Tennessee", "vt.": "Vermont", "va.": "Virginia", "wash.": "Washington", "w.va.": "West Virginia",
    "wis.": "Wisconsin", "wyo.": "Wyoming",
}
# the postal codes, read only in a party tag ("I-VT"): alone, "IN", "OR", "ME" are words
_POSTAL_STATES = dict(zip(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA "
    "RI SC SD TN TX UT VT VA WA WV WI WY".split(),
    ["Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware", "Florida",
     "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky", "Louisiana", "Maine",
     "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi", "Missouri", "Montana", "Nebraska",
     "Nevada", "New Hampshire", "New Jersey", "New Mexico", "New York", "North Carolina", "North Dakota", "Ohio",
     "Oklahoma", "Oregon", "Pennsylvania", "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas",
     "Utah", "Vermont", "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming"], strict=True))
_STATE_NAMES = set(_POSTAL_STATES.values())
# the nicknames news writes for a state or a city ("won the Badger State"): the place
_PLACE_NICKNAMES = {
    "garden state": "New Jersey", "badger state": "Wisconsin", "empire state": "New York", "golden state":
    "California", "lone star state": "Texas", "sunshine state": "Florida", "keystone state": "Pennsylvania",
    "bluegrass state": "Kentucky", "buckeye state": "Ohio", "hawkeye state": "Iowa", "granite state":
    "New Hampshire", "old dominion": "Virginia", "silver state": "Nevada", "peach state": "Georgia",
    "tar heel state": "North Carolina", "palmetto state": "South Carolina", "wolverine state": "Michigan",
    "hoosier state": "Indiana", "show-me state": "Missouri", "evergreen state": "Washington",
    "big apple": "New York City", "windy city": "Chicago", "motor city": "Detroit",
}
# "Madison, Wis.", "Derry, New Hampshire": a name before a state is a town
_BEFORE_STATE = re.compile(
    r",\s+(?:" + "|".join(re.escape(a.title()) for a in sorted(_AP_STATES, key=len, reverse=True) if "." in a[:-1])
    + "|" + "|".join(re.escape(a.capitalize()) for a in _AP_STATES if "." not in a[:-1])
    + "|" + "|".join(sorted(_STATE_NAMES, key=len, reverse=True)) + r")(?![\w])"
)
_DATE_SPAN = re.compile(
    r"^(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?(?:\s+\d{4})?$"
)
_NEWSPAPER_HEADS = {"post", "times", "journal", "herald", "tribune", "globe", "telegraph", "observer", "examiner",
                    "chronicle", "gazette", "inquirer", "star-ledger"}
_LAW = re.compile(r"\b((?:[A-Z][a-z]+\s+(?:(?:of|and|the|for|on)\s+)*)+)Act\b")
# "the Indiana primary", "the Wyoming Democratic caucuses": a state's named contest
_STATE_CONTEST = re.compile(r"\b(?:" + "|".join(sorted(_STATE_NAMES, key=len, reverse=True))
                            + r")(?: (?:Democratic|Republican|GOP))? (?:primary|caucuses)\b")
# "Salem, N.H.": a state's abbreviation after a town
_TOWN_STATE = re.compile(r"(?<=[a-z], )((?:[A-Z]\.){2}|W\.Va\.|[A-Z][a-z]{1,4}\.)")
_POLL_FIGURE = re.compile(r"\s+\d[\d.,]*\s*(?:percent|per cent|%)$")
_POLL_SCORE = re.compile(r"\s+\d{1,2}-\d{1,2}$")  # "Cruz 42-40": a poll's score run into a person's name
# a word before a person's full name that is no part of it: a byline's "Follow Adelle Nazarian on Twitter", a
# caption's "Actress Amandla Stenberg" (an occupation, read as a title)
_WORD_BEFORE_PERSON = re.compile(
    r"(?:Follow|Actress|Actor|Singer|Rapper|Founder|Comedian|Businessman|Businesswoman)\s+(?=[A-Z]\w+ [A-Z])")
_HANDLE_END = re.compile(r"\s+@\w+$")  # "Twitter @AdelleNaz": a handle run into a name
# an owner NER ran into a common noun: "Obama's council", "Japan's constitution"
_OWNER_COMMON = re.compile(r"([A-Z][\w’'-]+(?: [A-Z][\w’'-]+)*)(?:'s|’s)\s+[a-z]")
_OWNER = re.compile(r"[A-Z][\w’'-]+(?:'s|’s)\s+(?=[A-Z])")
_ROLE_AFTER = re.compile(r"\s+(?:Inspector General|[Ss]pokes(?:man|woman|person)|Chair(?:man|woman)?|Director|Secretary)$")
_COMMITTEE_ON = re.compile(r" on (?:the )?[A-Z][\w’'-]+(?: (?:and |of )?[A-Z][\w’'-]+)*")
_US_BODY = re.compile(r"U\.S\. ((?:State|Justice|Defense|Treasury|Labor|Commerce|Energy) Department|Senate|House"
                      r"|Congress|Supreme Court|Department of [A-Z][\w ]+)$")
_PARTY_TAG = re.compile(r"(?<![\w-])[RDI]-((?:[A-Z]\.){2}|W\.Va\.|[A-Z][a-z]{1,4}\.|[A-Z]{2}(?![\w.]))")
_COMPANY_SUFFIX = re.compile(
    r"(?:\.com)?(?:,?\s+(?:Corp|Corporation|Inc|Ltd|Limited|plc|PLC|LLC|LLP|LP|Co|AG|SA|S\.A|NV|N\.V|BV|B\.V|Pty|GmbH)\.?)+$"
    r"|\.com$"
)
# legal forms no person's name ends with: "Adelard LLP" tagged PERSON is a company
_LEGAL_FORM = re.compile(r",?\s+(?:Inc|Ltd|Limited|plc|PLC|LLC|LLP|GmbH|Corp|Corporation)\.?$")
# places whose name starts with "The": the leading-article trim keeps it
_THE_PLACES = {"the hague", "the gambia", "the bahamas", "the bronx"}
# the last word of a job description NER took for a name ("Sports Business Analyst", "Computer Scientist")
_OCCUPATIONS = {
    "attorney", "analyst", "editor", "scientist", "engineer", "developer", "director", "manager", "officer",
    "consultant", "researcher", "lead", "executive", "broadcaster", "author", "reporter", "correspondent",
    "spokesman", "spokeswoman", "spokesperson", "founder", "coordinator", "adviser", "advisor", "designer",
    "chairman", "chairwoman",
}
_SPORTS_GAMES = re.compile(r"\b(?:Olympic|Paralympic|Commonwealth|Asian|Pan American|Invictus|World|Youth|Special)\b")
# geographic features by their head word: seas, rivers, lakes, mountains, islands, gulfs, deserts
_GEO_FEATURE = re.compile(
    r"(?:\s(?:Sea|Ocean|River|Lake|Mountains|Hills|Islands|Indies|Peninsula|Desert|Strait|Straits|Glacier|Delta)$)"
    r"|^(?:River|Lake|Mount|Mt|Gulf of|Sea of|Bay of|Isle of|Strait of|Cape)\s"
)
_SPEECH_AFTER = re.compile(r"\s(?:said|says|wrote|writes|told|tells|added|adds|explained|noted|argued)\b")
_LOCATIVE_BEFORE = re.compile(r"\b(?:in|on|near|across|throughout|around|off|visit|visited|to)\s+$")
_MID_SENTENCE_CAP = re.compile(r"\b[a-z][\w’'-]*[ ,]+(?:the |a |an )?([A-Z][\w’'-]*)(?![\w’'-])")
_INITIALS_ONLY = re.compile(r"^(?:[A-Z]\.\s*)+$")
_PAGE_REF = re.compile(r"^(?:Page|Pages|Fig|Figure|Table)\s+[A-Z]?\d+[A-Z]?$")
_TITLE_BEFORE = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(t) for t in TITLES) + r")\.?\s+$")
_STREET = re.compile(
    r"(?:\s(?:Street|Road|Avenue|Lane|Square|Boulevard|Drive|Way|Place|Bridge)|(?:allee|stra(?:ss|ß)e|platz|gasse|weg))$",
    re.IGNORECASE,
)
_REGIONS = {"Africa", "Europe", "Asia", "Antarctica", "Oceania", "America", "Latin America", "Middle East",
            "Scandinavia", "Balkans", "Caribbean", "Sahel", "Arctic"}
_EVENT_TAILS = {"awards", "oscars", "globes", "olympics", "games", "championship", "championships", "cup",
                "festival", "war", "election", "summit", "marathon", "grand prix", "one", "two", "conference",
                "convention", "caucuses", "primary", "primaries", "recession", "depression"}
_ACRONYM_DEF = re.compile(r"\(([A-Z][A-Z&]{1,9})\)")
_ACRONYM = re.compile(r"^[A-Z][A-Z&]{1,9}$")
_POSSESSIVE = re.compile(r"(?:'s|’s|['’]+)$")
# Capitalised words NER sometimes takes for a one-word person ("Director for Major Investigations").
# one capitalised word that only describes an institution ("the Court ruled"): not a name in the guideline
_GENERIC_INSTITUTIONS = {"court", "council", "government", "ministry", "commission", "committee", "state",
                         "cabinet", "legislature", "agency", "department", "authority", "board", "university", "college", "hospital",
                         "tribunal", "company", "foundation"}
_NOT_NAMES = {"investigations", "operations", "police", "news", "office", "government", "council"}
# capitalised group nouns after a word that is also a first name: "Christian Democrats" is a party
_GROUP_NOUNS = {"Democrats", "Democrat", "Democratic", "Republicans", "Socialists", "Conservatives", "Liberals",
                "Church", "Science", "Scientists", "Union", "Brothers", "Sisters", "Fellowship", "Movement",
                # days and months follow a name without being part of it: "Trump Wednesday said"
                "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January", "February",
                "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
                "Tower", "Administration", "Campaign", "Jr", "Sr"}
_PRONOUN_OR_JUNK = {"he", "she", "they", "it", "we", "i", "you", "his", "her"}


@dataclass(frozen=True, slots=True)
class ArticleEntities:
    """Result of canonicalisation for one article: mentions, aliases, and a resolver used by quotes."""

    mentions: tuple[EntityMention, ...]
    aliases: tuple[Alias, ...]
    canon: Mapping[str, str]  # casefolded surface (title stripped) -> canonical
    types: Mapping[str, str]  # canonical -> type
    # canonicals the article's facts leave out although quotes may still read their mentions (_lone_people)
    unsure: frozenset[str] = frozenset()

    @property
    def entities(self) -> tuple[EntityMention, ...]:
        """The mentions an article's facts store: all but those of the unsure canonicals."""
        if not self.unsure:
            return self.mentions
        return tuple(m for m in self.mentions if m.entity not in self.unsure)

    @property
    def stored_aliases(self) -> tuple[Alias, ...]:
        """The aliases an article's facts store: none of an unsure canonical."""
        if not self.unsure:
            return self.aliases
        return tuple(a for a in self.aliases if a.entity not in self.unsure)

    def resolve(self, surface: str) -> tuple[str, str] | None:
        """Canonical name and type for a surface form seen in this article, or None."""
        s = strip_title(trim_surface(surface)[0])
        c = self.canon.get(s.casefold())
        if c is None:
            c = self.canon.get(surface.strip().casefold())
        if c is None:
            return None
        return c, self.types.get(c, "ORG")


# An inverted attribution opening a sentence, which NER takes into the name: 'Stated Stone:', 'Added Smith,'
# ('Said' is left alone: it is also a first name)
_LEADING_VERB = re.compile(r"^(?:Stated|Added|Asked|Wrote|Replied|Explained|Noted|Continued|Countered|Tweeted)\s+(?=[A-Z])")


def trim_surface(s: str) -> tuple[str, int]:
    """Drop a leading article and a trailing possessive; return the trimmed text and the offset dropped at left."""
    left = 0
    m = re.match(r"^(?:the|The|THE)\s+", s) or _LEADING_VERB.match(s)
    if m and " ".join(s.split()).casefold() not in _THE_PLACES:
        left = m.end()
        s = s[left:]
    s = _POSSESSIVE.sub("", s).rstrip(" ,;:")
    if s.endswith(".") and not re.search(r"(?:^|[\s.])[A-Z]\.$|\b(?:Inc|Corp|Co|Ltd|Jr|Sr|St)\.$", s):
        s = s[:-1]  # "U.S." keeps its full stop, a sentence end does not
    return s, left


def strip_title(name: str) -> str:
    """'Dr Angie Heal' -> 'Angie Heal'; 'Chief Constable' alone stays as it is."""
    stripped = _TITLE_RE.sub("", name).strip()
    return stripped or name


def normalise_org(name: str) -> str:
    """Case-normalise an organisation name: function words lower-case except the first word."""
    words = name.split()
    out = []
    for i, w in enumerate(words):
        if i > 0 and w.casefold() in FUNCTION_WORDS:
            out.append(w.lower())
        else:
            out.append(w)
    return " ".join(out)


def initials(name: str) -> str:
    """Initials of the content words: 'Independent Office For Police Conduct' -> 'IOPC'."""
    return "".join(w[0].upper() for w in name.split() if w.casefold() not in FUNCTION_WORDS and w[:1].isalpha())


def acronym_definitions(text: str) -> dict[str, str]:
    """Acronyms defined in the text as 'Full Name (ACRO)' where ACRO are the initials of the words before it."""
    found: dict[str, str] = {}
    for m in _ACRONYM_DEF.finditer(text):
        acro = m.group(1).replace("&", "")
        before = text[: m.start()].rstrip()
        words = before.split()
        # walk back over at most len(acro)+4 words (function words do not count)
        for k in range(len(acro), min(len(words), len(acro) + 5) + 1):
            cand = words[-k:]
            if not cand[0][:1].isupper() or cand[0].casefold() in FUNCTION_WORDS:
                continue
            if initials(" ".join(cand)) == acro:
                found[acro] = normalise_org(" ".join(cand).strip(",;:"))
                break
    return found


def _is_swap_variant(a: str, b: str) -> bool:
    """True if a and b are the same letters with one adjacent transposition (IPOC / IOPC)."""
    if len(a) != len(b) or a == b or sorted(a) != sorted(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1


def _type_by_name(name: str, label: str) -> str | None:
    if name in ("United States", "United Kingdom"):
        return "GPE"
    if name in ("Democrats", "Republicans"):
        return "NORP"
    if (name in _STATE_NAMES or name in _PLACE_NICKNAMES.values()) and (
        label != "PERSON" or name not in ("Washington", "Georgia", "Virginia", "Indiana", "Carolina")
    ):
        return "GPE"  # "New Jersey", "New York City" (a majority PERSON "Georgia" may be a person's name)
    if label == "NORP" and _ACRONYM.match(name) and len(name) >= 3:
        return "ORG"  # "UPI" tagged NORP: an acronym is no nationality
    if re.search(r"\b(?:Cemetery|Stadium|Arena|Airport|Coliseum|Ballpark|Convention Center)$", name):
        return "FAC"  # "Holy Cross Cemetery", "Kentucky International Convention Center"
    if name in ("White House", "Wall Street"):
        return "ORG"  # the administration and the industry, far more often than the building and the street
    if name in ("European Union", "Islamic State"):
        return "ORG"  # a group, whatever NER made of its other names ("Daesh" GPE, "ISIS" PERSON)
    words = name.split()
    if not words:
        return None
    if words[0] == "Operation" and len(words) > 1:
        return "EVENT"
    if words[0] in ("Proceedings", "Journal", "Transactions", "Annals") and len(words) > 2:
        return "ORG"  # "Proceedings of the … Conference" is the publication
    if words[-1].casefold() in _ORG_TAILS:
        return "ORG"
    if words[-1].casefold() == "games" and not _SPORTS_GAMES.search(name):
        if len(words) == 2 and label in ("ORG", "FAC", "GPE"):
            return "ORG"  # "Epic Games", "Riot Games" are companies; "Olympic Games" are events
    elif words[-1].casefold() in _EVENT_TAILS and (len(words) > 1 or words[0] == "Oscars") and label != "PERSON":
        return "EVENT"
    if words[-1].casefold() in ("awards", "oscars", "globes"):
        return "EVENT"
    if _ACRONYM.match(name) and label in ("PERSON", "GPE", "FAC", "LOC"):
        return "ORG"
    if _STREET.search(name):
        return "FAC"  # "Penistone Road", "Petersallee", "Manga-Bell-Platz"
    if _GEO_FEATURE.search(name) and words[-1].casefold() not in _ORG_TAILS:
        return "LOC"  # "Gulf of Thailand", "North Sea", "River Don" (after streets: "Lake Chabot Road")
    if name in _REGIONS or (len(words) == 2 and words[0] in ("North", "South", "East", "West", "Central")
                            and words[1] in _REGIONS):
        return "LOC"
    return None


def _not_a_name(span: str) -> bool:
    """Spans NER tags that are no entity in the guideline: initials alone (`A.R.`, from "Jamieson, A.R."),
    file formats, units and languages (`JPEG`, `KB`, `JavaScript`), paths and versions (`Java/JSP`,
    `Android/Filecoder`), page references (`Page A8`) and bare job descriptions (`Sports Business Analyst`)."""
    if _INITIALS_ONLY.match(span) and span.casefold() not in _COUNTRY_ABBREVIATIONS and span not in ("U.N.", "E.U."):
        return True
    if is_not_entity(span) or "/" in span or _PAGE_REF.match(span) or _TITLE_RE.sub("", span + " ") == "":
        return True  # ... or a title alone ("Miss")
    words = span.split()
    if words[-1].casefold() in _OCCUPATIONS and not any(w.casefold() in FIRST_NAMES for w in words):
        return all(w[:1].isupper() for w in words)
    return False


def _place_and_demonym_types(
    text: str, resolved: list[tuple[int, int, str, str, str]], types: dict[str, str], person_evidence: set[str]
) -> None:
    """Context rules for names NER called people or organisations:
    - a name written after a place preposition at least twice ("sail to Redonda", "on Redonda", "in Antigua")
      with no title, no full name and never the subject of a speech verb is a place (GPE);
    - a name that is another place of the article plus a demonym ending ("Antiguan" beside Antigua,
      "Argentines" beside Argentina) is a nationality (NORP);
    - a name coordinated only with places ("between San Leandro and Castro Valley") is a place."""
    locative: Counter[str] = Counter()
    for s, _e, _surface, c, _label in resolved:
        if (len(c.split()) == 1 or is_city(c)) and _LOCATIVE_BEFORE.search(text[max(0, s - 12) : s]):
            locative[c] += 1
    for c, n in locative.items():
        if c in person_evidence or c.casefold() in FIRST_NAMES or re.search(r"\b" + re.escape(c) + _SPEECH_AFTER.pattern, text):
            continue
        if n >= 2 and types.get(c) == "PERSON" and len(c.split()) == 1:
            types[c] = "GPE"
        elif types.get(c) in ("PERSON", "ORG", "FAC") and is_city(c) and not is_platform(c):
            # "families in Hillsborough" tagged ORG: a town of the GeoNames list written after a place preposition
            types[c] = "GPE"
    # "between San Leandro and Castro Valley", "Phoenix, Miami and Austin": a name coordinated only with places
    coord: dict[str, set[str]] = defaultdict(set)
    ordered = sorted(resolved)
    for (_s1, e1, _x, c1, _l1), (s2, _e2, _y, c2, _l2) in zip(ordered, ordered[1:], strict=False):
        if re.fullmatch(r"(?:,|,? and|,? or)\s+", text[e1:s2]):
            coord[c1].add(types.get(c2, ""))
            coord[c2].add(types.get(c1, ""))
    for c, neighbour_types in coord.items():
        if (types.get(c) in ("PERSON", "ORG") and neighbour_types == {"GPE"} and c not in person_evidence
                and c.split()[0].casefold() not in FIRST_NAMES and _type_by_name(c, types[c]) is None
                and not is_platform(c)):
            types[c] = "GPE"
    places = [c for c, t in types.items() if t in ("GPE", "LOC") and len(c.split()) == 1 and len(c) >= 4]
    for c, t in list(types.items()):
        if t == "NORP" or len(c.split()) != 1 or c in person_evidence:
            continue
        if re.search(r"(?:an|ans|ian|ians|ese|ish|ine|ines|i|is)$", c):
            for p in places:
                k = 0
                while k < min(len(p), len(c)) and p[k].casefold() == c[k].casefold():
                    k += 1
                if p != c and k >= 4 and k >= len(p) - 2:
                    types[c] = "NORP"
                    break


# second words of "Name Foundation"-style company names whose first word alone names the same organisation
_COMPANY_HEADS = {"foundation", "group", "labs", "media", "studios", "games", "technologies", "software", "systems",
                  "inc", "corp", "ltd", "llc", "holdings", "ventures", "entertainment", "interactive", "airlines",
                  "motors", "networks", "communications", "pharmaceuticals", "energy", "bank"}
_CAMEL = re.compile(r"^(?!Mc|Mac|De|Di|Da|La|Le|Van|Von|Du)[A-Z][a-z]+[A-Z][A-Za-z]+$")


def _platform_service(span: str) -> bool:
    words = trim_surface(span)[0].split()
    return bool(words) and len(words) <= 2 and is_platform(words[0])


def _organisation_types(text: str, types: dict[str, str], person_evidence: set[str]) -> None:
    """Names NER called a place or a person that are organisations by their form, unless a title or a full name
    says it is a person or the name is a known place or town:
    - one word with a capital inside (`InfoAmazonia`, `PayPal`; not `McAllen`, `DeShawn`);
    - one word that starts a longer organisation name of the same article (`At Wikimedia we` beside the
      Wikimedia Foundation)."""
    for c, t in list(types.items()):
        # "a Choctaw and Chickasaw mother", "a Choctaw bisexual woman": a one-word "place" that is not a known
        # place or town, only ever written as an adjective after "a"/"an", is a people (NORP)
        if t != "GPE" or " " in c or c in person_evidence or is_place(c) or is_city(c) or c in _REGIONS:
            continue
        attributive = indefinite = 0
        uses = list(re.finditer(r"(?<![\w-])" + re.escape(c) + r"(?![\w-])", text))
        for m in uses:
            before, after = text[max(0, m.start() - 30) : m.start()], text[m.end() : m.end() + 40]
            if re.match(r"\s+(?:and\s+[A-Z][\w-]+\s+)?[a-z]", after):
                attributive += 1
            if re.search(r"\b(?:a|an|A|An)\s+(?:[A-Z][\w-]+\s+and\s+)?$", before):
                indefinite += 1
        if uses and attributive == len(uses) and indefinite >= 1:
            types[c] = "NORP"
    heads = {c.split()[0] for c, t in types.items()
             if t == "ORG" and len(c.split()) == 2 and c.split()[1].casefold() in _COMPANY_HEADS}
    for c, t in list(types.items()):
        if t not in ("GPE", "PERSON", "LOC", "NORP") or c in person_evidence or " " in c:
            continue
        if is_place(c) or is_city(c) or c in _REGIONS or c.casefold() in FIRST_NAMES:
            continue
        if _CAMEL.match(c) or (c in heads and t != "NORP"):  # not "Turkish" of Turkish Airlines
            types[c] = "ORG"


def _capitalised_mid_sentence(text: str) -> set[str]:
    """Capitalised words the text writes after a lower-case word in a sentence (not in a title-case heading such
    as "Fixing at the Source": a line without a closing full stop and of a dozen words or fewer). One pass."""
    out: set[str] = set()
    for line in text.split("\n"):
        line = line.strip()
        if not (re.search(r"[.!?:;\"”’)]$", line) or len(line.split()) > 12):
            continue
        out.update(_MID_SENTENCE_CAP.findall(line))
    return out


def _drop_common_words(
    text: str, items: list[tuple[int, int, str, str, str]]
) -> list[tuple[int, int, str, str, str]]:
    """Drop one-word spans that the same text also writes in lower case as an ordinary word and capitalises
    only where every word is capitalised, at the start of a sentence or line ("Quarry plan" as a heading next
    to "the old quarry", "Herein", "Challenges, which ..."), unless a title says it is a person or the word is
    part of a longer name of the article ("Senior" of Jayne Senior beside "senior officers"). A word capitalised
    mid-sentence ("voted Labour" beside "labour market") is a name and stays."""
    lower = set(re.findall(r"(?<![\w’'-])[a-z][a-z’'-]+(?![\w’'-])", text))
    mid = _capitalised_mid_sentence(text)
    in_longer = {w.casefold() for *_, b, _ in items if len(b.split()) >= 2 for w in b.split()}
    out = []
    for it in items:
        _s, _e, surface, base, _lab = it
        w = base.casefold()
        if (len(base.split()) == 1 and surface == base and not base.isupper() and base.lower() in lower
                and w not in in_longer and w not in FIRST_NAMES and not is_place(base) and not is_platform(base)
                and base not in mid):
            continue
        out.append(it)
    return out


# A reference-list line: "- ^ a b Gashi, I.; Stankovic, V. (2009). "Title". Venue: 4–11." (Wikipedia, papers,
# blogs citing papers). NER reads "Gashi" GPE and "I." PERSON as two names; the authors are "Surname, Given"
# separated by ";" before a parenthesised year.
_CITATION_LINE = re.compile(
    r"^(?:[-*•]\s*)?(?:\^\s*)?(?:[a-z]\s)*(?P<authors>[A-Za-z][^()\n]{2,600}?)\s*"
    r"\((?:[A-Z][a-z]{2,8}\.? )?(?:1[89]|20)\d\d[^)\n]{0,12}\)\.?",
    re.MULTILINE,
)
_AUTHOR = re.compile(
    r"(?P<sur>(?:(?:van|von|de|der|den|du|da|del|di|la|le|ter|ten)\s+)*[A-Z][\w'’-]+(?:[ -][A-Z][\w'’-]+)?)"
    r",\s+(?P<given>(?:[A-Z]\.\s?)+|[A-Z][\w'’-]+(?:\s+(?:[A-Z]\.\s?)+)?(?:\s+[A-Z]\.)*)"
    r"(?P<particles>(?:\s+(?:van|von|de|der|den|du|da|del|di|la|le|ter|ten))*)$"
)
_INITIALS_GIVEN = re.compile(r"^(?:[A-Z]\.\s?)+$")
_VENUE = re.compile(r"\s*[\"“][^\"”\n]{3,300}[\"”]\s*(?:\([A-Z]+\)\s*)?\.?\s*(?P<venue>[A-Z][^.:;(\n\d\"“]{2,150})")


def _citations(text: str) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]], list[tuple[int, int]]]:
    """Authors of reference-list lines (start, end, canonical "Given Surname"), their venues (start, end, label:
    a journal or proceedings ORG, a conference EVENT) and the ranges whose NER spans are dropped (the author list
    and the quoted title: a work, not an entity)."""
    authors: list[tuple[int, int, str]] = []
    venues: list[tuple[int, int, str]] = []
    blocked: list[tuple[int, int]] = []
    for m in _CITATION_LINE.finditer(text):
        parts = m.group("authors").split(";")
        found = []
        pos = m.start("authors")
        for part in parts:
            a = _AUTHOR.match(part.strip())
            if a is None:
                found = []
                break
            st = pos + (len(part) - len(part.lstrip()))
            given = a.group("given").strip()
            particles = a.group("particles").strip()
            name = " ".join(x for x in (given, particles, a.group("sur")) if x)
            found.append((st, st + len(part.strip()), name))
            pos += len(part) + 1
        if not found or (len(found) == 1 and "." not in found[0][2]):
            continue  # one author needs an initial: "Paris, France (2019)" is not a reference
        authors += found
        blocked.append((m.start("authors"), m.end()))
        v = _VENUE.match(text, m.end())
        if v:
            blocked.append((m.end(), v.start("venue")))
            venue = v.group("venue").rstrip(" ,")  # _VENUE starts it with a capital: never empty
            head = venue.split()[0]
            label = ("EVENT" if re.search(r"\b(?:Conference|Symposium|Workshop)\b", venue)
                     and head not in ("Proceedings", "Journal", "Transactions") else "ORG")
            venues.append((v.start("venue"), v.start("venue") + len(venue), label))
    return authors, venues, blocked


def canonicalise(
    article_id: str,
    text: str,
    ents: Sequence[tuple[int, int, str]],
    user_aliases: Mapping[str, str] | None = None,
) -> ArticleEntities:
    """Turn raw NER spans (start_char, end_char, label) into canonical mentions and per-article aliases."""
    # keys are matched like surfaces: case-insensitive, without a leading "the"
    user = {trim_surface(k.strip())[0].casefold(): v for k, v in (user_aliases or {}).items()}
    acronyms = acronym_definitions(text)

    # 1. candidate spans: NER spans (trimmed, acronym split off) and titled names found by rule
    spans: list[tuple[int, int, str, bool]] = []  # start, end, label, titled
    cited, venues, blocked = _citations(text)
    # "Freedom of Information Act": a law, and "FOIA" (every start of the name: "Under the Freedom of ...")
    laws = [" ".join(ws[i:]) for ws in (m.group(1).split() for m in _LAW.finditer(text))
            for i in range(len(ws)) if ws[i][:1].isupper()]
    law_names = set(laws) | {f"{w} Act" for w in laws} | {"".join(x[0] for x in f"{w} Act".split()).upper() for w in laws}
    fixed = {(s, e): name for s, e, name in cited}  # a reference's author "Gashi, I." is I. Gashi
    spans += [(s, e, "PERSON", True) for s, e, _ in cited] + [(s, e, lab, False) for s, e, lab in venues]
    for start, end, label in ents:
        if label in ("PRODUCT", "WORK_OF_ART") and _platform_service(text[start:end]):
            label = "ORG"  # "GitHub", "Google Play" tagged PRODUCT: online services are organisations
        if label not in KEPT_LABELS or any(b0 < end and start < b1 for b0, b1 in blocked):
            continue
        surface = text[start:end]
        glued = re.search(r"(?:^|\n)\s*\d{1,3}\.([A-Z][a-z]+) $", text[max(0, start - 30) : start])
        if glued and label == "PERSON":
            # "3.Charlotte Jones Anderson": a list number glued to the first name hides it from NER
            start -= len(glued.group(1)) + 1
            surface = text[start:end]
        if "\n" in surface.strip():
            # a name does not run over a paragraph break ("Jon Rego" / "Clayton", a list item and its heading):
            # keep the first line that starts with a capital (nlp.py also stops NER at breaks)
            lines = [ln for ln in surface.split("\n") if ln.strip()[:1].isupper()]
            if not lines:
                continue
            first = lines[0]
            start = start + surface.index(first) + (len(first) - len(first.lstrip()))
            end = start + len(first.strip())
            surface = text[start:end]
        m = re.search(r"\s*\(([A-Z][A-Z&]{1,9})\)?$", surface)
        if m:
            a_start = start + surface.index(m.group(1), m.start())
            spans.append((a_start, a_start + len(m.group(1)), "ORG", False))
            end = start + m.start()
            surface = text[start:end]
        comma = re.fullmatch(r"([A-Z][\w.+-]*), ([A-Z][\w.+-]*)", surface.strip())
        if comma and not _COMPANY_SUFFIX.search(surface) and label in ("ORG", "PRODUCT", "PERSON"):
            # "MySQL, PostgreSQL": a list NER read as one name; each item is judged on its own
            for g in (1, 2):
                part = comma.group(g)
                if not _not_a_name(part) and part.casefold() not in _PRONOUN_OR_JUNK:
                    spans.append((start + comma.start(g), start + comma.end(g), label, False))
            continue
        dash = re.search(r"\s[-–—]\s", surface)
        if dash:
            # "WASHINGTON - Federal": a spaced dash ends a name (datelines)
            end = start + dash.start()
            surface = text[start:end]
        if label == "PERSON":
            # "Governor Mark Ellison": NER leaves the title out of the span; the mention includes it
            t = _TITLE_BEFORE.search(text[max(0, start - 40) : start])
            if t:
                start -= len(t.group(0))
                surface = text[start:end]
        trimmed, left = trim_surface(surface)
        if not trimmed or trimmed.casefold() in _PRONOUN_OR_JUNK or not trimmed[:1].isupper():
            continue
        # cuts first, so that the filters below judge the name that is left
        if label == "PERSON" and (before := _WORD_BEFORE_PERSON.match(trimmed)):
            left += before.end()
            trimmed = trimmed[before.end() :]
        if handle := _HANDLE_END.search(trimmed):
            trimmed = trimmed[: handle.start()]
        pron = re.search(r"\s+(?:She|He|They|We)$", trimmed)  # not "I": "World War I"
        if pron and len(trimmed.split()) > 2:
            trimmed = trimmed[: pron.start()]  # "Outkick The Coverage She is ...": a missing full stop
        pct = _POLL_FIGURE.search(trimmed)
        if pct and label != "PERSON":
            trimmed = trimmed[: pct.start()]  # "Rubio 68 percent": a poll figure run into the name
        if label == "PERSON" and (score := _POLL_SCORE.search(trimmed)):
            trimmed = trimmed[: score.start()]
        if common := _OWNER_COMMON.match(trimmed):
            # the owner is what is named; NER's label was the phrase's, so the owner keeps a span only as a place
            # or a person by its first name ("Japan's constitution"), else the mention is left out ("The Court's
            # decision", "Tuesday's debate", "Macy's parade")
            trimmed = common.group(1)
            if is_place(trimmed):
                label = "GPE"
            elif trimmed.split()[0].casefold() in FIRST_NAMES and len(trimmed.split()) > 1:
                label = "PERSON"
            else:
                continue
        if trimmed.casefold() in _GENERIC_INSTITUTIONS and trimmed[:1].isupper() and " " not in trimmed:
            continue  # "the Court", "the Council": a descriptor of a body the article names in full
        if _not_a_name(trimmed) or text[max(0, start - 1) : start] in ("#", "@"):
            continue  # ... or a hashtag or handle ("#WeMissTurkey")
        if re.match(r"[a-z_]\.$", text[max(0, start - 2) : start]) or text[end : end + 1] == "(":
            continue  # code, not prose: "webdriver.PhantomJS()"
        if _DATE_SPAN.match(trimmed) or trimmed in law_names or text[end : end + 4] == " Act":
            continue  # a date ("September 29, 2012" as EVENT), or a law or its acronym ("FOIA"): not entities
        owner = _OWNER.match(trimmed)
        rest = trimmed[owner.end() :].split() if owner else []
        if owner and (
            (label == "ORG" and len(rest) >= 2 and rest[-1].casefold() in _ORG_TAILS)
            or (2 <= len(rest) <= 3 and rest[0].casefold() in FIRST_NAMES)
        ):  # not "People's Channel", the name of a channel
            # "Obama's State Department": the department; "BlazeTV's Glenn Beck": the person
            if rest[0].casefold() in FIRST_NAMES and len(rest) <= 3 and rest[-1].casefold() not in _ORG_TAILS:
                label = "PERSON"
            left += owner.end()
            trimmed = trimmed[owner.end() :]
        words = trimmed.split()
        if (label == "ORG" and len(words) >= 4 and words[-2].casefold() in FIRST_NAMES
                and all(w[:1].isupper() for w in words)
                and (text.count(" ".join(words[:-2])) >= 2 or words[-3].casefold() in _ORG_TAILS)):
            # "Fox News Sean Hannity": a network named elsewhere, then a person's full name
            cut = trimmed.rindex(words[-2])
            spans.append((start + left, start + left + len(" ".join(words[:-2])), "ORG", False))
            spans.append((start + left + cut, start + left + len(trimmed), "PERSON", False))
            continue
        if label == "ORG":
            role = _ROLE_AFTER.search(trimmed)
            if role and len(trimmed[: role.start()].split()) >= 2:
                trimmed = trimmed[: role.start()]  # "State Department Inspector General": the department
            if trimmed.split()[-1].casefold() in ("committee", "subcommittee", "commission") and (
                on := _COMMITTEE_ON.match(text, start + left + len(trimmed))
            ):
                trimmed += on.group(0)  # "House Select Committee on Benghazi": the committee's name runs on
        num = re.search(r"\s+\d[\d.]*$", trimmed)
        if label == "PERSON" and num:
            trimmed = trimmed[: num.start()]  # no person's name ends in a number: "Trump 2016" is Trump
        spans.append((start + left, start + left + len(trimmed), label, False))
    # a state's named primary or caucuses is an event (guideline)
    for m in _STATE_CONTEST.finditer(text):
        spans.append((m.start(), m.end(), "EVENT", False))
    # NER often leaves the state's abbreviation after a town untagged
    for m in _TOWN_STATE.finditer(text):
        if m.group(1).casefold() in _AP_STATES and text[max(0, m.start() - 40) : m.start()].split()[-1][:1].isupper():
            spans.append((m.start(1), m.end(1), "GPE", False))
    for m in _KNOWN_SPANS.finditer(text):
        spans.append((m.start(), m.end(), m.lastgroup or "ORG", False))
    # a party tag names the state: "Sen. Mitch McConnell (R-Ky.)", "Rep. Raul Grijalva, D-Ariz." (NER skips it)
    for m in _PARTY_TAG.finditer(text):
        if m.group(1).casefold() in _AP_STATES or m.group(1) in _POSTAL_STATES:
            spans.append((m.start(1), m.end(1), "GPE", False))
    # a letter's or comment's signature: a line with a name, then a line that is only a town ("Ninfa Wood" /
    # "Walnut Creek"); NER sees neither on such short lines
    lines = [(m.start(), m.group(0)) for m in re.finditer(r"[^\n]+", text) if m.group(0).strip()]
    for (s0, name_line), (s1, town_line) in zip(lines, lines[1:], strict=False):
        town, name = town_line.strip(), name_line.strip()
        if (re.fullmatch(r"[A-Z][a-z]+(?: [A-Z][a-z]+){0,2}", town) and is_city(town)
                and re.fullmatch(r"[A-Z][a-z'’-]+(?: [A-Z]\.)?(?: [A-Z][a-z'’-]+){1,2}", name)
                and not is_city(name) and not is_place(name) and not _type_by_name(name, "PERSON")):
            t0 = s1 + town_line.index(town)
            n0 = s0 + name_line.index(name)
            spans.append((t0, t0 + len(town), "GPE", False))
            spans.append((n0, n0 + len(name), "PERSON", True))
    # a numbered list whose items NER mostly tags as people ("1. Christie Leigh Mueller", "8.Lori Kelly"): an item
    # of two or three capitalised words that NER left out is a person too
    items_re = re.compile(r"^\s*\d{1,3}\.\s*([A-Z][a-z'’-]+(?: [A-Z][a-z'’-]+){1,2})\s*$", re.MULTILINE)
    listed = [(m.start(1), m.end(1)) for m in items_re.finditer(text)]
    if len(listed) >= 3:
        person = sum(1 for a, b in listed if any(lab == "PERSON" and st < b and a < en for st, en, lab, _ in spans))
        if person * 2 > len(listed):
            for a, b in listed:
                if not any(st < b and a < en for st, en, _lab, _ in spans) and not is_place(text[a:b]):
                    spans.append((a, b, "PERSON", False))
    titled_surnames: set[str] = set()
    for m in _TITLED_NAME.finditer(text):
        name, _ = trim_surface(m.group("name"))
        if name.casefold() in _NOT_NAMES or _not_a_name(name):
            continue
        # the mention starts at the title: its surface is "Mrs Senior", its canonical name Jayne Senior
        spans.append((m.start(), m.start("name") + len(name), "PERSON", True))
        titled_surnames.add(name.split()[-1])
    # "Jayne Senior ran ...": NER often tags only "Jayne" because "Senior" looks like an adjective; a single
    # PERSON word followed by a word the article also uses as a titled surname ("Mrs Senior") is one name
    # "Geoffrey Hinton.[1]": a reference mark glued to the surname makes NER tag only the first name; a single
    # PERSON word (or a common first name, "NFL quarterback Christian Ponder" with Christian as NORP) followed
    # by a capitalised word that is no ordinary word of the text is one name
    lower_words = set(re.findall(r"(?<![\w’'-])[a-z][a-z’'-]+(?![\w’'-])", text))
    ner_starts = {st for st, _en, _lab, _t in spans}

    def _surname_after(en: int) -> re.Match[str] | None:
        nxt = re.match(r" ([A-Z][a-z]+(?:['’-][A-Z][a-z]+)?)(?![\w-])", text[en : en + 40])  # not its "'s"
        if nxt is None or en + 1 in ner_starts:
            return None
        w = nxt.group(1)
        if (w.lower() in lower_words or w in title_words or w in _GROUP_NOUNS or w.casefold() in _ORG_TAILS or w.casefold() in _EVENT_TAILS
                or is_place(w) or _STREET.search(" " + w) or _GEO_FEATURE.search(" " + w)):
            return None
        return nxt

    title_words = {w for t in TITLES for w in t.split()} | {"The", "A", "An", "But", "And", "Former", "Whistleblower"}
    extended = []
    for st, en, label, titled in spans:
        if label == "PERSON" and not titled and len(text[st:en].split()) == 1:
            nxt = re.match(r" ([A-Z][a-zA-Z'’-]+)\b", text[en : en + 40])
            if nxt and nxt.group(1) in titled_surnames:
                en = en + nxt.end()
            elif (nxt := _surname_after(en)) is not None:
                en = en + nxt.end()
        extended.append((st, en, label, titled))
    spans = extended
    # only where NER tagged the first name alone (as PERSON or NORP): untagged, a common first name before a
    # capitalised word is as often a company or an award ("Austin Energy", "Victoria Cross")
    tagged_first = {st for st, en, lab, _t in spans if lab in ("PERSON", "NORP") and len(text[st:en].split()) == 1}
    for m in re.finditer(r"(?<![\w’'.-])([A-Z][a-z]+)(?= [A-Z])", text):
        if m.start() not in tagged_first:
            continue
        if m.group(1).casefold() in FIRST_NAMES and (nxt := _surname_after(m.end())) is not None:
            spans.append((m.start(), m.end() + nxt.end(), "PERSON", False))
    # "Whistleblower Jayne Senior submitted": a capitalised word before a titled surname is the first name
    for sur in titled_surnames:
        for m in re.finditer(r"\b([A-Z][a-z'’-]+) " + re.escape(sur) + r"\b", text):
            if m.group(1) not in title_words and m.group(1) not in titled_surnames:
                spans.append((m.start(), m.end(), "PERSON", True))
    # bare acronyms NER missed ("The IPOC said"): kept when defined, or the initials of an organisation named
    # in the article, or one swap away from either
    org_names = {normalise_org(trim_surface(text[st:en])[0]) for st, en, lab, _ in spans if lab in ("ORG", "FAC", "GPE")}
    known = set(acronyms) | {initials(o) for o in org_names if len(o.split()) >= 2}
    # ... or written at least twice mid-sentence and never tagged by NER ("WCTS will begin", "reasons WCTS
    # became"): an organisation's short name, unless it is a format, unit or identifier (gazetteer)
    bare = Counter(m.group(0) for m in re.finditer(r"(?<=[a-z,] )[A-Z][A-Z&]{2,6}(?= [a-z])", text))
    tagged = {text[st:en] for st, en, _lab in ents}
    known |= {a for a, n in bare.items() if n >= 2 and a not in tagged and not is_not_entity(a)
              and a.casefold() not in _COUNTRY_ABBREVIATIONS}
    for m in re.finditer(r"\b[A-Z][A-Z&]{1,9}\b", text):
        a = m.group(0)
        if a in known or any(_is_swap_variant(a, k) for k in known):
            spans.append((m.start(), m.end(), "ORG", False))
    # drop overlaps: prefer titled-rule spans (they know the type), then longer spans
    chosen: list[tuple[int, int, str, bool]] = []
    taken: list[tuple[int, int]] = []  # sorted, non-overlapping: an overlap test is one bisect
    for sp in sorted(spans, key=lambda s: (not s[3], -(s[1] - s[0]), s[0])):
        i = bisect.bisect_left(taken, (sp[0], sp[1]))
        if (i > 0 and taken[i - 1][1] > sp[0]) or (i < len(taken) and taken[i][0] < sp[1]):
            continue
        if sp[2] == "PERSON" and not sp[3] and strip_title(text[sp[0] : sp[1]]).casefold() in _NOT_NAMES:
            continue
        taken.insert(i, (sp[0], sp[1]))
        chosen.append(sp)
    chosen.sort()
    # "Republican" + "National Committee": NER splits a party's body after the party's adjective
    merged: list[tuple[int, int, str, bool]] = []
    for sp in chosen:
        prev = merged[-1] if merged else None
        body = text[sp[0] : sp[1]]
        if (prev and prev[2] == "NORP" and sp[0] == prev[1] + 1 and text[prev[1]] == " " and sp[2] in ("ORG", "EVENT")
                and (text[prev[0] : prev[1]] in ("Republican", "Democratic") and body.startswith("National ")
                     or re.fullmatch(r"(?:Foreign|Defense|Interior|Finance|Justice|Health) Ministry|Embassy|Army|Navy"
                                     r"|Air Force|Parliament|Government", body))):
            merged[-1] = (prev[0], sp[1], sp[2], False)
            continue
        merged.append(sp)
    chosen = merged

    # 2. base names and labels
    titled_persons = {strip_title(text[s:e]).casefold() for s, e, _, t in chosen if t}
    items = []
    for s, e, label, titled in chosen:
        surface = text[s:e]
        base = strip_title(surface).replace("\u00ad", "")  # a soft hyphen is invisible: "Doug\u00adAndres"
        lab = label
        if titled or base.casefold() in titled_persons:
            lab = "PERSON"
        if lab in ("GPE", "LOC", "ORG") and text[e : e + 1] == "." and base.casefold() + "." in _AP_STATES:
            e, surface, base = e + 1, surface + ".", base + "."  # "Ky." the state, not "Ky" and a full stop
        items.append((s, e, surface, base, lab))
    # a product's version or a sequel's number: "Mortal Kombat 11", "Rocket Pass 4" (every mention numbered;
    # not a score, "Arsenal 3 Tottenham 1", nor a name whose span holds the number, "Channel 4")
    numbered: dict[str, list[bool]] = defaultdict(list)
    for _st, en, _surface, b, lab in items:
        if lab != "PERSON" or len(b.split()) >= 2:
            numbered[b].append(bool(re.match(r" \d{1,2}(?![\d,.:–-])(?! [A-Z])", text[en : en + 6])))
    versioned = {b for b, flags in numbered.items() if all(flags) and not is_place(b) and not is_city(b)
                 and _type_by_name(b, "ORG") is None}
    items = [it for it in items if it[3] not in versioned]
    venue_starts = {st for st, _e, _lab in venues}  # "Bioinformatics", a journal, beside doi:…/bioinformatics/…
    items = sorted(_drop_common_words(text, [it for it in items if it[0] not in venue_starts])
                   + [it for it in items if it[0] in venue_starts])
    # "Gustavo Faleiros" tagged ORG while "Faleiros wrote" is a PERSON: a two- or three-word name that starts
    # with a common first name, or ends with a word the article uses alone as a person, is a person
    lone_persons = {m.group(1).casefold() for m in re.finditer(r"\b([A-Z][a-z'’-]+)(?=" + _SPEECH_AFTER.pattern + ")", text)}
    relabelled = []
    for s, e, surface, base, lab in items:
        words = base.split()
        if (lab in ("ORG", "GPE", "NORP", "FAC", "LOC") and 2 <= len(words) <= 3
                and all(re.fullmatch(r"[A-Z][a-z'’-]+", w) or (0 < i < len(words) - 1 and re.fullmatch(r"[A-Z]\.", w))
                        for i, w in enumerate(words))
                and (words[0].casefold() in FIRST_NAMES or words[-1].casefold() in lone_persons)
                and _type_by_name(base, lab) is None and not is_place(base) and not is_platform(base)):
            lab = "PERSON"
        relabelled.append((s, e, surface, base, lab))
    items = relabelled
    # a title-case heading runs a name into the next words ("Creative Commons Platforms" above a text about the
    # platforms of Creative Commons): a span that is another name of the article plus words the text also
    # writes in lower case is that name
    bases = {b for *_, b, _lab in items}
    trimmed_items = []
    for st, en, surface, b, lab in items:
        words = b.split()
        line_start = text.rfind("\n", 0, st) + 1
        line_end = text.find("\n", en)
        line = text[line_start : line_end if line_end >= 0 else len(text)].strip()
        heading = not re.search(r"[.!?:;\"”’)]$", line) and len(line.split()) <= 12
        if heading and len(words) >= 2 and surface == b:
            for k in range(len(words) - 1, 0, -1):
                head, rest = " ".join(words[:k]), words[k:]
                if head in bases and head != b and all(w.lower() in lower_words for w in rest):
                    en = st + len(head)
                    surface = b = head
                    break
        trimmed_items.append((st, en, surface, b, lab))
    items = trimmed_items
    # "Faleiros wrote" after Gustavo Faleiros: a bare surname NER did not tag is a mention of the one person of
    # the article with that surname (not an ordinary word of the text, not inside another span)
    surnames: dict[str, set[str]] = defaultdict(set)
    for _s, _e, _surface, b, lab in items:
        if lab == "PERSON" and len(b.split()) >= 2 and re.fullmatch(r"[A-Z][a-z'’-]{3,}", b.split()[-1]):
            surnames[b.split()[-1]].add(b)
    covered = [(st, en) for st, en, *_ in items]
    extra = []
    for sur, owners in surnames.items():
        if len(owners) != 1 or sur.lower() in lower_words or sur in _GROUP_NOUNS:
            continue
        for m in re.finditer(r"(?<![\w’'-])" + re.escape(sur) + r"(?![\w-])", text):
            if not any(st <= m.start() < en for st, en in covered):
                extra.append((m.start(), m.end(), sur, sur, "PERSON"))
    items = sorted(items + extra)

    # full person names (two or more words) by last and first word
    full_names = {b for s, e, _, b, lab in items if lab == "PERSON" and len(b.split()) >= 2 and (s, e) not in fixed}
    by_last: dict[str, set[str]] = defaultdict(set)
    by_first: dict[str, set[str]] = defaultdict(set)
    by_suffix: dict[str, set[str]] = defaultdict(set)  # "De Niro" -> Robert De Niro
    for fn in full_names:
        parts = fn.split()
        for k in range(2, len(parts)):
            by_suffix[" ".join(parts[-k:]).casefold()].add(fn)
        by_last[fn.split()[-1].casefold()].add(fn)
        by_first[fn.split()[0].casefold()].add(fn)
    # longest full name wins when "Alexis Jay" and "Professor Alexis Jay" reduce to the same base
    orgs = {normalise_org(b) for *_, b, lab in items if lab != "PERSON" and len(b.split()) >= 2}
    orgs |= set(acronyms.values())
    org_by_initials: dict[str, set[str]] = defaultdict(set)
    for o in orgs:
        if len(o.split()) >= 2:
            org_by_initials[initials(o)].add(o)

    aliases: dict[tuple[str, str], Alias] = {}
    norp_bases = {b.casefold(): b for *_, b, lab in items if lab == "NORP"}
    papers: dict[str, set[str]] = defaultdict(set)
    for o in orgs:
        if len(o.split()) >= 2 and o.split()[-1].casefold() in _NEWSPAPER_HEADS:
            papers[o.split()[-1].casefold()].add(o)

    def canon_of(surface: str, base: str, label: str, s: int, e: int) -> tuple[str, str | None]:
        """canonical name and alias origin (None when the name is its own canonical)."""
        for key in (surface.casefold(), base.casefold()):
            if key in user:
                return user[key], "user"
        if (s, e) in fixed:
            name = fixed[(s, e)]
            given, sur = name.split()[0], name.split()[-1]
            if _INITIALS_GIVEN.match(given + " ") or given.endswith("."):
                # "Hinton, G.E." in the references of an article that names Geoffrey Hinton
                same = [fn for fn in by_last.get(sur.casefold(), ()) if fn[:1] == given[:1]]
                if len(same) == 1:
                    return same[0], "surname"
            return name, "surname"
        if base.casefold() in _COUNTRY_ABBREVIATIONS:
            return _COUNTRY_ABBREVIATIONS[base.casefold()], "acronym"
        key = base.casefold()
        if label == "NORP" and key + "s" in norp_bases:
            return norp_bases[key + "s"], "variant"  # "American" beside "Americans": one group
        if label in ("NORP", "ORG") and key in _PARTY_GROUPS:
            return _PARTY_GROUPS[key], ("variant" if _PARTY_GROUPS[key] != base else None)
        if key in _ISLAMIC_STATE_NAMES and (base.isupper() or key == "daesh") and "Islamic State" in text:
            return "Islamic State", "acronym"
        if key in _KNOWN_NAMES and label in ("ORG", "NORP", "GPE", "LOC"):
            return _KNOWN_NAMES[key][0], "acronym" if base.isupper() else "variant"
        if label in ("GPE", "LOC", "ORG") and key in _AP_STATES:
            return _AP_STATES[key], "variant"
        if key in _PLACE_NICKNAMES and label != "PERSON":
            return _PLACE_NICKNAMES[key], "variant"
        gov = _US_BODY.match(base)
        if gov and label in ("ORG", "GPE", "FAC"):
            return gov.group(1), "variant"  # "U.S. Senate": the Senate (the country is the reader's default)
        if base in _POSTAL_STATES and _PARTY_TAG.fullmatch(text[max(0, s - 2) : e]):
            return _POSTAL_STATES[base], "variant"
        if label != "PERSON" and " " not in base and key in _NEWSPAPER_HEADS and len(papers.get(key, ())) == 1:
            return next(iter(papers[key])), "variant"  # "the Post" of an article that names The Washington Post
        dateline_caps = base.isupper() and len(base) > 4 and (s == 0 or text[s - 1] == "\n") and re.match(
            r"\s*[(\-–—,]", text[e : e + 3]
        )
        if _ACRONYM.match(base) and not dateline_caps:
            if base in acronyms:
                return acronyms[base], "acronym"
            cands = org_by_initials.get(base, set())
            if len(cands) == 1:
                return next(iter(cands)), "acronym"
            for acro, full in acronyms.items():
                if _is_swap_variant(base, acro):
                    return full, "variant"
            for ini, cands in org_by_initials.items():
                if len(cands) == 1 and _is_swap_variant(base, ini):
                    return next(iter(cands)), "variant"
            return base, None
        words = base.split()
        if label != "PERSON" and len(words) == 1 and len(by_last.get(base.casefold(), ())) == 1:
            # "Phoenix said" tagged GPE next to "Joaquin Phoenix": the surname of a person named in the article
            return next(iter(by_last[base.casefold()])), "surname"
        legal = _LEGAL_FORM.search(base)
        if legal and label == "PERSON" and len(base[: legal.start()].strip()) >= 2:
            return normalise_org(base[: legal.start()].strip()), "legal"  # "Adelard LLP" tagged PERSON
        if label == "PERSON" and len(words) >= 2 and len(by_suffix.get(base.casefold(), ())) == 1:
            return next(iter(by_suffix[base.casefold()])), "surname"
        if label == "PERSON":
            if len(words) == 1:
                w = words[0].casefold()
                if len(by_last.get(w, ())) == 1:
                    return next(iter(by_last[w])), "surname"
                if len(by_first.get(w, ())) == 1:
                    return next(iter(by_first[w])), "surname"
            return base, ("title" if base != surface else None)
        suffix = _COMPANY_SUFFIX.search(base)
        if suffix and label in ("ORG", "FAC", "GPE", "PERSON") and len(base[: suffix.start()].strip()) >= 2:
            # "Microsoft Corp", "Amazon.com Inc.", "Chevron Corp": the company without its legal form
            return normalise_org(base[: suffix.start()].strip()), "variant"
        norm = normalise_org(base)
        dateline = s == 0 or text[s - 1] == "\n"
        if base.isupper() and len(base) > 4 and (" " in base or dateline and re.match(r"\s*[(\-–—,]", text[e : e + 3])):
            # a dateline or headline in capitals ("LOS ANGELES (Reuters)", "TALLAHASSEE, Fla. -"): title case
            norm = normalise_org(base.title())
        return norm, ("variant" if norm != base else None)

    resolved = []
    person_evidence: set[str] = set()  # canonicals a title or a full name says are people
    for s, e, surface, base, label in items:
        c, origin = canon_of(surface, base, label, s, e)
        if origin in ("surname", "title") or base != strip_title(surface):
            person_evidence.add(c)
        if origin == "legal":
            label, origin = "ORG", "variant"
        if c.casefold() in user and origin != "user":
            c, origin = user[c.casefold()], "user"  # a user alias for the canonical covers all its variants
        if origin is not None and surface != c:
            aliases.setdefault(
                (surface, c),
                Alias(alias=surface, entity=c, entity_type="", origin=origin, article_id=article_id,
                      evidence=_evidence(text, s, e)),
            )
        if origin == "surname":
            label = "PERSON"  # resolved to a person named in full: its NER label ("Phoenix" GPE) was wrong
        resolved.append((s, e, surface, c, label))

    # 3. one type per canonical: name rules, then majority label (PERSON wins ties: titles are strong evidence)
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for _s, _e, _surface, c, label in resolved:
        votes[c][label] += 1
    types: dict[str, str] = {}
    for c, cnt in votes.items():
        by_name = _type_by_name(c, cnt.most_common(1)[0][0])
        if "PERSON" in cnt and cnt["PERSON"] >= max(cnt.values()) and not by_name:
            types[c] = "PERSON"
        else:
            types[c] = by_name or cnt.most_common(1)[0][0]
        if types[c] == "FAC":
            types[c] = "ORG" if by_name == "ORG" else "FAC"
        if c not in person_evidence and not by_name:
            # the name itself says what it is where NER read the context wrong ("the states of Mato Grosso and
            # Paraná" as PERSON, "Twitter: @handle" as PERSON, "South Africa" as LOC): extractors/facts/gazetteer.py
            if is_platform(c):
                types[c] = "ORG"
            elif is_place(c) and c not in _REGIONS:
                types[c] = "GPE"
        elif c not in person_evidence and by_name == "LOC" and is_place(c) and c not in _REGIONS:
            types[c] = "GPE"  # "South Africa": the "South" + continent rule, but a country
    for _s, e, _surface, c, _label in resolved:
        if (types.get(c) in ("PERSON", "ORG", "FAC") and c not in person_evidence and len(c.split()) <= 2
                and _BEFORE_STATE.match(text, e) and c not in _STATE_NAMES):
            types[c] = "GPE"  # "Madison, Wis.": a town
    _place_and_demonym_types(text, resolved, types, person_evidence)
    _organisation_types(text, types, person_evidence)
    for acro, full in acronyms.items():
        types.setdefault(full, "ORG")
        aliases.setdefault(
            (acro, full),
            Alias(alias=acro, entity=full, entity_type="ORG", origin="acronym", article_id=article_id,
                  evidence=f"{full} ({acro})"),
        )

    mentions = tuple(
        EntityMention(article_id=article_id, entity=c, entity_type=types[c], surface=surface, start=s, end=e)
        for s, e, surface, c, _label in resolved
    )
    canon: dict[str, str] = {}
    for _s, _e, surface, c, _label in resolved:
        canon.setdefault(strip_title(surface).casefold(), c)
        canon.setdefault(surface.casefold(), c)
        canon.setdefault(c.casefold(), c)
    for acro, full in acronyms.items():
        canon.setdefault(acro.casefold(), full)
    for k, v in user.items():
        canon[k] = v
    final_aliases = tuple(
        Alias(alias=a.alias, entity=a.entity, entity_type=types.get(a.entity, a.entity_type or "ORG"),
              origin=a.origin, article_id=a.article_id, evidence=a.evidence)
        for a in aliases.values()
    )
    return ArticleEntities(mentions=mentions, aliases=final_aliases, canon=canon, types=types,
                           unsure=_lone_people(text, mentions, person_evidence))


_SAID_BEFORE = re.compile(r"\b(?:said|says|told|added|wrote|asked|according to)\s+$")


def _lone_people(text: str, mentions: Sequence[EntityMention], person_evidence: set[str]) -> frozenset[str]:
    """People named by one word only that nothing else in the article says are people: no full name it is
    the surname or first name of, no title, not a common first name, never the subject or object of a speech
    verb ("Smith said", "said Smith"). On the development pages 12 of 13 such entities were not people or not
    entities at all (`Psyonix`, `Fortnite`, `Bitcoin`, `Herein`, `Reich`, "Agent Smith" the malware, an
    "Oscar" win); the one person was "Elizabeth", a common first name who speaks. Quotes still read their
    mentions (a speaker named once, by surname, keeps its quote); the article's stored facts leave them out."""
    lone = {m.entity for m in mentions
            if m.entity_type == "PERSON" and " " not in m.entity.strip() and m.entity not in person_evidence
            and m.entity.casefold() not in FIRST_NAMES}
    for m in mentions:
        if m.entity in lone and (
            _SPEECH_AFTER.match(text, m.end) or re.match(r"\s*,[^,.!?]{1,80},\s*(?:said|says|told|added)\b", text[m.end : m.end + 100])
            or _SAID_BEFORE.search(text[max(0, m.start - 20) : m.start])
            or re.match(r"[’']?s?\s+administration\b", text[m.end : m.end + 20])  # "the Obama administration"
        ):
            lone.discard(m.entity)
    return frozenset(lone)


def _evidence(text: str, start: int, end: int, width: int = 60) -> str:
    a = max(0, start - width)
    b = min(len(text), end + width)
    return " ".join(text[a:b].split())
