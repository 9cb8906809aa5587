"""Live preview: a thin adapter over livereload (Tornado).

``serve()`` keeps one ``Builder`` alive, so each rebuild recomputes only what an edit
changed, and holds the built site in memory: nothing is ever written to ``public/``
and no request can see a half-written tree. The pieces, top to bottom:

- ``watch.SiteWatcher`` (watchfiles: file-system events, polling where there are none)
  reports changed paths under ``content/``, ``templates/``, ``site.yaml`` and the
  built-in theme;
- ``Preview.notice`` debounces a burst of changes into one rebuild, run in a worker
  thread; requests that arrive meanwhile wait for it;
- the result is published as an immutable ``Snapshot`` on the IOLoop, the terminal
  gets a one-line summary (and the diagnostics), and livereload's websocket handler
  tells the browsers to reload;
- ``respond`` maps a raw URL path onto the snapshot: only keys of the in-memory tree
  are ever served, and a failed build shows its diagnostics over the last good page;
- ``HostRule`` answers only requests whose ``Host`` names this server (DNS rebinding sends
  another name), and ``ReloadSocket`` takes websockets only from the server's own pages.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import ipaddress
import os
import re
import signal
import socket
import sys
import threading
import time
import traceback
import webbrowser
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterable, Mapping, TextIO
from urllib.parse import quote, unquote_to_bytes, urlsplit

from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler
from tornado import httpserver, httputil, netutil, routing, web

from site_builder.build import Builder, BuildResult
from site_builder.search import BUNDLE, IndexFailed, Indexer
from site_builder.errors import Diagnostic, UsageError, summary
from site_builder.watch import SiteWatcher

DEBOUNCE = 0.05  # seconds of quiet after a change before rebuilding: one rebuild per burst of saves
SETTLE = 0.005  # the quiet spell after a complete write: with the watcher's own quiet step before it
#                 (watch.STEP, 5 ms), 10 ms in all, as with the inotify reader this replaced
MAX_DEBOUNCE = 0.5  # a steady stream of changes still rebuilds this often
INDEX_QUIET = 1.0  # seconds without a build before the search index is brought up to date
REQUEST_WAIT = 300.0  # a request waits at most this long for the build in progress
MAX_PATH = 2048  # longer request paths get 414
MAX_LISTED = 100  # diagnostics shown in the page; the terminal has them all

SCRIPT_PATH = "/livereload.js"
PANEL_PATH = "/_suggest/"  # the names without an entry (preview only: never in a build's output)
PANEL_MIN_ARTICLES = 2
BODY_END = b"</body>"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".pdf": "application/pdf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".mp3": "audio/mpeg",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".csv": "text/csv; charset=utf-8",
    ".zip": "application/zip",
}
OCTET = "application/octet-stream"


def content_type(key: str) -> str:
    return CONTENT_TYPES.get(os.path.splitext(key)[1].lower(), OCTET)


# -- requests: URL path -> key of the in-memory tree ---------------------------------------


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    location: str = ""  # for redirects


_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")


def normalise(raw_path: str) -> tuple[int, str]:
    """The tree key a raw (still percent-encoded) request path names, as ``(0, key)``,
    or ``(status, reason)`` for a path that is refused.

    Percent-decoding happens once; whatever still looks encoded afterwards (``%252e``)
    is refused, as are NUL and control characters, backslashes, ``.`` and ``..``
    segments and over-long paths. Nothing here touches the filesystem: a key is only
    ever looked up in the dict of built files.
    """
    if len(raw_path) > MAX_PATH:
        return 414, "the path is too long"
    if not raw_path.startswith("/"):
        return 400, "the path must start with /"
    try:
        path = unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError:
        return 400, "the path is not UTF-8"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return 400, "the path holds a control character"
    if "\\" in path:
        return 400, "the path holds a backslash"
    if _ENCODED.search(path):
        return 400, "the path is encoded twice"
    key = path[1:]
    if any(seg in (".", "..") for seg in key.split("/")):
        return 400, "the path holds a . or .. segment"
    return 0, key


# -- the published state -------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What the server shows; replaced as a whole after each build, never mutated."""

    files: Mapping[str, bytes] | None  # the last good build, None before the first one
    failure: tuple[Diagnostic, ...] = ()  # the latest build's diagnostics when it failed
    overlay: bytes = b""  # the failure as an HTML fragment for the pages
    error_page: bytes = b""  # the failure as a page, when there was never a good build
    search: Mapping[str, bytes] | None = None  # the search index (pagefind/…), made after the pages
    drafts: Mapping[str, str] = field(default_factory=dict)  # key of a draft's page -> its file (left out)


