"""Names that deserve a glossary entry: ``site-builder suggest`` and the preview's panel.

``find_names(doc)`` is the per-article stage (memoised by the executor like reading and
linking): it walks the Markdown's inline text outside headings, code, links and images,
tokenizes it with spaCy's English tokenizer (through ``glossary.tokenizer``: glossary.py
stays the only module that imports spaCy) and applies rules for news prose:

* a name is a run of capitalised words, joined inside it by "of", "for", "of the" and,
  once an "of" or "for" is in, "and" ("Department of Health and Human Services");
  particles join given name and surname ("Ursula von der Leyen", "Bashar al-Assad");
* punctuation, a possessive, a parenthesis or a line's code/link ends a run;
* function words, sentence adverbs, demonyms, days and months at its edges are not part
  of it; a common word that is capitalised only because it opens a sentence is no name;
* a title or honorific before a personal name is stripped and makes it a PERSON
  ("Defense Minister Sergei Shoigu" → "Sergei Shoigu"); whatever names the office
  before the title is a name of its own ("National Security Council Coordinator …");
* "Islamic Revolutionary Guard Corps (IRGC)": the acronym is the expansion's alias, and
  the acronym alone elsewhere in the site counts for it;
* a surname alone after the full name, in the same article, counts for the full name;
* never: datelines ("KYIV —"), all-capital slogans, headline-case lines, adjectives made
  from names ("Iran-backed", "North Korean").

A trained pipeline (``ner_model:`` in site.yaml) adds its entities and labels.
``rank(...)`` then groups the occurrences of the whole site, drops what an entry or
alias already covers, and orders the rest by articles, then mentions.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from site_builder import markdown
from site_builder.model import BARRIER, Document, EntryHeader, FoundName
from site_builder.urls import slugify
from site_builder.words import COMMON_FLOOR, stop_words, word_log_probs

with open(__file__, "rb") as _fh:  # part of the stage's key: a change of the rules re-reads every article
    RULES = hashlib.sha256(_fh.read()).hexdigest()[:16]

DAYS_MONTHS = frozenset("""Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April
May June July August September October November December Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec""".split())

# Offices and ranks: before a personal name they are stripped (and make it a PERSON).
TITLES = frozenset("""President Vice-President Minister Secretary Secretary-General Undersecretary Spokesman
Spokeswoman Spokesperson Chancellor Premier Vice-Premier Ambassador Envoy Senator Sen Sen. Representative Rep
Rep. Governor Mayor Director Director-General Chairman Chairwoman Chair Chief Commander General Gen Gen. Colonel
Col Col. Admiral Adm. Lieutenant Lt Lt. Major Maj. Captain Capt. Sergeant Sgt. King Queen Prince Princess Pope
Judge Justice Professor Prof. Coordinator Speaker Leader Ayatollah Sheikh Emir Imam Cardinal Rabbi Sultan
Marshal Officer Agent Commissioner Counsel Attorney-General Adviser Advisor Aide Midfielder Goalkeeper Striker
Defender Forward Coach Manager Skipper Winger Referee Captain Dr Dr. Mr Mr. Mrs Mrs. Ms Ms. Miss Mx Sir Dame
Lord Lady Madam Mme Herr Frau""".split())

# Words that qualify an office ("Defense Minister", "Press Secretary", "Supreme Leader").
TITLE_WORDS = frozenset("""Vice Deputy Prime Foreign Defence Defense Press Acting Former Then Incoming Outgoing
Assistant Executive Senior Supreme Crown Interior Finance Economy Trade Health Justice Security National Home
Chief Junior Principal Grand First Lady Lord Majority Minority Top Special Presidential""".split())

HONORIFICS = frozenset("Mr Mr. Mrs Mrs. Ms Ms. Miss Mx Dr Dr. Sir Dame Madam Mme Herr Frau".split())

# Adjectives of place and allegiance: never a name of their own, nor its first or last word.
DEMONYMS = frozenset("""American British English French German Italian Spanish Russian Ukrainian Belarusian
Chinese Japanese Korean Iranian Iraqi Syrian Turkish Israeli Palestinian Saudi Emirati Qatari Egyptian Libyan
Malian Sudanese African European Asian Western Eastern Northern Southern Soviet Slovak Slovakian Polish Czech
Hungarian Romanian Bulgarian Serbian Georgian Armenian Azerbaijani Kazakh Indian Pakistani Afghan Canadian
Mexican Brazilian Australian Vietnamese Taiwanese Swedish Finnish Danish Norwegian Dutch Belgian Swiss Austrian
Greek Lebanese Jordanian Yemeni Somali Nigerian Ethiopian Kenyan Lithuanian Latvian Estonian Moldovan Allied
Republican Democratic Democrat Conservative Liberal Labour Communist Islamic Muslim Christian Jewish Arab
Sunni Shia Shiite Kurdish Baltic Nordic Arctic Atlantic Pacific""".split())

# Alone, a direction is a region of a text's own ("the North", "the West"), not an entry.
DIRECTIONS = frozenset("North South East West Northern Southern Eastern Western Central Middle".split())

SENTENCE_ADVERBS = frozenset("""today yesterday tonight separately earlier later instead overall elsewhere
nevertheless initially finally currently meanwhile still also then however now""".split())

CONNECTORS = frozenset({"of", "for", "and", "the", "&"})
PARTICLES = frozenset("von van der den de del della di da du la le al el bin ibn bint ben".split())
NAME_SUFFIXES = frozenset("Jr Jr. Sr Sr. II III IV".split())

# The last word of a name says it is an organisation.
ORG_HEADS = frozenset("""Ministry Department Agency Council Corps Group Party Bank Committee Commission Union
Organization Organisation Fund Court Company Co Co. Corp Corp. Inc Inc. Ltd Ltd. Association Office Service
Army Forces Force Guard Guards Assembly Congress Parliament Senate University Institute Network Foundation
Authority Federation Alliance Coalition Front Movement Bureau Administration Navy Police Reserve Exchange
Board Secretariat Cabinet Duma FC Club Society""".split())

GENERIC_HEADS = frozenset("department ministry agency office council".split())  # as key_of writes them

SENTENCE_END = frozenset(".!?:…")
_SENTENCE_END_RE = re.compile(r"[.!?…](?=[\s”’\"')\]]|$)")
_POSSESSIVE = ("'s", "'", "’s", "’")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00a0": " ", "\u202f": " "})


# -- one article -------------------------------------------------------------------------------


def find_names(doc: Document, allow_html: bool = False, model: str = "") -> tuple[FoundName, ...]:
    """Every occurrence of a name in an article's prose, in order (the per-document stage)."""
    from site_builder import glossary

    tok = glossary.tokenizer()
    nlp = glossary.pipeline(model) if model else None
    found: list[FoundName] = []
    for text, visible, line0 in _blocks(doc, allow_html):
        norm, index = glossary.normalise(text)
        if norm.lower() == norm or _headline_case(norm):
            continue
        spacy_doc = tok(norm)
        words = _words(spacy_doc, norm)
        names = _names_in(words, norm)
        if nlp is not None:
            names = _with_entities(names, nlp(norm))
        for start, end, wstart, wend, type_, initial, acronym in names:
            a, b = _back(index, start, end)
            wa, wb = _back(index, wstart, wend)
            found.append(FoundName(" ".join(text[a:b].split()), " ".join(text[wa:wb].split()),
                                   line0 + text.count("\n", 0, a), _sentence(text, a, b, visible), type_, initial,
                                   acronym))
    return tuple(_surnames(found))


