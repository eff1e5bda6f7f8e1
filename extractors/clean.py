"""Cleaning extracted article text before facts: page chrome that trafilatura leaves in the body.

Pure functions. The pipeline keeps the original as `Article.raw_text`; every later stage (fingerprints,
facts) reads the cleaned `Article.text`. What is removed, and why (each case is visible in the seeds):

- ad and widget labels on their own line: "Hide Ad", "Advertisement", "Don't Miss", "Most Read",
  "Trending on GB News", "Sign up to ...";
- teasers for *other* stories: "Read more: ...", an all-caps label followed by a colon ("READ MORE: ...", "CRIME: ...",
  "APPEAL: ...", "LATEST DEVELOPMENTS:") and a "Read More" / "Related" block followed by headline-like lines;
  a teaser names another story, so no fact may come from it;
- image captions: a line repeated two or three times in a row, a line that is the same text glued twice
  ("X.X."), and a line followed by a photo credit ("|GETTY"); captions restate the body, so keeping them would
  double-count figures and quotes;
- photo credits ("|GETTY", "Image: PA", "(Image: Getty)", "Photo: ...") and agency credit lines ("Additional
  reporting by ...", "Editing by ...");
- a copyright line in the second half of the text ("© Thomson Reuters 2020") and everything after it (site footer,
  comment policy);
- a leading date stamp left by some extractors (" date 2018-07-10 The actions ...").

Paragraphs are returned separated by one blank line; every non-empty input line is a paragraph (several
outlets put one paragraph per line with no blank line between).
"""

from __future__ import annotations

import re

# The package's one list of page-furniture openers (English, German, French): a short line that starts with
# one of these is a label, teaser, ad marker or credit. extractors/fingerprint.py builds its boilerplate
# pattern from it (it used to keep its own copy by hand); clean_text drops the lines that are exactly one.
FURNITURE_OPENERS = (
    "read more", "more on this", "related", "see also", "also read", "watch", "listen", "recommended",
    "sponsored", "advertisement", "hide ad", "ad", "don't miss", "don’t miss", "dont miss", "most read",
    "trending", "latest", "sign up", "subscribe", "follow us", "share this", "click here", "image", "photo",
    "picture", "credit", "copyright", "getty",
    # the same furniture in German and French pages
    "lesen sie auch", "lesen sie mehr", "mehr zum thema", "auch interessant", "weiterlesen", "anzeige",
    "werbung", "lire aussi", "à lire aussi", "a lire aussi", "voir aussi", "publicité",
)
# Openers that are page chrome when they make up the whole line (German and French ad labels and teasers).
_CHROME_OPENERS = {"anzeige", "werbung", "publicité", "mehr zum thema", "auch interessant", "weiterlesen"}

# Lines that are widget / ad chrome, compared after stripping and case-folding.
_CHROME_LINES = _CHROME_OPENERS | {
    "hide ad",
    "advertisement",
    "advert",
    "ad",
    "sponsored",
    "sponsored content",
    "don't miss",
    "don’t miss",
    "do not miss",
    "most read",
    "most popular",
    "most viewed",
    "related",
    "related articles",
    "related stories",
    "related topics",
    "more on this story",
    "more stories",
    "you may also like",
    "recommended",
    "share this article",
    "share",
    "comments",
    "latest",
    "top stories",
}
# A heading that opens a list of links to other stories; headline-like lines after it are dropped too.
_BLOCK_OPENERS = re.compile(
    r"^(read more|read next|more from|see also|related|related articles|related stories|don['’]t miss|"
    r"most read|most popular|trending( on .*)?|top stories|latest|you may also like|recommended( for you)?)"
    r"\s*:?$",
    re.IGNORECASE,
)
# Agency credit lines: "Additional reporting by ...; Editing by ...", "Our Standards: The Thomson Reuters ..."
_CREDIT_TEXT = re.compile(
    r"^(?:(?:additional )?reporting by|editing by|writing by|compiled by|our standards:)(?:\s.{0,200})?$", re.IGNORECASE
)
# "Read more: Looted colonial art: ..." - a mixed-case teaser label (the all-caps ones are _CAPS_LABEL)
_TEASER_PREFIX = re.compile(r"^(?:read more|read next|see also|related|watch|listen|more|also read)\s*:\s*\S", re.IGNORECASE)
# "© Thomson Reuters 2020", "Copyright 2020 ...": the article body has ended; what follows is site footer
_COPYRIGHT = re.compile(r"^(?:©|\(c\)\s*\d{4}|copyright\b)", re.IGNORECASE)
_TRENDING = re.compile(r"^trending on\b.{0,60}$", re.IGNORECASE)
_SIGNUP = re.compile(
    r"^(sign up|subscribe|click here|follow us|download our app|get the latest)\b.{0,120}$", re.IGNORECASE
)
# "READ MORE: ...", "CRIME: ...", "LATEST DEVELOPMENTS:" - an all-caps label of at least four letters.
_CAPS_LABEL = re.compile(r"^(?P<label>[A-Z][A-Z'’&/ -]{3,40}[A-Z])\s*:\s*(?P<rest>.*)$")
# Photo credits: "|GETTY", "| PA", "Image: Getty Images", "(Image: PA)", "Photo: Reuters", "Picture: ..."
_CREDIT_LINE = re.compile(
    r"^(\|\s*[A-Z0-9][A-Z0-9 .,&'’/-]*|\(?(image|images|photo|picture|pictures|credit)s?\s*:\s*[^.]{1,60}\)?)$",
    re.IGNORECASE,
)
_TRAILING_CREDIT = re.compile(r"\s*\|\s*[A-Z][A-Z0-9 .,&'’/-]{1,40}$")
_LEADING_DATE = re.compile(r"^\s*date\s+\d{4}-\d{2}-\d{2}\s+")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*$")


