"""The orchestrator: one readable ``Builder.run()`` listing the stages top to bottom.

Per-file stages (read, link, render) are maps memoised by a hash of exactly what they
read, in memory (a Builder kept alive by the dev server) and on disk (``cache.py``);
their misses can run in a process pool. Whole-site steps (index, backlinks, related
reading, page assembly) are reduces over small headers. Every result, cached or not,
parallel or not, is the same bytes as a clean serial build's.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import multiprocessing
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from site_builder import __version__
from site_builder.cache import DiskCache
from site_builder.config import SiteConfig, load_config
from site_builder.discover import discover
from site_builder.errors import Diagnostic, has_errors, sort_diagnostics, strict as make_strict
from site_builder.index import SiteIndex, build_index, unmentioned
from site_builder.model import ARTICLE, ArticleHeader, Document, EntryHeader, LinkedDocument, Page, SourceFile
from site_builder.parse import parse
from site_builder.related import Backlinks, RelatedPicker, build_backlinks
from site_builder.render import Assembler, environment, render_page, template_digest, theme_assets
from site_builder.write import Previous, WriteStats, check_out_dir, file_digest, write_tree

_WORD = re.compile(r"\w+")
_XREF = re.compile(r"\[\[([^\[\]\n|]*)")
_RELATED_BLOCK = re.compile(r"^:::\s*related\s*\n(.*?)^:::\s*$", re.M | re.S)
PARALLEL_MIN = 24  # fewer misses than this are not worth a process pool


def _hash(*parts: Any) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(str(p).encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


@dataclass
class BuildResult:
    diagnostics: list[Diagnostic]
    files: dict[str, bytes | Previous] | None  # None when the build failed
    counts: dict[str, int] = field(default_factory=dict)  # what was (re)computed, for the terminal
    seconds: float = 0.0
    index: SiteIndex | None = None
    picks: dict[str, list] = field(default_factory=dict)
    linked: dict[tuple[str, str], LinkedDocument] = field(default_factory=dict)  # the link stage's facts

    @property
    def ok(self) -> bool:
        return self.files is not None


@dataclass(frozen=True)
class _Facts:
    """Cheap facts about a document's body that decide its link-stage inputs."""

    words: frozenset[str]  # case-folded words: which glossary terms could occur in it
    refs: tuple[str, ...]  # slugs it may cross-reference or list in related blocks


def _facts(doc: Document) -> _Facts:
    refs = {m.strip() for m in _XREF.findall(doc.body)}
    for block in _RELATED_BLOCK.findall(doc.body):
        refs.update(line.strip() for line in block.split("\n") if line.strip())
    return _Facts(frozenset(_WORD.findall(doc.body.casefold())), tuple(sorted(refs)))


@dataclass(frozen=True)
class _Read:
    doc: Document
    facts: _Facts
    digest: str  # of the header: what other pages show of this one


# -- process-pool workers (state inherited through fork, built once per worker) ------

_WORKER: dict[str, Any] = {}


def _link_in_worker(doc: Document) -> LinkedDocument:
    from site_builder.link import link

    w = _WORKER
    return link(doc, w["index"], w["matcher"], w["link_all"], w["allow_html"])


def _render_in_worker(job: tuple[str, str, dict[str, Any]]) -> tuple[str, bytes | None, Diagnostic | None]:
    out_path, template, context = job
    if "env" not in _WORKER:
        _WORKER["env"] = environment(_WORKER["site"])
    data, problem = render_page(_WORKER["env"], template, context, _WORKER["site_ctx"])
    return out_path, data, problem