def _back(index: list[int] | None, start: int, end: int) -> tuple[int, int]:
    """Offsets in the normalised text → offsets in the text as written."""
    return (start, end) if index is None else (index[start], index[end - 1] + 1)


def _blocks(doc: Document, allow_html: bool) -> Iterable[tuple[str, list[str], int]]:
    """(text, what each BARRIER in it shows, first line) of every inline outside headings:
    code, links, images and raw HTML are barriers, soft line breaks are newlines."""
    heading = False
    for tok in markdown.parse(doc.body, doc.body_line, allow_html):
        if tok.type in ("heading_open", "heading_close"):
            heading = tok.type == "heading_open"
        if tok.type != "inline" or heading or not tok.children:
            continue
        parts: list[str] = []
        visible: list[str] = []
        depth = 0
        for c in tok.children:
            if depth:
                depth += 1 if c.type == "link_open" else -1 if c.type == "link_close" else 0
                if c.type in ("text", "code_inline") and visible:
                    visible[-1] += c.content
            elif c.type == "text":
                parts.append(c.content.replace(BARRIER, " "))
            elif c.type in ("softbreak", "hardbreak"):
                parts.append("\n")
            elif c.type in ("em_open", "em_close", "strong_open", "strong_close", "s_open", "s_close"):
                continue
            else:
                depth = 1 if c.type == "link_open" else 0
                parts.append(BARRIER)
                visible.append(c.content if c.type in ("code_inline", markdown.XREF) else "")  # [[slug]] as written
        yield "".join(parts), visible, doc.body_line + (tok.map[0] if tok.map else 0)