def inject(page: bytes, fragment: bytes) -> bytes:
    """``fragment`` just before the page's last ``</body>`` (at the end when it has none)."""
    if not fragment:
        return page
    at = page.lower().rfind(BODY_END)
    if at < 0:
        return page + fragment
    return page[:at] + fragment + page[at:]


def is_page(raw_path: str) -> bool:
    """Whether a request path names a page (a folder, an ``.html`` file or a name without an
    extension, which redirects to its folder) rather than an asset."""
    last = raw_path.rsplit("/", 1)[-1].lower()
    return "." not in last or last.endswith((".html", ".htm"))


def respond(snapshot: Snapshot, raw_path: str, script: bytes = b"") -> Response:
    """The response for a GET of ``raw_path``: a pure function of the snapshot."""
    status, key = normalise(raw_path)
    if status:
        return Response(status, f"{status}: {key}\n".encode())
    files = snapshot.files
    if files is None:
        if snapshot.failure:
            return Response(503, inject(snapshot.error_page, script), CONTENT_TYPES[".html"])
        return Response(503, b"the first build has not finished yet; reload in a moment\n")
    target = key + "index.html" if key == "" or key.endswith("/") else key
    data = files.get(target)
    if data is None and snapshot.search is not None and target.startswith(BUNDLE):
        data = snapshot.search.get(target)
    status = 200
    if data is None and (key + "/index.html") in files:
        return Response(302, b"", location="/" + quote(key, safe="/") + "/")
    note = b""
    if data is None:
        status, target = 404, "404.html"
        data = files.get(target)
        draft = snapshot.drafts.get(key if key.endswith("/") else key.removesuffix("index.html").rstrip("/") + "/")
        if draft is not None:
            note = draft_note(draft)
        if data is None:
            return Response(404, note or b"404: not found\n", CONTENT_TYPES[".html"] if note else OCTET)
    ctype = content_type(target)
    if ctype.startswith("text/html"):
        data = inject(inject(inject(data, note), snapshot.overlay), script)
    return Response(status, data, ctype)


def draft_note(path: str) -> bytes:
    """What the 404 page says at a draft's address: why it is missing and how to see it."""
    return (f'<aside id="site-builder-draft" role="note" style="position:fixed;left:1rem;right:1rem;bottom:1rem;'
            f'z-index:2147483646;margin:0 auto;max-width:40rem;padding:1rem 1.25rem;background:#1d1f21;color:#f2f2f2;'
            f'font:15px/1.5 system-ui,sans-serif;border-left:4px solid #ffd479;border-radius:4px">'
            f'<strong>This article is a draft.</strong> {html.escape(path)} has <code>draft: true</code>, so the '
            f'preview leaves it out. Restart the preview with <code>site-builder serve --drafts</code> to see it, '
            f'or remove <code>draft: true</code> to publish it.</aside>').encode("utf-8")


# -- diagnostics in the page ---------------------------------------------------------------

_OVERLAY_CSS = """
#site-builder-errors{position:fixed;left:0;right:0;top:0;max-height:75vh;overflow:auto;z-index:2147483647;
 box-sizing:border-box;margin:0;padding:1rem 1.5rem;background:#1d1f21;color:#f2f2f2;
 font:14px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;border-bottom:4px solid #e5484d;
 box-shadow:0 4px 24px rgba(0,0,0,.5);text-align:left}
#site-builder-errors h2{font:bold 16px/1.4 inherit;margin:0 0 .25rem;color:#ff8589}
#site-builder-errors p{margin:.2rem 0}
#site-builder-errors ol{margin:.75rem 0 0;padding:0;list-style:none}
#site-builder-errors li{margin:0 0 .9rem;padding:0 0 .9rem;border-bottom:1px solid #3a3d41}
#site-builder-errors .where{color:#8ec7ff;font-weight:bold}
#site-builder-errors .error{color:#ff8589}
#site-builder-errors .warning{color:#ffd479}
#site-builder-errors .hint{color:#b5e8a0}
#site-builder-errors pre{margin:.35rem 0 0;padding:.4rem .6rem;background:#111;color:#ddd;overflow:auto;
 white-space:pre;font:inherit}
"""


