"""The site index (a reduce over parsed documents): every slug, header and term.

Pages read each other only through these small headers.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Sequence

from site_builder.errors import Diagnostic, error, info, warning
from site_builder.model import MAX_NAME_BYTES, ArticleHeader, Document, EntryHeader, digest
from site_builder.urls import tag_slug


@functools.lru_cache(maxsize=4096)
def tag_page_slug(name: str) -> str:
    """The folder of a tag's page under tags/ (one tag written two ways shares it)."""
    return tag_slug(name) or "tag"


@dataclass(frozen=True)
class SiteIndex:
    root: str  # URL prefix, e.g. "/"
    articles: dict[str, ArticleHeader]  # published (drafts only with --drafts)
    drafts: dict[str, ArticleHeader]  # left out of this build
    entries: dict[str, EntryHeader]
    key: str = ""  # digest of everything the index was made from (see index_key)
    slugs_key: str = ""  # digest of which slugs are articles, entries and drafts
    paths: frozenset[str] = frozenset()  # the source files of the articles and entries this build publishes

    def url(self, slug: str) -> str:
        if slug in self.entries:
            return f"{self.root}glossary/{slug}/"
        return f"{self.root}articles/{slug}/"

    def header(self, slug: str) -> ArticleHeader | EntryHeader | None:
        return self.articles.get(slug) or self.entries.get(slug)

    def all_slugs(self) -> list[str]:
        return sorted(set(self.articles) | set(self.entries))


def unresolved(index: SiteIndex, slug: str, path: str, line: int, col: int, what: str, area: str
               ) -> Diagnostic | None:
    """The error for a reference (``[[slug]]``, a related block or ``related:``) whose slug
    names no page of this build, or None when it does."""
    if index.header(slug) is not None:  # exact match only: 'Deal' is not 'deal', on every OS
        return None
    if slug in index.drafts:
        return error(path, line, col, f"{area}.draft", f"{what} '{slug}' points at a draft, which this build leaves out",
                     "publish that article (remove 'draft: true'), or remove the reference")
    from site_builder.errors import did_you_mean

    return error(path, line, col, f"{area}.unknown", f"{what} '{slug}' matches no article or glossary entry",
                 did_you_mean(slug, index.all_slugs()) or "the slug is the file name without '.md'")


def term_key(term: str) -> str:
    """Two terms with the same key are the same term to a reader."""
    term = unicodedata.normalize("NFKC", term).casefold()
    term = term.replace("\u2019", "'").replace("\u2018", "'")
    term = "".join(ch for ch in term if unicodedata.category(ch) != "Cf")
    return " ".join(term.split())


_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufe00-\ufe0f]")


def _scripts(term: str) -> set[str]:
    scripts = set()
    for ch in term:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            scripts.add(name.split(" ")[0] if name else "?")
    return scripts


def index_key(documents: Sequence[Document], root: str, drafts: bool) -> tuple:
    """What the index reads: every document's header (by its digest), the URL root and
    whether drafts are in."""
    return ("index", root, drafts, tuple((d.source.path, d.header_key) for d in documents))