def _headline_case(text: str) -> bool:
    """A line in headline case ("Bakhmut Falls As Wagner Claims Victory"): its capitals name nothing."""
    words = [w for w in re.findall(r"[^\W\d_][\w'’-]*", text) if len(w) > 3]
    if len(words) < 4:
        return False
    caps = sum(1 for w in words if w[0].isupper())
    return caps / len(words) >= 0.75 and not text.rstrip().endswith((".", "?", "!", ".”", '."'))


@dataclass
class _Word:
    """A space-free chunk of text without its outer punctuation: "(IRGC)." is IRGC."""

    text: str
    start: int
    end: int
    opened: bool = False  # punctuation right before it ("(IRGC", "“The")
    closed: bool = False  # punctuation or a possessive right after it: a run ends here
    possessive: bool = False
    ends_sentence: bool = False
    paren: bool = False  # written in parentheses: "(IRGC)"
    initial: bool = False  # the first word of a sentence
    dash_after: bool = False  # a dash follows ("KYIV —": a dateline)
    comma_after: bool = False
    glued: bool = False  # a possessive inside a name: "People's Republic", "Calarovo Workers' Union"
    lead: bool = False  # the first chunk of the text


def _words(doc: Any, text: str) -> list[_Word]:
    """The words that can be part of a name (capitalised ones, connectors), in order; a
    lower-case word between two of them closes the first (most words cost one test)."""
    groups: list[list[Any]] = [[]]
    for t in doc:
        groups[-1].append(t)
        if t.whitespace_:
            groups.append([])
    words: list[_Word] = []
    state = [True, 0]  # the next word opens a sentence; groups seen
    for g in groups:
        state[1] += 1
        if not g:
            continue
        first = g[0].text
        if len(g) <= 2 and first[:1].islower() and first not in CONNECTORS and first not in PARTICLES \
                and (len(g) == 1 or not g[1].text[:1].isalnum()):  # "said", "said," (the usual case)
            _close(words)
            state[0] = len(g) == 2 and g[1].text in SENTENCE_END
            continue
        _add_word(g, text, words, state)
    return words


def _close(words: list[_Word]) -> None:
    """Something that is no part of a name follows the last word: a run ends there."""
    if words:
        words[-1].closed = True
        words[-1].glued = False


def _add_word(g: list[Any], text: str, words: list[_Word], state: list) -> None:
    """One space-free chunk: a word without its outer punctuation, or a break."""
    core = [k for k, t in enumerate(g) if any(ch.isalnum() for ch in t.text)]
    if len(g) == 1 and g[0].text == "&":  # "Rasmussen & Zielinski Logistics"
        words.append(_Word("&", g[0].idx, g[0].idx + 1, initial=state[0]))
        return
    if not core:  # punctuation alone: a dash, a quote
        if words:
            _close(words)
            last = words[-1]
            last.dash_after = last.dash_after or any(t.text in ("—", "–", "-", "--") for t in g)
            state[0] = state[0] or any(t.text in SENTENCE_END for t in g) \
                or (last.dash_after and state[1] <= 5 and words[0].lead and words[0].text.isupper())  # "BAMAKO — Weeks"
        return
    a, b = core[0], core[-1]
    poss = g[b].text in ("'s", "’s") and b > a
    if poss:
        b -= 1
    tail = "".join(t.text for t in g[b + 1:])
    head = "".join(t.text for t in g[:a])
    start, end = g[a].idx, g[b].idx + len(g[b].text)
    chunk = text[start:end]
    if BARRIER in chunk or BARRIER in head + tail or not (chunk[:1].isupper() or chunk in CONNECTORS
                                                           or chunk.split("-")[0] in PARTICLES):
        state[0] = any(c in SENTENCE_END for c in tail.replace("'s", "").replace("’s", ""))
        _close(words)
        return
    w = _Word(chunk, start, end, opened=bool(head), possessive=poss or tail.startswith(("'", "’")) and
              chunk.endswith("s"), initial=state[0])
    w.lead = state[1] == 1
    w.closed = bool(tail) or w.possessive
    w.comma_after = tail.startswith(",")
    w.glued = w.possessive and tail in ("'s", "’s", "'", "’") and chunk[:1].isupper() and not _namey(chunk)
    w.paren = head.endswith("(") and tail.startswith(")")
    w.ends_sentence = any(c in SENTENCE_END for c in tail.replace("'s", "").replace("’s", ""))
    if w.opened:
        _close(words)
    words.append(w)
    state[0] = w.ends_sentence


