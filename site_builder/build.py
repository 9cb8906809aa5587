"""The orchestrator: one readable ``Builder.run()`` listing the stages top to bottom.

Per-file stages (read, link, render) are maps memoised by a hash of exactly what they
read, in memory (a Builder kept alive by the dev server) and on disk (``cache.py``);
their misses can run in a process pool. Whole-site steps (index, backlinks, related
reading, page assembly) are reduces over small headers. Every result, cached or not,
parallel or not, is the same bytes as a clean serial build's.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import gc
import hashlib
import multiprocessing
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from site_builder import __version__
from site_builder.cache import DiskCache
from site_builder.config import SiteConfig, load_config
from site_builder.discover import discover
from site_builder.errors import Diagnostic, error, has_errors, sort_diagnostics, strict as make_strict
from site_builder.index import SiteIndex, build_index, unmentioned
from site_builder.model import (
    ARTICLE,
    ArticleHeader,
    CrossRef,
    Document,
    EntryHeader,
    LinkedDocument,
    Page,
    SourceFile,
)
from site_builder.parse import parse
from site_builder.related import Backlink, Backlinks, RelatedPicker, build_backlinks, signature as _signature
from site_builder.render import Assembler, environment, render_page, template_digest, theme_assets
from site_builder.write import (MARKER, MARKER_BYTES, Previous, Spooled, WriteFailed, WriteStats, check_out_dir,
                                existing_files, file_digest, spool, spool_dir, write_tree)

_WORD = re.compile(r"\w+")
_XREF = re.compile(r"\[\[([^\[\]\n|]*)")
_RELATED_OPEN = re.compile(r"^:::\s*related\s*$")
_FENCE_CLOSE = re.compile(r"^:::\s*$")
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

    refs: tuple[str, ...]  # slugs it may cross-reference or list in related blocks


def _facts(doc: Document) -> _Facts:
    refs = {m.strip() for m in _XREF.findall(doc.body)}
    inside = False
    for line in doc.body.split("\n"):  # related blocks, in one pass (a regex was quadratic here)
        stripped = line.strip()
        if not inside:
            inside = _RELATED_OPEN.match(line) is not None
        elif _FENCE_CLOSE.match(line):
            inside = False
        elif stripped:
            refs.add(stripped)
    return _Facts(tuple(sorted(refs)))


def _words(doc: Document) -> frozenset[str]:
    """Case-folded words of a body: which glossary terms could occur in it (computed when
    needed rather than kept: a set per document is most of a large site's memory)."""
    return frozenset(_WORD.findall(doc.body.casefold()))


@dataclass(frozen=True)
class _Read:
    doc: Document
    facts: _Facts
    digest: str  # of the header: what other pages show of this one


@dataclass
class _Snapshot:
    """What the last successful full or fast run saw and made: the fast path's baseline."""

    config: SiteConfig
    config_diags: list[Diagnostic]
    found_diags: list[Diagnostic]
    tkey: str
    sources: dict[str, SourceFile]
    read: dict[str, _Read]
    index: SiteIndex
    linked: dict[tuple[str, str], LinkedDocument]
    body_keys: dict[tuple[str, str], str]
    backlinks: Backlinks
    picks: dict[str, list]
    other: list[Diagnostic]  # diagnostics not tied to one document (config, discovery, index, related)
    doc_diags: dict[str, list[Diagnostic]]  # per source path: read and link diagnostics
    assembler: Assembler
    digests: dict[str, str]
    files: dict[str, Any]
    articles: str  # digest of every article header
    statics: dict[str, str]  # static file -> digest


# -- process-pool workers (state inherited through fork, built once per worker) ------

_WORKER: dict[str, Any] = {}


def _link_in_worker(i: int) -> LinkedDocument:
    from site_builder.link import link

    w = _WORKER
    return link(w["docs"][i], w["index"], w["matcher"], w["link_all"], w["allow_html"])


def _key_and_link_in_worker(i: int) -> tuple[str, LinkedDocument]:
    from site_builder.link import link

    w = _WORKER
    r = w["reads"][i]
    slice_key = w["builder"]._slice_key(r, w["index"], w["config"], w["context"], w["probes"])
    return slice_key, link(r.doc, w["index"], w["matcher"], w["link_all"], w["allow_html"])


def _slice_key_in_worker(i: int) -> str:
    w = _WORKER
    return w["builder"]._slice_key(w["reads"][i], w["index"], w["config"], w["context"], w["probes"])


def _render_in_worker(i: int) -> tuple[bytes | Spooled | Previous | None, Diagnostic | None]:
    if "env" not in _WORKER:
        _WORKER["env"] = environment(_WORKER["site"])
    page = _WORKER["pages"][i]
    data, problem = render_page(_WORKER["env"], page.template, page.make(), _WORKER["site_ctx"])
    if data is not None and _WORKER["spool"]:
        try:
            return spool(_WORKER["spool"], _WORKER["out"], page.out_path, i, data), problem  # bytes stay out of the parent
        except OSError:
            pass  # no room or no permission beside the output: the bytes go to the parent, and writing reports it
    return data, problem


def _link_server(conn: Any) -> None:
    """The body of a _LinkHelper process: import spaCy, then link what it is sent."""
    _die_with_parent()
    try:
        from site_builder.glossary import Matcher  # the slow import, at once
        from site_builder.link import link
    except Exception:  # noqa: BLE001 - the build then links by itself
        return
    matcher: tuple[str, Any] | None = None
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        try:
            if msg[0] == "entries":
                matcher = (msg[1], Matcher(msg[2]))
                continue
            _, key, index, docs, link_all, allow_html = msg
            if matcher is None or matcher[0] != key:
                matcher = (key, Matcher(index.entries.values()))
            conn.send(("ok", [link(d, index, matcher[1], link_all, allow_html) for d in docs]))
        except Exception as exc:  # noqa: BLE001 - reported; the build then links by itself
            matcher = None
            if msg[0] != "entries":
                conn.send(("error", repr(exc)))


class _LinkHelper:
    """A warm one-shot build usually links one or two edited files, and importing spaCy
    for them costs more than the rest of the build. This helper process starts importing
    it on the other core at the top of the build, while this process loads the cache and
    reads the site; then it links those few files. Anything unexpected (a crash, an error)
    makes the build link them itself."""

    PATIENCE = 120.0  # seconds; a helper that takes longer is given up (and killed)

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_link_server, args=(child,), daemon=True)
        self.proc.start()
        child.close()

    def prepare(self, key: str, entries: Iterable[EntryHeader]) -> None:
        """Build the matcher now, while the build computes its link keys."""
        try:
            self.conn.send(("entries", key, list(entries)))
        except OSError:
            pass

    def link(self, key: str, index: SiteIndex, docs: list[Document], link_all: bool, allow_html: bool,
             meanwhile: Any = None) -> list[LinkedDocument] | None:
        """The linked documents (None if the helper failed); ``meanwhile()`` runs while it works."""
        try:
            self.conn.send(("link", key, index, docs, link_all, allow_html))
        except OSError:
            return None
        if meanwhile is not None:
            meanwhile()
        try:
            if not self.conn.poll(self.PATIENCE):
                return None
            status, payload = self.conn.recv()
        except (OSError, EOFError):
            return None
        return payload if status == "ok" else None

    def close(self) -> None:
        self.proc.kill()
        self.proc.join()
        self.conn.close()


