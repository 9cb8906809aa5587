"""Page types, declared once: every page of the site, what it shows, and its context.

A page type is a function from the site's values to page keys (one page per key: an
article's slug, a tag) and a function that makes the page for one key. A ``Page`` names
its template, where it is written, the *inputs* it shows, and how to make its context.
Inputs are names of the site's versioned values (``Site.versions``):

    header:<slug>      what other pages show of a page: title, date, summary, tags, type…
    headers            every page's header at once (for pages that list many others)
    article headers, entry headers      every article's, every entry's header at once
    body:<slug>        a linked body (its HTML, mentions, entities, references)
    mentions:<entry>   an entry's "Mentioned in" list     referenced:<slug>  its "Referenced by"
    picks:<slug>       an article's related reading       tag:<slug>         a tag's articles
    together:<entry>   an entry's "Often mentioned with"  image:<path>       an image of content/ (its size)
    articles, entries, tags                               the lists of every article, entry, tag

A page's fingerprint is the digest of its template and the versions of its inputs, so a
page is rendered again exactly when something it shows changed, and an incremental build
knows which pages an edit touches by looking its changed inputs up (build.py). Adding a
page type is one function here (and its template): see the README, "Adding a page type".
"""

from __future__ import annotations

import itertools
import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable
from urllib.parse import quote

from markupsafe import Markup

from site_builder.backlinks import Backlinks
from site_builder.markdown import typeset
from site_builder.config import SiteConfig
from site_builder.index import SiteIndex, tag_page_slug
from site_builder.model import (
    ARTICLE,
    ENTRY,
    ENTRY_TYPES,
    TYPE_NAMES,
    ArticleHeader,
    BodyImage,
    EntryHeader,
    LinkedDocument,
    digest,
)
from site_builder import structured
from site_builder.refs import Resolved, plain_image, resolve_body
from site_builder.related import Pick
from site_builder.render import ICON_LINKS, MANIFEST_ICONS, Tools, format_date, theme_icons

FEED_SIZE = 20
# How wide a body image shows: the text column (68ch of the body font, at most ~46rem), else the screen.
BODY_IMAGE_SIZES = "(min-width: 50rem) 46rem, 100vw"

@dataclass(frozen=True)
class Page:
    out_path: str  # relative to the output folder, e.g. "articles/deal/index.html"
    template: str
    inputs: tuple[str, ...]  # the versioned site values it shows (see the module's docstring)
    context: Callable[..., dict[str, Any]] = field(compare=False)  # context(site, tools): made only to render


@dataclass(frozen=True)
class PageType:
    name: str
    keys: Callable[["Site"], Iterable[str]]  # one page per key
    page: Callable[["Site", str], Page]


class Lists:
    """The site's lists, made once per index: articles newest first, entries by title,
    tags by slug (each with its name and articles), and the versions of those lists."""

    def __init__(self, index: SiteIndex):
        self.articles = sorted(index.articles.values(), key=lambda a: (-a.date.toordinal(), a.title.casefold(), a.slug))
        self.entries = sorted(index.entries.values(), key=lambda e: (e.title.casefold(), e.slug))
        tags: dict[str, list[ArticleHeader]] = {}
        names: dict[str, set[str]] = {}
        for a in self.articles:
            for t in a.tags:
                slug = tag_page_slug(t)
                tags.setdefault(slug, []).append(a)
                names.setdefault(slug, set()).add(t)
        self.tags = {slug: (min(names[slug]), tags[slug]) for slug in sorted(tags)}  # slug -> (name, articles)
        self.versions = {"articles": digest(*(a.slug for a in self.articles)),
                         "entries": digest(*(e.slug for e in self.entries)),
                         "tags": digest(*((slug, name, len(members)) for slug, (name, members) in self.tags.items()))}
        for slug, (name, members) in self.tags.items():
            self.versions["tag:" + slug] = digest(name, *(a.slug for a in members))