def _source_line(site: str, d: Diagnostic, cache: dict[str, list[str] | None]) -> str:
    """The diagnostic's line of source with a caret under its column ('' when unknown)."""
    if not d.line or not d.path:
        return ""
    if d.path not in cache:
        cache[d.path] = None
        full = os.path.realpath(os.path.join(site, d.path))
        real_site = os.path.realpath(site)
        if full.startswith(real_site + os.sep) and os.path.isfile(full):
            try:
                with open(full, "rb") as fh:
                    text = fh.read(4 * 1024 * 1024).decode("utf-8", "replace")
                cache[d.path] = [line.rstrip("\r") for line in text.split("\n")]  # lines as the parser counts them
            except OSError:
                pass
    lines = cache[d.path]
    if not lines or d.line > len(lines):
        return ""
    text = lines[d.line - 1].replace("\x00", "\ufffd")
    number = f"{d.line} | "
    out = number + text
    if d.col:
        pad = "".join(c if c == "\t" else " " for c in text[: d.col - 1])
        out += "\n" + " " * (len(number) - 2) + "| " + pad + "^"
    return out


def _where(d: Diagnostic) -> str:
    """``path:line:col`` exactly as the terminal prints it."""
    return d.format().split(f": {d.severity}[", 1)[0]


def _listing(site: str, diagnostics: tuple[Diagnostic, ...]) -> str:
    cache: dict[str, list[str] | None] = {}
    shown = [d for d in diagnostics if d.severity == "error"] + [d for d in diagnostics if d.severity == "warning"]
    items = []
    for d in shown[:MAX_LISTED]:
        e = html.escape
        source = _source_line(site, d, cache)
        items.append(
            f'<li><p><span class="where">{e(_where(d))}</span>: '
            f'<span class="{e(d.severity)}">{e(d.severity)}[{e(d.code)}]</span>: {e(d.message)}</p>'
            + (f'<p class="hint">hint: {e(d.hint)}</p>' if d.hint else "")
            + (f"<pre>{e(source)}</pre>" if source else "")
            + "</li>")
    more = len(shown) - MAX_LISTED
    if more > 0:
        items.append(f"<li><p>… and {more} more: see the terminal.</p></li>")
    return "<ol>" + "".join(items) + "</ol>"


def overlay_html(site: str, diagnostics: tuple[Diagnostic, ...], has_page: bool) -> bytes:
    """The failed build's diagnostics as a fragment to inject into a page."""
    note = ("You are looking at the last good build." if has_page else "There is no good build to show yet.")
    return (f'<div id="site-builder-errors" role="alert"><style>{_OVERLAY_CSS}</style>'
            f"<h2>Build failed: {html.escape(summary(diagnostics))}</h2>"
            f"<p>{note} Fix the files and save: this page reloads by itself.</p>"
            f"{_listing(site, diagnostics)}</div>").encode("utf-8")


def error_page(site: str, diagnostics: tuple[Diagnostic, ...]) -> bytes:
    return (b'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            b"<title>Build failed - site-builder</title></head><body>"
            + overlay_html(site, diagnostics, False) + b"</body></html>\n")


# -- names without an entry: /_suggest/ ----------------------------------------------------

_PANEL_CSS = """
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1d1f21}
h1{font-size:1.4rem} ol{padding-left:1.5rem} li{margin:0 0 1rem}
.counts,.variants,.where{color:#555} code{background:#f2f2f2;padding:0 .25rem}
"""


