"""Site settings from the optional ``site.yaml``, checked like front-matter."""

from __future__ import annotations

import functools
import hashlib
import os
import re
from dataclasses import asdict, dataclass, fields
from urllib.parse import urlsplit

from site_builder import frontmatter as fm
from site_builder.errors import Diagnostic, error

CONFIG_FILE = "site.yaml"
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib)?\s*$", re.I)
_SIZE_UNITS = {None: 1, "b": 1, "kb": 1000, "kib": 1024, "mb": 1000_000, "mib": 1024 * 1024}


@dataclass(frozen=True)
class SiteConfig:
    title: str = "Explainers"
    description: str = ""
    base_url: str = "http://localhost:8000/"
    language: str = "en"
    author: str = ""
    link: str = "first"  # "first" or "all": which mentions of an entry are linked
    allow_html: bool = False  # raw HTML in bodies passes through (trusted editors only)
    related_count: int = 3
    max_file_size: int = 2 * 1024 * 1024
    ner_model: str = ""  # a trained spaCy pipeline for `suggest` (en_core_web_sm); "" for the rules alone
    search: bool = True  # a Pagefind index, the /search/ page and the header's search box

    # Which stage each setting invalidates (the Sphinx ``rebuild=`` idea): a cache key
    # includes only the slice of settings its stage reads.
    STAGES = {
        "parse": ("allow_html", "max_file_size"),
        "link": ("link", "root", "allow_html"),  # the link stage parses and renders the Markdown; links use the root
        "render": ("title", "description", "base_url", "language", "author", "related_count", "search"),
    }

    @property
    def root(self) -> str:
        """The path prefix every internal link starts with, e.g. '/' or '/explainers/'."""
        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"

    def absolute(self, url: str) -> str:
        """An absolute URL for a root-relative one (feed and sitemap need them)."""
        parts = urlsplit(self.base_url)
        if not parts.scheme:
            return url
        return f"{parts.scheme}://{parts.netloc}{url}"

    def slice_digest(self, stage: str) -> str:
        """A digest of the settings ``stage`` reads (part of that stage's cache keys)."""
        return self._slice_digests[stage]

    @functools.cached_property
    def _slice_digests(self) -> dict[str, str]:  # made once per config (keys ask for it per document)
        data = asdict(self)
        data["root"] = self.root
        return {stage: hashlib.sha256("\n".join(f"{k}={data[k]!r}" for k in keys).encode()).hexdigest()
                for stage, keys in self.STAGES.items()}

    def with_base_url(self, base_url: str) -> "SiteConfig":
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["base_url"] = base_url
        return SiteConfig(**values)


def _link_policy(v: fm.Value) -> str:
    s = fm.as_string(v)
    if s not in ("first", "all"):
        raise fm.Invalid(f"'link' must be 'first' or 'all', not '{s}'", "link: first")
    return s


def _positive_int(v: fm.Value) -> int:
    if isinstance(v.data, bool) or not isinstance(v.data, int) or v.data < 0:
        raise fm.Invalid(f"'{v.key}' must be a whole number ≥ 0, not {v.data!r}", f"{v.key}: 3")
    return v.data


MAX_FILE_SIZE_LIMIT = 1024 ** 3  # 1 GiB: a content file larger than this is not an article


def _size(v: fm.Value) -> int:
    if isinstance(v.data, int) and not isinstance(v.data, bool) and v.data > 0:
        size = v.data
    else:
        m = _SIZE_RE.match(str(v.data)) if isinstance(v.data, (str, float)) else None
        if not m:
            raise fm.Invalid(f"'{v.key}' must be a size such as 2MB or 500KB, not {v.data!r}", f"{v.key}: 2MB")
        unit = m.group(2).lower() if m.group(2) else None
        number = float(m.group(1))  # inf for absurdly long numbers: caught by the limit below
        size = int(number * _SIZE_UNITS[unit]) if number * _SIZE_UNITS[unit] <= MAX_FILE_SIZE_LIMIT else -1
    if not 0 < size <= MAX_FILE_SIZE_LIMIT:
        raise fm.Invalid(f"'{v.key}' must be between 1 byte and 1GiB", f"{v.key}: 2MB")
    return size


def _base_url(v: fm.Value) -> str:
    s = fm.as_string(v)
    try:
        parts = urlsplit(s)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number or out of range
    except ValueError as exc:
        raise fm.Invalid(f"'base_url' is not a valid address: {exc}", "base_url: https://example.org/") from None
    if parts.scheme not in ("http", "https", "") or (parts.scheme and not parts.netloc):
        raise fm.Invalid(f"'base_url' must be an http(s) address or a path, not '{s}'",
                         "base_url: https://example.org/")
    return s if s.endswith("/") else s + "/"


FIELDS = (
    fm.Field("title", fm.as_string),
    fm.Field("description", fm.as_string),
    fm.Field("base_url", _base_url),
    fm.Field("language", fm.as_string),
    fm.Field("author", fm.as_string),
    fm.Field("link", _link_policy),
    fm.Field("allow_html", fm.as_bool),
    fm.Field("related_count", _positive_int),
    fm.Field("max_file_size", _size),
    fm.Field("ner_model", fm.as_string),
    fm.Field("search", fm.as_bool),
)


def check_base_url(url: str) -> str:
    """A base URL given on the command line (``--base-url``), checked like site.yaml's;
    raises UsageError when it is not an http(s) address or a path."""
    from site_builder.errors import UsageError

    try:
        return _base_url(fm.Value("base_url", url, None, 0, 0, 0, 0))  # type: ignore[arg-type]
    except fm.Invalid as exc:
        raise UsageError(f"--base-url: {exc.message}") from None


def load_config(site: str) -> tuple[SiteConfig, list[Diagnostic]]:
    path = os.path.join(site, CONFIG_FILE)
    if not os.path.isfile(path):
        return SiteConfig(), []
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        text, text_diags = fm.read_text(CONFIG_FILE, raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return SiteConfig(), [error(CONFIG_FILE, line, 1, "file.encoding", "site.yaml is not UTF-8 text",
                                    "save the file as UTF-8")]
    except OSError as exc:
        return SiteConfig(), [error(CONFIG_FILE, 0, 0, "file.read", f"cannot read site.yaml: {exc.strerror}")]
    values, diags = fm.load_mapping(CONFIG_FILE, text, 1)
    diags = text_diags + diags
    if values is None:
        return SiteConfig(), diags
    data, more = fm.read_fields(CONFIG_FILE, values, FIELDS, "site.yaml", 1)
    return SiteConfig(**data), diags + more