def _is_headline_like(line: str) -> bool:
    """A link text: short and not ending like a sentence (teasers are headlines, or cut with '...')."""
    s = line.strip()
    if s.endswith(("...", "…")):
        return True
    return len(s) <= 160 and not _SENTENCE_END.search(s)


def _glued_half(line: str) -> str | None:
    """If the line is one text written twice back to back ("X.X.", or "X. X."), return X."""
    n = len(line)
    if n < 40:
        return None
    if n % 2 == 0 and line[: n // 2] == line[n // 2 :]:
        return line[: n // 2].strip()
    if n % 2 == 1 and line[n // 2] == " " and line[: n // 2] == line[n // 2 + 1 :]:
        return line[: n // 2].strip()
    return None


def _norm(line: str) -> str:
    return " ".join(line.split()).casefold()


def clean_text(raw: str) -> str:
    """Return the article body without page chrome, teasers, repeated captions and credits.

    Paragraphs are separated by a blank line. The input is not modified; an empty or all-chrome
    input gives "".
    """
    if not raw:
        return ""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = _LEADING_DATE.sub("", text, count=1)
    lines = [" ".join(ln.split()) for ln in text.split("\n")]
    lines = [ln for ln in lines if ln]

    # Pass 1: mark captions. A line equal to a neighbour, a glued double, or a line followed by a credit.
    drop = [False] * len(lines)
    norms = [_norm(ln) for ln in lines]
    for i, ln in enumerate(lines):
        half = _glued_half(ln)
        if half is not None:
            drop[i] = True
            # the single copies of the same caption around it are captions too
            for j in (i - 1, i + 1, i + 2):
                if 0 <= j < len(lines) and norms[j] == _norm(half):
                    drop[j] = True
        if i + 1 < len(lines) and norms[i] == norms[i + 1]:
            drop[i] = drop[i + 1] = True
        if _CREDIT_LINE.match(ln):
            drop[i] = True
            if i > 0 and norms[i - 1] not in _CHROME_LINES:
                drop[i - 1] = True  # the caption the credit belongs to

    # Pass 2: chrome, teaser labels and link blocks.
    out: list[str] = []
    in_block = False  # inside a "Read More" / "Most Read" list of other stories
    for i, ln in enumerate(lines):
        if drop[i]:
            continue
        n = norms[i]
        if _CREDIT_TEXT.match(ln) or _TEASER_PREFIX.match(ln):
            continue
        if _COPYRIGHT.match(ln) and i >= len(lines) // 2:
            break
        if n in _CHROME_LINES or _TRENDING.match(ln) or _SIGNUP.match(ln):
            in_block = bool(_BLOCK_OPENERS.match(ln) or _TRENDING.match(ln))
            continue
        if _BLOCK_OPENERS.match(ln):
            in_block = True
            continue
        m = _CAPS_LABEL.match(ln)
        if m and not m.group("label").isdigit():
            # "READ MORE: headline" is a teaser; a bare "LATEST DEVELOPMENTS:" opens a list of them
            in_block = not m.group("rest")
            continue
        if in_block and _is_headline_like(ln):
            continue
        in_block = False
        ln = _TRAILING_CREDIT.sub("", ln)
        if ln:
            out.append(ln)
    return "\n\n".join(out)