def _is_cap(w: _Word) -> bool:
    t = w.text
    if not t[0].isupper():
        return t.split("-")[0] in PARTICLES and any(p[:1].isupper() for p in t.split("-")[1:])
    if not any(c.isalpha() for c in t):
        return False
    parts = t.split("-")
    return not any(p.isalpha() and p.islower() for p in parts[1:])  # "Iran-backed" is an adjective


def _runs(words: list[_Word]) -> list[list[int]]:
    """Runs of capitalised words (indices), with the connectors joined inside them."""
    runs: list[list[int]] = []
    k, n = 0, len(words)
    while k < n:
        if not _is_cap(words[k]):
            k += 1
            continue
        run, j = [k], k
        while (not words[j].closed or words[j].glued) and j + 1 < n:
            m = j + 1
            if _is_cap(words[m]) and not words[m].opened:
                run.append(m)
                j = m
                continue
            conn = []
            while m < n and not words[m - 1].closed and (words[m].text in CONNECTORS or words[m].text in PARTICLES):
                conn.append(words[m].text)
                m += 1
            if conn and m < n and not words[m - 1].closed and _is_cap(words[m]) and _joins(conn, run, words):
                run += list(range(j + 1, m + 1))
                j = m
                continue
            break
        runs.append(run)
        k = j + 1
    return runs


def _joins(conn: list[str], run: list[int], words: list[_Word]) -> bool:
    if all(c in PARTICLES for c in conn):
        return len(conn) <= 2
    inside = {words[i].text for i in run}
    if conn in (["of"], ["for"], ["of", "the"], ["for", "the"], ["&"]):
        return True
    return conn == ["and"] and bool(inside & {"of", "for"})


def _names_in(words: list[_Word], text: str) -> list[tuple]:
    """(start, end, written start, written end, type, initial, acronym) of each name in
    one text: the name is start:end, as written (with its title or possessive) the other two."""
    out: list[tuple] = []
    used: set[int] = set()  # acronyms in parentheses that went with the name before them
    runs = _runs(words)
    for r, run in enumerate(runs):
        if run[0] in used:
            continue
        if r == 0 and words[run[0]].lead and _dateline(words, run):
            continue
        for part, type_, title_start in _split(words, run):
            name = _trim(words, part)
            if not name or not _acceptable(words, name):
                continue
            acronym = _acronym_after(words, name)
            if acronym:
                used.add(name[-1] + 1)
            if type_ == "" and _org_head(words, name):
                type_ = "ORG"
            first = title_start if title_start is not None else name[0]
            out.append((words[name[0]].start, words[name[-1]].end, words[first].start,
                        _written_end(words, name[-1], text), type_, words[name[0]].initial and first == name[0],
                        acronym))
    return out


def _org_head(words: list[_Word], part: list[int]) -> bool:
    """"Defence Ministry", "Ministry of Defence": the head noun is an organisation's."""
    texts = [words[i].text for i in part]
    conn = next((k for k, t in enumerate(texts) if t in CONNECTORS), len(texts))
    return texts[-1] in ORG_HEADS or (0 < conn < len(texts) and texts[conn - 1] in ORG_HEADS)


def _dateline(words: list[_Word], run: list[int]) -> bool:
    """"KYIV —", "NEW YORK (Reuters) —": capitals opening a paragraph, then a dash or a source."""
    last = words[run[-1]]
    return all(words[i].text.isupper() for i in run) and (last.dash_after or last.comma_after
                                                         or (run[-1] + 1 < len(words) and words[run[-1] + 1].paren))


def _split(words: list[_Word], run: list[int]) -> list[tuple[list[int], str, int | None]]:
    """The run cut at days and months, and at the last title before a personal name:
    (words, type, where the title began) for each part."""
    parts: list[list[int]] = [[]]
    for i in run:
        if words[i].text in DAYS_MONTHS:
            parts.append([])
        else:
            parts[-1].append(i)
    out: list[tuple[list[int], str, int | None]] = []
    for part in parts:
        out += _titled(words, part)
    return out


def _titled(words: list[_Word], part: list[int]) -> list[tuple[list[int], str, int | None]]:
    titles = [k for k, i in enumerate(part) if words[i].text in TITLES]
    for k in reversed(titles):
        person = part[k + 1:]
        if len(person) >= 2 and words[person[0]].text == "of":  # "Secretary of State Antony Blinken"
            person = person[2:]
        if person and len(person) <= 4 and all(_personal(words[i].text) for i in person):
            begin = k
            while begin > 0 and (words[part[begin - 1]].text in TITLES | TITLE_WORDS or
                                 words[part[begin - 1]].text in DEMONYMS):
                begin -= 1
            before = part[:begin]
            while before and words[before[-1]].text in CONNECTORS:
                before.pop()
            return ([(before, "", None)] if before else []) + [(person, "PERSON", part[begin])]
    while part and (words[part[-1]].text in TITLES or (titles and words[part[-1]].text in TITLE_WORDS)):
        part = part[:-1]  # "Russia's Defence Minister", "the Prime Minister"
    return [(part, "", None)] if part else []


def _personal(word: str) -> bool:
    """Could be part of a personal name: a given name, a surname, a particle, an initial."""
    if word in PARTICLES or word in NAME_SUFFIXES or re.fullmatch(r"[A-Z]\.", word):
        return True
    if not word[:1].isupper() and "-" not in word:
        return False
    return _namey(word)


def _namey(word: str) -> bool:
    """Mostly written capitalised, or rare: "Shoigu", "Mike", not "Assembly" or "Press"."""
    probs = word_log_probs()
    lower = word.lower()
    if lower in stop_words():
        return False
    return probs.get(lower, -99.0) < COMMON_FLOOR or probs.get(word, -99.0) > probs.get(lower, -99.0) - 1.0


def _trim(words: list[_Word], part: list[int]) -> list[int]:
    """The part without function words, adverbs, demonyms or titles at its edges."""
    part = list(part)
    while part:
        w = words[part[0]].text
        lower = w.lower()
        if (lower in stop_words() and not w.isupper()) or lower in SENTENCE_ADVERBS or w in CONNECTORS \
                or w in HONORIFICS or w in PARTICLES or _plural_opener(words, part):
            part.pop(0)
            continue
        break
    while part and (words[part[-1]].text in CONNECTORS or words[part[-1]].text in PARTICLES):
        part.pop()
    return part


def _plural_opener(words: list[_Word], part: list[int]) -> bool:
    """"Delegates of the National People's Congress": a common plural opening a sentence
    before "of" is not the name's first word."""
    w = words[part[0]]
    return w.initial and len(part) > 2 and words[part[1]].text in CONNECTORS and w.text.endswith("s") \
        and not _namey(w.text)


def _acceptable(words: list[_Word], part: list[int]) -> bool:
    texts = [words[i].text for i in part]
    last = texts[-1]
    if last in DEMONYMS or last.rstrip("s") in DEMONYMS or (len(texts) == 1 and _demonym_like(last)):
        return False  # "North Korean", "Americans", "Swedish"
    if len(texts) == 1:
        w = texts[0]
        if w in DAYS_MONTHS or w.rstrip("s") in DAYS_MONTHS or w in TITLES or w in HONORIFICS or w in DIRECTIONS or w == "I" or len(w) < 2:
            return False
        if words[part[0]].initial and not _namey(w) and not w.isupper():
            return False  # "Analysts said…": capitalised only because it opens the sentence
    if len(texts) > 1 and all(t.isupper() for t in texts) and any(_common(t) for t in texts):
        return False  # "HELP US HOLD THE LINE"
    return True


def _demonym_like(word: str) -> bool:
    lower = word.lower()
    return (word.endswith(("ian", "ians", "ese", "ish")) and word_log_probs().get(lower, -99.0) < COMMON_FLOOR
            and word_log_probs().get(word, -99.0) > -99.0) or word.endswith("-based")


