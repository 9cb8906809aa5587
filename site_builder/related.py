"""Related reading (a reduce over headers and the entities each article mentions): explicit
picks first, padded with the articles that share the rarest entities and tags."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from bisect import bisect_left
from dataclasses import dataclass
from typing import Iterable

from site_builder.errors import Diagnostic, warning
from site_builder.index import SiteIndex, unresolved
from site_builder.model import ArticleHeader, EntryHeader, digest


@dataclass(frozen=True)
class Pick:
    header: ArticleHeader | EntryHeader
    explicit: bool
    score: float = 0.0
    shared_entities: tuple[tuple[str, float], ...] = ()
    shared_tags: tuple[tuple[str, float], ...] = ()
    date_score: float = 0.0


ENTITY_WEIGHT = 1.0
TAG_WEIGHT = 0.5
DATE_WEIGHT = 0.5
DATE_SCALE_DAYS = 30.0
_RARE_MIN = 50  # posting lists up to this long are always walked
_SHORTLIST = 40


class RelatedPicker:
    """Scores articles against each other: shared entities weighted by rarity (IDF),
    shared tags (IDF, half weight) and nearness in date. Built once per build."""

    def __init__(self, index: SiteIndex, entities: dict[str, tuple[str, ...]]):
        self.index = index
        self.articles = sorted(index.articles.values(), key=lambda a: a.slug)
        n = max(len(self.articles), 1)
        self.entities: dict[str, frozenset[str]] = {}
        self.by_entity: dict[str, list[str]] = {}
        self.by_tag: dict[str, list[str]] = {}
        for a in self.articles:
            ents = frozenset(entities.get(a.slug, ()))
            self.entities[a.slug] = ents
            for e in sorted(ents):
                self.by_entity.setdefault(e, []).append(a.slug)
            for t in sorted(set(a.tags)):
                self.by_tag.setdefault(t, []).append(a.slug)
        # rarity weight: squared IDF, so one rare shared entity outweighs several common ones
        self.entity_idf = {e: math.log(1 + n / len(s)) ** 2 for e, s in self.by_entity.items()}
        self.tag_idf = {t: math.log(1 + n / len(s)) for t, s in self.by_tag.items()}
        self.by_date = sorted((a.date.toordinal(), a.slug) for a in self.articles)

    def explicit(self, article: ArticleHeader) -> tuple[list[Pick], list[Diagnostic]]:
        picks: list[Pick] = []
        diags: list[Diagnostic] = []
        seen: set[str] = set()
        for item in article.related:
            slug = item.value
            if slug == article.slug:
                diags.append(warning(article.path, item.line, item.col, "related.self",
                                     "an article cannot be related to itself; the item is dropped", "remove it"))
                continue
            if slug in seen:
                diags.append(warning(article.path, item.line, item.col, "related.duplicate",
                                     f"'{slug}' is listed twice in 'related'; the repeat is dropped", "remove it"))
                continue
            seen.add(slug)
            problem = unresolved(self.index, slug, article.path, item.line, item.col, "related item", "related")
            if problem is not None:
                diags.append(problem)
                continue
            header = self.index.header(slug)
            picks.append(Pick(header, True))
        return picks, diags

    def _candidates(self, article: ArticleHeader, skip: set[str]) -> list[str]:
        """A short list of likely picks: articles sharing the rarest entities and tags
        (their weights summed along the posting lists), plus the nearest in date.

        Posting lists longer than ``cap`` belong to entities most articles share; they
        are not walked (that would cost N² on a large site), but they still count in
        the exact score of the short-listed articles."""
        cap = max(_RARE_MIN, len(self.articles) // 100)
        acc: dict[str, float] = {}
        for e in self.entities.get(article.slug, ()):
            postings = self.by_entity[e]
            if len(postings) <= cap:
                w = self.entity_idf[e]
                for b in postings:
                    acc[b] = acc.get(b, 0.0) + w
        for t in set(article.tags):
            postings = self.by_tag.get(t, ())
            if len(postings) <= cap:
                w = TAG_WEIGHT * self.tag_idf[t]
                for b in postings:
                    acc[b] = acc.get(b, 0.0) + w
        for s in skip:
            acc.pop(s, None)
        shortlist = sorted(acc.items(), key=lambda kv: (-kv[1], kv[0]))[:_SHORTLIST]
        pool = {slug for slug, _ in shortlist}
        k = bisect_left(self.by_date, (article.date.toordinal(), article.slug))
        for _, slug in self.by_date[max(0, k - 6):k + 7]:  # so that every article can be padded
            if slug not in skip:
                pool.add(slug)
        return sorted(pool)

    def _quick_score(self, article: ArticleHeader, mine: frozenset[str], tags: frozenset[str],
                     other: ArticleHeader) -> float:
        theirs = self.entities.get(other.slug, frozenset())
        total = ENTITY_WEIGHT * sum(self.entity_idf[e] for e in mine & theirs)
        if tags:
            total += TAG_WEIGHT * sum(self.tag_idf[t] for t in tags.intersection(other.tags))
        days = abs(article.date.toordinal() - other.date.toordinal())
        return round(total + DATE_WEIGHT / (1.0 + days / DATE_SCALE_DAYS), 9)

    def score(self, article: ArticleHeader, other: ArticleHeader) -> Pick:
        """The score with its parts, for display (--explain-related)."""
        mine = self.entities.get(article.slug, frozenset())
        theirs = self.entities.get(other.slug, frozenset())
        shared_e = tuple(sorted(((e, self.entity_idf[e]) for e in mine & theirs), key=lambda x: (-x[1], x[0])))
        shared_t = tuple(sorted(((t, self.tag_idf[t]) for t in set(article.tags) & set(other.tags)),
                                key=lambda x: (-x[1], x[0])))
        days = abs(article.date.toordinal() - other.date.toordinal())
        date_score = 1.0 / (1.0 + days / DATE_SCALE_DAYS)
        total = self._quick_score(article, mine, frozenset(article.tags), other)
        return Pick(other, False, total, shared_e, shared_t, round(date_score, 9))

    def automatic(self, article: ArticleHeader, exclude: Iterable[str], count: int) -> list[Pick]:
        if count <= 0:
            return []
        skip = set(exclude) | {article.slug}
        mine = self.entities.get(article.slug, frozenset())
        tags = frozenset(article.tags)
        scored = [(-self._quick_score(article, mine, tags, self.index.articles[s]), s)
                  for s in self._candidates(article, skip)]
        scored.sort()
        return [self.score(article, self.index.articles[s]) for _, s in scored[:count]]

    def related(self, article: ArticleHeader, count: int, shown: Iterable[str] = ()
                ) -> tuple[list[Pick], list[Diagnostic]]:
        """Explicit picks, then automatic ones up to ``count``; the pages the article's body
        already shows (``shown``: cross-references and ``::: related`` items) are left out
        of both, so that a reader never meets the same piece twice on one page ("Referenced
        by" leaves out what the body and the picks show)."""
        explicit, diags = self.explicit(article)
        seen = set(shown)
        explicit = [p for p in explicit if p.header.slug not in seen]
        auto = self.automatic(article, seen | {p.header.slug for p in explicit}, count - len(explicit))
        return explicit + auto, diags


def related_key(index: SiteIndex, header_keys: dict[str, str], entities: dict[str, tuple[str, ...]], count: int,
                shown: dict[str, tuple[str, ...]] | None = None) -> str:
    """What the picks read: every published article's header (date, tags, explicit list…),
    the entities it mentions and the pages its body shows, which slugs exist (for "did you
    mean"), and the count."""
    shown = shown or {}
    return digest("related", count, index.slugs_key,
                  *(f"{slug}|{header_keys[slug]}|{'|'.join(entities.get(slug, ()))}|>{'|'.join(shown.get(slug, ()))}"
                    for slug in sorted(index.articles)))


@dataclass(frozen=True)
class Picks:
    picks: dict[str, list[Pick]]  # article slug -> its related reading
    diagnostics: list[Diagnostic]  # problems with the explicit lists
    signatures: dict[str, str]  # "picks:<slug>" -> digest of what the article shows (see signature)


def pick_all(index: SiteIndex, entities: dict[str, tuple[str, ...]], count: int,
             shown: dict[str, tuple[str, ...]] | None = None) -> Picks:
    """Every published article's related reading (see ``RelatedPicker.related``)."""
    shown = shown or {}
    picker = RelatedPicker(index, entities)
    picks: dict[str, list[Pick]] = {}
    diags: list[Diagnostic] = []
    for a in sorted(index.articles.values(), key=lambda a: a.slug):
        picks[a.slug], more = picker.related(a, count, shown.get(a.slug, ()))
        diags += more
    return Picks(picks, diags, {"picks:" + slug: signature(ps) for slug, ps in picks.items()})


def fresh(picks: dict[str, list[Pick]], index: SiteIndex) -> dict[str, list[Pick]]:
    """Picks with the headers of this build (titles and summaries may have changed)."""
    def one(p: Pick) -> Pick:
        header = index.header(p.header.slug)
        return p if header is None or header is p.header else dataclasses.replace(p, header=header)
    return {slug: [one(p) for p in ps] for slug, ps in picks.items()}


def signature(picks: list[Pick]) -> str:
    """A digest of an article's related reading as shown: which pages, explicit or not."""
    return hashlib.sha256("\x00".join(f"{p.header.slug}{'!' if p.explicit else ''}" for p in picks)
                          .encode("utf-8")).hexdigest()
