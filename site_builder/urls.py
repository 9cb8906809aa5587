"""Names in URLs: slugs for pages, tags and headings, and which link schemes are safe.

Read by the read stage (slugs, image URLs), the Markdown parser (heading anchors, link
schemes) and the page types (tag pages); it imports nothing of the package.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, urljoin, urlsplit

SAFE_URL_SCHEMES = ("http", "https", "mailto")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_NOT_WORD = re.compile(r"[\W_]+")


def slugify(text: str) -> str:
    """A URL slug for a title: ASCII letters, digits and hyphens ("Ü" becomes "u")."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return _NOT_SLUG.sub("-", text).strip("-")


def tag_slug(name: str) -> str:
    """A tag's URL slug: like ``slugify``, but letters and digits of every script stay
    ("日本" keeps its own page instead of collapsing to a shared one)."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NOT_WORD.sub("-", unicodedata.normalize("NFC", text).casefold()).strip("-")


def safe_url(url: str) -> bool:
    """True for relative URLs and for http, https and mailto ones."""
    probe = "".join(ch for ch in url if ch > " " and ch != "\x7f").lower()
    try:
        scheme = urlsplit(probe).scheme
    except ValueError:
        return False
    if not scheme:
        return ":" not in probe.split("/", 1)[0]
    return scheme in SAFE_URL_SCHEMES


def output_path(url: str, page: str, root: str) -> str | None:
    """The output file a URL written on ``page`` leads to (relative to the output folder),
    or None when it leaves the site (another site, mailto:, outside the root)."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    path = unquote(urlsplit(urljoin(page, url)).path)
    return path[len(root):] if path.startswith(root) else None