def panel_page(suggested: object | None, crashed: str = "") -> bytes:
    """The suggestions as a page of its own (``site-builder suggest``'s text, as HTML)."""
    e = html.escape
    items = []
    shown = suggested.top(PANEL_MIN_ARTICLES, MAX_LISTED) if suggested is not None else []  # type: ignore[attr-defined]
    for s in shown:
        ex = s.examples[0]
        items.append(
            f'<li><p><strong class="name">{e(s.name)}</strong>' + (f" [{e(s.type)}]" if s.type else "")
            + f' <span class="counts">{len(s.articles)} articles, {s.mentions} mentions; slug '
            f"<code>{e(s.slug)}</code></span></p>"
            + (f'<p class="variants">also written: {e("; ".join(s.variants[:8]))}</p>' if s.variants else "")
            + f'<p><span class="where">{e(ex.path)}:{ex.line}</span>: {e(ex.sentence)}</p></li>')
    problems = "".join(f"<p>{e(d.format())}</p>" for d in getattr(suggested, "diagnostics", []))
    body = (f"<p>The suggestions could not be made: {e(crashed)}</p>" if crashed else problems
            or ("<ol>" + "".join(items) + "</ol>" if items else
                f"<p>No name recurs in {PANEL_MIN_ARTICLES} articles or more without a glossary entry.</p>"))
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Suggested glossary entries'
            f" - site-builder</title><style>{_PANEL_CSS}</style></head><body><h1>Names without a glossary "
            f"entry</h1><p>Names used in {PANEL_MIN_ARTICLES} articles or more that no entry or alias covers, "
            "as of the last build; this page reloads by itself. Write an entry with "
            f"<code>site-builder suggest --write SLUG</code>.</p>{body}</body></html>\n").encode("utf-8")


# -- the preview ---------------------------------------------------------------------------


@dataclass
class _Outcome:
    """A build as the worker thread hands it to the IOLoop."""

    result: BuildResult
    differs: int = 0  # output files whose bytes changed since the last good build
    overlay: bytes = b""
    error_page: bytes = b""
    crashed: str = ""  # a traceback when the builder raised