def _pool_map(fn: Any, items: list[Any], jobs: int, state: dict[str, Any]) -> list[Any]:
    _WORKER.clear()
    _WORKER.update(state)
    ctx = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        chunk = max(1, min(64, len(items) // (jobs * 8) or 1))
        return list(pool.map(fn, items, chunksize=chunk))


class Builder:
    """Builds a site; kept alive, it remembers stage results and rebuilds incrementally."""

    def __init__(self, site: str, drafts: bool = False, strict: bool = False, base_url: str | None = None,
                 jobs: int = 1, cache: bool = False, out: str | None = None):
        self.site = os.path.abspath(site)
        self.drafts = drafts
        self.strict = strict
        self.base_url = base_url
        self.jobs = max(1, jobs)
        self.out = os.path.abspath(out) if out else None
        self.disk = DiskCache(self.site, enabled=cache)
        self._loaded = False
        self._read: dict[str, _Read] = {}
        self._link_fast: dict[str, str] = {}  # fast key -> slice key
        self._linked: dict[str, LinkedDocument] = {}  # slice key -> result
        self._pages: dict[str, str] = {}  # page fingerprint -> digest of its bytes
        self._bytes: dict[str, bytes] = {}  # page fingerprint -> bytes (in memory only)
        self._reduce: dict[str, Any] = {}  # backlinks and related picks, by their inputs' hash
        self._manifest: dict[str, tuple[str, int, int]] = {}  # out file -> (digest, size, mtime_ns)
        self._matcher: tuple[str, Any] | None = None
        self._env: tuple[str, Any] | None = None
        self._statics: dict[str, tuple[str, bytes]] = {}
        self._stamps: dict[tuple, str] = {}  # file stamp -> digest, for a resident builder

    # -- the stages, top to bottom --------------------------------------

    def run(self) -> BuildResult:
        started = time.perf_counter()
        counts = {"read": 0, "linked": 0, "rendered": 0}
        self._load_disk_cache()
        config, diags = load_config(self.site)
        if self.base_url:
            config = config.with_base_url(self.base_url)
        found = discover(self.site, self._stamps)
        current = {s.abspath for s in found.sources} | {s.abspath for s in found.statics}
        self._stamps = {k: v for k, v in self._stamps.items() if k[0] in current}
        diags += found.diagnostics
        read = self.read_all(found.sources, config, counts)
        for r in read:
            diags += r.doc.diagnostics
        index, more = build_index((r.doc for r in read), config.root, self.drafts)
        diags += more
        linked, body_keys = self.link_all(read, index, config, counts)
        for doc in linked.values():
            diags += doc.diagnostics
        backlinks, picks, more = self.relate(index, linked, body_keys, read, config)
        diags += more
        diags += unmentioned(index.entries.values(),
                             {e for (kind, _), d in linked.items() if kind == ARTICLE for e in d.entities})
        assets = theme_assets()
        assembler = Assembler(config, index, assets)
        digests = {r.doc.header.slug: r.digest for r in read if r.doc.header is not None}
        pages = assembler.pages(linked, backlinks, picks, digests, body_keys)
        if self.strict:
            diags = make_strict(diags)
        files = None
        if not has_errors(diags):
            files, problems = self.render_all(pages, assembler.site, counts)
            diags += problems
            if problems:
                files = None
        diags = sort_diagnostics(diags)
        if files is not None:
            for a in assets.values():
                files[a.out_path] = a.data
            for s in found.statics:
                files.setdefault(s.out_path, self._previous(s.out_path, s.digest) or self._static(s.abspath, s.digest))
        return BuildResult(diags, files, counts, time.perf_counter() - started, index, picks, linked)

    # -- per-file maps, memoised ----------------------------------------

    def read_all(self, sources: Iterable[SourceFile], config: SiteConfig, counts: dict[str, int]) -> list[_Read]:
        out = []
        fresh = {}
        parse_slice = config.slice_digest("parse")
        for source in sources:
            key = _hash("read", __version__, source.path, source.kind, source.digest, parse_slice)
            hit = self._read.get(key)
            if hit is None:
                doc = parse(source, config)
                hit = _Read(doc, _facts(doc), _hash(repr(doc.header)))
                counts["read"] += 1
            fresh[key] = hit
            out.append(hit)
        self._read = fresh
        return out

    def glossary_matcher(self, index: SiteIndex, glossary_key: str) -> Any:
        if self._matcher is None or self._matcher[0] != glossary_key:
            from site_builder.glossary import Matcher  # spaCy is imported only when something needs linking

            self._matcher = (glossary_key, Matcher(index.entries.values()))
        return self._matcher[1]

    def link_all(self, read: list[_Read], index: SiteIndex, config: SiteConfig, counts: dict[str, int]
                 ) -> tuple[dict[tuple[str, str], LinkedDocument], dict[tuple[str, str], str]]:
        signatures = {e.slug: f"{e.slug}|{e.type}|{[t.value for t in e.terms]}" for e in index.entries.values()}
        glossary_key = _hash(*(signatures[s] for s in sorted(signatures)))
        link_slice = config.slice_digest("link")
        probes: dict[str, list[str]] | None = None
        todo: dict[str, Document] = {}  # slice key -> document to link
        keys: dict[tuple[str, str], str] = {}
        fast_fresh: dict[str, str] = {}
        for r in read:
            h = r.doc.header
            if h is None:
                continue
            if isinstance(h, ArticleHeader) and index.articles.get(h.slug) is not h:
                continue  # a draft left out, or a duplicate slug
            if isinstance(h, EntryHeader) and index.entries.get(h.slug) is not h:
                continue
            refs = self._ref_state(r.facts, index)
            fast = _hash("link-fast", r.doc.source.digest, r.digest, glossary_key, link_slice, refs)
            slice_key = self._link_fast.get(fast)
            if slice_key is None:
                if probes is None:
                    probes = _probes(index)
                entries = sorted({s for w in r.facts.words for s in probes.get(w, ())})
                slice_key = _hash("link", __version__, r.doc.source.path, r.doc.source.digest, r.digest,
                                  config.slice_digest("parse"), link_slice, [signatures[s] for s in entries], refs)
            fast_fresh[fast] = slice_key
            keys[(h.kind, h.slug)] = slice_key
            if slice_key not in self._linked:
                todo[slice_key] = r.doc
        if todo:
            matcher = self.glossary_matcher(index, glossary_key)
            items = sorted(todo.items())
            if self.jobs > 1 and len(items) >= PARALLEL_MIN:
                state = {"index": index, "matcher": matcher, "link_all": config.link == "all",
                         "allow_html": config.allow_html}
                results = _pool_map(_link_in_worker, [d for _, d in items], self.jobs, state)
            else:
                from site_builder.link import link

                results = [link(d, index, matcher, config.link == "all", config.allow_html) for _, d in items]
            for (k, _), res in zip(items, results):
                self._linked[k] = res
            counts["linked"] += len(items)
        self._link_fast = fast_fresh
        self._linked = {k: self._linked[k] for k in set(keys.values())}
        return {kk: self._linked[k] for kk, k in keys.items()}, keys

    @staticmethod
    def _ref_state(facts: _Facts, index: SiteIndex) -> str:
        """What this document's cross-references show of their targets."""
        if not facts.refs:
            return ""
        parts = []
        missing = False
        for slug in facts.refs:
            h = index.resolve(slug)
            if h is None:
                missing = True
                parts.append(f"{slug}:{'draft' if slug in index.drafts else 'missing'}")
            elif isinstance(h, ArticleHeader):
                parts.append(f"{slug}:a:{h.title}|{h.summary}|{h.date}")
            else:
                parts.append(f"{slug}:e:{h.title}|{h.summary}")
        if missing:  # "did you mean" hints depend on every slug
            parts.append(_hash(*index.all_slugs()))
        return _hash(*parts)

    # -- reduces ------------------------------------------------------------

    def relate(self, index: SiteIndex, linked: dict[tuple[str, str], LinkedDocument],
               body_keys: dict[tuple[str, str], str], read: list[_Read], config: SiteConfig
               ) -> tuple[Backlinks, dict[str, list], list[Diagnostic]]:
        """Backlinks (recomputed when a body changed) and related reading (recomputed only
        when an article's entities, tags, date or related list changed)."""
        back_key = _hash("backlinks", __version__, *(f"{k}={v}" for k, v in sorted(body_keys.items())),
                         *sorted(r.digest for r in read))
        backlinks = self._reduce.get(back_key)
        if backlinks is None:
            backlinks = build_backlinks(linked, index)
        inputs = [f"{a.slug}|{a.date}|{a.tags}|{[x.value for x in a.related]}|"
                  f"{linked[(ARTICLE, a.slug)].entities}" for a in sorted(index.articles.values(), key=lambda a: a.slug)]
        picks_key = _hash("related", __version__, config.related_count, *inputs, *index.all_slugs(), *index.drafts)
        hit = self._reduce.get(picks_key)
        if hit is None:
            picker = RelatedPicker(index, linked)
            picks: dict[str, list] = {}
            diags: list[Diagnostic] = []
            for a in sorted(index.articles.values(), key=lambda a: a.slug):
                picks[a.slug], more = picker.related(a, config.related_count)
                diags += more
            hit = (picks, diags)
        # picks hold headers: refresh them so that retitled articles show their new titles
        picks = {slug: [_fresh(p, index) for p in ps] for slug, ps in hit[0].items()}
        self._reduce = {back_key: backlinks, picks_key: hit}
        return backlinks, picks, hit[1]

    # -- render ------------------------------------------------------------

    def render_all(self, pages: list[Page], site_ctx: dict[str, Any], counts: dict[str, int]
                   ) -> tuple[dict[str, bytes | Previous], list[Diagnostic]]:
        tkey = template_digest(self.site)
        if self._env is None or self._env[0] != tkey:
            self._env = (tkey, environment(self.site))
        env = self._env[1]
        site_key = _hash(repr(sorted(site_ctx.items())))
        files: dict[str, bytes | Previous] = {}
        problems: list[Diagnostic] = []
        fresh_pages: dict[str, str] = {}
        fresh_bytes: dict[str, bytes] = {}
        todo: list[tuple[str, Page]] = []
        for page in pages:
            fp = _hash("page", __version__, tkey, site_key, page.out_path, page.template, *page.deps)
            data = self._bytes.get(fp)
            if data is not None:
                files[page.out_path] = data
                fresh_bytes[fp] = data
                fresh_pages[fp] = self._pages.get(fp) or file_digest(data)
                continue
            digest = self._pages.get(fp)
            previous = self._previous(page.out_path, digest) if digest else None
            if previous is not None:
                files[page.out_path] = previous
                fresh_pages[fp] = digest
                continue
            todo.append((fp, page))
        if todo:
            jobs = [(p.out_path, p.template, p.make()) for _, p in todo]
            if self.jobs > 1 and len(jobs) >= PARALLEL_MIN:
                state = {"site": self.site, "site_ctx": site_ctx}
                results = _pool_map(_render_in_worker, jobs, self.jobs, state)
            else:
                results = [(o, *render_page(env, t, c, site_ctx)) for o, t, c in jobs]
            for (fp, page), (_, data, problem) in zip(todo, results):
                if problem is not None:
                    problems.append(problem)
                    continue
                files[page.out_path] = data
                fresh_bytes[fp] = data
                fresh_pages[fp] = file_digest(data)
            counts["rendered"] += len(todo)
        self._pages = fresh_pages
        self._bytes = fresh_bytes
        return files, problems

    def _previous(self, out_path: str, digest: str | None) -> Previous | None:
        """The previous output file, when the last build wrote exactly these bytes there
        and nobody has touched it since."""
        if self.out is None or digest is None:
            return None
        known = self._manifest.get(out_path)
        if known is None or known[0] != digest:
            return None
        try:
            st = os.stat(os.path.join(self.out, *out_path.split("/")))
        except OSError:
            return None
        if (st.st_size, st.st_mtime_ns) != known[1:]:
            return None
        return Previous(digest)

    def _static(self, abspath: str, digest: str) -> bytes:
        hit = self._statics.get(abspath)
        if hit is None or hit[0] != digest:
            with open(abspath, "rb") as fh:
                hit = (digest, fh.read())
            self._statics[abspath] = hit
        return hit[1]

    # -- the on-disk cache ---------------------------------------------

    def _manifest_name(self) -> str:
        return "manifest-" + _hash(self.out or "")[:16]

    def _load_disk_cache(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        self._read = self.disk.load("read")
        self._link_fast = self.disk.load("link-keys")
        self._linked = self.disk.load("link")
        self._pages = self.disk.load("pages")
        self._reduce = self.disk.load("relate")
        if self.out:
            self._manifest = self.disk.load(self._manifest_name())

    def save_disk_cache(self, written: dict[str, tuple[str, int, int]] | None = None) -> None:
        """Keep this run's results for the next process (after a successful write)."""
        if written is not None:
            self._manifest = written
        self.disk.save("read", self._read)
        self.disk.save("link-keys", self._link_fast)
        self.disk.save("link", self._linked)
        self.disk.save("pages", self._pages)
        self.disk.save("relate", self._reduce)
        if self.out:
            self.disk.save(self._manifest_name(), self._manifest)


def _fresh(pick: Any, index: SiteIndex) -> Any:
    header = index.header(pick.header.slug)
    if header is None or header is pick.header:
        return pick
    return dataclasses.replace(pick, header=header)


def _probes(index: SiteIndex) -> dict[str, list[str]]:
    """First word of every term (case-folded) -> entries: which entries a text could mention."""
    probes: dict[str, list[str]] = {}
    for e in index.entries.values():
        for t in e.terms:
            words = _WORD.findall(t.value.casefold())
            if words:
                probes.setdefault(words[0], []).append(e.slug)
    return probes


def build(site: str, out: str | None = None, drafts: bool = False, strict: bool = False,
          jobs: int = 1, cache: bool = True) -> tuple[BuildResult, WriteStats | None]:
    """Build and, when there are no errors, swap the new tree into ``out``."""
    out = out or os.path.join(site, "public")
    check_out_dir(site, out)
    builder = Builder(site, drafts=drafts, strict=strict, jobs=jobs, cache=cache, out=out)
    result = builder.run()
    if not result.ok:
        return result, None
    stats = write_tree(out, result.files)
    builder.save_disk_cache(stats.manifest)
    return result, stats
