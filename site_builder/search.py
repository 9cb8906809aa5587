"""Search: a Pagefind index of what readers search, made with Pagefind's own binary
(the ``pagefind_bin`` wheel ships it; the only user of that package).

What is indexed is one small *search document* per article and glossary entry, made
from the build's values (not parsed back out of the rendered pages), so the indexer can
start before the pages are rendered and run on one core while they render on the other:

- an article: its title, summary and body (cross-references as their text, related
  blocks left out), with ``kind``, ``date``, ``summary`` and the entries it mentions as
  metadata, its tags and year as filters, and its date as a sort key;
- an entry: its title, its title and aliases again as text weighted 10 (Pagefind's
  highest weight: a query naming an alias ranks the entry first), summary and body, with
  its type and aliases as metadata and its type as a filter.

The rendered pages carry the same marks (``data-pagefind-body`` on the article body and
the entry's summary and body) so that a reader of the HTML sees what is searched.

``Indexer`` runs the binary on a private folder (``start``, then ``wait``): the bundle
comes back as bytes under ``pagefind/`` for the writer, so a failed build never leaves
a new index beside an old site, or the other way round.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import html
import json
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable

from site_builder.model import TYPE_NAMES, ArticleHeader, EntryHeader

BUNDLE = "pagefind/"  # where the index lives in the output
DELTA = BUNDLE + "delta/"  # the documents changed since the last whole index (see Indexer)
STATE = BUNDLE + "delta.json"  # for search.js: is there a delta, and which pages of the base it replaces
DELTA_MIN_DOCS = 1000  # smaller sites are indexed whole every time (about a second)
DELTA_SHARE = 50  # a delta holds at most one document in 50 (and at least 20) before the index is made whole
SEARCH_PAGE = "search/index.html"
ALIAS_WEIGHT = "10"  # Pagefind's highest: an entry's own names outrank any article's text
# What the reader's browser needs of Pagefind's output; its prebuilt UIs are left out.
_KEEP = ("pagefind.js", "pagefind-worker.js", "pagefind-entry.json")
_KEEP_SUFFIXES = (".pf_meta", ".pagefind")
_KEEP_FOLDERS = ("index", "fragment", "filter")
TIMEOUT = 600.0  # seconds: an indexer that takes longer has hung


def executable() -> str:
    """The Pagefind binary of the installed ``pagefind_bin`` wheel."""
    import pagefind_bin

    return str(pagefind_bin.get_executable())


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _page(language: str, title: str, main_attrs: str, inner: str) -> bytes:
    return (f'<!DOCTYPE html>\n<html lang="{_attr(language)}">\n<head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title></head>\n<body>\n<main data-pagefind-body{main_attrs}>\n"
            f"{inner}\n</main>\n</body>\n</html>\n").encode("utf-8")


def _hidden(pairs: Iterable[tuple[str, str, str]]) -> str:
    """Filters and metadata that are not searchable text (``data-pagefind-ignore``
    keeps them out of the index; Pagefind still reads their values)."""
    spans = "".join(f'<span data-pagefind-{what}="{_attr(name)}">{html.escape(value)}</span>'
                    for what, name, value in pairs)
    return f"<div data-pagefind-ignore>{spans}</div>"


def article_document(a: ArticleHeader, body_html: str, entities: Iterable[str], language: str) -> bytes:
    date = a.date.isoformat()
    hidden = [("meta", "kind", "article"), ("meta", "date", date), ("filter", "year", str(a.date.year))]
    hidden += [("filter", "tag", t) for t in a.tags]
    hidden.append(("meta", "entities", " ".join(sorted(set(entities)))))
    inner = (f"<h1>{html.escape(a.title)}</h1>\n"
             + (f'<p data-pagefind-meta="summary">{html.escape(a.summary)}</p>\n' if a.summary else "")
             + body_html + "\n" + _hidden(hidden))
    return _page(language, a.title, f' data-pagefind-sort="date:{date}"', inner)


def entry_document(e: EntryHeader, body_html: str, language: str) -> bytes:
    names = " · ".join((e.title,) + e.aliases)
    hidden = [("meta", "kind", "entry"), ("meta", "type", TYPE_NAMES[e.type]), ("filter", "type", TYPE_NAMES[e.type]),
              ("meta", "aliases", "|".join(e.aliases)), ("meta", "slug", e.slug)]
    inner = (f"<h1>{html.escape(e.title)}</h1>\n"
             f'<p data-pagefind-weight="{ALIAS_WEIGHT}">{html.escape(names)}</p>\n'
             + (f'<p data-pagefind-meta="summary">{html.escape(e.summary)}</p>\n' if e.summary else "")
             + body_html + "\n" + _hidden(hidden))
    return _page(language, e.title, "", inner)


@dataclass
class Bundle:
    files: dict[str, bytes]  # output path (under pagefind/) -> bytes
    pages: int  # documents indexed
    kept: dict[str, str] = field(default_factory=dict)  # the base's files, as the output holds them (-> sha256)


@dataclass
class Base:
    """The last whole index, as the output holds it: what a small edit is indexed against."""

    files: dict[str, str]  # output path -> sha256 of its bytes
    docs: dict[str, str]  # search document (output path of its page) -> sha256 of its bytes
    ids: dict[str, str]  # search document -> the id Pagefind gives its page (its fragment's name)


class IndexFailed(Exception):
    """The index could not be made. ``path`` and ``reason``: the file system refused the
    indexer's folder beside the output (full, read-only), which is a failure to write the
    output like any other."""

    def __init__(self, message: str, path: str = "", reason: str = ""):
        super().__init__(message)
        self.path = path
        self.reason = reason


_LOW_SPACE = 256 * 1024  # bytes: a file system this full truncates what Pagefind writes


def _disk_full(folder: str) -> bool:
    try:
        st = os.statvfs(os.path.dirname(folder) or ".")
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < _LOW_SPACE


def index_folder(work: str, docs: str = "docs", out: str = "bundle", started: Any = None) -> None:
    """Run Pagefind on the folder ``work/docs``, writing its bundle to ``work/bundle``
    (relative paths: Pagefind's output depends on the paths it is given). ``started``
    is called with the process (so that it can be stopped)."""
    try:
        proc = subprocess.Popen([executable(), "--site", docs, "--output-path", out, "--silent"], cwd=work,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    except OSError as exc:
        raise IndexFailed(f"the search indexer (Pagefind) could not run: {exc}") from None
    if started is not None:
        started(proc)
    try:
        stdout, stderr = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise IndexFailed(f"the search indexer (Pagefind) took more than {TIMEOUT:.0f} s") from None
    if proc.returncode != 0:
        said = " ".join((stderr or stdout).split())[:300]
        raise IndexFailed(f"the search indexer (Pagefind) failed (exit {proc.returncode}): {said}")


def write_documents(folder: str, docs: dict[str, bytes]) -> None:
    made: set[str] = set()
    for rel, data in docs.items():
        path = os.path.join(folder, *rel.split("/"))
        parent = os.path.dirname(path)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        with open(path, "wb") as fh:
            fh.write(data)


def read_bundle(folder: str, prefix: str = BUNDLE, code: bool = True) -> dict[str, bytes]:
    """The files of a Pagefind bundle a reader's browser needs, by output path (without
    the JavaScript and WebAssembly for an index that is only merged into another)."""
    files = {}
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if os.path.isdir(path):
            if name in _KEEP_FOLDERS:
                for inner in sorted(os.listdir(path)):
                    with open(os.path.join(path, inner), "rb") as fh:
                        files[f"{prefix}{name}/{inner}"] = fh.read()
        elif (name in _KEEP or name.endswith(_KEEP_SUFFIXES)) and (code or name.endswith((".json", ".pf_meta"))):
            with open(path, "rb") as fh:
                files[prefix + name] = fh.read()
    return files


# -- Pagefind's output, made deterministic --------------------------------------------------
# Pagefind 1.5 writes the values of each filter, and the filters and sort keys in its
# metadata file, in hash-map order, which changes from run to run: the same site would give
# different files (and file names) each time. The files are gzip'd CBOR after a signature;
# these few functions read them, sort those lists, and write them back under names made
# from their bytes (the metadata file names the filter files; the entry file names it).

_SIGNATURE = b"pagefind_dcd"


def _cbor_head(data: bytes, i: int) -> tuple[int, int, int]:
    major, info = data[i] >> 5, data[i] & 31
    if info < 24:
        return major, info, i + 1
    size = {24: 1, 25: 2, 26: 4, 27: 8}[info]
    return major, int.from_bytes(data[i + 1:i + 1 + size], "big"), i + 1 + size


def _cbor_read(data: bytes, i: int) -> tuple[object, int]:
    major, arg, i = _cbor_head(data, i)
    if major in (0, 1):
        return (arg if major == 0 else -1 - arg), i
    if major in (2, 3):
        raw = data[i:i + arg]
        return (raw if major == 2 else raw.decode("utf-8")), i + arg
    if major == 4:
        items = []
        for _ in range(arg):
            item, i = _cbor_read(data, i)
            items.append(item)
        return items, i
    if major == 7 and arg in (20, 21, 22):
        return {20: False, 21: True, 22: None}[arg], i
    raise ValueError(f"unexpected CBOR item (major type {major})")


def _cbor_head_bytes(major: int, arg: int) -> bytes:
    if arg < 24:
        return bytes([major << 5 | arg])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * size):
            return bytes([major << 5 | info]) + arg.to_bytes(size, "big")
    raise ValueError("CBOR integer too large")


def _cbor_write(item: object) -> bytes:
    if item is False or item is True or item is None:
        return bytes([0xE0 | {False: 20, True: 21, None: 22}[item]])
    if isinstance(item, int):
        return _cbor_head_bytes(0, item) if item >= 0 else _cbor_head_bytes(1, -1 - item)
    if isinstance(item, bytes):
        return _cbor_head_bytes(2, len(item)) + item
    if isinstance(item, str):
        raw = item.encode("utf-8")
        return _cbor_head_bytes(3, len(raw)) + raw
    assert isinstance(item, list)
    return _cbor_head_bytes(4, len(item)) + b"".join(_cbor_write(x) for x in item)


def _read_pagefind(path: str) -> list:
    with open(path, "rb") as fh:
        raw = gzip.decompress(fh.read())
    item, end = _cbor_read(raw, len(_SIGNATURE)) if raw.startswith(_SIGNATURE) else (None, 0)
    if end != len(raw) or not isinstance(item, list) or _cbor_write(item) != raw[len(_SIGNATURE):]:
        raise IndexFailed(f"Pagefind wrote a file this version of site-builder does not know: {os.path.basename(path)}")
    return item


def _write_pagefind(folder: str, prefix: str, stem: str, suffix: str, item: list, digits: int) -> str:
    """Write ``item`` as Pagefind would, named after its bytes; returns the name's hash part."""
    data = gzip.compress(_SIGNATURE + _cbor_write(item), mtime=0)
    name = f"{stem}_{hashlib.sha256(data).hexdigest()[:digits]}"
    with open(os.path.join(folder, f"{prefix}{name}{suffix}"), "wb") as fh:
        fh.write(data)
    return name


