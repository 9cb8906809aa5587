"""Front-matter: split it from the body, read it with PyYAML's safe C loader, check it.

Everything an editor can get wrong here comes back as a Diagnostic pointing at the
line and column *in the file* (not in the YAML block), and every problem in the
block is reported, not just the first.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable

import yaml

from site_builder.errors import Diagnostic, did_you_mean, error, warning
from site_builder.model import Located

try:  # the C loader is much faster; PyYAML without libyaml still works
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _BaseLoader = yaml.SafeLoader

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that keeps dates as text, so we can check them ourselves."""


def _keep_timestamp(loader: Any, node: yaml.Node) -> str:
    return str(node.value)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _keep_timestamp)


# ---------------------------------------------------------------------------
# Splitting


@dataclass(frozen=True)
class Split:
    yaml_text: str
    yaml_line: int  # file line of the first YAML line (1-based)
    body: str
    body_line: int  # file line of the first body line (1-based)


def normalise_text(text: str) -> str:
    """BOM, CRLF/CR and NUL: the file reads the same however it was saved."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    return text


# What XML 1.0 and HTML cannot carry: C0 controls other than tab and line feed (NUL is
# replaced by U+FFFD instead), DEL, C1 controls and the Unicode non-characters.
UNCARRIABLE = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef"
                         + "".join(chr(plane * 0x10000 + 0xFFFE) + chr(plane * 0x10000 + 0xFFFF) for plane in range(17))
                         + "]")
_REPORTED_LINES = 10  # per file; the rest are counted in the last warning


def read_text(path: str, text: str) -> tuple[str, list[Diagnostic]]:
    """A decoded file as the stages read it (see normalise_text), with the characters
    XML and HTML cannot carry removed, each line that held some reported as a warning."""
    text = normalise_text(text)
    if not UNCARRIABLE.search(text):
        return text, []
    diags: list[Diagnostic] = []
    lines = text.split("\n")
    hit = [i for i, line in enumerate(lines) if UNCARRIABLE.search(line)]
    for i in hit[:_REPORTED_LINES]:
        found = UNCARRIABLE.findall(lines[i])
        col = UNCARRIABLE.search(lines[i]).start() + 1  # type: ignore[union-attr]
        more = f" (and on {len(hit) - _REPORTED_LINES} more lines)" \
            if len(hit) > _REPORTED_LINES and i == hit[_REPORTED_LINES - 1] else ""
        diags.append(warning(path, i + 1, col, "text.control",
                             f"removed {_describe_uncarriable(found)} that a web page or feed cannot carry{more}",
                             "it is invisible: retype the text around it, or save the file again as plain UTF-8"))
    return UNCARRIABLE.sub("", text), diags


def _describe_uncarriable(found: list[str]) -> str:
    names = ", ".join(sorted({f"U+{ord(c):04X}" for c in found})[:3])
    return f"{len(found)} character{'s' if len(found) > 1 else ''} ({names})"


def _strip_uncarriable(data: Any) -> tuple[Any, list[str]]:
    """A YAML value with the characters XML cannot carry removed (escapes such as "\\x01"
    in quoted values produce them), and the characters removed."""
    if isinstance(data, str):
        found = UNCARRIABLE.findall(data)
        return (UNCARRIABLE.sub("", data) if found else data), found
    if isinstance(data, list):
        out, found = [], []
        for item in data:
            clean, more = _strip_uncarriable(item)
            out.append(clean)
            found += more
        return out, found
    if isinstance(data, dict):
        cleaned, found = {}, []
        for k, v in data.items():
            clean, more = _strip_uncarriable(v)
            cleaned[k] = clean
            found += more
        return cleaned, found
    return data, []


def split(path: str, text: str) -> tuple[Split | None, list[Diagnostic]]:
    if not text.strip():
        return None, [
            error(path, 1, 1, "file.empty", "the file is empty",
                  "start it with front-matter between two '---' lines, e.g. '---\\ntitle: …\\n---'")
        ]
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return None, [
            error(path, 1, 1, "frontmatter.missing", "the file does not start with front-matter",
                  "put '---' on the first line, then the keys (title: …), then '---' again")
        ]
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return Split(
                yaml_text="\n".join(lines[1:i]) + "\n",
                yaml_line=2,
                body="\n".join(lines[i + 1:]),
                body_line=i + 2,
            ), []
    return None, [
        error(path, 1, 1, "frontmatter.unclosed", "the front-matter opened here is never closed",
              "end the front-matter with a line holding only '---'")
    ]


# ---------------------------------------------------------------------------
# YAML


@dataclass
class Value:
    """One top-level key's value, with where the key and the value were written."""

    key: str
    data: Any
    node: yaml.Node
    line: int  # where the value starts
    col: int
    key_line: int
    key_col: int