class Preview:
    """The resident builder, its published snapshot, and the rebuild scheduling.

    ``notice`` and ``_publish`` run on the IOLoop; ``_run_builder`` runs in the single
    worker thread, the only user of the Builder. The snapshot is replaced, never changed.
    """

    def __init__(self, site: str, base_url: str, drafts: bool = False, debounce: float = DEBOUNCE,
                 settle: float = SETTLE, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.site = os.path.abspath(site)
        self.base_url = base_url
        self.drafts = drafts
        self.debounce = debounce
        self.settle = settle
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.builder = self._new_builder()
        self.snapshot = Snapshot(None)
        self.script = f'<script src="{SCRIPT_PATH}?port={_port_of(base_url)}"></script>'.encode()
        self.builds = 0
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="site-builder-build")
        self._idle = asyncio.Event()  # set while the snapshot reflects every change seen
        self._pending: set[str] = set()
        self._first_change: float | None = None
        self._quiet = debounce
        self._timer: asyncio.TimerHandle | None = None
        self._building = False
        self._printed: tuple[Diagnostic, ...] | None = None
        self._good: Mapping[str, bytes] | None = None  # the worker's copy of the last good tree
        self._loop: asyncio.AbstractEventLoop | None = None
        self._indexer: Indexer | None = None  # the latest build's search indexer
        self._indexed = 0  # builds whose indexer was started; the latest one's index is served
        self._last_index: dict[str, bytes] = {}  # the files of the index served last
        self._closing = False
        self.watcher: SiteWatcher | None = None  # set when a watcher feeds notice()
        self.panel: bytes | None = None  # /_suggest/: made on the first request, then after every build

    def _new_builder(self) -> Builder:
        # cache=True only *reads* the on-disk cache a `site-builder build` left (a warm first
        # build); a Builder writes it only when asked to, and serve never asks: nothing is written.
        builder = Builder(self.site, drafts=self.drafts, base_url=self.base_url, cache=True)
        builder.runner.searching = True  # in a private temporary folder, never public/
        builder.runner.search_later = True  # after the build, once saves go quiet (see _await_index)
        builder.runner.search_apart = True  # documents made and indexed in a forked process, not this one
        return builder

    # scheduling (IOLoop thread)

    def notice(self, labels: Iterable[str], transient: Iterable[str] = (), complete: bool = False) -> None:
        """Sources changed: hold requests, rebuild after a quiet spell. ``transient`` files
        came and went (editor temporaries): they rebuild but are not named. ``complete``
        says the last change finished a write (closed, renamed or deleted a file), so a
        shorter quiet spell is enough; a write still in progress gets the full debounce."""
        loop = asyncio.get_running_loop()
        self._pending.update(labels)
        self._pending.difference_update(transient)
        self._idle.clear()
        if self._first_change is None:
            self._first_change = loop.time()
        self._quiet = self.settle if complete else self.debounce
        if not self._building:
            self._schedule()

    def _schedule(self) -> None:
        loop = asyncio.get_running_loop()
        if self._timer is not None:
            self._timer.cancel()
        first = self._first_change if self._first_change is not None else loop.time()
        delay = max(0.0, min(self._quiet, first + MAX_DEBOUNCE - loop.time()))
        self._timer = loop.call_later(delay, self._start_build)

    def _start_build(self) -> None:
        self._timer = None
        changed = sorted(self._pending)
        self._pending.clear()
        seen = self._first_change
        self._first_change = None
        self._building = True
        asyncio.ensure_future(self._build(changed, seen))

    async def _build(self, changed: list[str], seen: float | None) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        try:
            outcome = await loop.run_in_executor(self._executor, self._run_builder)
            self._publish(outcome, changed, seen)
            if self.panel is not None:  # someone looks at /_suggest/: make it again, after the pages
                asyncio.ensure_future(self._refresh_panel())
        finally:
            self._building = False
            if self._pending or self._first_change is not None:  # changes seen during the build
                self._schedule()
            else:
                self._idle.set()

    async def settled(self, timeout: float = REQUEST_WAIT, just_made: bool = False) -> None:
        """Wait until the snapshot reflects every change seen so far (bounded). ``just_made``:
        first wait until the watcher has handed over any change made before now, too (a few of
        its steps, ~10 ms): pages ask for it, so a page fetched right after a save shows the
        save; their assets, fetched after the page, need not wait again."""
        if just_made and self.watcher is not None:
            await self.watcher.caught_up()
        if not self._idle.is_set():
            try:
                await asyncio.wait_for(self._idle.wait(), timeout)
            except asyncio.TimeoutError:
                pass

    async def _refresh_panel(self) -> None:
        """/_suggest/ made again after a published build (in the worker thread, so the build's
        pages never wait for it), and the browsers told when it changed."""
        page = await asyncio.get_running_loop().run_in_executor(self._executor, self._make_panel)
        if page != self.panel:
            self.panel = page
            LiveReloadHandler.reload_waiters("*")

    async def panel_page(self) -> bytes:
        """/_suggest/: the first request has it made (in the worker thread, after any build in
        progress); every build after that makes it again, so it follows each save."""
        if self.panel is None:
            loop = asyncio.get_running_loop()
            self.panel = await loop.run_in_executor(self._executor, self._make_panel)
        return self.panel

    # building (worker thread)

    def _make_panel(self) -> bytes:
        try:
            return panel_page(self.builder.suggestions(PANEL_MIN_ARTICLES))
        except Exception:  # a bug: say so in the panel and the terminal, keep serving
            tb = traceback.format_exc()
            print(tb, file=self.err, end="")
            return panel_page(None, tb.strip().splitlines()[-1])

    def _run_builder(self) -> _Outcome:
        try:
            result = self.builder.run()
        except Exception:  # a bug in a stage: keep serving, say so in the page and the terminal
            tb = traceback.format_exc()
            d = Diagnostic("(site-builder)", 0, 0, "error", "internal.crash",
                           f"the build crashed: {tb.strip().splitlines()[-1]}",
                           "this is a bug in site-builder, not in your files; the traceback is in the terminal")
            self.builder = self._new_builder()  # drop memos a crash may have left half-updated
            return _Outcome(BuildResult([d], None), 0, overlay_html(self.site, (d,), self._good is not None),
                            error_page(self.site, (d,)), tb)
        if result.ok:
            differs = _changed_files(self._good, result.files)
            self._good = result.files
            if result.search is not None and result.search is not self._indexer:
                self._indexer, self._indexed = result.search, self._indexed + 1
                threading.Thread(target=self._await_index, args=(result.search, self._indexed), daemon=True,
                                 name="site-builder-search").start()
            return _Outcome(result, differs)
        diags = tuple(result.diagnostics)
        return _Outcome(result, 0, overlay_html(self.site, diags, self._good is not None), error_page(self.site, diags))

    def _await_index(self, indexer: Indexer, number: int) -> None:
        """Index a build's search documents once saves have gone quiet (INDEX_QUIET seconds
        without a build), then serve the index; a newer build's indexer replaces this one
        before it starts. The documents are made and indexed in a forked process (only
        changed shards), so the builds that follow never wait for them."""
        while True:
            time.sleep(INDEX_QUIET)
            if number != self._indexed or self._closing:
                return
            if not self._building and not self._pending:
                break
        try:
            bundle = indexer.start().wait()
        except IndexFailed as exc:
            if not self._closing:
                print(f"search index not updated: {exc}", file=self.err, flush=True)
            return
        self.builder.runner.search_shards = bundle.shards  # the next index reads these, not the disk cache
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._publish_search, bundle.files, number)

    def _publish_search(self, files: dict[str, bytes], number: int) -> None:
        """Serve a new index. The last one's files stay served beside it (their names are
        their digests, all but the two entry files): a search page that loaded the last
        index's metadata a moment ago still finds its chunks."""
        if number == self._indexed:
            self.snapshot = dataclasses.replace(self.snapshot, search={**self._last_index, **files})
            self._last_index = files

    # publishing (IOLoop thread)

    def _publish(self, outcome: _Outcome, changed: list[str], seen: float | None) -> None:
        result = outcome.result
        old = self.snapshot
        if result.ok:
            drafts = {f"articles/{slug}/": h.path for slug, h in result.index.drafts.items()} if result.index else {}
            new = Snapshot(result.files, search=old.search, drafts=drafts)
        else:
            new = Snapshot(old.files, tuple(result.diagnostics), outcome.overlay if old.files is not None else b"",
                           outcome.error_page, old.search, old.drafts)
        self.snapshot = new
        self.builds += 1
        self._report(outcome, changed, seen, asyncio.get_running_loop().time())
        if outcome.differs or new.failure != old.failure:
            LiveReloadHandler.reload_waiters("*")

    def _report(self, outcome: _Outcome, changed: list[str], seen: float | None, now: float) -> None:
        result = outcome.result
        if outcome.crashed:
            print(outcome.crashed, file=self.err, end="")
        shown = tuple(d for d in result.diagnostics if d.severity != "info" or self.builds == 1)
        if not result.ok or shown != self._printed:
            for d in shown:
                print(d.format(), file=self.err)
        self._printed = shown
        what = _names(changed) if self.builds > 1 else "first build"
        since = f", {(now - seen) * 1000:.0f} ms after the change" if seen is not None and self.builds > 1 else ""
        stages = ", ".join(f"{stage} {n}" for stage, n in result.counts.items()) or "nothing recomputed"
        stamp = time.strftime("%H:%M:%S")
        if result.ok:
            line = (f"[{stamp}] {what}: {stages}; {outcome.differs} files changed; "
                    f"{summary(result.diagnostics)}; built in {result.seconds * 1000:.0f} ms{since}")
        else:
            shows = "the last good build with the errors over it" if self.snapshot.files is not None else "the errors"
            line = (f"[{stamp}] {what}: build failed: {summary(result.diagnostics)} ({stages}) "
                    f"in {result.seconds * 1000:.0f} ms{since}; the browser shows {shows}")
        self.err.flush()
        print(line, file=self.out, flush=True)

    def start(self) -> None:
        """The first build; requests wait for it."""
        LiveReloadHandler.DEFAULT_RELOAD_TIME = 0  # livereload would drop reloads within 3 s of the last one
        self._idle.clear()
        self._start_build()

    def close(self) -> None:
        self._closing = True
        if self._timer is not None:
            self._timer.cancel()
        if self._indexer is not None:
            self._indexer.stop()
        self._executor.shutdown(wait=False, cancel_futures=True)


