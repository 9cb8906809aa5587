"""The pipeline: ``build()`` calls the stages top to bottom, values in and values out.

    settings → discover → read → index → link → refs → backlinks → related → pages
    → check → render

How each stage runs is not its business: maps go to the executor (``memo.py``), which
looks their keys up (each key is declared beside its stage: ``parse.read_key``,
``link.link_key``…), computes the misses, in worker processes when there are many.
Whole-site reduces are skipped when what they read is unchanged. A ``Builder`` keeps
one executor alive (the dev server, the tests), so each run recomputes only what an
edit touched; ``publish()`` is the command line's one-shot build, which writes the
output and keeps its tables on disk. Every result, cached or not, parallel or not,
is the same bytes as a clean serial build's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import os
import shutil
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from site_builder import __version__
from site_builder.assemble import PAGE_TYPES, Lists, Page, PageType, Site, Versions, assemble, default_icons, remake
from site_builder.backlinks import build_backlinks, facts_of, mentioned_together, update, update_together
from site_builder.cache import DiskCache
from site_builder.config import SiteConfig, load_config
from site_builder.discover import StaticFile, discover
from site_builder.errors import Diagnostic, error, has_errors, sort_diagnostics, strict as make_strict, warning
from site_builder.images import is_image, read_image
from site_builder.index import SiteIndex, build_index, index_key, unmentioned
from site_builder.link import GlossarySlices, link, link_key, link_many
from site_builder.markdown import typeset
from site_builder.memo import Executor, Memo, Stage
from site_builder.model import ARTICLE, ENTRY, ArticleHeader, CrossRef, Document, LinkedDocument, digest
from site_builder.parallel import Helper
from site_builder.parse import parse, read_key
from site_builder.refs import Resolved, resolve, resolve_body
from site_builder.related import fresh, pick_all, related_key
from site_builder.render import environment, render_page, template_digest, theme_assets
from site_builder.suggest import RULES, Suggestion, covered_terms, find_names, rank
from site_builder.search import Bundle, IndexFailed, Indexer, Shard, article_document, entry_document, sha
from site_builder.urls import output_path
from site_builder.write import (MARKER, MARKER_BYTES, Previous, Spooled, WriteFailed, WriteStats, check_out_dir,
                                existing_files, file_digest, search_dir, spool, spool_dir, write_tree)


@dataclass(frozen=True)
class Options:
    drafts: bool = False  # articles marked draft: true are built too
    strict: bool = False  # warnings are errors
    base_url: str | None = None  # instead of site.yaml's (deploy previews)


@dataclass
class BuildResult:
    diagnostics: list[Diagnostic]
    files: dict[str, bytes | Previous | Spooled] | None  # None when the build failed
    counts: dict[str, int] = field(default_factory=dict)  # what was (re)computed, for the terminal
    seconds: float = 0.0
    index: SiteIndex | None = None
    picks: dict[str, list] = field(default_factory=dict)
    linked: dict[tuple[str, str], LinkedDocument] = field(default_factory=dict)
    unchanged: bool = False  # nothing changed since the output was written: it is already this build's
    search: Indexer | None = None  # the search index being made (when the runner asked for one)

    @property
    def ok(self) -> bool:
        return self.files is not None


def build(site: str, options: Options, run: Runner) -> BuildResult:
    """Build the site in memory: the pipeline, top to bottom."""
    started = time.perf_counter()
    run.begin()
    config, problems = settings(site, options)                           # site.yaml (and --base-url)
    found = discover(site, run.stamps)                                   # every file under content/
    run.stamps = found.stamps
    problems += found.diagnostics
    templates = template_digest(site)
    inputs = (__version__, config, options, templates, found.sources, found.statics, tuple(problems))
    done = run.unchanged(inputs)                                         # the output is already this build's
    if done is not None:
        return done
    docs = run.map(read_stage(config), found.sources)                   # front-matter and body of each file
    index, more = run.reduce("index", index_key(docs, config.root, options.drafts),
                             lambda: build_index(docs, config.root, options.drafts))
    problems += more
    run.read = (config, docs, index)                                    # what suggestions() reads (serve's panel)
    todo = [d for d in docs if d.source.path in index.paths]            # articles (drafts only with --drafts), entries
    slices = run.map(slice_stage(index, run), todo)                     # which entries each text could mention
    linked = {(d.kind, d.slug): d for d in run.map(link_stage(index, config, run, dict(zip(map(id, todo), slices))),
                                                   todo)}
    resolved = dict(zip(linked, run.map(refs_stage(index), list(linked.values()))))  # [[slug]] looked up
    facts = dict(zip(linked, run.map(facts_stage(index, resolved), list(linked.values()))))
    backlinks = run.reduce_update("backlinks", index.key, facts, build_backlinks, update, index)
    entities = run.derive("entities", linked, articles_entities)
    related, picked = related_reading(run, index, todo, entities, resolved, config.related_count)
    problems += picked.diagnostics + unmentioned(index.entries.values(), set(backlinks.mentioned_in))
    assets = theme_assets()
    together = run.reduce_update("together", index.key, entities, mentioned_together, update_together)
    pictures = [x for x in found.statics if is_image(x.out_path)]
    read = dict(zip((x.out_path for x in pictures), run.map(image_stage(), pictures)))  # size, smaller copies
    values = Site(config, index, run.reduce("lists", index.key, lambda: Lists(index)), linked, resolved, backlinks,
                  run.reduce("picks shown", (related, index.key), lambda: fresh(picked.picks, index)),
                  {name: a.out_path for name, a in assets.items()}, together=together.with_,
                  image_sizes={k: size for k, (size, _) in read.items()},
                  srcsets={k: tuple((p, w) for p, w, _ in made) for k, (_, made) in read.items() if made})
    values.versions = versions(run, values, todo, picked.signatures, together.signatures, pictures)
    indexer = None
    if run.searching and config.search:                                 # Pagefind, on the other core from here on
        digests = run.map(search_stage(values), list(linked.values()))
        indexer = run.index_search({search_path(d): h for d, h in zip(linked.values(), digests)},
                                   search_documents(values, linked.values()))
    pages = run.pages(values, global_key=digest(templates, sorted(values.values.items())))
    icons = default_icons(config, {x.out_path for x in found.statics})  # unless content/ has its own
    copies = {path: data for _, made in read.values() for path, _, data in made}
    outputs = [p.out_path for p in pages.values()] + [a.out_path for a in assets.values()] + [*icons, *copies]
    problems += output_clashes(outputs, found.statics)                  # content/ files against the output
    checked = run.map(links_stage(index, linked, outputs, found.statics, config, values.image_sizes), todo)
    diagnostics = final(problems, docs, linked, resolved, checked, index, options)
    if has_errors(diagnostics):
        return BuildResult(diagnostics, None, run.counts, time.perf_counter() - started, index, picked.picks, linked)
    files, more = run.render(site, templates, pages, values)            # Jinja: every page whose inputs changed
    if more:
        return BuildResult(sort_diagnostics(diagnostics + more), None, run.counts, time.perf_counter() - started,
                           index, picked.picks, linked)
    files.update((a.out_path, run.previous(a.out_path, file_digest(a.data)) or a.data) for a in assets.values())
    files.update((name, run.previous(name, file_digest(data)) or data) for name, data in {**icons, **copies}.items())
    files.update((x.out_path, run.static(x)) for x in found.statics)
    result = BuildResult(diagnostics, files, run.counts, time.perf_counter() - started, index, picked.picks, linked,
                         search=indexer)
    run.remember(inputs, result)
    return result


# -- the stages as the executor runs them ---------------------------------------------------


def versions(run: Runner, site: Site, todo: list[Document], picks: dict[str, str], together: dict[str, str],
             pictures: list[StaticFile]) -> Versions:
    """The version of every value a page can show (see assemble.py), in parts."""
    return Versions(run.reduce("header versions", site.index.key, lambda: header_versions(todo, site)),
                    run.derive("body versions", site.linked, lambda ls: {"body:" + slug: d.key
                                                                         for (_, slug), d in ls.items()}),
                    site.backlinks.signatures, picks, together,
                    run.derive("image versions", {x.out_path: x.digest for x in pictures},
                               lambda d: {"image:" + k: v for k, v in d.items()}))


def articles_entities(linked: dict[tuple[str, str], LinkedDocument]) -> dict[str, tuple[str, ...]]:
    """Article slug -> the entries it mentions."""
    return {slug: d.entities for (kind, slug), d in linked.items() if kind == ARTICLE}


def related_reading(run: Runner, index: SiteIndex, todo: list[Document], entities: dict[str, tuple[str, ...]],
                    resolved: dict[tuple[str, str], Resolved], count: int) -> tuple[str, Any]:
    """Every article's related reading (a whole-site reduce), without the pages its body
    already shows (``shown``: its cross-references and ``::: related`` items), with its key."""
    shown = run.derive("shown", resolved, lambda rs: {slug: tuple(dict.fromkeys(r.found()))
                                                      for (kind, slug), r in rs.items() if kind == ARTICLE})
    key = run.derive("related key", {**entities, "": index.key, "\x00shown": shown},
                     lambda _: related_key(index, {d.header.slug: d.header_key for d in todo},  # type: ignore[union-attr]
                                           entities, count, shown))
    return key, run.reduce("related", key, lambda: pick_all(index, entities, count, shown), disk=True)


def settings(site: str, options: Options) -> tuple[SiteConfig, list[Diagnostic]]:
    config, problems = load_config(site)
    return (config.with_base_url(options.base_url) if options.base_url else config), list(problems)


def read_stage(config: SiteConfig) -> Stage:
    return Stage("read", lambda s: read_key(s, config), lambda s, _: parse(s, config),
                 context=config.slice_digest("parse"), counted="read")


def image_stage() -> Stage:
    """Each image of content/: its width and height, and smaller copies for srcset (cached)."""
    return Stage("image", lambda x: (x.out_path, x.digest), lambda x, _: read_image(x.abspath, x.out_path),
                 parallel=True)


def slice_stage(index: SiteIndex, run: Executor) -> Stage:
    """Which glossary entries each text could mention: only to make the link stage's keys."""
    slices = run.resource("slices", index.key, lambda: GlossarySlices(index.entries.values()))
    return Stage("slices", lambda d: (d.source.path, d.source.digest, slices.key), lambda d, _: slices.slice(d),
                 parallel=True, context=slices.key, for_keys=True)