class Versions:
    """The version of every value a page can show, in parts (each part a dict one stage
    made: headers and lists, bodies, backlinks, related reading), so that comparing two
    runs skips the parts that are the very same object."""

    def __init__(self, *parts: dict[str, str]):
        self.parts = parts

    def get(self, name: str, default: str = "") -> str:
        for part in self.parts:
            v = part.get(name)
            if v is not None:
                return v
        return default

    def merged(self) -> dict[str, str]:
        """Every name's version in one dict (made once)."""
        merged = self.__dict__.get("_merged")
        if merged is None:
            merged = {}
            for part in reversed(self.parts):  # the first part that has a name wins, as in get()
                merged.update(part)
            self._merged = merged
        return merged

    def of(self, names: Iterable[str]) -> list[str]:
        """The versions of ``names`` ("" for a name no part has), for a page's fingerprint."""
        return list(map(self.merged().get, names, itertools.repeat("")))

    def changed(self, older: "Versions") -> set[str]:
        """The names whose version differs from ``older``'s (new and gone ones included)."""
        out: set[str] = set()
        for new, old in zip(self.parts, older.parts):
            if new is not old:
                out.update(n for n, v in new.items() if old.get(n) != v)
                out.update(old.keys() - new.keys())
        return out


@dataclass
class Site:
    """The values every page is made from, as one build left them."""

    config: SiteConfig
    index: SiteIndex
    lists: Lists
    linked: dict[tuple[str, str], LinkedDocument]
    resolved: dict[tuple[str, str], Resolved]
    backlinks: Backlinks
    picks: dict[str, list[Pick]]
    assets: dict[str, str]  # asset name -> fingerprinted output path
    versions: Versions = field(default_factory=Versions)
    together: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)  # "together:<entry>"
    image_sizes: dict[str, tuple[int, int] | None] = field(default_factory=dict)  # "image:<out path>"
    srcsets: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)  # smaller copies, by image

    def __post_init__(self) -> None:
        self.root = self.config.root
        self.title = typeset(self.config.title)  # as pages show it (site.yaml's text is typeset like front matter)
        self.articles, self.entries, self.tags = self.lists.articles, self.lists.entries, self.lists.tags
        # every card, tag and preview made once per build (an entry page lists every article that
        # mentions it: at 5,000 articles, ~80,000 cards of the same few thousand headers)
        self._made: dict[tuple[str, str], Any] = {}
        self.values = {  # what every template sees as `site`
            "title": self.title, "description": typeset(self.config.description), "language": self.config.language,
            "base_url": self.config.base_url, "root": self.root, "author": typeset(self.config.author) or self.title,
            "assets": {name: self.root + path for name, path in self.assets.items()},
            "icons": [{"rel": rel, "url": self.root + name, "type": type_, "sizes": sizes}
                      for name, rel, type_, sizes in ICON_LINKS],
            "nav": [{"title": "Articles", "url": self.root}, {"title": "Glossary", "url": self.root + "glossary/"},
                    {"title": "Tags", "url": self.root + "tags/"}],
            "search": self.root + "search/" if self.config.search else "",  # the search page (none: off)
        }

    # small views of headers, shared by the contexts

    def url(self, slug: str) -> str:
        return self.index.url(slug)

    def _once(self, kind: str, key: str, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``make()``, made once per build for (kind, key); each caller gets its own copy."""
        made = self._made.get((kind, key))
        if made is None:
            made = self._made[(kind, key)] = make()
        return dict(made)

    def tag(self, name: str) -> dict[str, str]:
        def make() -> dict[str, str]:
            slug = tag_page_slug(name)
            return {"name": name, "slug": slug, "url": f"{self.root}tags/{quote(slug)}/"}
        return self._once("tag", name, make)

    def article_card(self, a: ArticleHeader) -> dict[str, Any]:
        def make() -> dict[str, Any]:
            modified = a.modified
            return {"kind": "article", "slug": a.slug, "title": typeset(a.title), "url": self.url(a.slug),
                    "date": a.date, "updated": modified if modified != a.date else None, "modified": modified,
                    "draft": a.draft, "summary": typeset(a.summary), "byline": typeset(a.byline),
                    "tags": tuple(self.tag(t) for t in a.tags)}
        return self._once("article", a.slug, make)

    def absolute(self, url: str) -> str:
        return self.config.absolute(url)

    def local_image(self, src: str) -> str | None:
        """The output path of a lead image from content/ ("/images/a.svg" -> "images/a.svg")."""
        if "://" in src or not src.startswith("/") or src.startswith("//"):
            return None
        return src.split("?", 1)[0].split("#", 1)[0].lstrip("/")

    def image_url(self, src: str) -> str:
        """A lead image's address as the page writes it (a content/ path under the root)."""
        local = "://" not in src and not src.startswith("mailto:") and src.startswith("/")
        return self.root + src.lstrip("/") if local else src

    def ld(self, *items: dict[str, Any]) -> Markup:
        """JSON-LD for a page (one object, or a list of them), safe inside <script>."""
        return _json_for_html(items[0] if len(items) == 1 else list(items))

    def trail(self, *steps: tuple[str, str]) -> dict[str, Any]:
        """Breadcrumbs from the home page through ``steps`` (name, root-relative URL)."""
        return structured.breadcrumbs([(self.title, self.absolute(self.root))]
                                      + [(name, self.absolute(url)) for name, url in steps])

    def entry_card(self, e: EntryHeader) -> dict[str, Any]:
        return self._once("entry", e.slug, lambda: {
            "kind": "entry", "slug": e.slug, "title": typeset(e.title), "url": self.url(e.slug),
            "summary": typeset(e.summary), "type": e.type, "type_name": TYPE_NAMES[e.type],
            "aliases": tuple(typeset(x) for x in e.aliases)})

    def card(self, h: ArticleHeader | EntryHeader) -> dict[str, Any]:
        return self.article_card(h) if isinstance(h, ArticleHeader) else self.entry_card(h)

    def previews(self, slugs: Iterable[str]) -> Markup:
        """The preview cards' data for the links on one page (read by preview.js)."""
        parts = []  # the JSON of {slug: card} with sorted keys, as _json_for_html writes it, from
        for slug in sorted(set(slugs)):  # each card's JSON made once per build
            made = self._made.get(("preview", slug))
            if made is None:
                h = self.index.header(slug)
                made = self._made["preview", slug] = "" if h is None else _json_text(slug) + ":" + _json_text({
                    "title": typeset(h.title), "summary": typeset(h.summary), "url": self.url(slug),
                    "type": TYPE_NAMES[h.type] if isinstance(h, EntryHeader) else "Article · " + format_date(h.date)})
            if made:
                parts.append(made)
        return Markup(_escape_json("{" + ",".join(parts) + "}"))

    def body(self, kind: str, slug: str, tools: Tools) -> Markup:
        """A linked body with its cross-references and related blocks put in (the blocks
        as cards of the theme's card_list, like every other card)."""
        key = (kind, slug)

        def cards(headers: list[ArticleHeader | EntryHeader]) -> str:
            return tools.card_list([self.card(h) for h in headers], "related-block") + "\n"
        lead = kind == ARTICLE and self.index.articles[slug].image is not None
        return Markup(resolve_body(self.linked[key], self.resolved[key], self.index, cards,
                                   lambda im: self.body_image(im, lead)))

    def body_image(self, im: BodyImage, lead: bool) -> str:
        """A body image with its width and height (read from the file: no layout shift),
        its smaller copies as a ``srcset``, and ``loading="lazy"`` unless it is the first
        thing a reader sees of the body (its first image, in the introduction, on a page
        with no lead image above it)."""
        size = self.image_sizes.get(im.out_path)
        attrs: list[tuple[str, str | int]] = []
        if size is not None:
            attrs += [("width", size[0]), ("height", size[1])]
            copies = self.srcsets.get(im.out_path)
            if copies:
                srcset = [f"{self.root}{quote(p)} {w}w" for p, w in copies] + [f"{im.src} {size[0]}w"]
                attrs += [("srcset", ", ".join(srcset)), ("sizes", BODY_IMAGE_SIZES)]
        if lead or not im.first:
            attrs.append(("loading", "lazy"))
        return plain_image(im, *attrs, ("decoding", "async"))

    def image_inputs(self, kind: str, slug: str) -> tuple[str, ...]:
        """The images of content/ a body shows, as page inputs (an edited file re-renders the page)."""
        return tuple(dict.fromkeys("image:" + im.out_path for im in self.linked[(kind, slug)].images))

    def targets(self, kind: str, slug: str) -> list[str]:
        return self.resolved[(kind, slug)].found()


TOC_MIN_SECTIONS = 3  # articles with fewer sections get no table of contents
WORDS_PER_MINUTE = 230


def table_of_contents(doc: LinkedDocument) -> list[dict[str, Any]]:
    """The h2 sections (each with its h3s) of a body with at least TOC_MIN_SECTIONS of them."""
    sections: list[dict[str, Any]] = []
    for level, id_, text in doc.toc:
        if level == 2:
            sections.append({"id": id_, "text": text, "children": []})
        elif sections:
            sections[-1]["children"].append({"id": id_, "text": text})
    return sections if len(sections) >= TOC_MIN_SECTIONS else []


def reading_minutes(words: int) -> int:
    return max(1, round(words / WORDS_PER_MINUTE))


def _json_text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _json_for_html(data: Any) -> Markup:
    return Markup(_escape_json(_json_text(data)))


def _escape_json(text: str) -> str:
    """JSON that stays data inside HTML: no <, >, & or ' as themselves (\\u003c…)."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")


def default_icons(config: SiteConfig, replaced: set[str]) -> dict[str, bytes]:
    """The theme's favicon set and a web app manifest, at the site's root, less the files
    the site gives itself in content/ (content/favicon.svg replaces the theme's)."""
    files = {name: data for name, data in theme_icons().items() if name not in replaced}
    if "site.webmanifest" not in replaced:
        manifest = {"name": config.title, "short_name": config.title[:30], "start_url": config.root,
                    "scope": config.root, "display": "browser", "background_color": "#fbfaf7",
                    "theme_color": "#a3161a", "lang": config.language,
                    "icons": [{"src": config.root + name, "sizes": sizes, "type": "image/png"}
                              for name, sizes in MANIFEST_ICONS]}
        text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True)
        files["site.webmanifest"] = (_escape_json(text) + "\n").encode("utf-8")
    return files


class _HeaderNames(dict):
    """slug -> "header:<slug>", made once: thousands of pages name the same few thousand
    headers (at 5,000 articles, 200,000 copies of the same strings would cost ~19 MB, and
    making them a sixth of the time spent assembling pages)."""

    def __missing__(self, slug: str) -> str:
        name = self[slug] = "header:" + slug
        return name


_HEADER_NAMES = _HeaderNames()


def _headers(slugs: Iterable[str]) -> tuple[str, ...]:
    return tuple(map(_HEADER_NAMES.__getitem__, slugs))


# -- the page types ---------------------------------------------------------------------


def home_page(site: Site, key: str) -> Page:
    def context(site: Site, tools: Any) -> dict[str, Any]:
        return {"page": {"title": site.title, "url": site.root, "description": site.values["description"],
                         "kind": "index"},
                "articles": [site.article_card(a) for a in site.articles]}
    return Page("index.html", "index.html", ("articles", "article headers"), context)


def article_page(site: Site, slug: str) -> Page:
    a = site.index.articles[slug]
    doc = site.linked[(ARTICLE, slug)]
    picks = site.picks.get(slug, [])
    shown = set(site.targets(ARTICLE, slug)) | {p.header.slug for p in picks}  # the body's and related reading's
    referenced = [h for h in site.backlinks.referenced_by.get(slug, ()) if h.slug not in shown]
    preview_slugs = sorted(set(doc.entities) | set(site.targets(ARTICLE, slug)) | {p.header.slug for p in picks}
                           | {h.slug for h in referenced})

    def context(site: Site, tools: Any) -> dict[str, Any]:
        image = None
        if a.image is not None:
            local = site.local_image(a.image.src) or ""
            size = site.image_sizes.get(local) or (None, None)
            image = {"src": site.image_url(a.image.src), "alt": a.image.alt, "width": size[0], "height": size[1],
                     "caption": typeset(a.image.caption), "credit": typeset(a.image.credit), "srcset": ""}
            if site.srcsets.get(local) and size[0]:
                image["srcset"] = ", ".join([f"{site.root}{quote(p)} {w}w" for p, w in site.srcsets[local]]
                                            + [f"{image['src']} {size[0]}w"])
        card = site.article_card(a)
        return {
            "page": {"title": card["title"], "url": site.url(slug), "description": card["summary"], "kind": "article",
                     "image": {"url": site.absolute(image["src"]), "alt": image["alt"]} if image else None},
            "article": {**card, "source": typeset(a.source), "image": image,
                        "corrections": [{"date": c.date, "text": typeset(c.text)} for c in a.corrections],
                        "body": site.body(ARTICLE, slug, tools), "toc": table_of_contents(doc),
                        "reading_minutes": reading_minutes(doc.words)},
            "structured_data": site.ld(article_ld(site, a, image), site.trail((card["title"], site.url(slug)))),
            "related": [{**site.card(p.header), "explicit": p.explicit} for p in picks],
            "referenced_by": [site.card(h) for h in referenced],
            "previews": site.previews(preview_slugs),
        }
    lead = site.local_image(a.image.src) if a.image is not None else None
    return Page(f"articles/{slug}/index.html", "article.html",
                ("header:" + slug, "body:" + slug, "picks:" + slug, "referenced:" + slug) + _headers(preview_slugs)
                + (("image:" + lead,) if lead else ()) + site.image_inputs(ARTICLE, slug), context)


def article_ld(site: Site, a: ArticleHeader, image: dict[str, str] | None) -> dict[str, Any]:
    return structured.news_article(
        url=site.absolute(site.url(a.slug)), headline=typeset(a.title), description=typeset(a.summary),
        published=a.date, modified=a.modified, image=site.absolute(image["src"]) if image else None,
        byline=typeset(a.byline),
        site_title=site.title, home=site.absolute(site.root), logo=site.absolute(site.root + "icon-512.png"),
        tags=a.tags, language=site.config.language)


def glossary_name(site: Site) -> str:
    return f"{site.title}: glossary"


def index_letter(sort_key: str) -> str:
    """The A–Z section an entry is filed under ("#" for anything but a Latin letter)."""
    first = unicodedata.normalize("NFKD", sort_key.strip()[:1]).encode("ascii", "ignore").decode("ascii").upper()
    return first if len(first) == 1 and "A" <= first <= "Z" else "#"


_STRAIGHT = str.maketrans("\u2018\u2019\u201c\u201d", "''\"\"")


def _folded(text: str) -> str:
    """Text as the filter box compares it: no accents, no case, straight quotes."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold() \
        .translate(_STRAIGHT)


def glossary_letters(site: Site) -> list[dict[str, Any]]:
    """The entries in A–Z sections (people by surname, ``sort_as`` first), "#" last."""
    ordered = sorted(site.entries, key=lambda e: (index_letter(e.sort_key) == "#", _folded(e.sort_key), e.slug))
    letters: dict[str, list[dict[str, Any]]] = {}
    for e in ordered:
        card = site.entry_card(e)
        card["filter"] = _folded(" ".join((e.title, *e.aliases, TYPE_NAMES[e.type])))
        letters.setdefault(index_letter(e.sort_key), []).append(card)
    return [{"letter": k, "id": "letter-" + (k.lower() if k != "#" else "other"), "entries": v}
            for k, v in letters.items()]


def glossary_index_page(site: Site, key: str) -> Page:
    def context(site: Site, tools: Any) -> dict[str, Any]:
        letters = glossary_letters(site)
        present = {g["letter"] for g in letters}
        alphabet = [{"letter": c, "id": "letter-" + c.lower(), "present": c in present}
                    for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
        if "#" in present:
            alphabet.append({"letter": "#", "id": "letter-other", "present": True})
        description = f"Every person, organisation and place explained on {site.title}."
        url = site.root + "glossary/"
        terms = structured.defined_term_set(name=glossary_name(site), url=site.absolute(url), description=description,
                                            terms=[(typeset(e.title), site.absolute(site.url(e.slug)))
                                                   for e in site.entries])
        return {"page": {"title": "Glossary", "url": url, "description": description, "kind": "glossary_index"},
                "letters": letters, "alphabet": alphabet, "count": len(site.entries),
                "previews": site.previews(e.slug for e in site.entries),
                "structured_data": site.ld(terms, site.trail(("Glossary", url)))}
    return Page("glossary/index.html", "glossary_index.html", ("entries", "entry headers"), context)


def entry_page(site: Site, slug: str) -> Page:
    e = site.index.entries[slug]
    doc = site.linked[(ENTRY, slug)]
    mentions = site.backlinks.mentioned_in.get(slug, ())
    referenced = site.backlinks.referenced_by.get(slug, ())
    preview_slugs = sorted(set(doc.entities) | set(site.targets(ENTRY, slug))
                           | {s for s, _ in site.together.get(slug, ()) if s in site.index.entries})

    def context(site: Site, tools: Any) -> dict[str, Any]:
        mentioned = {b.source.slug for b in mentions} | set(site.targets(ENTRY, slug))  # each page once
        card = site.entry_card(e)
        return {
            "page": {"title": card["title"], "url": site.url(slug), "description": card["summary"], "kind": "entry"},
            "entry": {**card, "body": site.body(ENTRY, slug, tools)},
            "structured_data": site.ld(structured.defined_term(
                name=card["title"], url=site.absolute(site.url(slug)), description=card["summary"],
                aliases=card["aliases"],
                set_name=glossary_name(site), set_url=site.absolute(site.root + "glossary/")),
                site.trail(("Glossary", site.root + "glossary/"), (card["title"], site.url(slug)))),
            "mentioned_in": [{**site.card(b.source), "sentence": b.sentence} for b in mentions],
            "together": [{**site.entry_card(site.index.entries[s]), "count": n}
                         for s, n in site.together.get(slug, ()) if s in site.index.entries],
            "referenced_by": [site.card(h) for h in referenced if h.slug not in mentioned],
            "previews": site.previews(preview_slugs),
        }
    shown = {b.source.slug for b in mentions} | {h.slug for h in referenced} | set(preview_slugs)  # cards, previews
    return Page(f"glossary/{slug}/index.html", "entry.html",
                ("header:" + slug, "body:" + slug, "mentions:" + slug, "referenced:" + slug, "together:" + slug)
                + _headers(sorted(shown)) + site.image_inputs(ENTRY, slug), context)


def tag_page(site: Site, slug: str) -> Page:
    name, members = site.tags[slug]

    def context(site: Site, tools: Any) -> dict[str, Any]:
        tag = {**site.tag(name), "count": len(members)}
        return {"page": {"title": f"Tag: {name}", "url": tag["url"], "description": f"Articles tagged {name}",
                         "kind": "tag"},
                "tag": tag, "articles": [site.article_card(a) for a in members],
                "structured_data": site.ld(site.trail(("Tags", site.root + "tags/"), (name, tag["url"])))}
    return Page(f"tags/{slug}/index.html", "tag.html", ("tag:" + slug,) + _headers(a.slug for a in members), context)


def tags_page(site: Site, key: str) -> Page:
    def context(site: Site, tools: Any) -> dict[str, Any]:
        return {"page": {"title": "Tags", "url": site.root + "tags/", "description": "Every tag", "kind": "tags"},
                "tags": [{**site.tag(name), "count": len(members)} for name, members in site.tags.values()]}
    return Page("tags/index.html", "tags.html", ("tags",), context)


def search_page(site: Site, key: str) -> Page:
    """``/search/``: the form, and the results that search.js finds with Pagefind."""
    def context(site: Site, tools: Any) -> dict[str, Any]:
        return {"page": {"title": "Search", "url": site.root + "search/", "kind": "search",
                         "description": f"Search the articles and the glossary of {site.title}."},
                "bundle": site.root + "pagefind/",
                "filters": {"type": [TYPE_NAMES[t] for t in ENTRY_TYPES if any(e.type == t for e in site.entries)],
                            "tag": [name for name, _ in site.tags.values()],
                            "year": sorted({str(a.date.year) for a in site.articles}, reverse=True)}}
    return Page("search/index.html", "search.html", ("headers", "tags"), context)


def not_found_page(site: Site, key: str) -> Page:
    def context(site: Site, tools: Any) -> dict[str, Any]:
        return {"page": {"title": "Page not found", "url": site.root + "404.html", "description": "", "kind": "404"}}
    return Page("404.html", "404.html", (), context)


def feed_page(site: Site, key: str) -> Page:
    newest = site.articles[:FEED_SIZE]

    def context(site: Site, tools: Any) -> dict[str, Any]:
        return {
            "page": {"title": site.title, "url": site.root + "feed.xml", "description": "", "kind": "feed"},
            "updated": max(a.modified for a in newest) if newest else None,
            "entries": [{**site.article_card(a), "abs_url": site.config.absolute(site.url(a.slug)),
                         "image": feed_image(site, a), "body": site.body(ARTICLE, a.slug, tools)} for a in newest],
            "feed_url": site.config.absolute(site.root + "feed.xml"),
            "home_url": site.config.absolute(site.root),
        }
    shown = [a.slug for a in newest] + [t for a in newest for t in site.targets(ARTICLE, a.slug)]
    images = tuple(dict.fromkeys(n for a in newest for n in site.image_inputs(ARTICLE, a.slug)))
    return Page("feed.xml", "feed.xml", ("articles",) + tuple("body:" + a.slug for a in newest) + _headers(shown)
                + images, context)


IMAGE_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".webp": "image/webp", ".gif": "image/gif", ".avif": "image/avif"}


def feed_image(site: Site, a: ArticleHeader) -> dict[str, str] | None:
    """A lead image for the feed: absolute, with its media type when the name tells it."""
    if a.image is None:
        return None
    url = site.absolute(site.image_url(a.image.src))
    ext = "." + url.rsplit("?", 1)[0].rsplit(".", 1)[-1].lower() if "." in url.rsplit("/", 1)[-1] else ""
    html = Markup('<p><img src="{}" alt="{}"></p>\n').format(url, a.image.alt)
    return {"url": url, "alt": a.image.alt, "type": IMAGE_TYPES.get(ext, ""), "html": html}


def sitemap_page(site: Site, key: str) -> Page:
    def context(site: Site, tools: Any) -> dict[str, Any]:
        urls = [site.root] + [site.url(a.slug) for a in site.articles] + [site.root + "glossary/"] \
            + [site.url(e.slug) for e in site.entries] + [site.tag(name)["url"] for name, _ in site.tags.values()] \
            + [site.root + "tags/"] + ([site.root + "search/"] if site.config.search else [])
        lastmod = {site.url(a.slug): a.modified for a in site.articles}
        return {"page": {"title": "", "url": site.root + "sitemap.xml", "description": "", "kind": "sitemap"},
                "urls": [{"loc": site.config.absolute(u), "lastmod": lastmod.get(u)} for u in sorted(set(urls))]}
    return Page("sitemap.xml", "sitemap.xml", ("articles", "entries", "tags", "headers"), context)


def _one(site: Site) -> list[str]:
    return [""]


PAGE_TYPES: tuple[PageType, ...] = (
    PageType("home", _one, home_page),
    PageType("article", lambda site: [a.slug for a in site.articles], article_page),
    PageType("glossary index", _one, glossary_index_page),
    PageType("entry", lambda site: [e.slug for e in site.entries], entry_page),
    PageType("tag", lambda site: list(site.tags), tag_page),
    PageType("tags", _one, tags_page),
    PageType("search", lambda site: [""] if site.config.search else [], search_page),
    PageType("404", _one, not_found_page),
    PageType("feed", _one, feed_page),
    PageType("sitemap", _one, sitemap_page),
)


def assemble(site: Site, page_types: Iterable[PageType] = PAGE_TYPES) -> dict[tuple[str, str], Page]:
    """Every page of the site, by (page type, key), in the order they are declared."""
    return {(pt.name, key): pt.page(site, key) for pt in page_types for key in pt.keys(site)}


def remake(site: Site, which: Iterable[tuple[str, str]], page_types: Iterable[PageType] = PAGE_TYPES
           ) -> dict[tuple[str, str], Page]:
    """The pages ``which`` names, made again from ``site`` (their inputs may have changed)."""
    makers = {pt.name: pt.page for pt in page_types}
    return {(name, key): makers[name](site, key) for name, key in which}