def canonical_bundle(bundle: str) -> None:
    """Sort what Pagefind lists in hash-map order: the values in each filter file, and
    the filter and sort lists of the metadata file; rename the files after their bytes."""
    entry_path = os.path.join(bundle, "pagefind-entry.json")
    with open(entry_path, encoding="utf-8") as fh:
        entry = json.load(fh)
    folder = os.path.join(bundle, "filter")
    for language in entry["languages"].values():
        stem = language["hash"].split("_", 1)[0]
        old = os.path.join(bundle, f"pagefind.{language['hash']}.pf_meta")
        meta = _read_pagefind(old)  # [version, pages, index chunks, filters, sorts, meta fields]
        for pair in meta[3]:  # [filter name, filter file's hash]
            path = os.path.join(folder, f"{pair[1]}.pf_filter")
            values = _read_pagefind(path)  # [filter name, [[value, [page numbers]]...]]
            values[1] = sorted(values[1], key=lambda v: v[0])
            os.remove(path)
            pair[1] = _write_pagefind(folder, "", stem, ".pf_filter", values, 7)
        meta[3] = sorted(meta[3], key=lambda x: x[0])
        meta[4] = sorted(meta[4], key=lambda x: x[0])
        os.remove(old)
        language["hash"] = _write_pagefind(bundle, "pagefind.", stem, ".pf_meta", meta, 10)
    with open(entry_path, "w", encoding="utf-8") as fh:
        json.dump(entry, fh, ensure_ascii=False, separators=(",", ":"))


