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
  its type and aliases as metadata and its type and ``kind`` as filters (search.js
  looks for the entry a query names among the entries only).

The rendered pages carry the same marks (``data-pagefind-body`` on the article body and
the entry's summary and body) so that a reader of the HTML sees what is searched.

The index is made in *shards*: each document goes to a shard by a stable hash of its
path (``shard_of``), and Pagefind indexes each shard on its own; the search page merges
them in the reader's browser (Pagefind's ``mergeIndex``; ``pagefind/shards.json`` lists
them). A shard's index is a function of its documents only (``Shard.key``: their paths and
digests, Pagefind's version and this module's ``FORMAT``), so it is kept in the build's
cache: an edit indexes the one shard its document is in, a build with a fresh output
folder and a warm cache (a deploy) indexes none, and any build gives the same bytes as a
cold one. The number of shards depends only on the number of documents
(``shard_count``): one up to ``SHARD_DOCS``, then the next power of two, so that adding
a document never moves others between shards except when the count doubles (then every
shard is indexed once, as in a cold build). Every shard adds one index chunk (~25 KB)
per word to what a reader downloads for a query: hence few, large shards (the benchmark
corpus's 5,300 documents make two; four would take a two-word query over 300 KB).

``Indexer`` runs in a thread (``start``, then ``wait``), or, for the dev server, makes
the documents and runs the binary in a forked process (``apart``), so that the server's
own process never spends time on them. The bundle comes back as bytes under
``pagefind/`` for the writer, so a failed build never leaves a new index beside an old
site, or the other way round.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import html
import json
import multiprocessing
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from site_builder.model import TYPE_NAMES, ArticleHeader, EntryHeader

BUNDLE = "pagefind/"  # where the index lives in the output
SHARDS = BUNDLE + "shards.json"  # for search.js: the folders of the shards merged into the first one
SHARD_DOCS = 3000  # documents a shard holds at most, on average, before the shard count doubles (see shard_count)
FORMAT = 1  # the version of what this module makes of Pagefind's output (part of each shard's key)
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
    hidden = [("meta", "kind", "entry"), ("filter", "kind", "entry"), ("meta", "type", TYPE_NAMES[e.type]),
              ("filter", "type", TYPE_NAMES[e.type]),
              ("meta", "aliases", "|".join(e.aliases)), ("meta", "slug", e.slug)]
    inner = (f"<h1>{html.escape(e.title)}</h1>\n"
             f'<p data-pagefind-weight="{ALIAS_WEIGHT}">{html.escape(names)}</p>\n'
             + (f'<p data-pagefind-meta="summary">{html.escape(e.summary)}</p>\n' if e.summary else "")
             + body_html + "\n" + _hidden(hidden))
    return _page(language, e.title, "", inner)


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


def read_bundle(folder: str) -> dict[str, bytes]:
    """The files of a Pagefind bundle a reader's browser needs, by path in the bundle."""
    files = {}
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if os.path.isdir(path):
            if name in _KEEP_FOLDERS:
                for inner in sorted(os.listdir(path)):
                    with open(os.path.join(path, inner), "rb") as fh:
                        files[f"{name}/{inner}"] = fh.read()
        elif name in _KEEP or name.endswith(_KEEP_SUFFIXES):
            with open(path, "rb") as fh:
                files[name] = fh.read()
    return files


def _is_code(rel: str) -> bool:
    """Pagefind's JavaScript and WebAssembly: the first shard's serve every shard."""
    return "/" not in rel and not rel.endswith((".json", ".pf_meta"))


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




def index_documents(docs: dict[str, bytes], work: str | None = None, started: Any = None) -> dict[str, bytes]:
    """Pagefind's bundle (by path in the bundle) for ``docs`` (output path -> search
    document), made in the folder ``work`` (made, then removed), or a private temporary one."""
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
        return read_bundle(os.path.join(tmp, "bundle"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- shards ----------------------------------------------------------------------------------


@functools.cache
def pagefind_version() -> str:
    import importlib.metadata

    return importlib.metadata.version("pagefind_bin")


def shard_count(documents: int) -> int:
    """One shard up to SHARD_DOCS documents, then the smallest power of two that keeps
    shards at SHARD_DOCS or fewer on average. With a power of two, ``shard_of`` under twice
    the count splits each shard in two: nothing else ever moves."""
    count = 1
    while documents > count * SHARD_DOCS:
        count *= 2
    return count


def shard_of(path: str, count: int) -> int:
    return int.from_bytes(hashlib.sha256(path.encode("utf-8", "surrogatepass")).digest()[:8], "big") % count


@dataclass(frozen=True)
class Shard:
    number: int
    key: str  # what its index is made from: its documents' paths and digests, Pagefind's version, FORMAT
    paths: tuple[str, ...]  # output paths of its documents' pages, sorted


def plan(digests: dict[str, str]) -> list[Shard]:
    """The shards of the documents ``digests`` names (output path -> digest of the
    document), without the empty ones."""
    count = shard_count(len(digests))
    groups: list[list[str]] = [[] for _ in range(count)]
    for path in sorted(digests):
        groups[shard_of(path, count)].append(path)
    version = pagefind_version()
    return [Shard(n, hashlib.sha256("\n".join([f"search shard {FORMAT} {version}"]
                                                + [f"{p}\0{digests[p]}" for p in group]).encode()).hexdigest(),
                  tuple(group)) for n, group in enumerate(groups) if group]


def combine(shards: list[Shard], made: dict[int, dict[str, bytes]]) -> dict[str, bytes]:
    """The output's ``pagefind/``: the first shard's bundle, with Pagefind's code; each
    other shard's index under ``pagefind/<number>/``; ``shards.json`` lists those."""
    if not shards:  # Pagefind refuses to make an empty index: a site with nothing to search has none
        return {}
    first, *others = shards
    files = {BUNDLE + rel: data for rel, data in made[first.number].items()}
    for shard in others:
        files.update((f"{BUNDLE}{shard.number}/{rel}", data) for rel, data in made[shard.number].items()
                     if not _is_code(rel))
    files[SHARDS] = json.dumps({"shards": [f"{s.number}/" for s in others]}, separators=(",", ":")).encode()
    return files


@dataclass
class Bundle:
    files: dict[str, bytes]  # output path (under pagefind/) -> bytes
    pages: int  # documents indexed
    made: dict[int, tuple[str, dict[str, bytes]]]  # the shards indexed by this build: number -> (key, files)
    shards: dict[int, tuple[str, dict[str, bytes]]]  # every shard of this index, indexed or kept


def make_shards(todo: list[Shard], make: Callable[[Iterable[str]], dict[str, bytes]], work: str | None,
                started: Any = None) -> dict[int, dict[str, bytes]]:
    return {shard.number: index_documents(make(shard.paths), work, started) for shard in todo}


def _apart(conn: Any, todo: list[Shard], make: Callable[[Iterable[str]], dict[str, bytes]]) -> None:
    """The forked process of ``Indexer(apart=True)``: its shards, sent back (or why not)."""
    from site_builder.parallel import die_with_parent

    die_with_parent()
    try:
        conn.send(("ok", make_shards(todo, make, None)))
    except IndexFailed as exc:
        conn.send(("failed", str(exc)))
    except Exception as exc:  # noqa: BLE001 - reported by the server; it keeps serving
        conn.send(("failed", f"the search index could not be made: {exc!r}"))


class Indexer:
    """Pagefind run in a thread (the binary is its own process, so it runs on another
    core while this one renders): ``start()``, later ``wait()`` for the bundle. ``digests``:
    each search document's sha256 (by the output path of its page); ``make(paths)``: those
    documents' bytes, made only for the shards to index; ``cached(shard)``: a shard's
    files when a cache holds them for its key. ``apart``: the documents are made and
    indexed in a forked process (the dev server's own process stays free)."""

    def __init__(self, digests: dict[str, str], make: Callable[[Iterable[str]], dict[str, bytes]],
                 work: str | None = None, cached: Callable[[Shard], dict[str, bytes] | None] = lambda s: None,
                 apart: bool = False):
        self.digests = digests
        self.make = make
        self.work = work
        self.cached = cached
        self.apart = apart
        self.indexed = 0  # shards indexed (the others came from the cache)
        self.bundle: Bundle | None = None
        self.failure: IndexFailed | None = None
        self._thread = threading.Thread(target=self._run, name="search-index", daemon=True)
        self._process: Any = None
        self._stopped = False

    def start(self) -> "Indexer":
        if not self._thread.is_alive() and self._thread.ident is None:
            self._thread.start()
        return self

    def _started(self, proc: Any) -> None:
        self._process = proc
        if self._stopped:
            proc.kill()

    def stop(self, wait: float = 5.0) -> None:
        """Stop the indexer (the dev server is closing); its temporary folder goes too."""
        self._stopped = True
        if self._process is not None:
            with contextlib.suppress(OSError, AttributeError, ValueError):
                self._process.kill()
        if self._thread.ident is not None:
            self._thread.join(wait)

    def _index(self, todo: list[Shard]) -> dict[int, dict[str, bytes]]:
        if not self.apart or not todo:
            return make_shards(todo, self.make, self.work, self._started)
        ctx = multiprocessing.get_context("fork")
        conn, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_apart, args=(child, todo, self.make), daemon=True, name="site-builder-search")
        proc.start()
        child.close()
        self._started(proc)
        try:
            if not conn.poll(TIMEOUT):
                raise IndexFailed(f"the search indexer (Pagefind) took more than {TIMEOUT:.0f} s")
            status, payload = conn.recv()
        except (EOFError, OSError):
            raise IndexFailed("the search indexer stopped") from None
        finally:
            conn.close()
            proc.kill()
            proc.join()
        if status != "ok":
            raise IndexFailed(payload)
        return payload

    def _build(self) -> Bundle:
        shards = plan(self.digests)
        have = {s.number: files for s in shards if (files := self.cached(s)) is not None}
        todo = [s for s in shards if s.number not in have]
        made = self._index(todo)
        self.indexed = len(todo)
        every = {**have, **made}
        return Bundle(combine(shards, every), len(self.digests), {s.number: (s.key, made[s.number]) for s in todo},
                      {s.number: (s.key, every[s.number]) for s in shards})

    def _run(self) -> None:
        try:
            self.bundle = self._build()
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
