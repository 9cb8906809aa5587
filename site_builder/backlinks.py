"""Backlinks (a reduce over the link stage's facts): for every glossary entry the
articles that mention it ("Mentioned in", newest first, each with the sentence of its
first mention), and for every page the pages that cross-reference it ("Referenced by").

``update`` brings earlier backlinks up to date with the documents whose facts changed,
giving exactly what ``build_backlinks`` would give from scratch: the dev server edits
one article at a time, and a site has thousands."""

from __future__ import annotations

import hashlib
import itertools
import sys
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from site_builder.index import SiteIndex
from site_builder.model import ARTICLE, ArticleHeader, EntryHeader, LinkedDocument
from site_builder.refs import Resolved, resolve_text


@dataclass(frozen=True)
class Backlink:
    source: ArticleHeader | EntryHeader
    sentence: str


@dataclass(frozen=True)
class Facts:
    """What one document adds to the backlinks."""

    mentions: tuple[tuple[str, str], ...]  # (entry, sentence) for every entity an article mentions
    targets: tuple[str, ...]  # the pages it cross-references (once each)


@dataclass(frozen=True)
class Backlinks:
    mentioned_in: dict[str, tuple[Backlink, ...]]  # entry slug -> articles mentioning it, newest first
    referenced_by: dict[str, tuple[ArticleHeader | EntryHeader, ...]]  # slug -> pages cross-referencing it
    signatures: dict[str, str]  # "mentions:<entry>" / "referenced:<slug>" -> digest of that list
    facts: dict[tuple[str, str], Facts]  # what each document added, for update()


def facts_of(doc: LinkedDocument, resolved: Resolved, index: SiteIndex) -> Facts:
    mentions: tuple[tuple[str, str], ...] = ()
    if doc.kind == ARTICLE:
        sentences = {m.entry: resolve_text(m.sentence, doc, resolved, index) for m in doc.mentions}
        mentions = tuple((entry, sentences.get(entry, "")) for entry in doc.entities)
    return Facts(mentions, tuple(dict.fromkeys(resolved.found())))


def _order(h: ArticleHeader | EntryHeader) -> tuple:
    if isinstance(h, ArticleHeader):
        return (0, -h.date.toordinal(), h.title.casefold(), h.slug)
    return (1, 0, h.title.casefold(), h.slug)


def _mentions_signature(backlinks: Iterable[Backlink]) -> str:
    """A digest of a "Mentioned in" list: which articles, and the sentence from each."""
    return hashlib.sha256("".join(f"{b.source.slug}\x00{b.sentence}\x00" for b in backlinks)
                          .encode("utf-8", "surrogatepass")).hexdigest()


def _referenced_signature(headers: Iterable[ArticleHeader | EntryHeader]) -> str:
    return hashlib.sha256("\x00".join(f"{h.kind}:{h.slug}" for h in headers).encode("utf-8")).hexdigest()


def _source(key: tuple[str, str], index: SiteIndex) -> ArticleHeader | EntryHeader | None:
    kind, slug = key
    return index.articles.get(slug) if kind == ARTICLE else index.entries.get(slug)


def build_backlinks(facts: dict[tuple[str, str], Facts], index: SiteIndex) -> Backlinks:
    mentioned: dict[str, list[Backlink]] = {}
    referenced: dict[str, dict[tuple[str, str], ArticleHeader | EntryHeader]] = {}
    for key, f in facts.items():
        source = _source(key, index)
        if source is None:
            continue
        for entry, sentence in f.mentions:
            mentioned.setdefault(entry, []).append(Backlink(source, sentence))
        for target in f.targets:
            referenced.setdefault(target, {})[key] = source
    return _finish(mentioned, {t: list(v.values()) for t, v in referenced.items()}, dict(facts), {}, None)


def update(previous: Backlinks, facts: dict[tuple[str, str], Facts], index: SiteIndex) -> Backlinks:
    """``previous`` (made for the same index) brought up to date with ``facts``: only the
    lists of entries and pages that a changed document adds to or leaves are touched."""
    old = previous.facts
    changed = [k for k, v in facts.items() if old.get(k) is not v and old.get(k) != v]
    changed += [k for k in old if k not in facts]
    if not changed:
        return previous
    mentioned = {e: list(v) for e, v in previous.mentioned_in.items()}
    referenced = {t: list(v) for t, v in previous.referenced_by.items()}
    touched: set[str] = set()
    for key in changed:
        source = _source(key, index)
        before, after = old.get(key), facts.get(key)
        for entry, _ in before.mentions if before else ():
            mentioned[entry] = [b for b in mentioned.get(entry, ()) if (b.source.kind, b.source.slug) != key]
            touched.add("mentions:" + entry)
        for target in before.targets if before else ():
            referenced[target] = [h for h in referenced.get(target, ()) if (h.kind, h.slug) != key]
            touched.add("referenced:" + target)
        if source is None or after is None:
            continue
        for entry, sentence in after.mentions:
            mentioned.setdefault(entry, []).append(Backlink(source, sentence))
            touched.add("mentions:" + entry)
        for target in after.targets:
            referenced.setdefault(target, []).append(source)
            touched.add("referenced:" + target)
    return _finish(mentioned, referenced, dict(facts), previous.signatures, touched)


