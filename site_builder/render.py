"""Pages: assemble each page's context (a map over headers and linked bodies) and
render it with Jinja2 (autoescape on, StrictUndefined). The only importer of jinja2.

Template lookup: the site's ``templates/`` folder first, then the built-in theme;
a site template can extend the theme's own with ``{% extends "theme/base.html" %}``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from urllib.parse import quote
from dataclasses import dataclass
from typing import Any, Iterable

import jinja2
import jinja2.sandbox
from markupsafe import Markup

from site_builder.config import SiteConfig
from site_builder.errors import Diagnostic, error
from site_builder.index import SiteIndex
from site_builder.link import format_date
from site_builder.markdown import tag_slug
from site_builder.model import (
    ENTRY_TYPES,
    TYPE_LABELS,
    TYPE_NAMES,
    ArticleHeader,
    EntryHeader,
    LinkedDocument,
    Page,
)
from site_builder.related import Backlinks, Pick

THEME = os.path.join(os.path.dirname(__file__), "theme")
THEME_TEMPLATES = os.path.join(THEME, "templates")
THEME_ASSETS = os.path.join(THEME, "assets")


@dataclass(frozen=True)
class Asset:
    source: str  # absolute path
    out_path: str  # fingerprinted, e.g. "assets/site.3f2a9c1b.css"
    data: bytes


def theme_assets() -> dict[str, Asset]:
    """The theme's CSS and JS, fingerprinted by content for long caching."""
    out = {}
    for name in sorted(os.listdir(THEME_ASSETS)):
        path = os.path.join(THEME_ASSETS, name)
        if not os.path.isfile(path) or name.startswith("."):
            continue
        with open(path, "rb") as fh:
            data = fh.read()
        stem, ext = os.path.splitext(name)
        digest = hashlib.sha256(data).hexdigest()[:10]
        out[name] = Asset(path, f"assets/{stem}.{digest}{ext}", data)
    return out


def environment(site: str) -> jinja2.Environment:
    """Built once per build (or per worker), never per page.

    A site's templates are code from whoever can change the site (a pull request from a
    stranger, in CI), so they run in Jinja's immutable sandbox: no attribute that starts
    with an underscore (``cycler.__init__.__globals__`` is refused), no method that
    changes a list or dict, ``range`` capped at 100,000 items. The theme needs nothing
    more than that."""
    loaders: list[jinja2.BaseLoader] = []
    site_templates = os.path.join(site, "templates")
    if os.path.isdir(site_templates):
        loaders.append(jinja2.FileSystemLoader(site_templates))
    theme = jinja2.FileSystemLoader(THEME_TEMPLATES)
    loaders.append(theme)
    loader = jinja2.ChoiceLoader([jinja2.PrefixLoader({"theme": theme}), *loaders])
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        loader=loader,
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["date"] = format_date
    env.filters["isodate"] = lambda d: d.isoformat()
    return env


def template_digest(site: str) -> str:
    """A hash of every template the site can use (the render stage's input)."""
    h = hashlib.sha256()
    for root in (os.path.join(site, "templates"), THEME_TEMPLATES, THEME_ASSETS):
        if not os.path.isdir(root):
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                p = os.path.join(dirpath, name)
                h.update(os.path.relpath(p, root).encode())
                with open(p, "rb") as fh:
                    h.update(hashlib.sha256(fh.read()).digest())
    return h.hexdigest()


