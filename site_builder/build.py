"""The orchestrator: one readable ``Builder.run()`` listing the stages top to bottom.

Per-file stages (parse, link, render) are maps memoised by a hash of exactly what
they read; whole-site steps (index, backlinks, related reading, page assembly) are
cheap reduces that always run. A ``Builder`` kept alive (the dev server) therefore
rebuilds incrementally for free, and its output always equals a clean build's.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from site_builder import __version__
from site_builder.config import SiteConfig, load_config
from site_builder.discover import discover
from site_builder.errors import Diagnostic, has_errors, sort_diagnostics, strict as make_strict
from site_builder.index import SiteIndex, build_index, unmentioned
from site_builder.model import ARTICLE, ArticleHeader, Document, EntryHeader, LinkedDocument, SourceFile
from site_builder.parse import parse
from site_builder.related import RelatedPicker, build_backlinks
from site_builder.render import Assembler, environment, render_page, template_digest, theme_assets
from site_builder.write import WriteStats, check_out_dir, write_tree

_WORD = re.compile(r"\w+")
SCHEMA = "1"


def _hash(*parts: Any) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(str(p).encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


@dataclass
class BuildResult:
    diagnostics: list[Diagnostic]
    files: dict[str, bytes] | None  # None when the build failed
    counts: dict[str, int] = field(default_factory=dict)  # what was (re)computed, for the terminal
    seconds: float = 0.0
    index: SiteIndex | None = None
    picks: dict[str, list] = field(default_factory=dict)
    linked: dict[tuple[str, str], LinkedDocument] = field(default_factory=dict)  # the link stage's facts

    @property
    def ok(self) -> bool:
        return self.files is not None


@dataclass(frozen=True)
class _DocFacts:
    """Cheap facts about a parsed document that decide its link-stage inputs."""

    words: frozenset[str]  # case-folded words of its text: which glossary terms could occur
    refs: tuple[str, ...]  # slugs it cross-references or lists in related blocks


def _doc_facts(doc: Document) -> _DocFacts:
    words: set[str] = set()
    refs: set[str] = set()
    in_related = False
    for tok in doc.tokens:
        if tok.type.startswith("container_related"):
            in_related = tok.type.endswith("_open")
        if tok.type != "inline":
            continue
        words.update(_WORD.findall(tok.content.casefold()))
        if in_related:
            refs.update(s.strip() for s in tok.content.split("\n") if s.strip())
        for c in tok.children or ():
            if c.type == "xref":
                refs.add(c.meta["slug"])
    return _DocFacts(frozenset(words), tuple(sorted(refs)))


class Builder:
    """Builds a site; kept alive, it remembers stage results and rebuilds incrementally."""

    def __init__(self, site: str, drafts: bool = False, strict: bool = False, base_url: str | None = None):
        self.site = os.path.abspath(site)
        self.drafts = drafts
        self.strict = strict
        self.base_url = base_url
        self._parsed: dict[str, tuple[Document, _DocFacts]] = {}
        self._linked: dict[str, LinkedDocument] = {}
        self._rendered: dict[str, bytes] = {}
        self._matcher: tuple[str, Any] | None = None
        self._env: tuple[str, Any] | None = None
        self._statics: dict[str, tuple[str, bytes]] = {}

    # -- the stages, top to bottom --------------------------------------

    def run(self) -> BuildResult:
        started = time.perf_counter()
        counts = {"parsed": 0, "linked": 0, "rendered": 0}
        config, diags = load_config(self.site)
        if self.base_url:
            config = config.with_base_url(self.base_url)
        found = discover(self.site)
        diags += found.diagnostics
        parsed = self.parse_all(found.sources, config, counts)
        documents = [doc for doc, _ in parsed]
        for doc in documents:
            diags += doc.diagnostics
        index, more = build_index(documents, config.root, self.drafts)
        diags += more
        matcher = self.glossary_matcher(index)
        linked = self.link_all(parsed, index, matcher, config, counts)
        for doc in linked.values():
            diags += doc.diagnostics
        diags += unmentioned(index.entries.values(),
                             {e for (kind, _), d in linked.items() if kind == ARTICLE for e in d.entities})
        backlinks = build_backlinks(linked, index)
        picker = RelatedPicker(index, linked)
        picks = {}
        for a in sorted(index.articles.values(), key=lambda a: a.slug):
            picks[a.slug], more = picker.related(a, config.related_count)
            diags += more
        assets = theme_assets()
        assembler = Assembler(config, index, assets)
        pages = assembler.pages(linked, backlinks, picks)
        if self.strict:
            diags = make_strict(diags)
        diags = sort_diagnostics(diags)
        if has_errors(diags):
            return BuildResult(diags, None, counts, time.perf_counter() - started, index, picks, linked)
        files, render_diags = self.render_all(pages, assembler.site, counts)
        if render_diags:
            diags = sort_diagnostics(diags + render_diags)
            return BuildResult(diags, None, counts, time.perf_counter() - started, index, picks, linked)
        for a in assets.values():
            files[a.out_path] = a.data
        for s in found.statics:
            files.setdefault(s.out_path, self._static(s.abspath, s.digest))
        return BuildResult(diags, files, counts, time.perf_counter() - started, index, picks, linked)

    # -- per-file maps, memoised ----------------------------------------

    def parse_all(self, sources: Iterable[SourceFile], config: SiteConfig,
                  counts: dict[str, int]) -> list[tuple[Document, _DocFacts]]:
        out = []
        fresh = {}
        for source in sources:
            key = _hash(SCHEMA, __version__, source.path, source.kind, source.digest, config.slice_digest("parse"))
            hit = self._parsed.get(key)
            if hit is None:
                doc = parse(source, config)
                hit = (doc, _doc_facts(doc))
                counts["parsed"] += 1
            fresh[key] = hit
            out.append(hit)
        self._parsed = fresh
        return out

    def glossary_matcher(self, index: SiteIndex) -> Any:
        key = _hash(*(f"{e.slug}|{e.type}|{[t.value for t in e.terms]}" for e in
                      sorted(index.entries.values(), key=lambda e: e.slug)))
        if self._matcher is None or self._matcher[0] != key:
            from site_builder.glossary import Matcher  # spaCy is imported only when linking is needed

            self._matcher = (key, Matcher(index.entries.values()))
        return self._matcher[1]

    def _link_key(self, doc: Document, facts: _DocFacts, index: SiteIndex, probes: dict[str, list[EntryHeader]],
                  config: SiteConfig) -> str:
        """Exactly what linking this document reads: its tokens, the entries whose terms
        could occur in it, the headers it cross-references, and the link settings."""
        entries = set()
        for w in facts.words:
            for e in probes.get(w, ()):
                entries.add(f"{e.slug}|{e.type}|{[t.value for t in e.terms]}")
        refs = []
        missing = False
        for slug in facts.refs:
            h = index.resolve(slug)
            if h is None:
                missing = True
                refs.append(f"{slug}:draft" if slug in index.drafts else f"{slug}:missing")
            elif isinstance(h, ArticleHeader):
                refs.append(f"{slug}:a:{h.title}|{h.summary}|{h.date}")
            else:
                refs.append(f"{slug}:e:{h.title}|{h.summary}")
        all_slugs = index.all_slugs() if missing else ()
        return _hash(SCHEMA, doc.source.path, doc.source.digest, config.slice_digest("parse"),
                     config.slice_digest("link"), sorted(entries), refs, all_slugs, doc.header)

    def link_all(self, parsed: list[tuple[Document, _DocFacts]], index: SiteIndex, matcher: Any,
                 config: SiteConfig, counts: dict[str, int]) -> dict[tuple[str, str], LinkedDocument]:
        from site_builder.link import link

        probes: dict[str, list[EntryHeader]] = {}
        for e in index.entries.values():
            for t in e.terms:
                first = _WORD.findall(t.value.casefold())
                if first:
                    probes.setdefault(first[0], []).append(e)
        out: dict[tuple[str, str], LinkedDocument] = {}
        fresh = {}
        for doc, facts in parsed:
            h = doc.header
            if h is None:
                continue
            if isinstance(h, ArticleHeader) and h.slug not in index.articles:
                continue  # a draft left out, or a duplicate slug
            if isinstance(h, EntryHeader) and index.entries.get(h.slug) is not h:
                continue
            key = self._link_key(doc, facts, index, probes, config)
            hit = self._linked.get(key)
            if hit is None:
                hit = link(doc, index, matcher, config.link == "all", config.allow_html)
                counts["linked"] += 1
            fresh[key] = hit
            out[(h.kind, h.slug)] = hit
        self._linked = fresh
        return out

    def render_all(self, pages: list, site_ctx: dict[str, Any], counts: dict[str, int]
                   ) -> tuple[dict[str, bytes], list[Diagnostic]]:
        tkey = template_digest(self.site)
        if self._env is None or self._env[0] != tkey:
            self._env = (tkey, environment(self.site))
            self._rendered = {}
        env = self._env[1]
        site_key = json.dumps(site_ctx, sort_keys=True, default=str)
        files: dict[str, bytes] = {}
        problems: list[Diagnostic] = []
        fresh = {}
        for page in pages:
            key = _hash(page.out_path, page.template, site_key,
                        json.dumps(page.context, sort_keys=True, default=str))
            data = self._rendered.get(key)
            if data is None:
                data, problem = render_page(env, page, site_ctx)
                counts["rendered"] += 1
                if problem is not None:
                    problems.append(problem)
                    continue
            fresh[key] = data
            files[page.out_path] = data
        self._rendered = fresh
        return files, problems

    def _static(self, abspath: str, digest: str) -> bytes:
        hit = self._statics.get(abspath)
        if hit is None or hit[0] != digest:
            with open(abspath, "rb") as fh:
                hit = (digest, fh.read())
            self._statics[abspath] = hit
        return hit[1]


def build(site: str, out: str | None = None, drafts: bool = False, strict: bool = False
          ) -> tuple[BuildResult, WriteStats | None]:
    """Build and, when there are no errors, swap the new tree into ``out``."""
    out = out or os.path.join(site, "public")
    check_out_dir(site, out)
    result = Builder(site, drafts=drafts, strict=strict).run()
    if not result.ok:
        return result, None
    return result, write_tree(out, result.files)