def _common(word: str) -> bool:
    lower = word.lower()
    return lower in stop_words() or word_log_probs().get(lower, -99.0) > COMMON_FLOOR


def _acronym_after(words: list[_Word], part: list[int]) -> str:
    """The acronym written in parentheses right after the name, when its letters are the name's initials."""
    k = part[-1] + 1
    if k >= len(words) or not words[k].paren or words[part[-1]].closed is False:
        return ""
    acronym = words[k].text
    if not (acronym.isupper() and 2 <= len(acronym) <= 8 and acronym.isalpha()):
        return ""
    texts = [words[i].text for i in part]
    initials = "".join(t[0] for t in texts if t[0].isupper())
    every = "".join(t[0] for t in texts).upper()
    return acronym if acronym in (initials, every) else ""


def _written_end(words: list[_Word], last: int, text: str) -> int:
    """Where the name ends as written: after its possessive, if any."""
    end = words[last].end
    if words[last].possessive:
        m = re.match(r"['’]s?", text[end:])
        end += m.end() if m else 0
    return end


def _sentence(text: str, start: int, end: int, visible: list[str]) -> str:
    a = 0
    for m in _SENTENCE_END_RE.finditer(text, 0, start):
        a = m.end()
    m = _SENTENCE_END_RE.search(text, end)
    b = m.end() if m else len(text)
    piece = text[a:b]
    if BARRIER in piece:
        k = text.count(BARRIER, 0, a)
        out = []
        for ch in piece:
            if ch == BARRIER:
                out.append(visible[k] if k < len(visible) else "")
                k += 1
            else:
                out.append(ch)
        piece = "".join(out)
    return " ".join(piece.split())


def _surnames(found: list[FoundName]) -> list[FoundName]:
    """A surname alone after the full name, in the same article, counts for the full name
    ("Shoigu" after "Sergei Shoigu"; "Rovers" after "Harbour Rovers")."""
    full: dict[str, FoundName] = {}
    out = []
    for f in found:
        words = f.name.split()
        if len(words) == 1 and f.name in full and not f.acronym:
            whole = full[f.name]
            f = FoundName(whole.name, f.written, f.line, f.sentence, whole.type, False, "", f.name)
        elif 2 <= len(words) <= 4 and words[-1] not in ORG_HEADS and not words[-1].isupper() \
                and not _common(words[-1]) and (f.type == "PERSON" or all(_personal(w) for w in words)):
            full.setdefault(words[-1], f)
        out.append(f)
    return out


LABELS = {"PERSON": "PERSON", "ORG": "ORG", "GPE": "GPE", "LOC": "GPE", "EVENT": "EVENT", "LAW": "LAW",
          "FAC": "OTHER", "PRODUCT": "OTHER", "WORK_OF_ART": "OTHER"}


def _with_entities(names: list[tuple], doc: Any) -> list[tuple]:
    """A trained pipeline's entities: their labels for the names the rules found at the same
    place, and the names they alone found (when they begin with a capital)."""
    by_span = {(n[0], n[1]): k for k, n in enumerate(names)}
    out = list(names)
    for ent in doc.ents:
        label = LABELS.get(ent.label_)
        if label is None:
            continue
        tokens = [t for t in ent if not t.is_stop and t.text not in ("'s", "’s")]
        if not tokens or not tokens[0].text[:1].isupper():
            continue
        start, end = tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)
        k = by_span.get((start, end))
        if k is not None:
            out[k] = out[k][:4] + (label,) + out[k][5:]
        elif not any(n[0] < end and start < n[1] for n in names):
            out.append((start, end, start, end, label, False, ""))
    return sorted(out, key=lambda n: n[0])


# -- the whole site --------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    path: str
    line: int
    sentence: str


@dataclass
class Suggestion:
    name: str  # as written most often
    slug: str  # for --write
    variants: list[str]  # every other form seen (with a title, a possessive, an acronym…)
    aliases: list[str]  # the variants an entry could list as aliases (no title, no possessive)
    articles: list[str]  # the articles' paths
    mentions: int
    examples: list[Example] = field(default_factory=list)  # the first mention in each article
    type: str = ""
    alias_of: str = ""  # the one entry with a longer term holding this name: perhaps its alias

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "slug": self.slug, "variants": self.variants,
                               "aliases": self.aliases, "articles": len(self.articles),
                               "article_paths": self.articles, "mentions": self.mentions,
                               "examples": [{"path": e.path, "line": e.line, "sentence": e.sentence}
                                            for e in self.examples]}
        if self.type:
            out["type"] = self.type
        if self.alias_of:
            out["alias_of"] = self.alias_of
        return out