def link_stage(index: SiteIndex, config: SiteConfig, run: Executor, slices: dict[int, str]) -> Stage:
    """Linking, keyed by the document and its glossary slice (``slices``, by document)."""
    glossary = run.resource("slices", index.key, lambda: GlossarySlices(index.entries.values()))

    def matcher() -> Any:  # spaCy is imported only when something needs linking
        from site_builder.glossary import Matcher

        return run.resource("matcher", glossary.key, lambda: Matcher(index.entries.values()))

    remote = functools.partial(link_many, entries=tuple(index.entries.values()), root=config.root,
                               link_all=config.link == "all", allow_html=config.allow_html)
    return Stage("link", lambda d: link_key(d, slices[id(d)], config),
                 lambda d, m: link(d, m, config.root, config.link == "all", config.allow_html), shared=matcher,
                 parallel=True, remote=remote, context=(glossary.key, config.slice_digest("parse"), config.slice_digest("link")),
                 counted="linked")


def names_stage(config: SiteConfig) -> Stage:
    """The names in each article (``suggest``), keyed by the file, the reading settings,
    the rules' own digest and the trained pipeline, if any."""
    context = (config.slice_digest("parse"), RULES, config.ner_model)

    def tokenizer() -> Any:  # spaCy is imported once, before any worker is forked, only on a miss
        from site_builder.glossary import pipeline, tokenizer as make

        return pipeline(config.ner_model) if config.ner_model else make()

    return Stage("names", lambda d: (d.source.path, d.source.digest, *context),
                 lambda d, _: find_names(d, config.allow_html, config.ner_model), shared=tokenizer, parallel=True,
                 context=context, counted="read for names")
