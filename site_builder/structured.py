"""Structured data for search engines and link previews: JSON-LD (schema.org NewsArticle,
BreadcrumbList, DefinedTerm in a DefinedTermSet) made from plain values, absolute URLs only.

The page templates put it in ``<script type="application/ld+json">`` through ``assemble``'s
JSON-for-HTML encoding (``<``, ``>`` and ``&`` escaped), so no title can close the element.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Iterable

SCHEMA = "https://schema.org"
# A byline naming a team rather than a person ("Explainer desk", "Staff") is an Organization.
_TEAM = re.compile(r"\b(desk|staff|team|newsroom|editors|editorial|bureau|reporters|agency)\b", re.I)


def author(byline: str, fallback: str) -> list[dict[str, str]]:
    """The authors a byline names ("A and B", "A, B and C"), else the site as an Organization."""
    if not byline.strip():
        return [{"@type": "Organization", "name": fallback}]
    names = [n.strip() for n in re.split(r",|\band\b|&", re.sub(r"^\s*by\s+", "", byline, flags=re.I)) if n.strip()]
    if _TEAM.search(byline) or not names:
        return [{"@type": "Organization", "name": byline.strip()}]
    return [{"@type": "Person", "name": n} for n in names]


def news_article(*, url: str, headline: str, description: str, published: dt.date, modified: dt.date,
                 image: str | None, byline: str, site_title: str, home: str, logo: str, tags: Iterable[str],
                 language: str) -> dict[str, Any]:
    """What Google's NewsArticle documentation asks for: headline, image, datePublished,
    dateModified, author (with name); plus publisher, description and the page itself."""
    data: dict[str, Any] = {
        "@context": SCHEMA, "@type": "NewsArticle", "headline": headline, "url": url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "datePublished": published.isoformat(), "dateModified": modified.isoformat(),
        "author": author(byline, site_title), "inLanguage": language,
        "publisher": {"@type": "Organization", "name": site_title, "url": home,
                      "logo": {"@type": "ImageObject", "url": logo}},
    }
    if description:
        data["description"] = description
    if image:
        data["image"] = [image]
    keywords = list(tags)
    if keywords:
        data["keywords"] = keywords
    return data


def breadcrumbs(trail: list[tuple[str, str]]) -> dict[str, Any]:
    """A BreadcrumbList from (name, absolute URL) pairs, the home page first."""
    return {"@context": SCHEMA, "@type": "BreadcrumbList",
            "itemListElement": [{"@type": "ListItem", "position": i, "name": name, "item": url}
                                for i, (name, url) in enumerate(trail, 1)]}


def term_set(name: str, url: str) -> dict[str, Any]:
    return {"@type": "DefinedTermSet", "@id": url, "name": name, "url": url}


def defined_term(*, name: str, url: str, description: str, aliases: Iterable[str], set_name: str,
                 set_url: str) -> dict[str, Any]:
    data: dict[str, Any] = {"@context": SCHEMA, "@type": "DefinedTerm", "@id": url, "name": name, "url": url,
                            "inDefinedTermSet": term_set(set_name, set_url)}
    if description:
        data["description"] = description
    alternates = list(aliases)
    if alternates:
        data["alternateName"] = alternates
    return data


def defined_term_set(*, name: str, url: str, description: str, terms: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The glossary: a DefinedTermSet listing every term (name, absolute URL)."""
    return {"@context": SCHEMA, **term_set(name, url), "description": description,
            "hasDefinedTerm": [{"@type": "DefinedTerm", "@id": u, "name": n, "url": u} for n, u in terms]}