def key_of(text: str) -> str:
    """What two spellings of one name share: case, apostrophes and spacing aside."""
    return " ".join(unicodedata.normalize("NFC", text).translate(_QUOTES).casefold().split())


@dataclass(frozen=True)
class Covered:
    """What the glossary covers: every term (as ``key_of``); for each PERSON entry the (first
    word, last word) pairs of its terms ("Volodymyr Zelenskyy" when the title is "Volodymyr
    Zelensky" and "Zelenskyy" an alias); and each term's words with its entry's slug."""

    terms: frozenset[str]
    pairs: frozenset[tuple[str, str]]
    words: tuple[tuple[tuple[str, ...], str], ...] = ()

    def alias_of(self, name: str) -> str:
        """The one entry with a term of which ``name`` is a part, case as written ("Wagner"
        of "Wagner Group"; "UN" is no part of "Kim Jong Un")."""
        want = tuple(name.split())
        n = len(want)
        slugs = {slug for words, slug in self.words if len(words) > n
                 and any(words[i:i + n] == want for i in range(len(words) - n + 1))}
        return slugs.pop() if len(slugs) == 1 else ""


def _plain(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).translate(_QUOTES).split())


def covered_terms(entries: Iterable[EntryHeader]) -> Covered:
    terms = frozenset(key_of(t.value) for e in entries for t in e.terms)
    pairs = set()
    words = []
    for e in entries:
        split = [key_of(t.value).split() for t in e.terms]
        words += [(tuple(_plain(t.value).split()), e.slug) for t in e.terms if t.value.strip()]
        if e.type == "PERSON":
            pairs.update((a[0], b[-1]) for a in split if len(a) > 1 for b in split if b)
    return Covered(terms, frozenset(pairs), tuple(words))


def rank(found: Sequence[tuple[str, Sequence[FoundName]]], terms: Covered,
         min_articles: int = 2, limit: int | None = None) -> list[Suggestion]:
    """Every name of the site (``found``: (article path, its names), in path order) that
    recurs in ``min_articles`` articles and that no entry or alias covers, best first."""
    keys = _keys(found)
    wanted = _worth_a_group(found, keys, min_articles)
    groups: dict[str, _Group] = {}
    for path, names in found:
        for f in names:
            key = keys[f.name]
            if key in wanted:
                group = groups.get(key)
                if group is None:
                    group = groups[key] = _Group()
                group.add(path, f)
    _surnames_across(groups, terms.terms)
    out = []
    for g in groups.values():
        if len(g.first) < min_articles or not g.named or g.covered(terms):
            continue
        out.append(g.suggestion())
        out[-1].alias_of = terms.alias_of(_plain(out[-1].name))
    out.sort(key=lambda s: (-len(s.articles), -s.mentions, s.name))
    return out if limit is None else out[:limit]


def _keys(found: Sequence[tuple[str, Sequence[FoundName]]]) -> dict[str, str]:
    """Each name as written → its group's key (an acronym seen with its expansion: the expansion's)."""
    acronyms = _acronyms(found)
    keys: dict[str, str] = {}
    for _, names in found:
        for f in names:
            if f.name not in keys:
                key = key_of(f.name)
                keys[f.name] = acronyms.get(key, key) if f.name.isupper() else key
    return keys


def _worth_a_group(found: Sequence[tuple[str, Sequence[FoundName]]], keys: dict[str, str], min_articles: int
                   ) -> set[str]:
    """The keys that can reach ``min_articles`` articles: those already there, and those a
    surname may join (a single word and the names of two words or more ending with it);
    on a big site most names appear once and cost nothing more."""
    seen: dict[str, int] = {}
    for _, names in found:
        for key in {keys[f.name] for f in names}:
            seen[key] = seen.get(key, 0) + 1
    if min_articles <= 1:
        return set(seen)
    singles = {k for k in seen if " " not in k}
    lasts = {k.rsplit(" ", 1)[-1] for k in seen if " " in k} & singles
    return {k for k, n in seen.items() if n >= min_articles or k in lasts
            or (" " in k and k.rsplit(" ", 1)[-1] in lasts)}