def make_bundle(docs: dict[str, bytes], work: str | None = None, prefix: str = BUNDLE, started: Any = None) -> Bundle:
    """Index ``docs`` (output path -> search document) in the folder ``work`` (made, then
    removed), or a private temporary folder."""
    if not docs:  # Pagefind refuses to make an empty index: a site with nothing to search has none
        return Bundle({}, 0)
    if work is None:
        tmp = tempfile.mkdtemp(prefix="site-builder-search-")  # private (0700): the dev server's
    else:
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        tmp = work
    try:
        write_documents(os.path.join(tmp, "docs"), docs)
        index_folder(tmp, started=started)
        canonical_bundle(os.path.join(tmp, "bundle"))
        return Bundle(read_bundle(os.path.join(tmp, "bundle"), prefix, code=prefix == BUNDLE), len(docs))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def page_ids(files: dict[str, bytes], prefix: str = BUNDLE) -> dict[str, str]:
    """Search document -> the id Pagefind gave its page (the name of its fragment)."""
    ids = {}
    for rel, data in files.items():
        if rel.startswith(prefix + "fragment/"):
            raw = gzip.decompress(data)
            url = json.loads(raw[raw.index(b"{"):])["url"]
            ids[url.lstrip("/") + "index.html"] = rel.rsplit("/", 1)[1].removesuffix(".pf_fragment")
    return ids


