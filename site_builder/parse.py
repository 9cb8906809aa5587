"""The read stage: one source file in, one Document (header + body text) out; a map."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from typing import Any

from site_builder import frontmatter as fm
from site_builder.config import SiteConfig
from site_builder.urls import safe_url, slugify
from site_builder.errors import Diagnostic, error, warning
from site_builder.model import (
    ARTICLE,
    MAX_NAME_BYTES,
    ENTRY_TYPES,
    ArticleHeader,
    Document,
    EntryHeader,
    Image,
    Located,
    SourceFile,
    digest,
)

IMAGE_KEYS = ("src", "alt", "caption", "credit")


def _slug(v: fm.Value) -> str:
    s = fm.as_string(v)
    problem = fm.check_slug(s)
    if problem:
        raise fm.Invalid(problem, f"slug: {slugify(s) or 'my-article'}")
    return s


def _tags(v: fm.Value) -> tuple[Located, ...]:
    return fm.as_string_list(v)


def _slugs(v: fm.Value) -> tuple[Located, ...]:
    return fm.as_string_list(v)


def _nolink(v: fm.Value) -> bool | tuple[str, ...]:
    if isinstance(v.data, bool):
        return v.data
    if not isinstance(v.data, list):
        raise fm.Invalid("'nolink' must be true or a list of glossary slugs", "nolink: [wagner-group]")
    return tuple(item.value for item in fm.as_string_list(v))


def _entry_type(v: fm.Value) -> str:
    s = fm.as_string(v)
    if s.upper() in ENTRY_TYPES:
        return s.upper()
    from site_builder.errors import did_you_mean

    meant = _TYPE_WORDS.get(s.upper().replace("_", " ").strip())
    raise fm.Invalid(f"'type' must be one of {', '.join(ENTRY_TYPES)}, not '{s}'",
                     f"did you mean '{meant}'?" if meant else
                     did_you_mean(s.upper(), ENTRY_TYPES) or "type: ORG")


# Words editors reach for, and the type they mean (difflib alone would offer OTHER for COUNTRY).
_TYPE_WORDS = {w: t for t, words in {
    "GPE": ("COUNTRY", "NATION", "STATE", "PLACE", "CITY", "REGION", "LOCATION", "LOC", "TERRITORY", "PROVINCE"),
    "ORG": ("ORGANISATION", "ORGANIZATION", "COMPANY", "AGENCY", "GROUP", "PARTY", "INSTITUTION", "MINISTRY",
            "DEPARTMENT", "BUSINESS", "FIRM", "NGO"),
    "PERSON": ("PEOPLE", "HUMAN", "INDIVIDUAL", "PER", "POLITICIAN", "OFFICIAL"),
    "EVENT": ("WAR", "BATTLE", "ELECTION", "SUMMIT", "INCIDENT"),
    "LAW": ("ACT", "LEGISLATION", "SANCTION", "SANCTIONS", "TREATY", "RESOLUTION", "REGULATION", "MEASURE"),
}.items() for w in words}


ARTICLE_FIELDS = (
    fm.Field("title", fm.as_string, required=True, text=True),
    fm.Field("date", fm.as_date, required=True),
    fm.Field("updated", fm.as_date),
    fm.Field("corrections", fm.as_corrections),
    fm.Field("summary", fm.as_string, text=True),
    fm.Field("tags", _tags, text=True),
    fm.Field("related", _slugs),
    fm.Field("byline", fm.as_string, text=True),
    fm.Field("source", fm.as_string, text=True),
    fm.Field("image", lambda v: v, text=True),  # checked by _image, which needs the path
    fm.Field("slug", _slug),
    fm.Field("draft", fm.as_bool),
    fm.Field("nolink", _nolink),
)

ENTRY_FIELDS = (
    fm.Field("title", fm.as_string, required=True, text=True),
    fm.Field("aliases", fm.as_string_list, text=True),
    fm.Field("summary", fm.as_string, required=True, text=True),
    fm.Field("type", _entry_type),
    fm.Field("sort_as", fm.as_string, text=True),
)

# What `site-builder new` writes for the editor to replace: left as it is, it is reported
# (a warning, an error under --strict), so a scaffold is never published by accident.
PLACEHOLDER_SUMMARY = {"article": "One sentence that says what this article explains.",
                       "term": "One sentence that says who or what this is."}
PLACEHOLDER_BODY = {"article": "Write the article here. Glossary terms link themselves.",
                    "term": "Explain the entry here."}


def _image(path: str, v: fm.Value, diags: list[Diagnostic]) -> Image | None:
    if isinstance(v.data, str):  # shorthand: image: /images/x.svg
        data: dict[str, Any] = {"src": v.data}
        positions = key_positions = {"src": (v.line, v.col)}
    elif isinstance(v.data, dict):
        data = v.data
        positions = {}
        key_positions = {}
        for knode, vnode in v.node.value:
            positions[str(knode.value)] = (v.line + vnode.start_mark.line - v.node.start_mark.line,
                                           vnode.start_mark.column + 1)
            key_positions[str(knode.value)] = (v.line + knode.start_mark.line - v.node.start_mark.line,
                                               knode.start_mark.column + 1)
    else:
        diags.append(error(path, v.line, v.col, "frontmatter.value", "'image' must be a mapping with src, alt, caption and credit",
                           "image:\n    src: /images/photo.jpg\n    alt: what the picture shows"))
        return None
    values: dict[str, str] = {}
    for key, raw in data.items():
        line, col = positions.get(str(key), (v.line, v.col))
        if key not in IMAGE_KEYS:
            from site_builder.errors import did_you_mean

            line, col = key_positions.get(str(key), (line, col))  # like other unknown keys: where the key is
            diags.append(warning(path, line, col, "frontmatter.unknown-key", f"unknown image key '{key}'",
                                 did_you_mean(str(key), IMAGE_KEYS) or f"known keys are: {', '.join(IMAGE_KEYS)}"))
            continue
        if isinstance(raw, bool) or raw is None or isinstance(raw, (list, dict)):
            diags.append(error(path, line, col, "frontmatter.value", f"image '{key}' must be text",
                               f"quote it: {key}: \"…\""))
            continue
        values[key] = fm.clean_text(fm.scalar_text(v, str(key)) or str(raw))
    src = values.get("src", "")
    if not src:
        diags.append(error(path, v.line, v.col, "frontmatter.missing-key", "'image' has no 'src'",
                           "add 'src: /images/file.jpg' (a path or an http(s) address)"))
        return None
    if not safe_url(src):
        line, col = positions.get("src", (v.line, v.col))
        diags.append(error(path, line, col, "url.scheme", f"image src '{src}' uses a scheme that is not allowed",
                           "use a relative path or an http, https or mailto address"))
        return None
    if not values.get("alt"):
        diags.append(warning(path, v.line, v.col, "frontmatter.image-alt", "the lead image has no 'alt' text",
                             "describe what the picture shows for readers who cannot see it: alt: …"))
    line, col = positions.get("src", (v.line, v.col))
    return Image(src, values.get("alt", ""), values.get("caption", ""), values.get("credit", ""), line, col)


def read_source(source: SourceFile, max_size: int) -> tuple[str | None, list[Diagnostic]]:
    try:
        size = os.path.getsize(source.abspath)
        if size > max_size:
            return None, [error(source.path, 0, 0, "file.too-large",
                                f"the file is {size:,} bytes, over the {max_size:,}-byte limit",
                                "split it into smaller articles, or raise max_file_size in site.yaml")]
        with open(source.abspath, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        return None, [error(source.path, 0, 0, "file.read", f"cannot read the file: {exc.strerror}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1  # in characters, not bytes
        return None, [error(source.path, line, col, "file.encoding", "the file is not UTF-8 text",
                            "save it as UTF-8 (most editors offer this under 'Save with encoding')")]
    return fm.read_text(source.path, text)


def read_key(source: SourceFile, config: SiteConfig) -> tuple[str, ...]:
    """What reading a file depends on: its path, kind and bytes, and the settings the
    read stage uses (the size cap; whether raw HTML is allowed)."""
    return (source.path, source.kind, source.digest, config.slice_digest("parse"))


def parse(source: SourceFile, config: SiteConfig) -> Document:
    """The read stage: one source file in, its Document out (header, body, diagnostics)."""
    doc = _parse(source, config)
    return dataclasses.replace(doc, header_key=digest(repr(doc.header)))


def _parse(source: SourceFile, config: SiteConfig) -> Document:
    text, diags = read_source(source, config.max_file_size)
    if text is None:
        return Document(source, None, "", 1, tuple(diags))
    parts, more = fm.split(source.path, text)
    diags += more
    if parts is None:
        return Document(source, None, "", 1, tuple(diags))
    values, more = fm.load_mapping(source.path, parts.yaml_text, parts.yaml_line)
    diags += more
    # A document whose front-matter has errors still gets a header (what could be read,
    # the file name for the rest), so its body is checked in the same run: an editor
    # sees every mistake at once. Its errors fail the build, so it is never published.
    make = _article_header if source.kind == ARTICLE else _entry_header
    header = make(source, values, parts, diags)
    if header is not None and _is_placeholder(parts.body, PLACEHOLDER_BODY):
        diags.append(warning(source.path, parts.body_line + _leading_blank_lines(parts.body), 1,
                             "content.placeholder", "the body is still the placeholder that 'site-builder new' wrote",
                             "write the text, or delete the file"))
    return Document(source, header, parts.body, parts.body_line, tuple(diags))


# A document with unreadable front-matter is treated as a draft when a line says so.
_DRAFT_LINE = re.compile(r"^draft:\s*(?:true|yes|on)\s*(?:#.*)?$", re.M | re.I)
STAND_IN_DATE = dt.date(1970, 1, 1)  # the date of an article whose date could not be read


def _is_placeholder(text: str, placeholders: dict[str, str]) -> bool:
    return " ".join(text.split()) in placeholders.values()


def _leading_blank_lines(text: str) -> int:
    return len(text) - len(text.lstrip("\n"))


def _read_header_fields(source: SourceFile, values: dict[str, fm.Value] | None, parts: fm.Split,
                        fields: tuple[fm.Field, ...], where: str, diags: list[Diagnostic]) -> dict[str, Any]:
    """The checked front-matter values; for unreadable front-matter only the draft flag."""
    if values is None:
        return {"draft": bool(_DRAFT_LINE.search(parts.yaml_text))}
    data, more = fm.read_fields(source.path, values, fields, where, 1)
    diags += more
    summary = values.get("summary")
    if summary is not None and _is_placeholder(data.get("summary", ""), PLACEHOLDER_SUMMARY):
        diags.append(warning(source.path, summary.line, summary.col, "content.placeholder",
                             "the summary is still the placeholder that 'site-builder new' wrote",
                             "write one sentence that says what this page is about"))
    return data


def _slug_too_long(path: str, slug: str, written: fm.Value | None, diags: list[Diagnostic]) -> bool:
    """A slug names a folder of the output: longer than a file name may be, it is an error
    (at the 'slug:' line when one is written, else at the file, whose name made it)."""
    size = len(slug.encode("utf-8"))
    if size <= MAX_NAME_BYTES:
        return False
    line, col = (written.line, written.col) if written is not None else (1, 1)
    diags.append(error(path, line, col, "slug.too-long",
                       f"the slug is {size} bytes long; a page's folder name may be at most {MAX_NAME_BYTES}",
                       "write a shorter 'slug:'" if written is not None else
                       "rename the file to something shorter, or add a shorter 'slug:'"))
    return True


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _article_header(source: SourceFile, values: dict[str, fm.Value] | None, parts: fm.Split,
                    diags: list[Diagnostic]) -> ArticleHeader | None:
    data = _read_header_fields(source, values, parts, ARTICLE_FIELDS, "article front-matter", diags)
    image = _image(source.path, values["image"], diags) if values and "image" in values else None
    if values is not None and "summary" not in values:
        diags.append(warning(source.path, 1, 1, "frontmatter.missing-summary", "the article has no 'summary'",
                             "add one sentence as 'summary: …'; it shows on cards, in the feed and in search results"))
    _check_dates(source.path, values or {}, data, diags)
    slug = data.get("slug") or slugify(_stem(source.path))
    if not slug:
        diags.append(error(source.path, 1, 1, "slug.invalid", "the file name gives no usable slug",
                           "rename the file with letters or digits, or add 'slug: my-article'"))
        return None
    if _slug_too_long(source.path, slug, (values or {}).get("slug"), diags):
        return None
    return ArticleHeader(
        slug=slug,
        path=source.path,
        title=data.get("title") or _stem(source.path),
        date=data.get("date", STAND_IN_DATE),
        summary=data.get("summary", ""),
        tags=tuple(t.value for t in data.get("tags", ())),
        tag_places=tuple((t.line, t.col) for t in data.get("tags", ())),
        related=data.get("related", ()),
        byline=data.get("byline", ""),
        source=data.get("source", ""),
        image=image,
        draft=data.get("draft", False),
        nolink=data.get("nolink", False),
        updated=data.get("updated"),
        corrections=data.get("corrections", ()),
    )


def _check_dates(path: str, values: dict[str, fm.Value], data: dict, diags: list[Diagnostic]) -> None:
    """A story cannot change before it was published: ``updated:`` and each correction's
    date are on or after ``date:`` (an error at the later date; the value is dropped)."""
    published = data.get("date")
    if published is None:
        return
    if data.get("updated") is not None and data["updated"] < published:
        v = values["updated"]
        diags.append(error(path, v.line, v.col, "frontmatter.value",
                           f"'updated' ({data['updated']}) is before the publication date ({published})",
                           "write the date of the change, on or after 'date'; or fix 'date'"))
        del data["updated"]
    early = [c for c in data.get("corrections", ()) if c.date < published]
    if early:
        v = values["corrections"]
        diags.append(error(path, v.line, v.col, "frontmatter.value",
                           f"a correction is dated {early[0].date}, before the publication date ({published})",
                           "date each correction on the day it was made, on or after 'date'"))
        data["corrections"] = tuple(c for c in data["corrections"] if c.date >= published)


def _entry_header(source: SourceFile, values: dict[str, fm.Value] | None, parts: fm.Split,
                  diags: list[Diagnostic]) -> EntryHeader | None:
    data = _read_header_fields(source, values, parts, ENTRY_FIELDS, "glossary front-matter", diags)
    slug = slugify(_stem(source.path))
    if not slug:
        diags.append(error(source.path, 1, 1, "slug.invalid", "the file name gives no usable slug",
                           "rename the file with letters or digits"))
        return None
    if _slug_too_long(source.path, slug, None, diags):
        return None
    terms: tuple[Located, ...] = ()
    if "title" in data:  # an unreadable title matches nothing (the stand-in title is the file name)
        title_value = values["title"]  # type: ignore[index]
        terms = (Located(data["title"], title_value.line, title_value.col),) + data.get("aliases", ())
    return EntryHeader(slug=slug, path=source.path, title=data.get("title") or _stem(source.path), terms=terms,
                       summary=data.get("summary", ""), type=data.get("type", "OTHER"),
                       sort_as=data.get("sort_as", ""))
