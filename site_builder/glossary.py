"""The glossary matcher: the only module that imports spaCy.

Built once per process from every entry's terms (title and aliases). ``find(text)``
returns the real mentions in a plain-text fragment as character spans of the
*original* text, after:

* typographic normalisation that never changes what the reader sees: curly and
  straight apostrophes, non-breaking and repeated spaces, line breaks, Unicode NFC;
* token boundaries from spaCy's tokenizer ("Iran" never inside "Iranian");
* case as written in the glossary (spaCy ``ORTH``: "US" is not "us");
* longest match wins ("North Korea" over "Korea"), overlaps never both linked;
* precision guards (see ``_is_mention``), documented in the README.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Iterable, Sequence

import spacy
from spacy.matcher import PhraseMatcher
from spacy.util import filter_spans

from site_builder.model import BARRIER, EntryHeader, Match
from site_builder.words import is_common_sense, is_common_word

# One-to-one replacements: the normalised text has the same length as the original,
# so character offsets carry straight back.
_SAME_LENGTH = str.maketrans({
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'",
    "\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ", "\u200a": " ",
    "\n": " ", "\t": " ", "\r": " ",
})
_NEEDS_MAP = re.compile(r"  |[^\x00-\u02ff]")  # repeated spaces or characters NFC may change

# A capitalised word next to a match that does NOT make the match part of a longer
# name: honorifics and job titles ("President Vladimir Putin", "Treasury Secretary"),
# days and months ("on Thursday Russia…"). Compared case-sensitively.
NEUTRAL_NEIGHBOURS = frozenset("""
President Vice Secretary Minister Prime Deputy Foreign Defence Defense Chancellor Premier
Spokesman Spokeswoman Spokesperson Ambassador Envoy Senator Sen Representative Rep Governor
Mayor Director Chairman Chairwoman Chair Chief Commander General Gen Colonel Col Admiral
Lieutenant Lt Major Captain Sergeant King Queen Prince Princess Leader Supreme Pope Judge
Justice Professor Prof Comrade Marshal Officer Agent
Secretary-General Undersecretary Assistant Acting Former Then Incoming Outgoing
Monday Tuesday Wednesday Thursday Friday Saturday Sunday
January February March April May June July August September October November December
Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec
""".split())

# Honorifics say the name after them is a person's: "Mr Wagner" is not the Wagner Group.
HONORIFICS = frozenset("Mr Mrs Ms Miss Mx Dr Sir Dame Lord Lady Madam Mme Herr Frau".split())

# Capitalised adjectives of place and allegiance in front of a name
# ("Russian Wagner Group", "Iranian Shahed drones"): not part of the name.
DEMONYMS = frozenset("""
American British English French German Italian Spanish Russian Ukrainian Belarusian Chinese
Japanese Korean Iranian Iraqi Syrian Turkish Israeli Palestinian Saudi Emirati Qatari Egyptian
Libyan Malian Sudanese African European Asian Western Eastern Northern Southern Soviet Slovak
Slovakian Polish Czech Hungarian Romanian Bulgarian Serbian Georgian Armenian Azerbaijani
Kazakh Indian Pakistani Afghan Canadian Mexican Brazilian Australian Vietnamese Taiwanese
Allied NATO EU UN US UK
""".split())

SENTENCE_END = frozenset({".", "!", "?", ":", ";", "…", "\ufffc"})
OPENERS = frozenset({'"', "'", "“", "‘", "(", "[", "«", "—", "–", "-"})
@functools.lru_cache(maxsize=None)
def _nlp() -> spacy.language.Language:
    """A blank English pipeline: the tokenizer is all we need, no trained model."""
    return spacy.blank("en")


def normalise(text: str) -> tuple[str, list[int] | None]:
    """The text the matcher sees, and a map from its offsets to the original's
    (None when the two have the same offsets)."""
    simple = text.translate(_SAME_LENGTH)
    if not _NEEDS_MAP.search(simple):
        return simple, None
    out: list[str] = []
    index: list[int] = []
    i, n = 0, len(simple)
    while i < n:
        ch = simple[i]
        if ch == " " and out and out[-1] == " ":
            i += 1
            continue
        j = i + 1
        while j < n and unicodedata.combining(simple[j]):
            j += 1
        piece = unicodedata.normalize("NFC", simple[i:j])
        for c in piece:
            out.append(c)
            index.append(i)
        i = j
    index.append(n)
    return "".join(out), index


def normalise_term(term: str) -> str:
    norm, _ = normalise(unicodedata.normalize("NFC", term).strip())
    return norm


class Matcher:
    """Every glossary term in one spaCy PhraseMatcher; build it once per process."""

    def __init__(self, entries: Iterable[EntryHeader]):
        nlp = _nlp()
        self._tokenizer = nlp.tokenizer
        self._matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self._strings = nlp.vocab.strings
        self._common_sense: set[tuple[str, str]] = set()
        self.entries = {}
        for entry in sorted(entries, key=lambda e: e.slug):
            self.entries[entry.slug] = entry
            patterns = []
            for term in entry.terms:
                norm = normalise_term(term.value)
                if not norm:
                    continue
                doc = self._tokenizer(norm)
                patterns.append(doc)
                if len(doc) == 1 and is_common_sense(norm):
                    self._common_sense.add((entry.slug, norm))
            if patterns:
                self._matcher.add(entry.slug, patterns)

    def tokenize_term(self, term: str) -> list[str]:
        return [t.text for t in self._tokenizer(normalise_term(term))]

    def find(self, text: str) -> list[Match]:
        """Real mentions in ``text`` (a paragraph, list item or table cell), in order."""
        norm, index = normalise(text)
        stripped = norm.lstrip()
        lead = len(norm) - len(stripped)
        stripped = stripped.rstrip()
        if not stripped:
            return []
        doc = self._tokenizer(stripped)  # never tokenize leading whitespace (slow in spaCy)
        raw = self._matcher(doc)
        if not raw:
            return []
        spans = filter_spans([doc[s:e] for _, s, e in raw])  # longest wins, no overlaps
        labels = {(s, e): self._strings[m] for m, s, e in raw}
        out = []
        for span in sorted(spans, key=lambda sp: sp.start):
            slug = labels[(span.start, span.end)]
            if not _is_mention(doc, span.start, span.end, (slug, span.text) in self._common_sense):
                continue
            if span.start > 0 and doc[span.start - 1].text.rstrip(".") in HONORIFICS \
                    and self.entries[slug].type != "PERSON":
                continue  # "Mr Wagner" is a person, not the Wagner Group
            start = lead + span.start_char
            end = lead + span.end_char
            if index is not None:
                start, end = index[start], index[end - 1] + 1
            out.append(Match(start, end, slug))
        return out


def _is_capitalised_word(tok: "spacy.tokens.Token") -> bool:
    text = tok.text
    return text[:1].isupper() and tok.is_alpha


def _sentence_start(doc: "spacy.tokens.Doc", i: int) -> bool:
    j = i - 1
    while j >= 0 and doc[j].text in OPENERS:
        j -= 1
    return j < 0 or doc[j].text in SENTENCE_END


def _extends_name(doc: "spacy.tokens.Doc", i: int, before: bool) -> bool:
    """Does the capitalised word at ``i`` make the match next to it part of a longer name?"""
    tok = doc[i]
    if not _is_capitalised_word(tok):
        return False
    text = tok.text
    if text in NEUTRAL_NEIGHBOURS or text.rstrip(".") in NEUTRAL_NEIGHBOURS:
        return False
    if before and text in DEMONYMS:
        return False
    if text.isupper() and len(text) > 1:  # acronyms ("US Treasury") qualify, they don't rename
        return not before
    if before and _sentence_start(doc, i) and is_common_word(text):
        return False  # "Meanwhile Russia…", "Today Iran…"
    if text == "I" or text.rstrip(".") in HONORIFICS:
        return False
    return True


def _is_mention(doc: "spacy.tokens.Doc", start: int, end: int, common_sense: bool) -> bool:
    # Part of a longer proper name that is not in the glossary: "Robert Wagner",
    # "Wagner Group" (when only "Wagner" is a term), "the Treasury Board".
    if start > 0 and doc[start - 1].whitespace_ and _extends_name(doc, start - 1, before=True):
        return False
    if end < len(doc) and doc[end - 1].whitespace_ and _extends_name(doc, end, before=False):
        return False
    # A common word capitalised only because it opens a sentence ("Treasury bills rose").
    if common_sense and _sentence_start(doc, start):
        return False
    return True