def _pos(mark: Any, first_line: int) -> tuple[int, int]:
    return first_line + mark.line, mark.column + 1


def load_mapping(path: str, yaml_text: str, first_line: int) -> tuple[dict[str, Value] | None, list[Diagnostic]]:
    """Read a YAML mapping; refuse tags, anchors, aliases and duplicate keys."""
    diags: list[Diagnostic] = []
    try:
        for tok in yaml.scan(yaml_text, Loader=_Loader):
            if isinstance(tok, yaml.TagToken):
                line, col = _pos(tok.start_mark, first_line)
                diags.append(error(path, line, col, "yaml.tag", "YAML tags are not allowed in front-matter",
                                   "remove the '!…' tag and write the value as plain text"))
            elif isinstance(tok, (yaml.AnchorToken, yaml.AliasToken)):
                line, col = _pos(tok.start_mark, first_line)
                what = "anchors ('&name')" if isinstance(tok, yaml.AnchorToken) else "aliases ('*name')"
                diags.append(error(path, line, col, "yaml.anchor", f"YAML {what} are not allowed in front-matter",
                                   "write the value out in full where it is needed"))
        if diags:
            return None, diags
        loader = _Loader(yaml_text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_error(path, exc, first_line)]
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, e.g. a control character
        line, col = _offset_pos(yaml_text, exc.position, first_line)
        char = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "?")
        return None, [error(path, line, col, "yaml.syntax",
                            f"front-matter holds the character U+{char:04X}, which YAML does not allow",
                            "delete it (it is often invisible: retype the line)")]
    except yaml.YAMLError as exc:  # pragma: no cover - every YAMLError PyYAML raises is one of the above
        return None, [error(path, first_line, 1, "yaml.syntax", f"front-matter is not valid YAML: {exc}",
                            "check the front-matter for stray characters")]
    except RecursionError:
        return None, [_too_deep(path, first_line)]

    if node is None:
        return {}, []
    if not isinstance(node, yaml.MappingNode):
        line, col = _pos(node.start_mark, first_line)
        return None, [error(path, line, col, "frontmatter.not-mapping", "front-matter must be a list of 'key: value' lines",
                            "write one 'key: value' per line, e.g. 'title: My article'")]
    values: dict[str, Value] = {}
    key_lines: dict[str, int] = {}  # every key seen, also those whose value could not be read
    constructor = _Loader("")
    for knode, vnode in node.value:
        kline, kcol = _pos(knode.start_mark, first_line)
        if not isinstance(knode, yaml.ScalarNode):
            diags.append(error(path, kline, kcol, "frontmatter.key", "a front-matter key must be a plain name",
                               "write keys as 'name: value'"))
            continue
        key = str(knode.value)
        if key in key_lines:
            diags.append(error(path, kline, kcol, "yaml.duplicate-key",
                               f"key '{key}' is given twice (first on line {key_lines[key]})",
                               "keep one of the two lines"))
            continue
        key_lines[key] = kline
        nested = _nested_duplicate_keys(path, vnode, first_line)
        if nested:
            diags += nested
            continue
        try:
            data = constructor.construct_object(vnode, deep=True)
        except RecursionError:
            diags.append(_too_deep(path, kline))
            continue
        except (yaml.YAMLError, ValueError, TypeError) as exc:  # PyYAML raises ValueError for some scalars
            vline, vcol = _pos(vnode.start_mark, first_line)
            diags.append(error(path, vline, vcol, "yaml.value", f"cannot read the value of '{key}': {exc}",
                               "quote the value"))
            continue
        vline, vcol = _pos(vnode.start_mark, first_line)
        data, removed = _strip_uncarriable(data)
        if removed:
            diags.append(warning(path, vline, vcol, "text.control",
                                 f"removed {_describe_uncarriable(removed)} from '{key}' that a web page or feed "
                                 "cannot carry", "remove the escape sequence (such as \\x01) from the value"))
        values[key] = Value(key, data, vnode, vline, vcol, kline, kcol)
    constructor.dispose()
    return values, diags