def _changed_files(old: Mapping[str, bytes] | None, new: Mapping[str, bytes] | None) -> int:
    if old is None or new is None:
        return len(new or {})
    n = sum(1 for k in old if k not in new)
    for k, v in new.items():
        o = old.get(k)
        if o is not v and o != v:
            n += 1
    return n


def _names(changed: list[str], limit: int = 3) -> str:
    """The changed paths for the terminal; a new folder is named by the files in it."""
    changed = [c for c in changed if not any(o.startswith(c + "/") for o in changed)]
    if not changed:
        return "rebuilt"
    shown = ", ".join(changed[:limit])
    return shown + (f" and {len(changed) - limit} more" if len(changed) > limit else "")


def _port_of(base_url: str) -> int:
    return urlsplit(base_url).port or 80


# -- who may ask: the Host header -----------------------------------------------------------

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
EVERY_INTERFACE = ("", "0.0.0.0", "::")
_PORT = re.compile(r":[0-9]{1,5}")


def split_host(value: str) -> tuple[str, int | None] | None:
    """A ``Host`` value as (lower-case name, or an IP address in its canonical spelling without
    brackets; the port or None), or None when it is malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
        if not bracket:
            return None
    else:
        name, colon, port = value.partition(":")
        rest = colon + port
    if rest and not _PORT.fullmatch(rest):
        return None
    port_number = int(rest[1:]) if rest else None
    if port_number is not None and port_number > 65535:
        return None
    name = name[:-1] if name.endswith(".") else name
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        if value.startswith("[") or not name:
            return None
        return name, port_number
    if value.startswith("[") != (address.version == 6):
        return None
    return str(address), port_number


@dataclass(frozen=True)
class HostRule:
    """The ``Host`` values the server answers. DNS rebinding points a name the attacker owns
    at this machine, and the browser then sends that name; so only names of the address the
    server is bound to are answered: ``localhost``, ``127.0.0.1``, ``[::1]`` and the
    ``--host`` given. Bound to every interface (``0.0.0.0``, ``::``), also any IP address
    (a browser sends an address only when it connected to that address) and the machine's
    host name (as ``hostname``, its first label and ``<label>.local``). A port, when given,
    must be the bound one. A request with no ``Host`` at all (HTTP/1.0 tools) is answered:
    browsers always send one."""

    names: frozenset[str]
    port: int
    any_address: bool = False

    @classmethod
    def bound_to(cls, host: str, port: int) -> HostRule:
        names = set(LOOPBACK_NAMES)
        if host in EVERY_INTERFACE:
            machine = socket.gethostname().lower().rstrip(".")
            label = machine.split(".", 1)[0]
            names.update(n for n in (machine, label, label + ".local") if n)
            return cls(frozenset(names), port, True)
        given = split_host(f"[{host}]" if ":" in host else host)
        if given is not None:
            names.add(given[0])
        return cls(frozenset(names), port)

    def allows(self, value: str | None) -> bool:
        if value is None:
            return True
        parsed = split_host(value)
        if parsed is None:
            return False
        name, port = parsed
        if port is not None and port != self.port:
            return False
        if name in self.names:
            return True
        if not self.any_address:
            return False
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True


# -- HTTP ----------------------------------------------------------------------------------


class SiteHandler(web.RequestHandler):
    """Serves the in-memory tree; holds a request while a rebuild is in progress."""

    def initialize(self, preview: Preview) -> None:  # type: ignore[override]
        self.preview = preview

    async def get(self) -> None:
        await self._respond(True)

    async def head(self) -> None:
        await self._respond(False)

    async def _respond(self, include_body: bool) -> None:
        await self.preview.settled(just_made=is_page(self.request.path))
        if self.request.path == PANEL_PATH.rstrip("/"):
            r = Response(302, b"", location=PANEL_PATH)
        elif self.request.path == PANEL_PATH:
            r = Response(200, inject(await self.preview.panel_page(), self.preview.script), CONTENT_TYPES[".html"])
        else:
            r = respond(self.preview.snapshot, self.request.path, self.preview.script)
        self.set_status(r.status)
        self.set_header("Content-Type", r.content_type)
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        if r.location:
            self.set_header("Location", r.location)
        if include_body:
            self.write(r.body)
        else:
            self.set_header("Content-Length", str(len(r.body)))

    def compute_etag(self) -> None:
        return None


def _log_request(handler: web.RequestHandler) -> None:
    if handler.get_status() >= 500 and handler.get_status() != 503:  # 503: no good build yet, already reported
        print(f"{handler.get_status()} {handler.request.method} {handler.request.uri}", file=sys.stderr)


class ReloadSocket(LiveReloadHandler):
    """livereload's websocket, for this server's own pages only (livereload accepts any
    ``Origin``). Tornado lets through what the browser marks same-origin (``Sec-Fetch-Site``)
    and an ``Origin`` whose host and port are the request's ``Host``; it asks ``check_origin``
    about everything else, which is refused unless it is ``http://`` and that same ``Host``.
    A client that sends no ``Origin`` is let in: browsers always send one, so it is not a
    page of another site."""

    def check_origin(self, origin: str) -> bool:
        parts = urlsplit(origin)
        return parts.scheme == "http" and parts.netloc.lower() == (self.request.headers.get("Host") or "").lower()


class RefusedHost(web.RequestHandler):
    """Any request whose ``Host`` does not name this server, on any path: 421 and where to go
    instead (the address the terminal shows, never the machine's names: the page that asked
    may be the attacker's)."""

    def initialize(self, url: str) -> None:  # type: ignore[override]
        self.url = url

    def prepare(self) -> None:
        self.set_status(421)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(f"421: the Host header does not name this server; open {self.url}\n")


class _HostMatches(routing.Matcher):
    def __init__(self, hosts: HostRule) -> None:
        self.hosts = hosts

    def match(self, request: httputil.HTTPServerRequest) -> dict | None:
        return {} if self.hosts.allows(request.headers.get("Host")) else None


def application(preview: Preview, hosts: HostRule) -> web.Application:
    """Every route sits behind the Host check: another name gets ``RefusedHost`` on any path.
    ``preview.base_url`` is the address the refusal points to."""
    routes = [
        (r"/livereload", ReloadSocket),
        (SCRIPT_PATH, LiveReloadJSHandler),
        (r"/.*", SiteHandler, {"preview": preview}),
    ]
    return web.Application([routing.Rule(_HostMatches(hosts), routes),
                            routing.Rule(routing.AnyMatches(), RefusedHost, {"url": preview.base_url})],
                           log_function=_log_request, compress_response=False)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _watch(watcher: SiteWatcher, preview: Preview) -> None:
    """Feed the watcher's changes to the preview, and let requests wait for the watcher."""
    def on_change(changed: list[str], transient: list[str], complete: bool) -> None:
        preview.notice([watcher.label(p) for p in changed], [watcher.label(p) for p in transient], complete)

    LiveReloadHandler.watcher = watcher
    LiveReloadHandler.live_css = False
    watcher.start(on_change)
    preview.watcher = watcher


async def run(site: str, host: str = "127.0.0.1", port: int = 8000, drafts: bool = False,
              open_browser: bool = False, stop: asyncio.Event | None = None,
              out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Serve until ``stop`` is set (or SIGINT/SIGTERM): the asynchronous core of ``serve``."""
    out = out or sys.stdout
    err = err or sys.stderr
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            signals.append(sig)
        except (RuntimeError, ValueError):  # not the main thread, or Windows (its "not implemented" is a RuntimeError)
            pass
    try:
        if not 0 <= port <= 65535:
            raise UsageError(f"--port {port} is out of range: a port is a number from 0 to 65535")
        try:
            sockets = netutil.bind_sockets(port, address=host)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {getattr(exc, 'strerror', None) or exc}") from None
        bound = sockets[0].getsockname()[1]
        url = f"http://{_url_host(host)}:{bound}/"
        if not _is_loopback(host):
            print(f"warning: listening on {host}: anyone who can reach this machine can read the preview; "
                  "use --host 127.0.0.1 to keep it local", file=err, flush=True)
        preview = Preview(site, url, drafts=drafts, out=out, err=err)
        server = httpserver.HTTPServer(application(preview, HostRule.bound_to(host, bound)))
        server.add_sockets(sockets)
        watcher = SiteWatcher(site, note=lambda message: print(f"note: {message}", file=err, flush=True))
        _watch(watcher, preview)
        print(f"serving {preview.site} at {url} (Ctrl+C stops; nothing is written to public/)", file=out, flush=True)
        preview.start()
        if open_browser:
            async def _open() -> None:
                await preview.settled()
                threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
            asyncio.ensure_future(_open())
        try:
            await stop.wait()
        finally:
            watcher.stop()
            server.stop()
            preview.close()
            print("stopped", file=out, flush=True)
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
    return 0


def serve(site: str, host: str = "127.0.0.1", port: int = 8000, drafts: bool = False,
          open_browser: bool = False) -> int:
    """``site-builder serve``: live preview until Ctrl+C or SIGTERM; returns the exit code."""
    try:
        return asyncio.run(run(site, host, port, drafts, open_browser))
    except KeyboardInterrupt:
        return 0
