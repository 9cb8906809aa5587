"""The glossary matcher: the only module that imports spaCy (``suggest.py`` reads names
through ``tokenizer()`` and ``pipeline()`` below).

Built once per process from every entry's terms (title and aliases).
``candidates(text)`` returns every term match in a plain-text fragment as character
spans of the *original* text, each with a verdict (a mention or not), after:

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
from typing import Iterable

import spacy
from spacy.matcher import PhraseMatcher

from site_builder.model import EntryHeader, Match
from site_builder.words import is_common_sense, stop_words, word_log_probs

# One-to-one replacements: the normalised text has the same length as the original,
# so character offsets carry straight back.
_SAME_LENGTH = str.maketrans({
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'",
    "\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u2009": " ", "\u200a": " ",
    "\n": " ", "\t": " ", "\r": " ",
})
_NEEDS_MAP = re.compile(r"  ")  # repeated spaces: the matcher sees one

# spaCy's tokenizer takes time quadratic in the length of a space-free chunk made of
# affixes: runs of punctuation ("]]]]…", "!?!?…", "?.?.…") and repeated clitics or
# colons ("'s's's…", "a:a:a:…"). Such runs hold no name, so the matcher sees spaces
# instead (same length, same offsets): first any run of 16 or more punctuation marks,
# then whatever space-free chunk is still longer than LONGEST_CHUNK characters (prose
# has no such words; URLs and hashes hold no mention either).
_PUNCT_RUN = re.compile("[^\\w\\s\ufffc]{16,}")
LONGEST_CHUNK = 100
_LONG_CHUNK = re.compile(r"\S{%d,}" % (LONGEST_CHUNK + 1))

# A capitalised word next to a match that does NOT make the match part of a longer
# name: honorifics and job titles ("President Vladimir Putin", "Treasury Secretary"),
# days and months ("on Thursday Russia…"). Compared case-sensitively.
NEUTRAL_NEIGHBOURS = frozenset("""
President Vice Secretary Minister Prime Deputy Foreign Defence Defense Chancellor Premier
Spokesman Spokeswoman Spokesperson Ambassador Envoy Senator Sen Representative Rep Governor
Mayor Director Chairman Chairwoman Chair Chief Commander General Gen Colonel Col Admiral
Lieutenant Lt Major Captain Sergeant King Queen Prince Princess Leader Supreme Pope Judge
Justice Professor Prof Comrade Marshal Officer Agent
Secretary-General Undersecretary Assistant Acting Former Then Incoming Outgoing Chair
Ayatollah Sheikh Emir Imam Cardinal Rabbi Sultan Crown Archbishop Bishop Patriarch
Midfielder Goalkeeper Striker Defender Forward Coach Manager Skipper Winger Referee
Monday Tuesday Wednesday Thursday Friday Saturday Sunday
January February March April May June July August September October November December
Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec
""".split())

# Job nouns after a name that do not extend it: "National Security Council Coordinator",
# "a U.S. Treasury Official" (capitalised in some house styles).
JOB_NOUNS = frozenset("""
Coordinator Adviser Advisor Official Officials Spokespeople Head Administrator Counsel Aide Aides
Negotiator Negotiators Staffer Staffers Inspector Commissioner Analyst Analysts Economist Economists
Investigator Investigators Diplomat Diplomats Lawyer Lawyers Researcher Researchers Officers
Correspondent Envoys Representatives Ministers Spokesmen Leaders Chiefs
""".split())

# Honorifics say the name after them is a person's: "Mr Wagner" is not the Wagner Group.
HONORIFICS = frozenset("Mr Mrs Ms Miss Mx Dr Sir Dame Lord Lady Madam Mme Herr Frau".split())

# After a name these extend it: "Donald Trump Jr." is not Donald Trump.
NAME_SUFFIXES = frozenset("Jr Jr. Sr Sr. II III IV".split())

# Acronyms that make the name after them someone else's: "HM Treasury" is Britain's.
FOREIGN_QUALIFIERS = frozenset("HM HMS".split())

# Sentence adverbs: capitalised only because they open a sentence ("Today Iran…").
SENTENCE_ADVERBS = frozenset("today yesterday tonight separately earlier later instead overall elsewhere "
                             "nevertheless initially finally currently meanwhile still also then".split())

# After a common-word term these make it a financial instrument: "Treasury yields", "Treasury bills".
FINANCE_NOUNS = frozenset("yield yields bill bills note notes bond bonds securities market markets auction "
                          "auctions futures curve prices rates holdings".split())

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


def tokenizer() -> "spacy.tokenizer.Tokenizer":
    """spaCy's English tokenizer (with its stop words and lexical attributes), for ``suggest``."""
    return _nlp().tokenizer


