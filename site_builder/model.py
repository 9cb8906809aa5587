"""The frozen value types that flow between stages.

Every stage takes and returns these; none of them holds a reference to a mutable
shared context, so each per-file stage can be cached by a hash of its inputs.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Callable

from site_builder.errors import Diagnostic

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


@dataclass(frozen=True)
class EntryHeader:
    slug: str
    path: str
    title: str
    terms: tuple[Located, ...]  # title first, then aliases
    summary: str
    type: str
    kind: str = ENTRY

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(t.value for t in self.terms[1:])


@dataclass(frozen=True)
class Document:
    """One read source file: its header, its Markdown body and what went wrong.

    The body's Markdown is parsed into tokens by the link stage, which is the only
    stage that needs them; this keeps Documents small enough to cache and to send
    between processes."""

    source: SourceFile
    header: ArticleHeader | EntryHeader | None  # None when the front-matter was unusable
    body: str
    body_line: int  # file line of the body's first line (token maps are body-relative)
    diagnostics: tuple[Diagnostic, ...]


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
    """One ``[[slug]]`` or related-block reference that resolved."""

    target: str
    line: int
    col: int


@dataclass(frozen=True)
class LinkedDocument:
    slug: str
    kind: str
    body_html: str
    mentions: tuple[Mention, ...]  # in document order, at most one per entry
    entities: tuple[str, ...]  # every entry slug mentioned anywhere (for related scoring)
    xrefs: tuple[CrossRef, ...]
    diagnostics: tuple[Diagnostic, ...]
    links: tuple[CrossRef, ...] = ()  # internal link and image URLs written in the body (checked after rendering)


@dataclass(frozen=True)
class Page:
    """One page to render. ``deps`` fingerprints exactly what the page shows (its own
    body, the headers of the pages it lists or previews); ``make`` builds the template
    context only when that fingerprint is new."""

    out_path: str  # relative to the output folder, e.g. "articles/deal/index.html"
    template: str
    deps: tuple[str, ...]
    make: Callable[[], dict[str, Any]] = field(hash=False, compare=False)