def search_stage(site: Site) -> Stage:
    """The digest of each article's and entry's search document (only digests are kept:
    the indexer makes the documents it needs, see ``search_documents``)."""
    versions, language = site.versions, site.config.language

    def key(d: LinkedDocument) -> tuple:
        return (d.key, d.path, language, versions.get("header:" + d.slug),
                tuple(versions.get("header:" + t) for t in site.targets(d.kind, d.slug)))
    return Stage("search", key, lambda d, _: sha(search_document(site, d)), context=(language, site.index.key))


def search_document(site: Site, d: LinkedDocument) -> bytes:
    """Its header and body, with cross-references as their text (the titles of the pages
    they name) and related blocks left out."""
    index, language = site.index, site.config.language
    body = resolve_body(d, site.resolved[(d.kind, d.slug)], index, lambda headers: "")
    if d.kind == ARTICLE:
        return article_document(shown(index.articles[d.slug]), body, d.entities, language)
    return entry_document(shown(index.entries[d.slug]), body, language)


def shown(h: Any) -> Any:
    """A header as a reader sees it: its title, summary and aliases typeset like body text."""
    if isinstance(h, ArticleHeader):
        return dataclasses.replace(h, title=typeset(h.title), summary=typeset(h.summary))
    return dataclasses.replace(h, title=typeset(h.title), summary=typeset(h.summary),
                               terms=tuple(dataclasses.replace(t, value=typeset(t.value)) for t in h.terms))


def search_documents(site: Site, docs: Iterable[LinkedDocument]) -> Any:
    by_path = {search_path(d): d for d in docs}
    return lambda paths: {p: search_document(site, by_path[p]) for p in paths}


def search_path(d: LinkedDocument) -> str:
    return f"{'articles' if d.kind == ARTICLE else 'glossary'}/{d.slug}/index.html"


def refs_stage(index: SiteIndex) -> Stage:
    return Stage("refs", lambda d: (d.key, d.path, index.slugs_key), lambda d, _: resolve(d, index),
                 context=index.slugs_key, disk=False)


def facts_stage(index: SiteIndex, resolved: dict[tuple[str, str], Resolved]) -> Stage:
    """What each document adds to the backlinks (its mention sentences show titles)."""
    return Stage("facts", lambda d: (d.key, d.path, index.key),
                 lambda d, _: facts_of(d, resolved[(d.kind, d.slug)], index), context=index.key, disk=False)


def links_stage(index: SiteIndex, linked: dict[tuple[str, str], LinkedDocument], outputs: list[str],
                statics: Iterable[StaticFile], config: SiteConfig, sizes: dict[str, Any]) -> Stage:
    """Internal links and images written in a body (and a lead image) must lead to a file
    of this build: every output path is known before anything is rendered (the pages'
    paths follow from the index; the assets' and static files' are listed); an image must
    be one whose size can be read (``sizes``: None for those that cannot)."""
    unreadable = frozenset(k for k, size in sizes.items() if size is None)
    everything = set(outputs) | {x.out_path for x in statics}
    context = digest(index.key, config.slice_digest("link"), *(p for p in outputs if p.startswith("assets/")),
                     *(x.out_path for x in statics), *sorted(unreadable))
    return Stage("links", lambda d: (d.source.path, d.source.digest, context),
                 lambda d, _: check_links(d, linked[(d.header.kind, d.header.slug)], everything, config.root,
                                          unreadable), context=context, disk=False)


def check_links(doc: Document, linked: LinkedDocument, outputs: set[str], root: str,
                unreadable: frozenset[str] = frozenset()) -> tuple[Diagnostic, ...]:
    """Broken links, and images of content/ whose file cannot be read as one (``unreadable``)."""
    written = list(linked.links)
    image = doc.header.image if isinstance(doc.header, ArticleHeader) else None
    if image is not None:
        written.append(CrossRef(image.src, image.line, image.col))
    page = f"{root}{'glossary' if linked.kind == ENTRY else 'articles'}/{linked.slug}/"
    found = []
    for link_ in written:
        path = output_path(link_.target, page, root)
        if path in unreadable:
            found.append(_unreadable(doc.source.path, link_))
        if path is None or path in outputs or f"{path}/index.html".lstrip("/") in outputs \
                or (path.endswith("/") or path == "") and f"{path}index.html" in outputs:
            continue
        found.append(error(doc.source.path, link_.line, link_.col, "link.broken",
                           f"'{link_.target}' leads to no page or file of this site",
                           "check the path; pages live at /articles/<slug>/ and /glossary/<slug>/, "
                           "files from content/ keep their path (content/images/a.png is /images/a.png)"))
    return tuple(found)