def build_index(documents: Sequence[Document], root: str, drafts: bool) -> tuple[SiteIndex, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    articles: dict[str, ArticleHeader] = {}
    draft_articles: dict[str, ArticleHeader] = {}
    entries: dict[str, EntryHeader] = {}
    seen: dict[str, str] = {}  # slug (case-folded) -> path
    for doc in sorted(documents, key=lambda d: d.source.path):
        h = doc.header
        if h is None:
            continue
        key = h.slug.casefold()
        if key in seen:
            diags.append(error(h.path, 1, 1, "slug.duplicate",
                               f"slug '{h.slug}' is already used by {seen[key]}",
                               "rename one of the files, or give one a different 'slug:' in its front-matter"))
            continue
        seen[key] = h.path
        if isinstance(h, EntryHeader):
            entries[h.slug] = h
        elif h.draft and not drafts:
            draft_articles[h.slug] = h
        else:
            articles[h.slug] = h
    diags += check_terms(entries.values())
    diags += check_tags(articles.values())
    slugs_key = digest(sorted(articles), sorted(draft_articles), sorted(entries))
    key = digest(index_key(documents, root, drafts))
    paths = frozenset(h.path for h in list(articles.values()) + list(entries.values()))
    return SiteIndex(root, articles, draft_articles, entries, key, slugs_key, paths), diags


@functools.lru_cache(maxsize=4096)
def _tag_key(name: str) -> str:
    """Two tags with the same key are one tag written two ways ("North Korea", "north-korea")."""
    return " ".join(re.sub(r"[\s_-]+", " ", unicodedata.normalize("NFKC", name).casefold()).split())


def check_tags(articles: Iterable[ArticleHeader]) -> list[Diagnostic]:
    """Tags that would share one page without being the same tag (C++ and C both make
    tags/c/) are errors naming both; so is a tag whose page name is too long."""
    diags: list[Diagnostic] = []
    first: dict[str, tuple[str, str, int, int]] = {}  # slug -> (tag key, where, line, col) of its first use
    for a in sorted(articles, key=lambda a: a.path):
        places = a.tag_places or ((1, 1),) * len(a.tags)
        for name, (line, col) in zip(a.tags, places):
            slug = tag_page_slug(name)
            if len(slug.encode("utf-8")) > MAX_NAME_BYTES:
                diags.append(error(a.path, line, col, "tag.too-long",
                                   f"the tag '{name[:40]}…' makes a page name of {len(slug.encode('utf-8'))} bytes; "
                                   f"file systems allow {MAX_NAME_BYTES}", "shorten the tag"))
                continue
            seen = first.setdefault(slug, (_tag_key(name), f"'{name}' in {a.path}:{line}", line, col))
            if seen[0] != _tag_key(name):
                diags.append(error(a.path, line, col, "tag.clash",
                                   f"the tag '{name}' and the tag {seen[1]} would share the page tags/{slug}/",
                                   "write them the same way if they are one tag, or rename one (e.g. 'cpp' for 'C++')"))
    return diags


def check_terms(entries: Iterable[EntryHeader]) -> list[Diagnostic]:
    from site_builder.words import is_common_word

    diags: list[Diagnostic] = []
    owners: dict[str, tuple[EntryHeader, int, int, str]] = {}
    for entry in sorted(entries, key=lambda e: e.path):
        for i, term in enumerate(entry.terms):
            what = "title" if i == 0 else "alias"
            key = term_key(term.value)
            if key in owners:
                other, line, col, value = owners[key]
                if other.slug == entry.slug:
                    diags.append(warning(entry.path, term.line, term.col, "glossary.term-repeated",
                                         f"the {what} '{term.value}' repeats '{value}' of the same entry",
                                         "remove the repeated alias"))
                else:
                    diags.append(error(entry.path, term.line, term.col, "glossary.term-duplicate",
                                       f"the {what} '{term.value}' is also a term of {other.path}:{line} ('{value}')",
                                       "a term may belong to one entry only: remove it from one of the two"))
                continue
            owners[key] = (entry, term.line, term.col, term.value)
            value = term.value
            if _INVISIBLE.search(value):
                diags.append(warning(entry.path, term.line, term.col, "glossary.term-invisible",
                                     f"the {what} '{value}' contains invisible characters",
                                     "retype it without invisible characters; they stop it from matching"))
            scripts = _scripts(value)
            if len(scripts) > 1:
                diags.append(warning(entry.path, term.line, term.col, "glossary.term-mixed-script",
                                     f"the {what} '{value}' mixes scripts ({', '.join(sorted(scripts))})",
                                     "a look-alike letter from another alphabet stops it from matching; retype it"))
            if i > 0 and len(value.strip()) <= 2:
                diags.append(warning(entry.path, term.line, term.col, "glossary.term-short",
                                     f"the alias '{value}' is two characters or fewer and may match by accident",
                                     "prefer a longer alias, or accept that it only matches with this exact case"))
            elif i > 0 and " " not in value.strip() and not value.strip().isupper() \
                    and is_common_word(value.strip()) and (value.strip().islower() or _very_common(value.strip())):
                diags.append(warning(entry.path, term.line, term.col, "glossary.term-common",
                                     f"the alias '{value}' is a common English word",
                                     "links made from common words are often wrong; prefer a longer, specific alias"))
    return diags


def _very_common(word: str) -> bool:
    from site_builder.words import word_log_probs

    return word_log_probs().get(word.lower(), -99.0) > -12.0


def unmentioned(entries: Iterable[EntryHeader], mentioned: set[str]) -> list[Diagnostic]:
    return [
        info(e.path, 1, 1, "glossary.unmentioned", f"'{e.title}' is not mentioned in any article",
             "mention it in an article, or add an alias that articles use")
        for e in sorted(entries, key=lambda e: e.path) if e.slug not in mentioned
    ]