def _offset_pos(text: str, offset: int, first_line: int) -> tuple[int, int]:
    """File line and column of a character offset into the YAML block."""
    before = text[:max(offset, 0)]
    return first_line + before.count("\n"), offset - (before.rfind("\n") + 1) + 1


# PyYAML reports an unclosed quote or bracket where the text ends; the editor needs where it opened.
_OPENED = {
    "while scanning a quoted scalar": ("a quoted value that starts here is never closed",
                                       "end it with the same quote mark; inside '…' write an apostrophe as ''"),
    "while parsing a flow sequence": ("the list '[' that starts here is never closed",
                                      "close it with ']' on the same line, with ', ' between the items"),
    "while parsing a flow mapping": ("the mapping '{' that starts here is never closed",
                                     "close it with '}' on the same line, with ', ' between the items"),
}


def _syntax_error(path: str, exc: yaml.MarkedYAMLError, first_line: int) -> Diagnostic:
    opened = _OPENED.get(exc.context or "")
    if opened and exc.context_mark is not None:
        line, col = _pos(exc.context_mark, first_line)
        return error(path, line, col, "yaml.syntax", f"front-matter is not valid YAML: {opened[0]}", opened[1])
    mark = exc.problem_mark or exc.context_mark
    line, col = _pos(mark, first_line) if mark else (first_line, 1)
    problem = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
    return error(path, line, col, "yaml.syntax", f"front-matter is not valid YAML: {problem}",
                 "check the indentation and quote values that contain ': ' or start with a symbol")


def _too_deep(path: str, line: int) -> Diagnostic:
    return error(path, line, 1, "yaml.syntax", "front-matter is nested too deeply to read",
                 "front-matter values are text, lists of text, or one level of 'key: value' (image)")


def _nested_duplicate_keys(path: str, node: yaml.Node, first_line: int) -> list[Diagnostic]:
    """Duplicate keys inside nested mappings (image: src twice): PyYAML keeps the last silently."""
    diags = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, yaml.MappingNode):
            seen: dict[str, int] = {}
            for knode, vnode in n.value:
                if isinstance(knode, yaml.ScalarNode):
                    kline, kcol = _pos(knode.start_mark, first_line)
                    key = str(knode.value)
                    if key in seen:
                        diags.append(error(path, kline, kcol, "yaml.duplicate-key",
                                           f"key '{key}' is given twice (first on line {seen[key]})",
                                           "keep one of the two lines"))
                    else:
                        seen[key] = kline
                stack.append(vnode)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return diags


# ---------------------------------------------------------------------------
# Checking values against a schema


class Invalid(Exception):
    def __init__(self, message: str, hint: str = "", line: int = 0, col: int = 0):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.line = line
        self.col = col



def _text(v: Value, node: yaml.Node, data: Any, what: str) -> str:
    if isinstance(data, bool):
        raw = node.value if isinstance(node, yaml.ScalarNode) else str(data)
        raise Invalid(f"{what} is read as a yes/no value ({raw} → {str(data).lower()}), not as text",
                      f"quote it: \"{raw}\"")
    if data is None:
        raise Invalid(f"{what} is empty", "write a value after the colon, or remove the line")
    if isinstance(data, (int, float)) and isinstance(node, yaml.ScalarNode):
        return str(node.value)  # a number written as a title is still text
    if not isinstance(data, str):
        raise Invalid(f"{what} must be text, not a {_kind(data)}", "write it on one line after the colon")
    return clean_text(data)


def clean_text(s: str) -> str:
    return unicodedata.normalize("NFC", s.replace("\x00", "\ufffd")).strip()


def _kind(data: Any) -> str:
    if isinstance(data, list):
        return "list"
    if isinstance(data, dict):
        return "mapping"
    if isinstance(data, bool):
        return "yes/no value"
    if isinstance(data, str):
        return "single text value"
    if isinstance(data, (int, float)):
        return "number"
    return type(data).__name__


def as_string(v: Value) -> str:
    s = _text(v, v.node, v.data, f"'{v.key}'")
    if not s:
        raise Invalid(f"'{v.key}' is empty", "write a value after the colon, or remove the line")
    return s