def _finish(mentioned: dict[str, list[Backlink]], referenced: dict[str, list[ArticleHeader | EntryHeader]],
            facts: dict[tuple[str, str], Facts], signatures: dict[str, str], touched: set[str] | None) -> Backlinks:
    """Sort the lists (all of them, or the ``touched`` ones) and sign them."""
    order: dict[int, tuple] = {}  # id(header) -> its sort key, made once per page, not once per list

    def key(h: ArticleHeader | EntryHeader) -> tuple:
        k = order.get(id(h))
        if k is None:
            k = order[id(h)] = _order(h)
        return k

    signatures = dict(signatures)
    mentioned_in: dict[str, tuple[Backlink, ...]] = {}
    for entry, items in mentioned.items():
        name = "mentions:" + entry
        if touched is None or name in touched:
            items = sorted(items, key=lambda b: key(b.source))
            signatures[name] = _mentions_signature(items)
        if items:
            mentioned_in[entry] = tuple(items)
        else:
            signatures.pop(name, None)
    referenced_by: dict[str, tuple[ArticleHeader | EntryHeader, ...]] = {}
    for target, headers in referenced.items():
        name = "referenced:" + target
        if touched is None or name in touched:
            headers = sorted(headers, key=key)
            signatures[name] = _referenced_signature(headers)
        if headers:
            referenced_by[target] = tuple(headers)
        else:
            signatures.pop(name, None)
    return Backlinks(mentioned_in, referenced_by, signatures, facts)


TOGETHER_COUNT = 5  # entries listed under "Often mentioned with"


@dataclass(frozen=True)
class Together:
    """For every entry, the entries most often mentioned in the same articles (with how many
    articles mention both), most first; a signature of each list ("together:<entry>"); and
    the pair counts and entities it was made from, for ``update_together``."""

    with_: dict[str, tuple[tuple[str, int], ...]]
    signatures: dict[str, str]
    pairs: dict[str, dict[str, int]]
    entities: dict[str, tuple[str, ...]]


def mentioned_together(entities: dict[str, tuple[str, ...]]) -> Together:
    """``entities``: article slug -> the entries it mentions (published articles only, each
    entry once per article)."""
    mentioning: dict[str, list[tuple[str, ...]]] = {}
    for ents in entities.values():
        ents = tuple(map(sys.intern, ents))  # one object per slug (cached documents each bring their
        for a in ents:  # own copy): counting then compares them by identity
            mentioning.setdefault(a, []).append(ents)
    pairs: dict[str, dict[str, int]] = {}
    for a, lists in mentioning.items():  # an entry's row: the entries of every article mentioning it
        row = Counter(itertools.chain.from_iterable(lists))  # counted in C: the site's cost is in this line
        del row[a]
        if row:
            pairs[a] = dict(row)
    with_, signatures = _tops(pairs, pairs.keys(), {}, {})
    return Together(with_, signatures, pairs, dict(entities))


def update_together(previous: Together, entities: dict[str, tuple[str, ...]]) -> Together:
    """``previous`` brought up to date with the articles whose entities changed: the same
    result as ``mentioned_together(entities)``, at the cost of the edit, not of the site."""
    old = previous.entities
    changed = [s for s, v in entities.items() if old.get(s) is not v and old.get(s) != v]
    changed += [s for s in old if s not in entities]
    if not changed:
        return previous
    pairs = dict(previous.pairs)
    touched: set[str] = set()
    for slug in changed:
        _count(pairs, old.get(slug, ()), -1, touched)
        _count(pairs, entities.get(slug, ()), 1, touched)
    with_, signatures = _tops(pairs, touched, previous.with_, previous.signatures)
    return Together(with_, signatures, pairs, dict(entities))


def _count(pairs: dict[str, dict[str, int]], ents: tuple[str, ...], sign: int, touched: set[str] | None) -> None:
    """Add (or take away) one article's pairs; rows are copied before their first change
    when ``touched`` is given (they belong to the previous result)."""
    for a in ents:
        if touched is not None and a not in touched:
            pairs[a] = dict(pairs.get(a, {}))
            touched.add(a)
        row = pairs.setdefault(a, {})
        for b in ents:
            if b != a:
                n = row.get(b, 0) + sign
                if n:
                    row[b] = n
                else:
                    row.pop(b, None)


def _tops(pairs: dict[str, dict[str, int]], which: Iterable[str], with_: dict, signatures: dict
          ) -> tuple[dict[str, tuple[tuple[str, int], ...]], dict[str, str]]:
    with_, signatures = dict(with_), dict(signatures)
    for a in which:
        row = pairs.get(a)
        top = tuple(sorted(row.items(), key=lambda kv: (-kv[1], kv[0]))[:TOGETHER_COUNT]) if row else ()
        if top:
            with_[a] = top
            signatures["together:" + a] = hashlib.sha256(repr(top).encode("utf-8")).hexdigest()
        else:
            with_.pop(a, None)
            signatures.pop("together:" + a, None)
    return with_, signatures