def _die_with_parent() -> None:
    """A worker stops when the build that started it is killed (Linux), instead of
    computing on as an orphan."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _pool_map(fn: Any, count: int, jobs: int, state: dict[str, Any]) -> list[Any]:
    """``fn(0) … fn(count - 1)`` in ``jobs`` forked workers, results in order. The
    workers inherit ``state`` (documents, pages, the matcher) through fork, so only
    indices travel to them and only results travel back."""
    _WORKER.clear()
    _WORKER.update(state)
    ctx = multiprocessing.get_context("fork")
    chunk = max(1, min(32, count // (jobs * 8) or 1))
    try:
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx,
                                                    initializer=_die_with_parent) as pool:
            return list(pool.map(fn, range(count), chunksize=chunk))
    finally:
        _WORKER.clear()


class Builder:
    """Builds a site; kept alive, it remembers stage results and rebuilds incrementally."""

    def __init__(self, site: str, drafts: bool = False, strict: bool = False, base_url: str | None = None,
                 jobs: int = 1, cache: bool = False, out: str | None = None, one_shot: bool = False):
        self.site = os.path.abspath(site)
        # A one-shot build into ``out`` (the CLI's) may leave rendered pages in files beside
        # it for write_tree to move into place, instead of holding them all in memory, and
        # may link a warm build's few edited files in a _LinkHelper.
        self.one_shot = one_shot
        self.spool = spool_dir(out) if one_shot and out else None
        self._helper: _LinkHelper | None = None
        self.existing_out: set[str] | None = None  # the output's files, when read during the build
        self.drafts = drafts
        self.strict = strict
        self.base_url = base_url
        self.jobs = max(1, jobs)
        self.out = os.path.abspath(out) if out else None
        self.disk = DiskCache(self.site, enabled=cache)
        self._loaded = False
        self._saved_keys: dict[str, set] = {}
        self._read: dict[str, _Read] = {}
        self._link_fast: dict[str, str] = {}  # fast key -> slice key
        self._linked: dict[str, LinkedDocument] = {}  # slice key -> result
        self._contents: dict[str, str] = {}  # slice key -> hash of the result
        self._pages: dict[str, str] = {}  # page fingerprint -> digest of its bytes
        self._bytes: dict[str, bytes] = {}  # page fingerprint -> bytes (in memory only)
        self._reduce: dict[str, Any] = {}  # related picks, by their inputs' hash
        self._backlinks: tuple[str, Backlinks] | None = None
        self._manifest: dict[str, tuple[str, int, int]] = {}  # out file -> (digest, size, mtime_ns)
        self._matcher: tuple[str, Any] | None = None
        self._env: tuple[str, Any] | None = None
        self._statics: dict[str, tuple[str, bytes]] = {}
        self._stamps: dict[tuple, str] = {}  # file stamp -> digest, for a resident builder
        self.inputs_key = ""
        self.unchanged = False  # the last run found nothing to do
        self._last: _Snapshot | None = None

    # -- the stages, top to bottom --------------------------------------

    def run(self) -> BuildResult:
        with paused_gc():
            try:
                return self._run()
            finally:
                if self._helper is not None:
                    self._helper.close()
                    self._helper = None

    def _run(self) -> BuildResult:
        started = time.perf_counter()
        counts = {"read": 0, "linked": 0, "rendered": 0}
        if not self._loaded and self.disk.enabled:
            self._stamps = self.disk.load("stamps")
        config, config_diags = load_config(self.site)
        if self.base_url:
            config = config.with_base_url(self.base_url)
        found = discover(self.site, self._stamps)
        current = {s.abspath for s in found.sources} | {s.abspath for s in found.statics}
        self._stamps = {k: v for k, v in self._stamps.items() if k[0] in current}
        self.inputs_key = _hash("inputs", __version__, repr(config), self.drafts, self.strict, template_digest(self.site),
                                *(f"{x.path}|{x.kind}|{x.digest}" for x in found.sources),
                                *(f"{x.out_path}|{x.digest}" for x in found.statics),
                                *(d.format() for d in config_diags + list(found.diagnostics)))
        unchanged = self._unchanged(started, counts)
        if unchanged is not None:
            return unchanged
        if self.one_shot and self.jobs > 1 and "site_builder.glossary" not in sys.modules \
                and self.disk.exists("stamps"):
            self._helper = _LinkHelper()
        self._load_disk_cache()
        fast = self._fast_rebuild(config, config_diags, found, counts, started)
        if fast is not None:
            return fast
        self._last = None
        other: list[Diagnostic] = list(config_diags) + list(found.diagnostics)  # not tied to one document
        doc_diags: dict[str, list[Diagnostic]] = {}
        read = self.read_all(found.sources, config, counts)
        for r in read:
            doc_diags[r.doc.source.path] = list(r.doc.diagnostics)
        index, more = build_index((r.doc for r in read), config.root, self.drafts)
        if self._helper is not None:
            self._helper.prepare(self._link_context(index, config)[1], index.entries.values())
        other += more
        linked, body_keys = self.link_all(read, index, config, counts)
        paths = {(r.doc.header.kind, r.doc.header.slug): r.doc.source.path for r in read if r.doc.header is not None}
        for key, doc in linked.items():
            doc_diags[paths[key]] += doc.diagnostics
        backlinks, picks, more = self.relate(index, linked, body_keys, read, config)
        other += more
        other += unmentioned(index.entries.values(),
                             {e for (kind, _), d in linked.items() if kind == ARTICLE for e in d.entities})
        assets = theme_assets()
        assembler = Assembler(config, index, assets)
        digests = {r.doc.header.slug: r.digest for r in read if r.doc.header is not None}
        pages = assembler.pages(linked, backlinks, picks, digests, body_keys)
        planned = [p.out_path for p in pages] + [a.out_path for a in assets.values()]
        other += output_clashes(planned, found.statics)
        for path, ds in self._check_links(read, linked, index, planned + [x.out_path for x in found.statics],
                                          config).items():
            doc_diags[path] += ds
        diags = _final(other + [d for ds in doc_diags.values() for d in ds], self.strict, _unpublished(read, index))
        files = None
        if not has_errors(diags):
            files, problems = self.render_all(pages, assembler.site, counts)
            diags = sort_diagnostics(diags + problems)
            if problems:
                files = None
        if files is not None:
            for a in assets.values():
                files[a.out_path] = a.data
            self._add_statics(files, found)
            self._last = _Snapshot(
                config=config, config_diags=list(config_diags), found_diags=list(found.diagnostics),
                tkey=self._env[0] if self._env else "", sources={x.path: x for x in found.sources},
                read={r.doc.source.path: r for r in read}, index=index, linked=dict(linked),
                body_keys=dict(body_keys), backlinks=backlinks, picks=picks, other=other,
                doc_diags=doc_diags, assembler=assembler, digests=digests, files=dict(files),
                articles=assembler.all_articles_digest(digests),
                statics={x.out_path: x.digest for x in found.statics})
        return BuildResult(diags, files, counts, time.perf_counter() - started, index, picks, linked)

    def _unchanged(self, started: float, counts: dict[str, int]) -> BuildResult | None:
        """Nothing the site reads changed since the last build into this output folder,
        and that output is intact: the answer is the last build's, without loading the
        rest of the cache (or spaCy, or Jinja)."""
        if self._loaded or not self.disk.enabled or self.out is None:
            return None
        state = self.disk.load(self._manifest_name())
        if state.get("inputs") != self.inputs_key:
            return None
        manifest = state.get("files", {})
        if existing_files(self.out) != manifest.keys():  # a file added or removed by hand
            return None
        files: dict[str, bytes | Previous] = {}
        for rel, (digest, size, mtime) in manifest.items():
            try:
                st = os.stat(os.path.join(self.out, *rel.split("/")))
            except OSError:
                return None
            if (st.st_size, st.st_mtime_ns) != (size, mtime):
                return None
            files[rel] = Previous(digest)
        self.unchanged = True
        return BuildResult(list(state.get("diagnostics", [])), files, counts, time.perf_counter() - started)

    def _check_links(self, read: Iterable[_Read], linked: dict[tuple[str, str], LinkedDocument], index: SiteIndex,
                     planned: Iterable[str], config: SiteConfig) -> dict[str, list[Diagnostic]]:
        """Internal links and images written by editors must lead to a file of this build
        (``planned``: every output path, known before anything is rendered)."""
        files = set(planned)
        out: dict[str, list[Diagnostic]] = {}
        for r in read:
            h = r.doc.header
            if h is None or (h.kind, h.slug) not in linked:
                continue
            page = index.url(h.slug)
            links = list(linked[(h.kind, h.slug)].links)
            if isinstance(h, ArticleHeader) and h.image is not None:
                links.append(CrossRef(h.image.src, h.image.line, h.image.col))
            for link in links:
                target = _output_path(link.target, page, config.root)
                if target is None or target in files or f"{target}/index.html".lstrip("/") in files \
                        or (target.endswith("/") or target == "") and f"{target}index.html" in files:
                    continue
                out.setdefault(r.doc.source.path, []).append(error(
                    r.doc.source.path, link.line, link.col, "link.broken",
                    f"'{link.target}' leads to no page or file of this site",
                    "check the path; pages live at /articles/<slug>/ and /glossary/<slug>/, "
                    "files from content/ keep their path (content/images/a.png is /images/a.png)"))
        return out

    def _add_statics(self, files: dict[str, Any], found: Any) -> None:
        for x in found.statics:
            files.setdefault(x.out_path, self._previous(x.out_path, x.digest) or self._static(x.abspath, x.digest))

    # -- the incremental fast path -----------------------------------------

    def _fast_rebuild(self, config: SiteConfig, config_diags: list[Diagnostic], found: Any,
                      counts: dict[str, int], started: float) -> BuildResult | None:
        """A resident builder's answer to an edit that changes only bodies: re-read and
        re-link the edited files and re-render exactly the pages that show them. Returns
        None (the full path runs) for anything else: a new, deleted or renamed file, a
        changed header, template or setting, a changed set of mentioned entities or
        cross-references, a new error. Its output equals the full path's, byte for byte."""
        last = self._last
        if last is None or config != last.config or config_diags != last.config_diags \
                or list(found.diagnostics) != last.found_diags:
            return None
        sources = {x.path: x for x in found.sources}
        if sources.keys() != last.sources.keys() or \
                {x.out_path: x.digest for x in found.statics} != last.statics:
            return None
        changed = [p for p, x in sources.items() if x.digest != last.sources[p].digest or x.kind != last.sources[p].kind]
        if template_digest(self.site) != last.tkey:
            return None
        linked = dict(last.linked)
        body_keys = dict(last.body_keys)
        doc_diags = dict(last.doc_diags)
        mentioned_in = dict(last.backlinks.mentioned_in)
        touched_entries: set[str] = set()
        pages_to_render: list[Page] = []
        read_updates: dict[str, _Read] = {}
        relinked: list[tuple[tuple[str, str], _Read]] = []
        for path in changed:
            old = last.read[path]
            new = self._read_one(sources[path], config, counts)
            if new.doc.header is None or old.doc.header is None or new.digest != old.digest \
                    or new.facts.refs != old.facts.refs:
                return None
            read_updates[path] = new
            doc_diags[path] = list(new.doc.diagnostics)
            key = (new.doc.header.kind, new.doc.header.slug)
            if key in linked:
                relinked.append((key, new))
        if relinked:
            results = self._link_some([r for _, r in relinked], last.index, config, counts)
            for (key, r), (slice_key, doc) in zip(relinked, results):
                before = linked[key]
                if set(doc.entities) != set(before.entities) or \
                        sorted(x.target for x in doc.xrefs) != sorted(x.target for x in before.xrefs):
                    return None
                linked[key] = doc
                body_keys[key] = self._content_key(slice_key, doc)
                doc_diags[r.doc.source.path] += doc.diagnostics
                if key[0] == ARTICLE:
                    new_sentences = {m.entry: m.sentence for m in doc.mentions}
                    old_sentences = {m.entry: m.sentence for m in before.mentions}
                    for entry in doc.entities:
                        if new_sentences.get(entry, "") != old_sentences.get(entry, ""):
                            mentioned_in[entry] = tuple(
                                Backlink(b.source, new_sentences.get(entry, "")) if b.source.slug == key[1] else b
                                for b in mentioned_in[entry])
                            touched_entries.add(entry)
        diags = _final(last.other + [d for ds in doc_diags.values() for d in ds], self.strict,
                       _unpublished(last.read.values(), last.index))
        if has_errors(diags):
            return None
        backlinks = last.backlinks
        if touched_entries:
            backlinks = Backlinks(mentioned_in, last.backlinks.referenced_by,
                                  {**last.backlinks.signatures, **{e: _signature(mentioned_in[e]) for e in touched_entries}})
        assembler = last.assembler
        index = last.index
        newest = {a.slug for a in assembler.newest()}
        feed = False
        for key, _ in relinked:
            if key[0] == ARTICLE:
                pages_to_render.append(assembler.article_page(index.articles[key[1]], linked, backlinks, last.picks,
                                                              last.digests, body_keys))
                feed = feed or key[1] in newest
            else:
                touched_entries.add(key[1])
        for entry in sorted(touched_entries):
            pages_to_render.append(assembler.entry_page(index.entries[entry], linked, backlinks, last.digests,
                                                        body_keys, last.articles))
        if feed:
            pages_to_render.append(assembler.feed_page(assembler.newest(), linked, last.digests, body_keys))
        files = dict(last.files)
        rendered, problems = self.render_all(pages_to_render, assembler.site, counts, prune=False)
        if problems:
            return None
        files.update(rendered)
        changed_read = [read_updates[p] for p in changed]
        if self._check_links(changed_read, linked, index, files, config):
            return None  # the full path reports it
        last.files = dict(files)
        last.sources = sources
        last.read.update(read_updates)
        last.linked, last.body_keys, last.backlinks, last.doc_diags = linked, body_keys, backlinks, doc_diags
        return BuildResult(diags, files, counts, time.perf_counter() - started, index, last.picks, linked)

    # -- per-file maps, memoised ----------------------------------------

    def read_all(self, sources: Iterable[SourceFile], config: SiteConfig, counts: dict[str, int]) -> list[_Read]:
        out = []
        fresh = {}
        for source in sources:
            key = self._read_key(source, config)
            hit = self._read.get(key) or self._read_one(source, config, counts)
            fresh[key] = hit
            out.append(hit)
        self._read = fresh
        return out

    @staticmethod
    def _read_key(source: SourceFile, config: SiteConfig) -> str:
        return _hash("read", __version__, source.path, source.kind, source.digest, config.slice_digest("parse"))

    def _read_one(self, source: SourceFile, config: SiteConfig, counts: dict[str, int]) -> _Read:
        key = self._read_key(source, config)
        hit = self._read.get(key)
        if hit is None:
            doc = parse(source, config)
            hit = self._read[key] = _Read(doc, _facts(doc), _hash(repr(doc.header)))
            counts["read"] += 1
        return hit

    def glossary_matcher(self, index: SiteIndex, glossary_key: str) -> Any:
        if self._matcher is None or self._matcher[0] != glossary_key:
            from site_builder.glossary import Matcher  # spaCy is imported only when something needs linking

            self._matcher = (glossary_key, Matcher(index.entries.values()))
        return self._matcher[1]

    def _link_context(self, index: SiteIndex, config: SiteConfig) -> tuple[dict[str, str], str, str]:
        signatures = {e.slug: f"{e.slug}|{e.type}|{[t.value for t in e.terms]}" for e in index.entries.values()}
        glossary_key = _hash(*(signatures[s] for s in sorted(signatures)))
        return signatures, glossary_key, config.slice_digest("link")

    def _link_key(self, r: _Read, index: SiteIndex, config: SiteConfig, context: tuple[dict[str, str], str, str],
                  probes: list) -> tuple[str, str]:
        """(fast key, slice key): the fast key is cheap; the slice key names exactly what
        linking reads (the entries whose terms could occur in the text, the headers it
        cross-references, the link settings) and is computed only when the fast key is new."""
        fast = self._fast_key(r, index, context)
        return fast, self._link_fast.get(fast) or self._slice_key(r, index, config, context, probes)

    def _fast_key(self, r: _Read, index: SiteIndex, context: tuple[dict[str, str], str, str]) -> str:
        _, glossary_key, link_slice = context
        return _hash("link-fast", r.doc.source.digest, r.digest, glossary_key, link_slice,
                     self._ref_state(r.facts, index))

    def _slice_key(self, r: _Read, index: SiteIndex, config: SiteConfig, context: tuple[dict[str, str], str, str],
                   probes: list) -> str:
        signatures, _, link_slice = context
        if not probes:
            probes.append(_probes(index))
        words = _words(r.doc)
        entries = sorted({slug for w in words for need, slug in probes[0].get(w, ()) if need <= words})
        return _hash("link", __version__, r.doc.source.path, r.doc.source.digest, r.digest,
                     config.slice_digest("parse"), link_slice, [signatures[s] for s in entries],
                     self._ref_state(r.facts, index))

    def _link_some(self, read: list[_Read], index: SiteIndex, config: SiteConfig, counts: dict[str, int]
                   ) -> list[tuple[str, LinkedDocument]]:
        """Link a few documents against an unchanged index (the fast path)."""
        context = self._link_context(index, config)
        probes: list = []
        out = []
        for r in read:
            fast, slice_key = self._link_key(r, index, config, context, probes)
            self._link_fast[fast] = slice_key
            if slice_key not in self._linked:
                from site_builder.link import link

                matcher = self.glossary_matcher(index, context[1])
                self._linked[slice_key] = link(r.doc, index, matcher, config.link == "all", config.allow_html)
                counts["linked"] += 1
            out.append((slice_key, self._linked[slice_key]))
        return out

    def link_all(self, read: list[_Read], index: SiteIndex, config: SiteConfig, counts: dict[str, int]
                 ) -> tuple[dict[tuple[str, str], LinkedDocument], dict[tuple[str, str], str]]:
        context = self._link_context(index, config)
        probes: list = []
        todo: dict[str, _Read] = {}  # slice key -> document to link
        keys: dict[tuple[str, str], str] = {}
        fast_fresh: dict[str, str] = {}
        # A cold build that fills the cache: every document is linked anyway, so the pool's
        # workers compute the slice keys (the costly part of them) alongside, in parallel.
        # Until then a document goes by a provisional key.
        keyed_by_workers = not self._linked and self.jobs > 1 and self.disk.enabled and len(read) >= PARALLEL_MIN
        eligible: list[tuple[_Read, str, str | None]] = []  # (document, fast key, slice key if known)
        for r in read:
            h = r.doc.header
            if h is None:
                continue
            if isinstance(h, ArticleHeader) and index.articles.get(h.slug) is not h:
                continue  # a draft left out, or a duplicate slug
            if isinstance(h, EntryHeader) and index.entries.get(h.slug) is not h:
                continue
            fast = self._fast_key(r, index, context)
            if keyed_by_workers:
                eligible.append((r, fast, _hash("provisional", fast, r.doc.source.path)))
            elif self.one_shot and not self.disk.enabled:  # nothing outlives this build: no slice keys needed
                eligible.append((r, fast, _hash(fast, r.doc.source.path)))
            else:
                eligible.append((r, fast, self._link_fast.get(fast)))
        missing = [i for i, (_, _, k) in enumerate(eligible) if k is None]
        if missing:  # e.g. after a glossary edit: which texts could mention the changed entries?
            if self.jobs > 1 and len(missing) >= PARALLEL_MIN:
                probes.append(_probes(index))
                state = {"reads": [eligible[i][0] for i in missing], "index": index, "builder": self,
                         "config": config, "context": context, "probes": probes}
                found_keys = _pool_map(_slice_key_in_worker, len(missing), self.jobs, state)
            else:
                found_keys = [self._slice_key(eligible[i][0], index, config, context, probes) for i in missing]
            for i, k in zip(missing, found_keys):
                eligible[i] = (eligible[i][0], eligible[i][1], k)
        for r, fast, slice_key in eligible:
            fast_fresh[fast] = slice_key
            keys[(r.doc.header.kind, r.doc.header.slug)] = slice_key
            if slice_key not in self._linked:
                todo[slice_key] = r
        items = sorted(todo.items())
        if keyed_by_workers and items:
            probes.append(_probes(index))
            matcher = self.glossary_matcher(index, context[1])
            state = {"reads": [r for _, r in items], "index": index, "matcher": matcher, "builder": self,
                     "config": config, "context": context, "probes": probes,
                     "link_all": config.link == "all", "allow_html": config.allow_html}
            rekey: dict[str, str] = {}
            for (provisional, _), (slice_key, res) in zip(items, _pool_map(_key_and_link_in_worker, len(items),
                                                                          self.jobs, state)):
                rekey[provisional] = slice_key
                self._linked[slice_key] = res
            keys = {kk: rekey[k] for kk, k in keys.items()}
            fast_fresh = {f: rekey[k] for f, k in fast_fresh.items()}
            counts["linked"] += len(items)
            items = []
        results = None
        if items and self._helper is not None and len(items) < PARALLEL_MIN:
            results = self._helper.link(context[1], index, [r.doc for _, r in items], config.link == "all",
                                        config.allow_html, meanwhile=self._while_linking)
        if items and results is None:
            matcher = self.glossary_matcher(index, context[1])
            if self.jobs > 1 and len(items) >= PARALLEL_MIN:
                state = {"docs": [r.doc for _, r in items], "index": index, "matcher": matcher,
                         "link_all": config.link == "all", "allow_html": config.allow_html}
                results = _pool_map(_link_in_worker, len(items), self.jobs, state)
            else:
                from site_builder.link import link

                results = [link(r.doc, index, matcher, config.link == "all", config.allow_html) for _, r in items]
        if items:
            for (k, _), res in zip(items, results):
                self._linked[k] = res
            counts["linked"] += len(items)
        self._link_fast = fast_fresh
        self._linked = {k: self._linked[k] for k in set(keys.values())}
        self._contents = {k: v for k, v in self._contents.items() if k in self._linked}
        linked = {kk: self._linked[k] for kk, k in keys.items()}
        return linked, {kk: self._content_key(k, linked[kk]) for kk, k in keys.items()}

    def _while_linking(self) -> None:
        """Work the later stages need that does not depend on linking: done while the
        helper links, instead of after."""
        self._jinja()
        if self.out is not None and os.path.isdir(self.out):
            self.existing_out = existing_files(self.out)

    def _content_key(self, slice_key: str, doc: LinkedDocument) -> str:
        """A hash of what a linked body shows, so that a re-link that changes nothing
        (a glossary edit that does not touch this text) re-renders nothing."""
        key = self._contents.get(slice_key)
        if key is None:
            key = self._contents[slice_key] = _hash("body", doc.body_html, doc.mentions, doc.entities,
                                                    [x.target for x in doc.xrefs], doc.diagnostics)
        return key

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
        if self._backlinks is not None and self._backlinks[0] == back_key:
            backlinks = self._backlinks[1]
        else:  # in memory only: rebuilding them costs no more than loading them would
            backlinks = build_backlinks(linked, index)
            self._backlinks = (back_key, backlinks)
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
        self._reduce = {picks_key: hit}
        return backlinks, picks, hit[1]

    # -- render ------------------------------------------------------------

    def render_all(self, pages: list[Page], site_ctx: dict[str, Any], counts: dict[str, int], prune: bool = True
                   ) -> tuple[dict[str, bytes | Previous], list[Diagnostic]]:
        tkey, env = self._jinja()
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
            if self.jobs > 1 and len(todo) >= PARALLEL_MIN:
                if self.spool:
                    try:
                        os.makedirs(self.spool, exist_ok=True)
                    except OSError:
                        self.spool = None  # pages then stay in memory; writing the output reports the problem
                state = {"site": self.site, "site_ctx": site_ctx, "pages": [p for _, p in todo], "spool": self.spool,
                         "out": self.out}
                results = _pool_map(_render_in_worker, len(todo), self.jobs, state)
            else:
                results = [render_page(env, p.template, p.make(), site_ctx) for _, p in todo]
            for (fp, page), (data, problem) in zip(todo, results):
                if problem is not None:
                    problems.append(problem)
                    continue
                files[page.out_path] = data
                if isinstance(data, (Spooled, Previous)):
                    fresh_pages[fp] = data.digest
                else:
                    fresh_bytes[fp] = data
                    fresh_pages[fp] = file_digest(data)
            counts["rendered"] += len(todo)
        if prune:
            self._pages, self._bytes = fresh_pages, fresh_bytes
        else:
            self._pages.update(fresh_pages)
            self._bytes.update(fresh_bytes)
        return files, problems

    def _jinja(self) -> tuple[str, Any]:
        tkey = template_digest(self.site)
        if self._env is None or self._env[0] != tkey:
            self._env = (tkey, environment(self.site))
        return self._env

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

    _MEMOS = ("read", "link-keys", "link", "link-content", "pages", "relate")

    def _memo(self, name: str) -> dict[Any, Any]:
        return {"read": self._read, "link-keys": self._link_fast, "link": self._linked, "link-content": self._contents,
                "pages": self._pages, "relate": self._reduce}[name]

    def _load_disk_cache(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        self._read = self.disk.load_sharded("read")
        self._link_fast = self.disk.load_sharded("link-keys")
        self._linked = self.disk.load_sharded("link")
        self._contents = self.disk.load_sharded("link-content")
        self._pages = self.disk.load_sharded("pages")
        self._reduce = self.disk.load_sharded("relate")
        self._saved_keys = {name: self._shard_keys(self._memo(name)) for name in self._MEMOS}
        if self.out:
            self._manifest = self.disk.load(self._manifest_name()).get("files", {})

    def _shard_keys(self, data: dict[Any, Any]) -> dict[str, set]:
        out: dict[str, set] = {shard: set() for shard in self.disk.SHARDS}
        for k in data:
            out[self.disk.shard_of(k)].add(k)
        return out

    def save_disk_cache(self, result: BuildResult, written: dict[str, tuple[str, int, int]]) -> None:
        """Keep this run's results for the next process (after a successful write); only the
        shards of a memo whose keys changed are written again."""
        self._manifest = written
        self.disk.save("stamps", self._stamps)
        for name in self._MEMOS:
            self._saved_keys[name] = self.disk.save_sharded(name, self._memo(name), self._saved_keys.get(name, {}))
        if self.out:
            self.disk.save(self._manifest_name(), {"inputs": self.inputs_key, "files": written,
                                                   "diagnostics": result.diagnostics})


@contextlib.contextmanager
def paused_gc():
    """The cyclic garbage collector off for the length of a build. A build allocates
    millions of long-lived objects (documents, tokens, cache entries) and makes almost no
    reference cycles, so the collector's full passes only rescan live data: with it on, a
    warm build spends about a third of its time there. Forked workers inherit the setting."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _unpublished(read: Iterable[_Read], index: SiteIndex) -> set[str]:
    """Paths of the drafts this build leaves out: their problems cannot break the site."""
    return {r.doc.source.path for r in read if isinstance(r.doc.header, ArticleHeader) and r.doc.header.draft
            and r.doc.header.slug not in index.articles}


def _final(diags: list[Diagnostic], strict: bool, drafts: set[str]) -> list[Diagnostic]:
    """The build's diagnostics as reported: warnings made errors under --strict, then the
    errors of a draft the build leaves out made warnings (a half-written draft never blocks
    a deploy; build with --drafts to see them as errors), sorted, without repeats."""
    if strict:
        diags = make_strict(diags)
    if drafts:
        diags = [dataclasses.replace(d, severity="warning") if d.is_error and d.path in drafts else d for d in diags]
    return sort_diagnostics(diags)


def _output_path(url: str, page: str, root: str) -> str | None:
    """The output file a URL written on ``page`` leads to (relative to the output folder),
    or None when it leaves the site's root (then it is not ours to check)."""
    from urllib.parse import unquote, urljoin, urlsplit

    parts = urlsplit(url)
    if parts.scheme or parts.netloc:  # another site (http(s), protocol-relative) or mailto: not ours to check
        return None
    path = unquote(urlsplit(urljoin(page, url)).path)
    if not path.startswith(root):
        return None
    return path[len(root):]


def output_clashes(generated: Iterable[str], statics: Iterable[Any]) -> list[Diagnostic]:
    """A file from content/ that would replace a generated file, or stand where the build
    needs a folder (content/tags beside tags/index.html), or need a folder where the build
    writes a file (content/404.html/x.txt): an error at the file, instead of a lost page or
    a crash while writing."""
    names = set(generated)
    folders = {rel.rsplit("/", k)[0] for rel in names for k in range(1, rel.count("/") + 1)}
    diags = []
    for x in statics:
        parents = [x.out_path.rsplit("/", k)[0] for k in range(1, x.out_path.count("/") + 1)]
        clash = ("the generated file of the same name" if x.out_path in names else
                 "the generated folder of the same name" if x.out_path in folders else
                 next((f"the generated file {p}" for p in parents if p in names), ""))
        if clash:
            diags.append(error(x.path, 0, 0, "output.clash", f"this file would clash with {clash} in the output",
                               "rename or move the file; the build makes index.html, feed.xml, sitemap.xml, 404.html "
                               "and the articles/, glossary/, tags/ and assets/ folders"))
    return diags


def _fresh(pick: Any, index: SiteIndex) -> Any:
    header = index.header(pick.header.slug)
    if header is None or header is pick.header:
        return pick
    return dataclasses.replace(pick, header=header)


def _probes(index: SiteIndex) -> dict[str, list[tuple[frozenset[str], str]]]:
    """Rarest-looking word of every term (case-folded, the longest) -> (all the term's
    words, entry): a text could mention the entry only if it holds all of them."""
    probes: dict[str, list[tuple[frozenset[str], str]]] = {}
    for e in index.entries.values():
        for t in e.terms:
            words = _WORD.findall(t.value.casefold())
            if words:
                key = max(words, key=lambda w: (len(w), w))
                probes.setdefault(key, []).append((frozenset(words), e.slug))
    return probes


def build(site: str, out: str | None = None, drafts: bool = False, strict: bool = False,
          jobs: int = 1, cache: bool = True, force: bool = False, base_url: str | None = None
          ) -> tuple[BuildResult, WriteStats | None]:
    """Build and, when there are no errors, bring ``out`` up to date (see write.write_tree)."""
    out = out or os.path.join(site, "public")
    check_out_dir(site, out, force)
    builder = Builder(site, drafts=drafts, strict=strict, jobs=jobs, cache=cache, out=out, one_shot=True,
                      base_url=base_url)
    try:
        with paused_gc():
            return _build(builder, out)
    finally:
        if builder.spool:
            shutil.rmtree(builder.spool, ignore_errors=True)


def _build(builder: Builder, out: str) -> tuple[BuildResult, WriteStats | None]:
    result = builder.run()
    if not result.ok:
        return result, None
    if builder.unchanged:  # the output is already exactly this build's
        return result, WriteStats(0, len(result.files), 0, {})
    result.files[MARKER] = MARKER_BYTES
    try:
        stats = write_tree(out, result.files, builder.existing_out)
    except WriteFailed as exc:
        problem = error(_display(exc.path), 0, 0, "output.write", exc.reason,
                        "free some space or fix the folder's permissions, then build again; "
                        "the previous output is untouched")
        return dataclasses.replace(result, diagnostics=sort_diagnostics(result.diagnostics + [problem]), files=None), None
    builder.save_disk_cache(result, stats.manifest)
    return result, stats


def _display(path: str) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel
