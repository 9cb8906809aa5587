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
from site_builder.model import Correction, Located

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
    """Read a YAML mapping; refuse tags, anchors, aliases and duplicate keys.

    Whatever PyYAML raises on the way (scanning, parsing, composing, constructing) goes
    through ``yaml_diagnostic``, so every YAML problem reads the same way.
    """
    try:
        diags = _refused_tokens(path, yaml_text, first_line)
        if diags:
            return None, diags
        loader = _Loader(yaml_text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except (yaml.YAMLError, RecursionError) as exc:
        return None, [yaml_diagnostic(path, exc, yaml_text, first_line)]

    if node is None:
        return {}, []
    if not isinstance(node, yaml.MappingNode):
        line, col = _pos(node.start_mark, first_line)
        return None, [error(path, line, col, "frontmatter.not-mapping", "front-matter must be a list of 'key: value' lines",
                            "write one 'key: value' per line, e.g. 'title: My article'")]
    return _values(path, node, yaml_text, first_line)


def _refused_tokens(path: str, yaml_text: str, first_line: int) -> list[Diagnostic]:
    """Tags, anchors and aliases: YAML features that front-matter does not allow."""
    diags = []
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
    return diags


def _values(path: str, node: yaml.MappingNode, yaml_text: str, first_line: int
            ) -> tuple[dict[str, Value], list[Diagnostic]]:
    """Each top-level key's value, built; duplicate keys and unreadable values reported."""
    diags: list[Diagnostic] = []
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
        except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:  # ValueError: e.g. 0b_
            diags.append(yaml_diagnostic(path, exc, yaml_text, first_line, key=key, node=vnode))
            constructor.dispose()
            constructor = _Loader("")  # a failed construction may leave half-built state behind
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


# ---------------------------------------------------------------------------
# PyYAML's errors as an editor's diagnostics
#
# PyYAML raises a ReaderError, a MarkedYAMLError subclass (ScannerError, ParserError,
# ComposerError, ConstructorError), a RecursionError for deep nesting (which releases also
# report as a ScannerError, "exceeded maximum nesting depth") or, while constructing a
# scalar, a plain ValueError. Their wording differs between the C (libyaml) and the
# pure-Python implementations and between releases, so causes are recognised by both
# wordings, deep nesting by counting levels ourselves, and positions from the text itself.

MAX_DEPTH = 64  # nesting levels; far beyond any front-matter, far below PyYAML's limits
GENERIC_HINT = "check the indentation and quote values that contain ': ' or start with a symbol"
_TOO_DEEP = ("front-matter is nested too deeply to read",
             "front-matter values are text, lists of text, or one level of 'key: value' (image)")
_OPEN_TOKENS = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken,
                yaml.FlowMappingStartToken, yaml.FlowSequenceStartToken)
_CLOSE_TOKENS = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)
_SCALAR_KINDS = {"tag:yaml.org,2002:int": "a whole number", "tag:yaml.org,2002:float": "a number",
                 "tag:yaml.org,2002:timestamp": "a date", "tag:yaml.org,2002:bool": "a yes/no value"}


def yaml_diagnostic(path: str, exc: BaseException, yaml_text: str, first_line: int, *,
                    key: str | None = None, node: yaml.Node | None = None) -> Diagnostic:
    """The one converter from anything PyYAML raises to a ``path:line:col`` diagnostic.

    ``yaml_text`` is the YAML that was read, whose first line is line ``first_line`` of the
    file; ``key`` and ``node`` name the top-level entry being constructed, when the error
    came from construction.
    """
    if isinstance(exc, RecursionError) or _deep_at_error(exc, yaml_text):
        at = _nesting(yaml_text)[1]
        if at is None:
            line, col = _pos(node.start_mark, first_line) if node is not None else (first_line, 1)
        else:
            line, col = first_line + at[0], at[1] + 1
        return error(path, line, col, "yaml.syntax", *_TOO_DEEP)
    if isinstance(exc, yaml.reader.ReaderError):
        return _reader_error(path, exc, yaml_text, first_line)
    if isinstance(exc, yaml.constructor.ConstructorError):
        return _constructor_error(path, exc, first_line, key, node)
    if isinstance(exc, yaml.MarkedYAMLError):
        return _syntax_error(path, exc, yaml_text, first_line)
    if isinstance(exc, (ValueError, TypeError)) and node is not None:
        return _unreadable_scalar(path, exc, first_line, key, node)
    line, col = _pos(node.start_mark, first_line) if node is not None else (first_line, 1)
    return error(path, line, col, "yaml.syntax", f"front-matter is not valid YAML: {_one_line(str(exc))}",
                 GENERIC_HINT)


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "invalid YAML"


def _nesting(yaml_text: str, until: tuple[int, int] | None = None,
             ) -> tuple[int, tuple[int, int] | None]:
    """Walk the text with PyYAML's pure-Python scanner (no depth limit, not recursive).

    Returns the nesting depth reached just before the position ``until`` (line, column,
    0-based; the end when None) and where nesting first went deeper than MAX_DEPTH: the
    start of the top-level entry it happened in (or of the token, outside any entry).
    """
    scanner = yaml.SafeLoader(yaml_text)
    depth, entry, deep = 0, None, None
    try:
        while True:
            tok = scanner.get_token()
            if tok is None or isinstance(tok, yaml.StreamEndToken):
                break
            where = (tok.start_mark.line, tok.start_mark.column)
            if until is not None and where >= until:
                break
            if isinstance(tok, _OPEN_TOKENS):
                depth += 1
            elif isinstance(tok, _CLOSE_TOKENS):
                depth -= 1
            elif depth == 1 and isinstance(tok, (yaml.KeyToken, yaml.BlockEntryToken)):
                entry = where
            if depth > MAX_DEPTH and deep is None:
                deep = entry or where
                if until is None:
                    break
    except yaml.YAMLError:
        pass  # the text breaks off here; what was read so far is the answer
    finally:
        scanner.dispose()
    return depth, deep


def _deep_at_error(exc: BaseException, yaml_text: str) -> bool:
    """Was the text nested deeper than MAX_DEPTH where the scanner, parser or composer gave up?"""
    if not isinstance(exc, (yaml.scanner.ScannerError, yaml.parser.ParserError, yaml.composer.ComposerError)):
        return False
    if "nesting depth" in (exc.problem or ""):  # libyaml's limit (PyYAML ≥ 6.0.4)
        return True
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return False
    lines = yaml_text.split("\n")
    before = "\n".join(lines[:mark.line] + [lines[mark.line][:mark.column] if mark.line < len(lines) else ""])
    if not _could_nest_deeper(before):
        return False  # the usual case, decided without walking the text in pure Python
    return _nesting(yaml_text, (mark.line, mark.column))[0] > MAX_DEPTH


def _could_nest_deeper(text: str) -> bool:
    """A cheap upper bound: no text nests deeper than the brackets open at once, plus its
    deepest indentation, plus one."""
    level = most = 0
    for ch in re.sub(r"[^\[\]{}]+", "", text):
        level = level + 1 if ch in "[{" else max(level - 1, 0)
        most = max(most, level)
    indent = max((len(m) for m in re.findall(r"^[ ?:-]*", text, re.M)), default=0)
    return most + indent + 1 > MAX_DEPTH


def _char_at(yaml_text: str, mark: Any) -> str:
    lines = yaml_text.split("\n")
    if mark is None or mark.line >= len(lines) or mark.column >= len(lines[mark.line]):
        return ""
    return lines[mark.line][mark.column]


def _reader_error(path: str, exc: yaml.reader.ReaderError, yaml_text: str, first_line: int) -> Diagnostic:
    # libyaml counts the offset in UTF-8 bytes, PyYAML in characters: find the character ourselves.
    found = yaml.reader.Reader.NON_PRINTABLE.search(yaml_text)
    if found:
        offset, char = found.start(), ord(found.group())
    else:
        offset = exc.position
        char = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "?")
    line, col = _offset_pos(yaml_text, offset, first_line)
    return error(path, line, col, "yaml.syntax",
                 f"front-matter holds the character U+{char:04X}, which YAML does not allow",
                 "delete it (it is often invisible: retype the line)")


def _syntax_error(path: str, exc: yaml.MarkedYAMLError, yaml_text: str, first_line: int) -> Diagnostic:
    """Scanner, parser and composer errors: what the editor wrote that YAML cannot read."""
    context = exc.context or ""
    problem = exc.problem or ""
    at = exc.problem_mark or exc.context_mark
    message = " ".join(p for p in (context, problem) if p) or "invalid YAML"
    hint = GENERIC_HINT

    if "quoted scalar" in context and "end of stream" in problem:
        at = exc.context_mark  # where the quote opened, not where the text ends
        message = "a quoted value that starts here is never closed"
        hint = "end it with the same quote mark; inside '…' write an apostrophe as ''"
    elif "escape character" in problem:
        if _char_at(yaml_text, at) != "\\" and at is not None and at.column > 0:
            at = yaml.Mark(at.name, at.index - 1, at.line, at.column - 1, None, None)  # at the backslash
        message = "the double-quoted value holds a backslash that starts no known escape"
        hint = "write a backslash as \\\\ inside \"…\", or quote the value with '…' instead"
    elif "flow sequence" in context or "flow mapping" in context:
        at, message, hint = _flow_collection(exc, at)
    elif "mapping values are not allowed" in problem:
        message = "mapping values are not allowed in this context"  # libyaml's wording on every build
    elif "tab" in problem or _char_at(yaml_text, at) == "\t":
        message = "a tab character is used for indentation"
        hint = "indent with spaces: YAML does not allow tabs there"
    elif "cannot start any token" in problem or re.search(r"scanning an? (anchor|alias|tag)", context):
        mark = exc.context_mark if "scanning an" in context else at
        char = _char_at(yaml_text, mark) or _char_at(yaml_text, at)
        at = mark or at
        if char.strip():
            message, hint = f"a value cannot start with '{char}'", f"quote the value: \"{char}…\""
    elif "directive" in context:
        at = exc.context_mark or at
        message = "a line cannot start with '%'"
        hint = "quote the value, or start the line with its key"
    elif "simple key" in context:
        at = exc.context_mark or at
        message = "this line is not 'key: value'"
        hint = "add the colon and a space after the key, or indent a value that continues from the line above"
    elif "block scalar" in context:
        at = exc.context_mark or at
        message = "a '|' or '>' must end its line; the text follows on the next lines"
        hint = "put the text on the lines below, indented, or quote the value instead"
    elif "sequence entries are not allowed" in problem or "block collection" in context:
        message = "a list item ('- ') is not allowed here"
        hint = "put list items on their own lines below the key, indented, or write the list as [a, b]"
    elif "block mapping" in context:
        message = "the text here does not fit the 'key: value' lines around it"
        hint = "keys of one level start at the same column, and a quoted value ends at its closing quote"
    elif "single document" in context:
        message = "a second YAML document starts here"
        hint = "the front-matter ends at a line holding only '---'; remove the text after '---' on this line"
    line, col = _pos(at, first_line) if at is not None else (first_line, 1)
    return error(path, line, col, "yaml.syntax", f"front-matter is not valid YAML: {_one_line(message)}", hint)


def _flow_collection(exc: yaml.MarkedYAMLError, at: Any) -> tuple[Any, str, str]:
    """An inline list or mapping ('[…]', '{…}') that YAML could not read: unclosed, or
    holding an item that needs quotes."""
    close = "]" if "sequence" in (exc.context or "") else "}"
    what = "list '['" if close == "]" else "mapping '{'"
    cm, pm = exc.context_mark, exc.problem_mark
    if cm is not None and (pm is None or pm.line > cm.line):
        return cm, f"the {what} that starts here is never closed", \
            f"close it with '{close}' on the same line, with ', ' between the items"
    return at, f"the {what} has an item here that YAML cannot read", \
        "quote each item that contains ': ', ',' or brackets, whole: [\"a: b\", c]"


def _constructor_error(path: str, exc: yaml.constructor.ConstructorError, first_line: int,
                       key: str | None, node: yaml.Node | None) -> Diagnostic:
    """A value that parses but cannot be built: an unhashable key, a bad merge ('<<')."""
    problem = exc.problem or ""
    at = exc.problem_mark or exc.context_mark or (node.start_mark if node is not None else None)
    of = f" of '{key}'" if key else ""
    if "unhashable" in problem:
        message = f"a key inside the value{of} is a list or a mapping, not a name"
        hint = "write keys as plain names: 'name: value'"
    elif "merging" in problem:
        message = f"'<<' inside the value{of} merges mappings, and what follows it is not a mapping"
        hint = "write the keys out in full instead of merging with '<<'"
    else:
        message = f"cannot read the value{of}: {_one_line(' '.join(p for p in (exc.context, problem) if p))}"
        hint = "quote the value"
    line, col = _pos(at, first_line) if at is not None else (first_line, 1)
    return error(path, line, col, "yaml.value", message, hint)


def _unreadable_scalar(path: str, exc: BaseException, first_line: int, key: str | None,
                       node: yaml.Node) -> Diagnostic:
    """A plain scalar that YAML resolves to a number or a date it cannot convert ('0b_', '2024-02-30')."""
    bad = _failing_scalar(node) or node
    line, col = _pos(bad.start_mark, first_line)
    raw = str(bad.value) if isinstance(bad, yaml.ScalarNode) else ""
    kind = _SCALAR_KINDS.get(bad.tag, "")
    of = f" of '{key}'" if key else ""
    if kind == "a date":
        return error(path, line, col, "yaml.value", f"the value{of} is an impossible date: {raw}",
                     "write a real calendar date as YYYY-MM-DD")
    if kind and raw:
        return error(path, line, col, "yaml.value",
                     f"the value{of} ({raw}) looks like {kind} to YAML but is not one",
                     f"quote it if it is text: \"{raw}\"")
    return error(path, line, col, "yaml.value", f"cannot read the value{of}: {_one_line(str(exc))}", "quote the value")


def _failing_scalar(node: yaml.Node) -> yaml.Node | None:
    """The first scalar under ``node`` that cannot be constructed on its own."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, yaml.ScalarNode):
            loader = _Loader("")
            try:
                loader.construct_object(n)
            except (ValueError, TypeError, yaml.YAMLError):
                return n
            finally:
                loader.dispose()
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(reversed(n.value))
        elif isinstance(n, yaml.MappingNode):
            stack.extend(reversed([x for pair in n.value for x in pair]))
    return None


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


def scalar_text(v: Value, key: str) -> str | None:
    """The text of one key of a mapping value exactly as written (1.10 stays 1.10), or None
    when it is not a plain value."""
    if isinstance(v.node, yaml.MappingNode):
        for knode, vnode in v.node.value:
            if str(knode.value) == key:
                return str(vnode.value) if isinstance(vnode, yaml.ScalarNode) else None
    return None


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


CORRECTION_KEYS = ("date", "text")
CORRECTION_HINT = "corrections:\n  - date: 2023-04-02\n    text: An earlier version gave the wrong date of the briefing."


def as_corrections(v: Value) -> tuple[Correction, ...]:
    """``corrections:``, a list of ``{date, text}`` mappings, oldest first."""
    if not isinstance(v.data, list) or not v.data:
        raise Invalid(f"'{v.key}' must be a list of corrections, each with a date and a text", CORRECTION_HINT)
    out = []
    for item_node, item in zip(v.node.value, v.data):
        line = v.line + item_node.start_mark.line - v.node.start_mark.line
        col = item_node.start_mark.column + 1
        if not isinstance(item, dict) or not isinstance(item_node, yaml.MappingNode):
            raise Invalid(f"a correction must be a mapping with 'date' and 'text', not a {_kind(item)}",
                          CORRECTION_HINT, line, col)
        places = {str(k.value): (line + k.start_mark.line - item_node.start_mark.line, k.start_mark.column + 1, n)
                  for k, n in item_node.value}
        for key, (kline, kcol, _) in places.items():
            if key not in CORRECTION_KEYS:
                raise Invalid(f"unknown correction key '{key}'", did_you_mean(key, CORRECTION_KEYS)
                              or "a correction has only 'date' and 'text'", kline, kcol)
        for key in CORRECTION_KEYS:
            if key not in places:
                raise Invalid(f"a correction has no '{key}'", CORRECTION_HINT, line, col)
        fields = {}
        for key in CORRECTION_KEYS:
            kline, _, node = places[key]
            part = Value(key, item[key], node, kline, node.start_mark.column + 1, kline, 0)
            try:
                fields[key] = as_date(part) if key == "date" else as_string(part)
            except Invalid as exc:
                raise Invalid(f"correction {exc.message}", exc.hint, kline, node.start_mark.column + 1) from None
        out.append(Correction(fields["date"], fields["text"]))
    return tuple(sorted(out, key=lambda c: c.date))


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