def _state(delta: bool, stale: Iterable[str]) -> bytes:
    return json.dumps({"delta": "delta/" if delta else None, "stale": sorted(stale)}, separators=(",", ":")).encode()


def plan(digests: dict[str, str], base: Base | None) -> list[str] | None:
    """The documents to index as a delta over ``base``; None when the index is to be made
    whole (no base, a small site, or too many changes since the base)."""
    if base is None or len(digests) < DELTA_MIN_DOCS:
        return None
    changed = sorted(p for p, d in digests.items() if base.docs.get(p) != d)
    removed = base.docs.keys() - digests.keys()
    return changed if len(changed) + len(removed) <= max(20, len(digests) // DELTA_SHARE) else None


def index(digests: dict[str, str], make: Callable[[Iterable[str]], dict[str, bytes]], work: str | None,
          base: Base | None, started: Any = None) -> tuple[Bundle, Base | None]:
    """The search index of the documents ``digests`` names (``make(paths)`` makes them):
    whole, or the base kept as it is with a small delta of the documents changed since
    (search.js merges the two, and drops the base's pages that the delta replaces or that
    are gone). Only the documents to index are made."""
    todo = plan(digests, base)
    if todo is None or base is None:
        bundle = make_bundle(make(digests), work, started=started)
        if bundle.pages:
            bundle.files[STATE] = _state(False, ())
        # the state file is not part of the base: a later delta build rewrites it
        whole = Base({rel: sha(data) for rel, data in bundle.files.items() if rel != STATE}, digests,
                     page_ids(bundle.files))
        return bundle, whole
    bundle = make_bundle(make(todo), work, DELTA, started)
    stale = [base.ids[p] for p in todo if p in base.ids] + [base.ids[p] for p in base.docs.keys() - digests.keys()
                                                           if p in base.ids]
    bundle.files[STATE] = _state(bool(todo), stale)
    bundle.kept = dict(base.files)
    return bundle, base


def base_from(state: dict) -> Base | None:
    try:
        return Base(**state)
    except TypeError:
        return None


def base_state(base: Base) -> dict:
    return asdict(base)


class Indexer:
    """Pagefind run in a thread (the binary is its own process, so it runs on another
    core while this one renders): ``start()``, later ``wait()`` for the bundle. ``digests``:
    each search document's sha256 (by the output path of its page); ``make(paths)``: those
    documents' bytes, made in the thread, only for the documents to index."""

    def __init__(self, digests: dict[str, str], make: Callable[[Iterable[str]], dict[str, bytes]],
                 work: str | None = None, base: Base | None = None):
        self.digests = digests
        self.make = make
        self.work = work
        self.base = base  # in: the last whole index; out: the base of this one
        self.bundle: Bundle | None = None
        self.failure: IndexFailed | None = None
        self._thread = threading.Thread(target=self._run, name="search-index", daemon=True)
        self._process: subprocess.Popen | None = None
        self._stopped = False

    def start(self) -> "Indexer":
        if not self._thread.is_alive() and self._thread.ident is None:
            self._thread.start()
        return self

    def _started(self, proc: subprocess.Popen) -> None:
        self._process = proc
        if self._stopped:
            proc.kill()

    def stop(self, wait: float = 5.0) -> None:
        """Stop the indexer (the dev server is closing); its temporary folder goes too."""
        self._stopped = True
        if self._process is not None:
            with contextlib.suppress(OSError):
                self._process.kill()
        if self._thread.ident is not None:
            self._thread.join(wait)

    def _run(self) -> None:
        try:
            self.bundle, self.base = index(self.digests, self.make, self.work, self.base, self._started)
        except IndexFailed as exc:
            self.failure = exc
        except (ValueError, KeyError, EOFError, gzip.BadGzipFile) as exc:  # truncated, or an unknown Pagefind
            self.failure = IndexFailed(f"the search index could not be read back: {exc}")
            if self.work is not None and _disk_full(self.work):
                self.failure = IndexFailed("no space left", self.work, "could not write: no space left on device")
        except OSError as exc:
            reason = (exc.strerror or str(exc)).lower()
            self.failure = IndexFailed(f"the search index could not be made: {reason}",
                                       exc.filename or self.work or "", f"could not write: {reason}") if self.work else \
                IndexFailed(f"the search index could not be made: {reason}")

    def wait(self) -> Bundle:
        self._thread.join()
        if self.bundle is None:
            raise self.failure or IndexFailed("the search index was not made")
        return self.bundle