def _surnames_across(groups: dict[str, "_Group"], terms: frozenset[str]) -> None:
    """A surname alone in an article without the full name ("Putin said…") counts for the
    one person of the site with that surname, when no entry's term is that word."""
    owners: dict[str, list[str]] = {}
    for key, g in groups.items():
        if " " in key and g.types.get("PERSON"):
            owners.setdefault(key.split()[-1], []).append(key)
    for key in [k for k in groups if k in owners and len(owners[k]) == 1 and k not in terms]:
        groups[owners[key][0]].absorb(groups.pop(key))


def _acronyms(found: Sequence[tuple[str, Sequence[FoundName]]]) -> dict[str, str]:
    """Acronym → the key of its expansion, from "Islamic Revolutionary Guard Corps (IRGC)"."""
    seen: dict[str, Counter] = {}
    for _, names in found:
        for f in names:
            if f.acronym:
                seen.setdefault(key_of(f.acronym), Counter())[key_of(f.name)] += 1
    return {a: c.most_common(1)[0][0] for a, c in seen.items()}


class _Group:
    """The occurrences of one name across the site."""

    def __init__(self) -> None:
        self.names: Counter = Counter()
        self.written: Counter = Counter()
        self.first: dict[str, Example] = {}  # each article's first mention
        self.mentions = 0
        self.types: Counter = Counter()
        self.named = False  # seen somewhere not opening a sentence (or typed by a pipeline)
        self.acronyms: set[str] = set()
        self.short: set[str] = set()

    def add(self, path: str, f: FoundName) -> None:
        if path not in self.first:
            self.first[path] = Example(path, f.line, f.sentence)
        self.mentions += 1
        self.names[f.name] += 1
        self.written[f.written] += 1
        if f.acronym:
            self.acronyms.add(f.acronym)
        if f.alias:
            self.short.add(f.alias)  # an alias, but not a form that says an entry covers it
        if f.type:
            self.types[f.type] += 1
        self.named = self.named or not f.initial

    @property
    def paths(self) -> list[str]:
        return sorted(self.first)

    def absorb(self, other: "_Group") -> None:
        """The occurrences of a short form (a surname alone) as this name's."""
        for path, ex in other.first.items():
            if path not in self.first or ex.line < self.first[path].line:
                self.first[path] = ex
        self.mentions += other.mentions
        self.written.update(other.written)
        self.short.update(other.names)
        self.types.update(other.types)
        self.named = self.named or other.named

    def covered(self, glossary: Covered) -> bool:
        terms, pairs = glossary.terms, glossary.pairs
        forms = [key_of(n) for n in set(self.names) | self.acronyms]
        return any(n in terms or _covered_with_qualifier(n, terms) or (" " in n and (n.split()[0], n.split()[-1]) in pairs)
                   for n in forms)

    def suggestion(self) -> Suggestion:
        full = {n: c for n, c in self.names.items() if not (n.isupper() and " " not in n)} or self.names
        name = max(full.items(), key=lambda kv: (kv[1], len(kv[0].split()), kv[0]))[0]
        aliases = sorted({n for n in self.names if n != name} | ((self.acronyms | self.short) - {name}))
        aliases = [a for a in aliases if key_of(a) != key_of(name)]
        variants = [w for w, _ in sorted(self.written.items(), key=lambda kv: (-kv[1], kv[0])) if w != name]
        variants += [a for a in aliases if a not in variants]
        type_ = self.types.most_common(1)[0][0] if self.types else ""
        slug = "-".join(filter(None, slugify(name).split("-"))) or "term"
        examples = [self.first[p] for p in self.paths][:5]
        return Suggestion(name, slug, variants, aliases, self.paths, self.mentions, examples, type_)


def _covered_with_qualifier(name: str, terms: frozenset[str]) -> bool:
    """"US Defense Department" when "Defense Department" is an alias: a term or a demonym
    before an entry's term adds nothing an editor would want an entry for (``name`` as key_of)."""
    words = name.split()
    if len(words) > 1 and words[-1] in GENERIC_HEADS and " ".join(words[:-1]) in terms:
        return True  # "US Treasury Department" when "US Treasury" is an alias
    for k in range(1, len(words)):
        head, rest = words[:k], " ".join(words[k:])
        if rest in terms and all(w in terms or w.title() in DEMONYMS for w in head):
            return True
    return False
