"""The frozen value types that flow between stages, and ``digest``, their identity.

Every stage takes and returns these; none of them holds a reference to a mutable
shared context, so each per-file stage can be cached by a digest of its inputs.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass
from typing import Any

from site_builder.errors import Diagnostic


def digest(*parts: Any) -> str:
    """The sha256 of the parts (each as text, NUL-separated): every key and fingerprint
    of the build is made with this one function."""
    text = "\x00".join(p if isinstance(p, str) else str(p) for p in parts) + "\x00"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

ARTICLE = "article"
ENTRY = "entry"

MAX_NAME_BYTES = 255  # the longest file or folder name most file systems allow (a slug becomes one)

ENTRY_TYPES = ("ORG", "PERSON", "GPE", "EVENT", "LAW", "OTHER")
TYPE_LABELS = {
    "ORG": "Organisations",
    "PERSON": "People",
    "GPE": "Places",
    "EVENT": "Events",
    "LAW": "Laws and measures",
    "OTHER": "Other",
}
TYPE_NAMES = {
    "ORG": "Organisation",
    "PERSON": "Person",
    "GPE": "Place",
    "EVENT": "Event",
    "LAW": "Law or measure",
    "OTHER": "Other",
}


@dataclass(frozen=True)
class SourceFile:
    path: str  # site-relative, forward slashes, e.g. "content/articles/deal.md"
    abspath: str
    kind: str  # ARTICLE or ENTRY
    digest: str  # sha256 of the bytes


@dataclass(frozen=True)
class Located:
    """A front-matter value with the place it was written."""

    value: str
    line: int
    col: int


@dataclass(frozen=True)
class Image:
    src: str
    alt: str
    caption: str
    credit: str
    line: int = 0  # where src was written
    col: int = 0


@dataclass(frozen=True)
class Correction:
    """A correction note at the foot of an article: when, and what was put right."""

    date: _dt.date
    text: str


@dataclass(frozen=True)
class ArticleHeader:
    slug: str
    path: str
    title: str
    date: _dt.date
    summary: str
    tags: tuple[str, ...]
    related: tuple[Located, ...]
    byline: str
    source: str
    image: Image | None
    draft: bool
    nolink: bool | tuple[str, ...]
    kind: str = ARTICLE
    tag_places: tuple[tuple[int, int], ...] = ()  # (line, col) of each tag, for diagnostics
    updated: _dt.date | None = None  # `updated:`, when the story changed after it was published
    corrections: tuple[Correction, ...] = ()  # oldest first

    @property
    def modified(self) -> _dt.date:
        """When the story last changed: its update or its latest correction, else its date."""
        return max([self.date] + ([self.updated] if self.updated else []) + [c.date for c in self.corrections])


@dataclass(frozen=True)
class EntryHeader:
    slug: str
    path: str
    title: str
    terms: tuple[Located, ...]  # title first, then aliases
    summary: str
    type: str
    kind: str = ENTRY
    sort_as: str = ""  # `sort_as:`, where the glossary index files the entry ("Kim Jong Un" under K)

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(t.value for t in self.terms[1:])

    @property
    def sort_key(self) -> str:
        """Where the glossary index files the entry: ``sort_as``; a person by surname (the
        last word of the title, then the rest); anything else by title."""
        if self.sort_as:
            return self.sort_as
        words = self.title.split()
        if self.type == "PERSON" and len(words) > 1:
            return f"{words[-1]}, {' '.join(words[:-1])}"
        return self.title


@dataclass(frozen=True)
class Document:
    """One read source file: its header, its Markdown body and what went wrong.

    The body's Markdown is parsed into tokens by the link stage, which is the only
    stage that needs them; this keeps Documents small enough to cache and to send
    between processes."""

    source: SourceFile
    header: ArticleHeader | EntryHeader | None  # None when the file could not be read at all
    body: str
    body_line: int  # file line of the body's first line (token maps are body-relative)
    diagnostics: tuple[Diagnostic, ...]
    header_key: str = ""  # digest of the header: what other pages show of this one


BARRIER = "\ufffc"  # stands for code, links and images in the text the matcher sees


@dataclass(frozen=True)
class Match:
    """One mention found by the glossary matcher in a text."""

    start: int  # offsets into the text given to the matcher
    end: int
    entry: str  # entry slug


@dataclass(frozen=True)
class Mention:
    """One entity link made in a document."""

    entry: str  # entry slug
    line: int
    sentence: str  # the sentence around the mention, plain text


@dataclass(frozen=True)
class CrossRef:
    """A URL written in a body (a link or an image), with its place: checked after the
    whole site is known (internal links must lead to a file of the build)."""

    target: str
    line: int
    col: int


@dataclass(frozen=True)
class Ref:
    """A cross-reference (``[[slug]]``, ``[[slug|text]]``) or an item of a ``::: related``
    block, as written: the link stage finds it, ``refs.resolve`` looks the slug up."""

    slug: str
    text: str  # the editor's own link text; "" for the target's title (and for block items)
    line: int
    col: int
    block: int = -1  # -1 for an inline cross-reference, else the number of its related block


# In a linked body, the cross-reference refs[N] stands as XREF_MARK.format(N), and related
# block B (the refs whose block is B) as BLOCK_MARK.format(B), until the page is made (no NUL survives reading a file, so none
# can be confused with text). Mention sentences hold the cross-reference marks too.
MARK = "\x00"
XREF_MARK = "\x00x{}\x00"
BLOCK_MARK = "\x00b{}\x00"
IMAGE_MARK = "\x00i{}\x00"  # images[N] of a body: its size and smaller copies are known once the page is made


@dataclass(frozen=True)
class BodyImage:
    """An image written in a body (``![alt](src "title")``) whose file belongs to the site:
    the page puts in its width, height and ``srcset`` (read from the file) where its mark is."""

    src: str  # as written
    out_path: str  # the output file it leads to ("images/a.png")
    alt: str
    title: str
    line: int
    col: int
    first: bool = False  # the body's first image, in its introduction (before any h2): may load at once


@dataclass(frozen=True)
class LinkedDocument:
    slug: str
    kind: str
    body_html: str  # with the marks above where cross-references and related blocks go
    mentions: tuple[Mention, ...]  # in document order, at most one per entry
    entities: tuple[str, ...]  # every entry slug mentioned anywhere (for related scoring)
    refs: tuple[Ref, ...]  # cross-references and related-block items, in document order
    diagnostics: tuple[Diagnostic, ...]
    links: tuple[CrossRef, ...] = ()  # internal link and image URLs written in the body (checked later)
    key: str = ""  # digest of everything above: what the pages showing this body depend on
    path: str = ""  # the source file (for diagnostics found later)
    toc: tuple[tuple[int, str, str], ...] = ()  # (level, id, text) of the h2 and h3 headings
    words: int = 0  # how many words a reader reads (for the reading time)
    images: tuple[BodyImage, ...] = ()  # the images of content/ the body shows, each where its IMAGE_MARK is


@dataclass(frozen=True)
class FoundName:
    """One occurrence of a name in an article, as ``suggest.find_names`` reads it: the name
    it counts for (titles, honorifics and a possessive stripped; a lone surname counts for
    the full name seen before it), and how it was written, where."""

    name: str
    written: str  # as the reader sees it (with its title or possessive), spaces made single
    line: int
    sentence: str
    type: str = ""  # PERSON, ORG… when the rules or a trained pipeline say so
    initial: bool = False  # it opens a sentence: its capital proves nothing
    acronym: str = ""  # written right after it in parentheses: "(IRGC)"
    alias: str = ""  # the short form it was written as ("Shoigu" counted for "Sergei Shoigu")