def _digest_of(parts: Iterable[str]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\n")
    return h.hexdigest()


def _dep(slugs: Iterable[str], digests: dict[str, str]) -> str:
    """Part of a page's fingerprint: the headers of the pages it lists or previews."""
    return ",".join(f"{s}={digests.get(s.rstrip('!'), '-')}" for s in slugs)


FEED_SIZE = 20


def _json_for_html(data: Any) -> Markup:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


@functools.lru_cache(maxsize=4096)
def _tag_slug(name: str) -> str:
    return tag_slug(name) or "tag"


class Assembler:
    """Makes every page's context from the index, the linked bodies and the backlinks."""

    def __init__(self, config: SiteConfig, index: SiteIndex, assets: dict[str, Asset]):
        self.config = config
        self.index = index
        self.root = config.root
        self.assets = {name: self.root + a.out_path for name, a in assets.items()}
        self._newest_first: list[ArticleHeader] | None = None
        self.site = {
            "title": config.title,
            "description": config.description,
            "language": config.language,
            "base_url": config.base_url,
            "root": self.root,
            "author": config.author or config.title,
            "assets": self.assets,
            "nav": [
                {"title": "Articles", "url": self.root},
                {"title": "Glossary", "url": self.root + "glossary/"},
                {"title": "Tags", "url": self.root + "tags/"},
            ],
        }

    # -- small views of headers ------------------------------------------

    def tag(self, name: str) -> dict[str, str]:
        slug = _tag_slug(name)
        return {"name": name, "slug": slug, "url": f"{self.root}tags/{quote(slug)}/"}

    def article_card(self, a: ArticleHeader) -> dict[str, Any]:
        return {
            "kind": "article", "slug": a.slug, "title": a.title, "url": self.index.url(a.slug), "date": a.date,
            "summary": a.summary, "byline": a.byline, "tags": [self.tag(t) for t in a.tags],
        }

    def entry_card(self, e: EntryHeader) -> dict[str, Any]:
        return {
            "kind": "entry", "slug": e.slug, "title": e.title, "url": self.index.url(e.slug), "summary": e.summary,
            "type": e.type, "type_name": TYPE_NAMES[e.type], "aliases": list(e.aliases),
        }

    def card(self, h: ArticleHeader | EntryHeader) -> dict[str, Any]:
        return self.article_card(h) if isinstance(h, ArticleHeader) else self.entry_card(h)

    def previews(self, slugs: Iterable[str]) -> Markup:
        """The preview cards' data for the links on one page (read by preview.js)."""
        data = {}
        for slug in sorted(set(slugs)):
            h = self.index.header(slug)
            if h is None:
                continue
            if isinstance(h, EntryHeader):
                data[slug] = {"title": h.title, "type": TYPE_NAMES[h.type], "summary": h.summary,
                              "url": self.index.url(slug)}
            else:
                data[slug] = {"title": h.title, "type": "Article · " + format_date(h.date),
                              "summary": h.summary, "url": self.index.url(slug)}
        return _json_for_html(data)

    def _sorted_articles(self) -> list[ArticleHeader]:
        """Newest first (then by title and slug); computed once per assembler."""
        if self._newest_first is None:
            self._newest_first = sorted(self.index.articles.values(),
                                        key=lambda a: (-a.date.toordinal(), a.title.casefold(), a.slug))
        return self._newest_first

    # -- pages ----------------------------------------------------------

    def pages(self, linked: dict[tuple[str, str], LinkedDocument], backlinks: Backlinks,
              related: dict[str, list[Pick]], digests: dict[str, str], body_keys: dict[tuple[str, str], str]
              ) -> list[Page]:
        """Every page with its fingerprint parts; contexts are made lazily.

        ``digests`` maps a slug to a hash of its header; ``body_keys`` maps (kind, slug) to
        the key of its linked body. A page's deps name exactly the headers and bodies it shows."""
        pages: list[Page] = []
        articles = self._sorted_articles()
        entries = sorted(self.index.entries.values(), key=lambda e: (e.title.casefold(), e.slug))
        all_articles = self.all_articles_digest(digests)
        all_entries = _digest_of(f"{e.slug}={digests[e.slug]}" for e in entries)

        def dep(slugs: Iterable[str]) -> str:
            return _dep(slugs, digests)

        pages.append(Page("index.html", "index.html", ("index", all_articles), lambda: {
            "page": {"title": self.config.title, "url": self.root, "description": self.config.description, "kind": "index"},
            "articles": [self.article_card(a) for a in articles],
        }))
        for a in articles:
            pages.append(self.article_page(a, linked, backlinks, related, digests, body_keys))
        groups_deps = ("glossary_index", all_entries)
        pages.append(Page("glossary/index.html", "glossary_index.html", groups_deps,
                          functools.partial(self._glossary_index_context, entries)))
        for e in entries:
            pages.append(self.entry_page(e, linked, backlinks, digests, body_keys, all_articles))
        tags: dict[str, list[ArticleHeader]] = {}
        names: dict[str, set[str]] = {}
        for a in articles:
            for t in a.tags:
                slug = self.tag(t)["slug"]
                tags.setdefault(slug, []).append(a)
                names.setdefault(slug, set()).add(t)
        tag_list = []
        for slug in sorted(tags):
            members = tags[slug]
            tag = {**self.tag(min(names[slug])), "count": len(members)}
            tag_list.append(tag)
            pages.append(Page(f"tags/{slug}/index.html", "tag.html", ("tag", str(tag), dep(a.slug for a in members)),
                              functools.partial(self._tag_context, tag, members)))
        pages.append(Page("tags/index.html", "tags.html", ("tags", str(tag_list)), lambda: {
            "page": {"title": "Tags", "url": self.root + "tags/", "description": "Every tag", "kind": "tags"},
            "tags": tag_list,
        }))
        pages.append(Page("404.html", "404.html", ("404",), lambda: {
            "page": {"title": "Page not found", "url": self.root + "404.html", "description": "", "kind": "404"},
        }))
        pages.append(self.feed_page(articles, linked, digests, body_keys))
        pages.append(Page("sitemap.xml", "sitemap.xml", ("sitemap", all_articles, all_entries, str(tag_list)),
                          functools.partial(self._sitemap_context, articles, entries, tag_list)))
        return pages

    def all_articles_digest(self, digests: dict[str, str]) -> str:
        return _digest_of(f"{a.slug}={digests[a.slug]}" for a in self._sorted_articles())

    def article_page(self, a: ArticleHeader, linked: dict, backlinks: Backlinks, related: dict[str, list[Pick]],
                     digests: dict[str, str], body_keys: dict) -> Page:
        doc = linked[("article", a.slug)]
        picks = related.get(a.slug, [])
        referenced = backlinks.referenced_by.get(a.slug, ())
        preview_slugs = sorted(set(doc.entities) | {x.target for x in doc.xrefs} | {p.header.slug for p in picks}
                               | {h.slug for h in referenced})
        deps = ("article", digests[a.slug], body_keys[("article", a.slug)],
                _dep((p.header.slug + ("!" if p.explicit else "") for p in picks), digests),
                _dep((h.slug for h in referenced), digests), _dep(preview_slugs, digests))
        return Page(f"articles/{a.slug}/index.html", "article.html", deps,
                    functools.partial(self._article_context, a, doc, picks, referenced, preview_slugs))

    def entry_page(self, e: EntryHeader, linked: dict, backlinks: Backlinks, digests: dict[str, str],
                   body_keys: dict, all_articles: str) -> Page:
        doc = linked[("entry", e.slug)]
        mentions = backlinks.mentioned_in.get(e.slug, ())
        referenced = backlinks.referenced_by.get(e.slug, ())
        preview_slugs = sorted(set(doc.entities) | {x.target for x in doc.xrefs})
        deps = ("entry", digests[e.slug], body_keys[("entry", e.slug)],
                backlinks.signatures.get(e.slug, ""), all_articles,
                _dep((h.slug for h in referenced), digests), _dep(preview_slugs, digests))
        return Page(f"glossary/{e.slug}/index.html", "entry.html", deps,
                    functools.partial(self._entry_context, e, doc, mentions, referenced, preview_slugs))

    def feed_page(self, articles: list[ArticleHeader], linked: dict, digests: dict[str, str], body_keys: dict) -> Page:
        newest = articles[:FEED_SIZE]
        return Page("feed.xml", "feed.xml",
                    ("feed", _dep((a.slug for a in newest), digests),
                     ",".join(body_keys[("article", a.slug)] for a in newest)),
                    functools.partial(self._feed_context, newest, linked))

    def newest(self) -> list[ArticleHeader]:
        return self._sorted_articles()[:FEED_SIZE]

    def _article_context(self, a: ArticleHeader, doc: LinkedDocument, picks: list[Pick],
                         referenced: tuple, preview_slugs: list[str]) -> dict[str, Any]:
        return {
            "page": {"title": a.title, "url": self.index.url(a.slug), "description": a.summary, "kind": "article"},
            "article": {
                **self.article_card(a),
                "source": a.source,
                "image": None if a.image is None else {
                    "src": a.image.src if "://" in a.image.src or a.image.src.startswith("mailto:")
                    else self._local(a.image.src),
                    "alt": a.image.alt, "caption": a.image.caption, "credit": a.image.credit},
                "body": Markup(doc.body_html),
            },
            "related": [{**self.card(p.header), "explicit": p.explicit} for p in picks],
            "referenced_by": [self.card(h) for h in referenced],
            "previews": self.previews(preview_slugs),
        }

    def _glossary_index_context(self, entries: list[EntryHeader]) -> dict[str, Any]:
        groups = []
        for t in ENTRY_TYPES:
            members = [self.entry_card(e) for e in entries if e.type == t]
            if members:
                groups.append({"type": t, "label": TYPE_LABELS[t], "entries": members})
        return {
            "page": {"title": "Glossary", "url": self.root + "glossary/",
                     "description": f"Every person, organisation and place explained on {self.config.title}.",
                     "kind": "glossary_index"},
            "groups": groups,
            "previews": self.previews(e.slug for e in entries),
        }

    def _entry_context(self, e: EntryHeader, doc: LinkedDocument, mentions: tuple, referenced: tuple,
                       preview_slugs: list[str]) -> dict[str, Any]:
        mentioned = {b.source.slug for b in mentions}
        return {
            "page": {"title": e.title, "url": self.index.url(e.slug), "description": e.summary, "kind": "entry"},
            "entry": {**self.entry_card(e), "body": Markup(doc.body_html)},
            "mentioned_in": [{**self.card(b.source), "sentence": b.sentence} for b in mentions],
            "referenced_by": [self.card(h) for h in referenced if h.slug not in mentioned],
            "previews": self.previews(preview_slugs),
        }

    def _tag_context(self, tag: dict[str, Any], members: list[ArticleHeader]) -> dict[str, Any]:
        return {
            "page": {"title": f"Tag: {tag['name']}", "url": tag["url"],
                     "description": f"Articles tagged {tag['name']}", "kind": "tag"},
            "tag": tag,
            "articles": [self.article_card(a) for a in members],
        }

    def _feed_context(self, newest: list[ArticleHeader], linked: dict) -> dict[str, Any]:
        return {
            "page": {"title": self.config.title, "url": self.root + "feed.xml", "description": "", "kind": "feed"},
            "updated": newest[0].date if newest else None,
            "entries": [{**self.article_card(a), "abs_url": self.config.absolute(self.index.url(a.slug)),
                         "body": Markup(linked[("article", a.slug)].body_html)} for a in newest],
            "feed_url": self.config.absolute(self.root + "feed.xml"),
            "home_url": self.config.absolute(self.root),
        }

    def _sitemap_context(self, articles: list[ArticleHeader], entries: list[EntryHeader],
                         tag_list: list[dict[str, Any]]) -> dict[str, Any]:
        urls = [self.root] + [self.index.url(a.slug) for a in articles] + [self.root + "glossary/"] \
            + [self.index.url(e.slug) for e in entries] + [t["url"] for t in tag_list] + [self.root + "tags/"]
        lastmod = {self.index.url(a.slug): a.date for a in articles}
        return {
            "page": {"title": "", "url": self.root + "sitemap.xml", "description": "", "kind": "sitemap"},
            "urls": [{"loc": self.config.absolute(u), "lastmod": lastmod.get(u)} for u in sorted(set(urls))],
        }

    def _local(self, src: str) -> str:
        return src if not src.startswith("/") else self.root + src.lstrip("/")


def render_page(env: jinja2.Environment, template_name: str, context: dict[str, Any], site: dict[str, Any]
                ) -> tuple[bytes | None, Diagnostic | None]:
    """The page's bytes, or the template mistake that stopped it (never a traceback)."""
    try:
        template = env.get_template(template_name)
        return template.render(site=site, **context).encode("utf-8"), None
    except jinja2.TemplateSyntaxError as exc:
        return None, error(_template_path(exc.filename, exc.name), exc.lineno or 1, 1, "template.syntax",
                           f"template error: {exc.message}", "fix the Jinja2 syntax on this line")
    except jinja2.TemplateNotFound as exc:
        return None, error(f"templates/{template_name}", 0, 0, "template.missing",
                           f"template '{exc.name}' was not found", "add it to templates/ or remove the reference")
    except jinja2.sandbox.SecurityError as exc:
        filename, line = _template_frame(exc)
        return None, error(filename or f"templates/{template_name}", line, 1, "template.unsafe",
                           f"template refused by the sandbox: {exc.message or exc}",
                           "templates may read the values they are given, not Python internals "
                           "(names starting with '_') or change lists and dicts (README: Safety)")
    except jinja2.TemplateError as exc:
        filename, line = _template_frame(exc)
        return None, error(filename or f"templates/{template_name}", line, 1, "template.render",
                           f"template failed: {exc.message or exc}",
                           "check the variable names this template uses (see the README's template context)")
    except RecursionError as exc:
        filename, line = _template_frame(exc)
        return None, error(filename or f"templates/{template_name}", line, 1, "template.render",
                           "template failed: it calls itself without end (a macro or include that recurses)",
                           "give the recursion a condition that stops it")
    except Exception as exc:  # noqa: BLE001 - a template's own mistake ({{ 1 // 0 }}), never a traceback
        filename, line = _template_frame(exc)
        return None, error(filename or f"templates/{template_name}", line, 1, "template.render",
                           f"template failed: {type(exc).__name__}: {exc}",
                           "fix the expression on this line")


def _template_path(filename: str | None, name: str | None) -> str:
    if filename:
        for root, prefix in ((THEME_TEMPLATES, "theme:templates/"), ):
            if os.path.abspath(filename).startswith(root + os.sep):
                return prefix + os.path.relpath(filename, root).replace(os.sep, "/")
        cwd_rel = os.path.relpath(filename)
        return cwd_rel.replace(os.sep, "/")
    return f"templates/{name or '?'}"


def _template_frame(exc: BaseException) -> tuple[str | None, int]:
    """The innermost template file and line in a Jinja traceback."""
    found: tuple[str | None, int] = (None, 0)
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".html", ".xml")):
            found = (_template_path(filename, None), tb.tb_lineno)
        tb = tb.tb_next
    return found