def _unreadable(path: str, link_: CrossRef) -> Diagnostic:
    """An image whose width and height cannot be read: a raster file that is not what its
    name says (an error: browsers show a broken image), an SVG without a size (a warning)."""
    if link_.target.split("?", 1)[0].split("#", 1)[0].lower().endswith(".svg"):
        return warning(path, link_.line, link_.col, "image.no-size",
                       f"the SVG '{link_.target}' has neither a viewBox nor a width and height in pixels",
                       "add viewBox=\"0 0 W H\" to its <svg> element, so the page can reserve its space")
    return error(path, link_.line, link_.col, "image.unreadable",
                 f"'{link_.target}' cannot be read as an image (its width and height are unknown)",
                 "open and save it again as PNG, JPEG or WebP; a file renamed to .png is not a PNG")


def header_versions(docs: Iterable[Document], site: Site) -> dict[str, str]:
    """The versions that change only with the index: each page's header, all of them at
    once (``headers``: the index's own key), and the lists."""
    out = {"header:" + d.header.slug: d.header_key for d in docs if d.header is not None}
    out["headers"] = site.index.key
    for kind, name in ((ARTICLE, "article headers"), (ENTRY, "entry headers")):  # (the home page, the glossary's)
        out[name] = digest(*(d.header_key for d in docs if d.header is not None and d.header.kind == kind))
    out.update(site.lists.versions)
    return out


def output_clashes(generated: Iterable[str], statics: Iterable[StaticFile]) -> list[Diagnostic]:
    """A file from content/ that would replace a generated file, or stand where the build
    needs a folder (content/tags beside tags/index.html), or need a folder where the build
    writes a file (content/404.html/x.txt): an error at the file, instead of a lost page or
    a crash while writing."""
    statics = list(statics)
    if not statics:
        return []
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


def final(problems: list[Diagnostic], docs: list[Document], linked: dict[tuple[str, str], LinkedDocument],
          resolved: dict[tuple[str, str], Resolved], checked: list[tuple[Diagnostic, ...]], index: SiteIndex,
          options: Options) -> list[Diagnostic]:
    """Every diagnostic of the build, as reported: warnings made errors under --strict,
    then the errors of a draft the build leaves out made warnings (a half-written draft
    never blocks a deploy; --drafts shows them as errors), sorted, without repeats."""
    diags = list(problems)
    for d in docs:
        diags += d.diagnostics
    for k, d in linked.items():
        diags += d.diagnostics
        diags += resolved[k].diagnostics
    for more in checked:
        diags += more
    if options.strict:
        diags = make_strict(diags)
    drafts = {h.path for h in index.drafts.values()}
    if drafts:
        diags = [dataclasses.replace(d, severity="warning") if d.is_error and d.path in drafts else d for d in diags]
    return sort_diagnostics(diags)


# -- names that deserve an entry (``site-builder suggest``, serve's /_suggest/) ---------------------


@dataclass
class Suggested:
    suggestions: list[Suggestion]  # every name in one article or more, best first (filter with ``top``)
    diagnostics: list[Diagnostic]
    counts: dict[str, int] = field(default_factory=dict)  # what was (re)computed

    def top(self, min_articles: int = 2, limit: int | None = None) -> list[Suggestion]:
        out = [s for s in self.suggestions if len(s.articles) >= min_articles]
        return out if limit is None else out[:limit]


def suggest_names(site: str, options: Options, run: Runner, min_articles: int = 2) -> Suggested:
    """The pipeline's read stages (cache included), then the names of every article. When no
    file changed since the last run with the same settings, its result (kept on disk) is
    the answer: nothing is read again."""
    run.begin()
    config, problems = settings(site, options)
    found = discover(site, run.stamps)
    run.stamps = found.stamps
    inputs = digest("suggest", __version__, RULES, repr(config), options.drafts, min_articles,
                    *(f"{x.path}|{x.kind}|{x.digest}" for x in found.sources))

    def read_and_rank() -> Suggested:
        docs = run.map(read_stage(config), found.sources)
        index, _ = run.reduce("index", index_key(docs, config.root, options.drafts),
                              lambda: build_index(docs, config.root, options.drafts))
        run.read = (config, docs, index)
        return suggestions(run, site, min_articles)

    return dataclasses.replace(run.reduce("suggested", inputs, read_and_rank, disk=True), counts=dict(run.counts))


def suggestions(run: Runner, site: str, min_articles: int = 2) -> Suggested:
    """The names of the articles the last run read, in ``min_articles`` or more, ranked (a
    map per article, memoised, and one ranking, made again only when an article's names or
    the glossary changed)."""
    if run.read is None:
        return Suggested([], [])
    config, docs, index = run.read
    if config.ner_model:
        from site_builder.glossary import PipelineMissing, pipeline

        try:
            pipeline(config.ner_model)
        except PipelineMissing as exc:
            line = _setting_line(site, "ner_model")
            return Suggested([], [error("site.yaml", line, 1 if line else 0, "config.ner-model",
                                        f"the spaCy pipeline '{config.ner_model}' named by ner_model cannot be "
                                        f"loaded: {exc}",
                                        f"install it into this environment (pip install {config.ner_model}; nothing "
                                        "is downloaded at build time), or remove ner_model: the rules work without it")])
    articles = [d for d in docs if d.source.kind == ARTICLE and d.source.path in index.paths and d.header is not None]
    names = run.map(names_stage(config), articles)
    found = {d.source.path: n for d, n in zip(articles, names)}
    terms = covered_terms(index.entries.values())
    ranked = run.derive(f"suggest {min_articles}", {**found, "": terms},
                        lambda _: rank(sorted(found.items()), terms, min_articles=min_articles))
    return Suggested(ranked, [], dict(run.counts))