def as_date(v: Value) -> dt.date:
    raw = v.data
    if isinstance(raw, (dt.date, dt.datetime)):
        raw = raw.isoformat()[:10]
    if not isinstance(raw, str) or not DATE_RE.match(raw.strip()):
        raise Invalid(f"'{v.key}' must be a date written YYYY-MM-DD, not {raw!r}", "e.g. date: 2023-03-30")
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise Invalid(f"'{v.key}' is an impossible date: {raw.strip()}",
                      "write a real calendar date as YYYY-MM-DD") from None


def as_bool(v: Value) -> bool:
    if not isinstance(v.data, bool):
        raise Invalid(f"'{v.key}' must be true or false, not {v.data!r}", f"{v.key}: true")
    return v.data


def as_string_list(v: Value) -> tuple[Located, ...]:
    if v.data is None:
        raise Invalid(f"'{v.key}' is empty", f"write the items as {v.key}: [first, second], or remove the line")
    if not isinstance(v.data, list):
        example = v.data if isinstance(v.data, str) else "first"
        raise Invalid(f"'{v.key}' must be a list, not a {_kind(v.data)}", f"{v.key}: [{example}]")
    out = []
    for item_node, item in zip(v.node.value, v.data):
        line = v.line + item_node.start_mark.line - v.node.start_mark.line  # file line of the item
        col = item_node.start_mark.column + 1
        try:
            s = _text(v, item_node, item, f"an item of '{v.key}'")
        except Invalid as exc:
            raise Invalid(exc.message, exc.hint, line, col) from None
        if not s:
            raise Invalid(f"an item of '{v.key}' is empty", "remove the empty item", line, col)
        out.append(Located(s, line, col))
    return tuple(out)


def check_slug(s: str) -> str | None:
    if not SLUG_RE.match(s):
        return f"'{s}' is not a valid slug: use lowercase letters, digits and hyphens only"
    return None


@dataclass(frozen=True)
class Field:
    name: str
    read: Callable[[Value], Any]
    required: bool = False
    text: bool = False  # holds text: a YAML number or date written there is reported


_NOT_TEXT = {"tag:yaml.org,2002:int": "a number", "tag:yaml.org,2002:float": "a number",
             "tag:yaml.org,2002:timestamp": "a date"}


def non_text_scalars(path: str, v: Value, first_line: int | None = None) -> list[Diagnostic]:
    """Warnings for plain YAML scalars of a text field that YAML reads as a number or a
    date (``byline: 1.10``, ``tags: [2023]``): the text is kept exactly as written, but the
    editor should quote it, as YAML tools would otherwise change it."""
    diags = []
    stack = [v.node]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            kind = _NOT_TEXT.get(node.tag)
            if kind and not node.style:
                line = v.line + node.start_mark.line - v.node.start_mark.line
                diags.append(warning(path, line, node.start_mark.column + 1, "frontmatter.type",
                                     f"'{v.key}' holds {node.value}, which YAML reads as {kind}, not as text",
                                     f"quote it to keep it as written: \"{node.value}\""))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            stack.extend(vn for _, vn in reversed(node.value))
    return diags


def check_keys(path: str, values: dict[str, Value], known: tuple[str, ...], where: str,
               ) -> list[Diagnostic]:
    diags = []
    for key, v in values.items():
        if key not in known:
            hint = did_you_mean(key, known) or f"known keys are: {', '.join(known)}"
            diags.append(warning(path, v.key_line, v.key_col, "frontmatter.unknown-key",
                                 f"unknown {where} key '{key}'", hint))
    return diags


def read_fields(path: str, values: dict[str, Value], fields: tuple[Field, ...], where: str,
                missing_line: int) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Check each known field; unknown keys are warnings naming the nearest known key."""
    diags = check_keys(path, values, tuple(f.name for f in fields), where)
    out: dict[str, Any] = {}
    for f in fields:
        v = values.get(f.name)
        if v is None:
            if f.required:
                diags.append(error(path, missing_line, 1, "frontmatter.missing-key", f"{where} has no '{f.name}'",
                                   f"add a line '{f.name}: …' to the front-matter"))
            continue
        try:
            out[f.name] = f.read(v)
        except Invalid as exc:
            diags.append(error(path, exc.line or v.line, exc.col or v.col, "frontmatter.value", exc.message, exc.hint))
            continue
        if f.text and v.node is not None:
            diags += non_text_scalars(path, v)
    return out, diags