class PipelineMissing(Exception):
    """``ner_model`` names a spaCy pipeline that is not installed (none is ever downloaded)."""


@functools.lru_cache(maxsize=4)
def pipeline(name: str) -> spacy.language.Language:
    """A trained spaCy pipeline installed as a package (``en_core_web_sm``) or a folder, for
    its named entities; raises PipelineMissing when it cannot be loaded."""
    try:
        return spacy.load(name, exclude=["lemmatizer"])
    except (OSError, ImportError, ValueError) as exc:
        raise PipelineMissing(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


def normalise(text: str) -> tuple[str, list[int] | None]:
    """The text the matcher sees, and a map from its offsets to the original's
    (None when the two have the same offsets)."""
    simple = text.translate(_SAME_LENGTH)
    if not _NEEDS_MAP.search(simple) and unicodedata.is_normalized("NFC", simple):
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


OK, REJECT, UNCONFIRMED = "ok", "reject", "unconfirmed"


class Candidate:
    """One match of a term in a text, with the matcher's verdict on it.

    ``verdict`` is OK (a mention), REJECT, or UNCONFIRMED: a common word opening a
    sentence ("Turkey …"), a mention only if the same document uses it as a name
    elsewhere. ``surname_of`` is set when a given name precedes the term ("Tyrese
    Jordan"): in that document the bare term means that person."""

    __slots__ = ("start", "end", "entry", "text", "verdict", "surname_of", "common")

    def __init__(self, start: int, end: int, entry: str, text: str, verdict: str, surname_of: bool, common: bool):
        self.start, self.end, self.entry, self.text = start, end, entry, text
        self.verdict, self.surname_of, self.common = verdict, surname_of, common

    def match(self) -> Match:
        return Match(self.start, self.end, self.entry)


class Matcher:
    """Every glossary term in one spaCy PhraseMatcher; build it once per process."""

    def __init__(self, entries: Iterable[EntryHeader]):
        nlp = _nlp()
        self._tokenizer = nlp.tokenizer
        self._matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self._strings = nlp.vocab.strings
        self._common_sense: set[tuple[str, str]] = set()
        self._title_words: dict[str, list[str]] = {}
        self._ends: set[int] = set()
        self.entries: dict[str, EntryHeader] = {}
        for entry in sorted(entries, key=lambda e: e.slug):
            self.entries[entry.slug] = entry
            patterns = []
            for i, term in enumerate(entry.terms):
                norm = normalise_term(term.value)
                if not norm:
                    continue
                doc = self._tokenizer(norm)
                patterns.append(doc)
                if i == 0:
                    self._title_words[entry.slug] = [t.text for t in doc]
                if len(doc) == 1 and is_common_sense(norm) and not (norm.isupper() and len(norm) > 1) \
                        and entry.type != "PERSON":
                    self._common_sense.add((entry.slug, norm))
            if patterns:
                self._matcher.add(entry.slug, patterns)

    def candidates(self, text: str) -> list[Candidate]:
        """Every non-overlapping term match in ``text`` (a paragraph, list item or table
        cell), longest first among overlaps, in order, each with its verdict."""
        norm, index = normalise(text)
        norm = _PUNCT_RUN.sub(_blank, norm)
        norm = _LONG_CHUNK.sub(_blank, norm)
        stripped = norm.lstrip()
        lead = len(norm) - len(stripped)
        stripped = stripped.rstrip()
        if not stripped:
            return []
        doc = self._tokenizer(stripped)  # never tokenize leading whitespace (slow in spaCy)
        raw = self._matcher(doc)
        if not raw:
            return []
        out = []
        taken = _longest_first(raw)
        self._ends = {e for _, _, e in taken}  # where other mentions end, for the possessive rule
        for m, s, e in taken:
            slug = self._strings[m]
            last = doc[e - 1]
            start = lead + doc[s].idx
            end = lead + last.idx + len(last.text)
            text = norm[start:end]
            common = (slug, text) in self._common_sense
            verdict, surname = self._verdict(doc, s, e, slug, common)
            if index is not None:
                start, end = index[start], index[end - 1] + 1
            out.append(Candidate(start, end, slug, " ".join(text.split()), verdict, surname, common))
        return out

    def _own_given_names(self, doc: "spacy.tokens.Doc", start: int, end: int, slug: str) -> bool:
        """Is the match preceded by the rest of the entry's own title ("Volodymyr" before "Zelenskyy")?"""
        words = self._title_words.get(slug, [])
        n = len(words) - (end - start)
        return 0 < n <= start and [t.text for t in doc[start - n:start]] == words[:n]

    def _verdict(self, doc: "spacy.tokens.Doc", start: int, end: int, slug: str, common: bool) -> tuple[str, bool]:
        prev = doc[start - 1] if start > 0 else None
        if prev is not None and prev.text.rstrip(".") in HONORIFICS and self.entries[slug].type != "PERSON":
            return REJECT, False  # "Mr Wagner" is a person, not the Wagner Group
        if end - start == 1 and self.entries[slug].type == "PERSON" and prev is not None \
                and prev.text in ("'s", "’s") and start >= 2 and _is_capitalised_word(doc[start - 2]) \
                and (start - 1) not in self._ends:
            return REJECT, True  # "Nintendo's Kirby": someone else's Kirby, in the whole document
        if prev is not None and prev.whitespace_ and _extends_name(doc, start - 1, before=True):
            if self._own_given_names(doc, start, end, slug) or _title_phrase_before(doc, start - 1):
                pass  # "President Volodymyr Zelenskyy", "Secretary of State Antony Blinken"
            else:
                surname = _name_like(prev.text) and not prev.text.isupper()
                return REJECT, surname  # "Robert Wagner", "the Treasury Board"
        if end < len(doc) and doc[end - 1].whitespace_ and _extends_name(doc, end, before=False) \
                and not _job_after(doc, start, end):
            return REJECT, False  # "Wagner Group" when only "Wagner" is a term
        return _in_context(doc, start, end, common), False


def _blank(m: re.Match[str]) -> str:
    return " " * len(m.group(0))


def _longest_first(raw: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Non-overlapping matches, longest winning (then the earliest), in text order: what
    spacy.util.filter_spans does, on (match id, start, end) without making Span objects."""
    taken: list[tuple[int, int, int]] = []
    used: set[int] = set()
    for m, s, e in sorted(raw, key=lambda x: (x[1] - x[2], x[1])):
        if not any(i in used for i in range(s, e)):
            taken.append((m, s, e))
            used.update(range(s, e))
    taken.sort(key=lambda x: x[1])
    return taken


def _name_like(word: str) -> bool:
    """Mostly written capitalised: a given name ("Robert", "Tyrese"), not "Lake"."""
    probs = word_log_probs()
    return word not in probs or probs.get(word.lower(), -99.0) < probs[word] - 1.0


def _job_after(doc: "spacy.tokens.Doc", start: int, end: int) -> bool:
    """Is the capitalised word after the match a job ("… Coordinator", "… Officials") or, after
    a name of two words or more, the first word of a title ("White House Press Secretary")?"""
    nxt = doc[end].text
    if nxt in JOB_NOUNS:
        return True
    if end - start < 2 or end + 1 >= len(doc) or not doc[end].whitespace_:
        return False
    after = doc[end + 1].text
    return _is_capitalised_word(doc[end + 1]) and (after in JOB_NOUNS or after in NEUTRAL_NEIGHBOURS) \
        and after not in _CALENDAR


_CALENDAR = frozenset("""Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May
June July August September October November December Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec""".split())


def _title_phrase_before(doc: "spacy.tokens.Doc", i: int) -> bool:
    """Does the capitalised word at ``i`` end a title such as "Secretary of State"?"""
    k = i
    while k >= 0 and _is_capitalised_word(doc[k]) and doc[k].text not in NEUTRAL_NEIGHBOURS:
        k -= 1
    while k >= 0 and doc[k].lower_ in ("of", "the", "for"):
        k -= 1
    return 0 <= k < i and doc[k].text in NEUTRAL_NEIGHBOURS and doc[k + 1].lower_ in ("of", "for")


def _is_capitalised_word(tok: "spacy.tokens.Token") -> bool:
    text = tok.text
    if not text[:1].isupper():
        return False
    return tok.is_alpha or (any(c.isalpha() for c in text[1:]) and all(c.isalpha() or c in "'’.-" for c in text))


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
    if not before and text in NAME_SUFFIXES:
        return True  # "Donald Trump Jr."
    if text in NEUTRAL_NEIGHBOURS or text.rstrip(".") in NEUTRAL_NEIGHBOURS or (before and text in JOB_NOUNS):
        return False
    if before and text in DEMONYMS:
        return False
    if text.isupper() and len(text) > 1:
        # an acronym before qualifies the name without renaming it ("US Treasury"), but
        # "HM Treasury" is another country's; an acronym after renames it ("Wagner PMC")
        return not before or text in FOREIGN_QUALIFIERS
    lower = text.lower()
    if text == "I" or text.rstrip(".") in HONORIFICS or lower in stop_words():
        return False  # function words never belong to a name: "The US Treasury"
    if before and _sentence_start(doc, i) and (lower in SENTENCE_ADVERBS or lower.endswith("ly")):
        return False  # "Meanwhile Russia…", "Separately, …"
    return True


def _in_context(doc: "spacy.tokens.Doc", start: int, end: int, common: bool) -> str:
    """The verdict from the words around a match that no neighbouring name claims."""
    term = doc[start:end].text
    all_caps = term.isupper() and len(term) > 1
    nxt = doc[end] if end < len(doc) else None
    prv = doc[start - 1] if start > 0 else None
    before_prev = doc[start - 2] if start > 1 else None
    # "Bank of China", "University of Georgia": a capitalised noun (not a title) + of + the term
    if prv is not None and prv.lower_ == "of" and before_prev is not None and _is_capitalised_word(before_prev) \
            and before_prev.text not in NEUTRAL_NEIGHBOURS and before_prev.lower_ not in stop_words():
        return REJECT
    # shouted text: "HELP US HOLD THE LINE"
    if all_caps and any(t is not None and t.is_alpha and t.text.isupper() and len(t.text) > 1 for t in (prv, nxt)):
        return REJECT
    if not common:
        return OK
    # A one-word term that is also a common word ("Treasury", "State", "Turkey"):
    if nxt is not None and (nxt.lower_ in FINANCE_NOUNS or nxt.lower_ == "of"):
        return REJECT  # "Treasury yields", "State of the Union", "Secretary of State"
    if prv is not None and prv.text in ("'s", "’s") and before_prev is not None and _is_capitalised_word(before_prev):
        return REJECT  # "Britain's Treasury", "National People's Congress": someone else's
    if nxt is not None and nxt.text in ("-", "–") and not doc[end - 1].whitespace_ and end + 1 < len(doc) \
            and doc[end + 1].text.islower():
        return REJECT  # "State-owned"
    if _sentence_start(doc, start):
        if nxt is not None and (nxt.text in ("'s", "’s") or nxt.text in NEUTRAL_NEIGHBOURS):
            return OK  # "Turkey's lira", "Fed Chair": used as a name
        return UNCONFIRMED  # "Treasury bills fell." / "Turkey is…": only if named elsewhere
    return OK