def _setting_line(site: str, key: str) -> int:
    try:
        with open(os.path.join(site, "site.yaml"), encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.startswith(key + ":"):
                    return n
    except (OSError, UnicodeDecodeError):
        pass
    return 0


# -- the executor of one site ----------------------------------------------------------------


def kept_pages(site: Site, saved: dict, page_types: tuple[PageType, ...]
               ) -> tuple[dict[tuple[str, str], Page], dict[tuple[str, str], str]]:
    """Every page, from an earlier process's ``saved`` pages: the ones that read a value
    whose version changed are made again (``remake``); the others keep their record and
    fingerprint, and are made again only if they must be rendered (their file is gone)."""
    now, before = site.versions.merged(), saved["versions"]
    changed = {n for n, v in now.items() if before.get(n) != v} | (before.keys() - now.keys())
    again = [k for k, (_, _, inputs) in saved["pages"].items() if not changed.isdisjoint(inputs)]
    pages = {k: Page(path, template, inputs, functools.partial(_made_again, k, page_types))
             for k, (path, template, inputs) in saved["pages"].items()}
    pages.update(remake(site, again, page_types))
    fingerprints = {k: fp for k, fp in saved["fingerprints"].items() if k in pages}
    for k in again:
        del fingerprints[k]
    return pages, fingerprints


def _made_again(key: tuple[str, str], page_types: tuple[PageType, ...], site: Site, tools: Any) -> dict[str, Any]:
    """The context of a kept page, made again from this build's values (its inputs are unchanged)."""
    return remake(site, [key], page_types)[key].context(site, tools)


def note_readers(readers: dict[str, list[tuple[str, str]]], pages: dict[tuple[str, str], Page],
                 touched: set[tuple[str, str]], before: dict[tuple[str, str], Page]) -> None:
    """List each touched page under the values it reads, for the next run's ``touched``:
    once per value (lists, not sets: at 5,000 articles the sets cost ~18 MB). A page stays
    listed under values it no longer reads: harmless, it is only made again."""
    for k in touched:
        old = set(before[k].inputs) if k in before else ()
        for n in pages[k].inputs:
            if n not in old:
                readers.setdefault(n, []).append(k)


class Runner(Executor):
    """The executor, with what a build of one site keeps between runs: file stamps, the
    pages it made (so an edit re-makes only the pages whose inputs changed), and, for a
    build into an output folder, what that folder holds."""

    def __init__(self, site: str, cache: bool, jobs: int, out: str | None = None, keep_bytes: bool = True,
                 page_types: tuple[PageType, ...] = PAGE_TYPES):
        disk = DiskCache(site, enabled=cache)
        super().__init__(Memo(disk, saving=not keep_bytes) if cache or keep_bytes else None, jobs)
        self.disk = disk
        self.out = os.path.abspath(out) if out else None
        self.keep_bytes = keep_bytes  # a resident builder keeps every page's bytes in memory
        self.page_types = page_types  # assemble.PAGE_TYPES, unless a caller adds its own
        self.spool: str | None = None  # where render workers leave pages (a one-shot build into `out`)
        self.stamps: dict[tuple, str] = disk.load("stamps") if cache else {}
        self.manifest: dict[str, tuple[str, int, int]] = {}  # out file -> (digest, size, mtime_ns)
        self.output_files: set[str] | None = None  # what the output folder held when this run listed it
        self.statics: dict[tuple[str, str], bytes] = {}  # (file, digest) -> bytes (resident)
        self.fingerprints: dict[tuple[str, str], str] = {}  # page key -> its fingerprint
        self.outputs: dict[tuple[str, str], tuple[str, Any]] = {}  # page key -> (fingerprint, bytes or Previous)
        self.touched: set[tuple[str, str]] = set()
        self.files: dict[str, Any] = {}  # out path -> bytes or Previous, of every page, as the last run left them
        self.full = True  # the last pages() made every page (not only the touched ones)
        self.pending: tuple[dict, dict] = ({}, {})  # pages() for render(): fingerprints, the state to keep
        self._remembered: tuple[str, BuildResult] | None = None
        self.helper_modules: tuple[str, ...] = ()  # a one-shot warm build's helper imports these (publish)
        self.read: tuple[SiteConfig, list[Document], SiteIndex] | None = None  # the last run's reading
        self.searching = False  # make the search index too (publish, the dev server)
        self.search_later = False  # the caller starts the indexer (the dev server: after the build)
        self.search_apart = False  # the indexer makes documents in a forked process (the dev server)
        self.indexer: Indexer | None = None
        self.search_shards: dict[int, tuple[str, dict[str, bytes]]] = {}  # a resident builder's last shards

    def begin(self) -> None:
        self.counts = {}
        if self.memo is not None:
            self.memo.begin()

    def unchanged(self, inputs: tuple) -> BuildResult | None:
        """The last result when nothing the build reads changed (a resident builder compares
        with its last run: unchanged files are the very same objects), or when a one-shot
        build's output still holds exactly what the last build wrote there (read from the
        disk, without loading the rest of the cache, spaCy or Jinja)."""
        if self._remembered is not None:
            if self.out is None and self._remembered[0] == inputs:
                return dataclasses.replace(self._remembered[1], counts={}, seconds=0.0)
            return None
        if self.out is None or not self.disk.enabled:
            return None
        state = self.disk.load(self._manifest_name())
        self.manifest = state.get("files", {})
        if state.get("inputs") != self._inputs_digest(inputs) or not self._output_intact():
            if self.helper_modules:  # something will be built: a helper imports spaCy meanwhile
                self.helper = Helper(self.helper_modules)
            return None
        return BuildResult(list(state.get("diagnostics", [])), {k: Previous(v[0]) for k, v in self.manifest.items()},
                           {}, 0.0, unchanged=True)

    @staticmethod
    def _inputs_digest(inputs: tuple) -> str:
        version, config, options, templates, sources, statics, problems = inputs
        return digest("inputs", version, repr(config), options, templates, *problems,
                      *(f"{x.path}|{x.kind}|{x.digest}" for x in sources), *(f"{x.out_path}|{x.digest}" for x in statics))

    def _output_intact(self) -> bool:
        assert self.out is not None
        self.output_files = existing_files(self.out)  # listed once: write_tree needs the list too
        if self.output_files != self.manifest.keys():  # a file added or removed by hand
            return False
        for rel, (_, size, mtime) in self.manifest.items():
            try:
                st = os.stat(os.path.join(self.out, *rel.split("/")))
            except OSError:
                return False
            if (st.st_size, st.st_mtime_ns) != (size, mtime):
                return False
        return True

    def remember(self, inputs: str, result: BuildResult) -> None:
        self._remembered = (inputs, result)

    def _manifest_name(self) -> str:
        return "manifest-" + digest(self.out or "")[:16]

    def index_search(self, digests: dict[str, str], make: Any) -> Indexer:
        """Start indexing the search documents, shard by shard (the work folder beside the
        output); shards whose documents are unchanged come from the cache."""
        self.indexer = Indexer(digests, make, search_dir(self.out) if self.out else None, self.cached_shard,
                               self.search_apart)
        return self.indexer if self.search_later else self.indexer.start()

    def cached_shard(self, shard: Shard) -> dict[str, bytes] | None:
        """A shard's index files, from memory (a resident builder's last ones) or the disk
        cache, when they were made from the same documents."""
        hit = self.search_shards.get(shard.number)
        if (hit is None or hit[0] != shard.key) and self.disk.enabled:
            state = self.disk.load(_shard_name(shard.number))
            hit = (state.get("key", ""), state.get("files", {}))
        return hit[1] if hit is not None and hit[0] == shard.key else None

    def reduce_update(self, name: str, key: Any, items: dict, make: Any, update_: Any, *args: Any) -> Any:
        """A reduce that an edit can bring up to date: ``update_(previous, items, *args)``
        when the last run's key is the same, ``make(items, *args)`` otherwise."""
        last = self.last.get(name)
        value = update_(last[1], items, *args) if last is not None and last[0] == key else make(items, *args)
        if self.memo is not None:  # only a resident builder runs again
            self.last[name] = (key, value)
        return value

    def pages(self, site: Site, global_key: str) -> dict[tuple[str, str], Page]:
        """Every page (``assemble``), each with its fingerprint. After an earlier run with the
        same index and templates, only the pages that read a value whose version changed are
        made again (``touched``); the others keep their page, fingerprint and bytes."""
        structure = (site.index.key, global_key)
        last = self.last.get("pages")
        if last is None or last["structure"] != structure:
            saved = self.saved_pages(structure) if last is None and not self.keep_bytes else None
            pages, fingerprints = kept_pages(site, saved, self.page_types) if saved else (
                assemble(site, self.page_types), {})
            touched = set(pages) - fingerprints.keys()  # to fingerprint: all but the kept ones
            readers: dict[str, list[tuple[str, str]]] = {}
            self.full = True
        else:
            readers = last["readers"]
            touched = {k for n in site.versions.changed(last["versions"]) for k in readers.get(n, ())}
            fingerprints = dict(self.fingerprints)
            self.full = False
            pages = {**last["pages"], **remake(site, touched, self.page_types)}
        for k in touched:
            p = pages[k]
            fingerprints[k] = digest("page", __version__, global_key, p.out_path, p.template,
                                     *site.versions.of(p.inputs))
        if self.keep_bytes:  # only a resident builder runs again: a one-shot build need not know who reads what
            note_readers(readers, pages, touched, last["pages"] if not self.full else {})
        self.touched = set(pages) if self.full else touched
        # kept as the last run's only once every page is rendered (render): a build that stops at
        # an error leaves the next one to compare with the last pages that were made
        self.pending = (fingerprints, {"structure": structure, "pages": pages, "versions": site.versions,
                                       "readers": readers})
        return pages

    def saved_pages(self, structure: tuple[str, str]) -> dict | None:
        """The pages the last one-shot build made (what each reads, and its fingerprint),
        when it had the same index and templates."""
        if not self.disk.enabled:
            return None
        structure = self._saved_structure(structure)
        if self.disk.load("pages-structure").get("structure") != structure:  # (a glossary edit: the pages
            return None  # are not read)
        state = self.disk.load("pages")
        return state if state.get("structure") == structure else None  # (both files from the same build)

    def _saved_structure(self, structure: tuple[str, str]) -> tuple:
        return (*structure, __version__, tuple(pt.name for pt in self.page_types))

    def render(self, site_folder: str, templates: str, pages: dict[tuple[str, str], Page], site: Site
               ) -> tuple[dict[str, bytes | Previous | Spooled], list[Diagnostic]]:
        """Every page's bytes: kept ones (the last run's, or unchanged in the output folder)
        and the rest rendered, in worker processes when there are many."""
        table = self.memo.table("pages") if self.memo is not None else {}
        fingerprints, state = self.pending
        if self.memo is not None:
            self.memo.use("pages", (fingerprints[k] for k in pages))
        todo: list[tuple[tuple[str, str], Page]] = []
        for k in self.touched:
            p = pages[k]
            kept = self.outputs.get(k)
            kept = kept[1] if kept is not None and kept[0] == fingerprints[k] and self.keep_bytes else \
                self.previous(p.out_path, table.get(fingerprints[k]))
            if kept is not None:
                self.outputs[k] = (fingerprints[k], kept)
            else:
                todo.append((k, p))
        todo.sort(key=lambda kp: kp[1].out_path)  # the same order whatever the set's
        problems = []
        for (k, p), (data, problem) in zip(todo, self._render(site_folder, templates, [p for _, p in todo], site)):
            if problem is not None:
                problems.append(problem)
                continue
            fp = fingerprints[k]
            table[fp] = data.digest if isinstance(data, (Spooled, Previous)) else file_digest(data)
            self.outputs[k] = (fp, data)
        if problems:  # self.outputs holds (fingerprint, bytes) pairs that stay true: the next run compares
            return {}, problems  # with the last complete run's pages
        if self.full:
            self.outputs = {k: v for k, v in self.outputs.items() if k in pages}
            self.files = {pages[k].out_path: data for k, (_, data) in self.outputs.items()}
        else:  # the same pages as the last run: only the touched ones can hold new bytes
            self.files.update((pages[k].out_path, self.outputs[k][1]) for k in self.touched)
        self.fingerprints = fingerprints
        if self.memo is not None:
            self.last["pages"] = state
        return dict(self.files), problems

    def _render(self, site_folder: str, templates: str, pages: list[Page], site: Site
                ) -> list[tuple[Any, Diagnostic | None]]:
        env = self.resource("jinja", templates, lambda: environment(site_folder))
        if self.spool and self.jobs > 1 and len(pages) >= 24:
            with contextlib.suppress(OSError):
                os.makedirs(self.spool, exist_ok=True)
        stage = Stage("render", lambda p: p.out_path, lambda p, _: self._render_one(env, p, site), parallel=True,
                      counted="rendered")
        return self._compute(stage, pages)

    def _render_one(self, env: Any, page: Page, site: Site) -> tuple[Any, Diagnostic | None]:
        data, problem = render_page(env, page.template, lambda tools: page.context(site, tools), site.values)
        if data is not None and self.spool and self.out and os.path.isdir(self.spool):
            with contextlib.suppress(OSError):  # no room beside the output: the bytes go back, writing reports it
                return spool(self.spool, self.out, page.out_path, abs(hash(page.out_path)), data), problem
        return data, problem

    def previous(self, out_path: str, digest_: str | None) -> Previous | None:
        """The output's file, when the last build wrote exactly these bytes there and nobody
        has touched it since."""
        if self.out is None or digest_ is None:
            return None
        known = self.manifest.get(out_path)
        if known is None or known[0] != digest_:
            return None
        try:
            st = os.stat(os.path.join(self.out, *out_path.split("/")))
        except OSError:
            return None
        return Previous(digest_) if (st.st_size, st.st_mtime_ns) == known[1:] else None

    def static(self, x: StaticFile) -> bytes | Previous:
        """A file from content/, as it is (kept in memory by a resident builder)."""
        kept = self.previous(x.out_path, x.digest) or self.statics.get((x.abspath, x.digest))
        if kept is not None:
            return kept
        with open(x.abspath, "rb") as fh:
            data = fh.read()
        if self.keep_bytes:
            self.statics = {k: v for k, v in self.statics.items() if k[0] != x.abspath}
            self.statics[(x.abspath, x.digest)] = data
        return data

    def save(self, result: BuildResult, manifest: dict[str, tuple[str, int, int]]) -> None:
        """Keep this run's tables for the next process (after a successful write)."""
        self.manifest = manifest
        if not self.disk.enabled:
            return
        self.disk.save("stamps", self.stamps)
        if self.memo is not None:
            self.memo.save()
        if self.indexer is not None and self.indexer.bundle is not None:
            for number, (key, files) in self.indexer.bundle.made.items():
                self.disk.save(_shard_name(number), {"key": key, "files": files})
        if not self.keep_bytes:  # the next one-shot build makes again only the pages whose inputs changed
            fingerprints, state = self.pending
            structure = self._saved_structure(state["structure"])
            self.disk.save("pages", {"structure": structure, "versions": state["versions"].merged(),
                                     "fingerprints": fingerprints,
                                     "pages": {k: (p.out_path, p.template, p.inputs) for k, p in state["pages"].items()}})
            self.disk.save("pages-structure", {"structure": structure})  # what a build reads first
        if self.out:
            self.disk.save(self._manifest_name(), {"inputs": self._inputs_digest(self._remembered[0])
                                                   if self._remembered else "",
                                                   "files": manifest, "diagnostics": result.diagnostics})


def _shard_name(number: int) -> str:
    return f"search-shard-{number:x}"


# -- the ways to run it ------------------------------------------------------------------------


class Builder:
    """A site builder that stays alive (the dev server, the tests): each ``run()`` is a
    build, and recomputes only what changed since the last one."""

    def __init__(self, site: str, drafts: bool = False, strict: bool = False, base_url: str | None = None,
                 jobs: int = 1, cache: bool = False, page_types: tuple[PageType, ...] = PAGE_TYPES):
        self.site = os.path.abspath(site)
        self.options = Options(drafts, strict, base_url)
        # cache=True reads the disk cache; run() never writes it
        self.runner = Runner(self.site, cache, jobs, page_types=page_types)

    def run(self) -> BuildResult:
        with paused_gc(freeze=True):
            return build(self.site, self.options, self.runner)

    def suggestions(self, min_articles: int = 2) -> Suggested:
        """The names the articles of the last run() use without an entry (serve's panel)."""
        with paused_gc(freeze=True):
            return suggestions(self.runner, self.site, min_articles)


def suggest(site: str, drafts: bool = False, jobs: int = 1, cache: bool = True, min_articles: int = 2) -> Suggested:
    """``site-builder suggest``: read the site (with the on-disk cache a build left, and
    keeping what it computed there for the next run), then rank the names."""
    run = Runner(os.path.abspath(site), cache, jobs, keep_bytes=False)
    with paused_gc():
        result = suggest_names(os.path.abspath(site), Options(drafts), run, min_articles)
    if run.disk.enabled and not has_errors(result.diagnostics):
        run.disk.save("stamps", run.stamps)
        if run.memo is not None:
            run.memo.save()
    return result


def publish(site: str, out: str | None = None, drafts: bool = False, strict: bool = False, jobs: int = 1,
            cache: bool = True, force: bool = False, base_url: str | None = None
            ) -> tuple[BuildResult, WriteStats | None]:
    """``site-builder build``: build, and when there are no errors bring ``out`` up to date
    (write.write_tree) and keep the tables on disk for the next build."""
    out = os.path.abspath(out or os.path.join(site, "public"))
    check_out_dir(site, out, force)
    run = Runner(os.path.abspath(site), cache, jobs, out, keep_bytes=False)
    run.spool = spool_dir(out) if jobs > 1 else None
    run.searching = True
    if jobs > 1 and run.disk.exists("stamps"):  # a warm build links a few files: a helper imports spaCy
        run.helper_modules = ("site_builder.glossary",)  # meanwhile, once the build knows it has work
    try:
        with paused_gc():
            result = build(os.path.abspath(site), Options(drafts, strict, base_url), run)
            if not result.ok:
                return result, None
            if result.unchanged:
                return result, WriteStats(0, len(result.files), 0, {})
            result.files[MARKER] = run.previous(MARKER, file_digest(MARKER_BYTES)) or MARKER_BYTES
            if result.search is not None:
                try:
                    add_bundle(run, result.files, result.search.wait())
                except IndexFailed as exc:
                    if exc.path:  # the file system refused the indexer's folder beside the output
                        return _failed(result, _write_failed(exc.path, exc.reason)), None
                    return _failed(result, error("site.yaml", 0, 0, "search.index", str(exc),
                                                 "set 'search: false' in site.yaml to build without search, "
                                                 "or reinstall the locked dependencies (pagefind-bin)")), None
            try:
                stats = write_tree(out, result.files, run.output_files)
            except WriteFailed as exc:
                return _failed(result, _write_failed(exc.path, exc.reason)), None
            run.save(result, stats.manifest)
            return result, stats
    finally:
        if run.indexer is not None:  # a build that failed after it started: stop it (else it is done)
            run.indexer.stop()
        if run.helper is not None:
            run.helper.close()
        if run.spool:
            shutil.rmtree(run.spool, ignore_errors=True)


def _write_failed(path: str, reason: str) -> Diagnostic:
    return error(_display(path), 0, 0, "output.write", reason,
                 "free some space or fix the folder's permissions, then build again; the previous output is untouched")


def _failed(result: BuildResult, problem: Diagnostic) -> BuildResult:
    return dataclasses.replace(result, diagnostics=sort_diagnostics(result.diagnostics + [problem]), files=None)


def add_bundle(run: Runner, files: dict[str, Any], bundle: Bundle) -> None:
    """The search index's files join the output (those the output already holds as they
    are stay untouched)."""
    for rel, data in bundle.files.items():
        files[rel] = run.previous(rel, file_digest(data)) or data


def _display(path: str) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


@contextlib.contextmanager
def paused_gc(freeze: bool = False):
    """The cyclic garbage collector off for the length of a build. A build allocates
    millions of long-lived objects (documents, tokens, cache entries) and makes almost no
    reference cycles, so the collector's full passes only rescan live data: with it on, a
    warm build spends about a third of its time there. Forked workers inherit the setting.

    ``freeze``, for a builder that stays alive: what the build made is moved out of the
    collector's sight afterwards (``gc.freeze``), or the first allocation after the build
    would pay for a full pass over everything the builder keeps (~40 ms at 5,000 articles).
    Every 50 builds, frozen objects are given back and collected once, so cycles made by
    earlier builds do not pile up."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            paused_gc.builds = getattr(paused_gc, "builds", 0) + 1
            if paused_gc.builds % 50 == 0:
                gc.unfreeze()
                gc.collect()
            gc.freeze()
        if was:
            gc.enable()
