"""The dev server over real HTTP, and incremental builds against clean ones.

A real ``python -m site_builder serve`` runs in a subprocess on a temporary site; the
tests edit the site's files on disk and watch what the server answers. Every wait is
a bounded poll; the server is stopped in the fixture's teardown.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from conftest import ROOT, write_article, write_glossary
from site_builder.build import Builder
from site_builder.errors import Diagnostic
from site_builder.serve import Snapshot, inject, normalise, respond

OVERLAY = 'id="site-builder-errors"'
SCRIPT = '<script src="/livereload.js?port='
SECRET = "TOP-SECRET-OUTSIDE-THE-SITE"

GLOSSARY = [
    {"slug": "russia", "title": "Russia", "type": "GPE"},
    {"slug": "north-korea", "title": "North Korea", "aliases": ["DPRK"], "type": "GPE"},
    {"slug": "iran", "title": "Iran", "type": "GPE"},
    {"slug": "wagner-group", "title": "Wagner Group", "aliases": ["Wagner"], "type": "ORG"},
]


def make_site(site: Path) -> Path:
    write_glossary(site, GLOSSARY)
    write_article(site, "arms-for-food", "Russia asked North Korea for shells.\n\nThe DPRK denied it.\n",
                  title="Arms for food", date="2023-03-30", extra="tags: [russia]\n")
    write_article(site, "drones", "Iran sold drones to Russia. See [[arms-for-food]].\n",
                  title="Drones from Iran", date="2023-02-01", extra="tags: [iran]\n")
    (site / "content" / "images").mkdir(parents=True, exist_ok=True)
    (site / "content" / "images" / "dot.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>\n')
    (site / "site.yaml").write_text("title: Test explainers\nbase_url: https://example.org/explainers/\n")
    return site


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], object], timeout: float = 20.0, what: str = "the condition", interval: float = 0.05):
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what} (last: {str(last)[:300]!r})")
        time.sleep(interval)


class ServerProcess:
    """``python -m site_builder serve`` on a free port, its output kept in files."""

    def __init__(self, site: Path, logs: Path, *args: str) -> None:
        self.site = site
        self.port = free_port()
        self.out = logs / f"serve-{self.port}.out"
        self.err = logs / f"serve-{self.port}.err"
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "site_builder", "serve", "--site", str(site), "--port", str(self.port), *args],
                cwd=ROOT, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, path: str, method: str = "GET", timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
            conn.endheaders()
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def get(self, path: str) -> tuple[int, str]:
        status, _, body = self.request(path)
        return status, body.decode("utf-8", "replace")

    def log(self) -> str:
        return self.out.read_text("utf-8", "replace") + self.err.read_text("utf-8", "replace")

    def wait_ready(self, timeout: float = 120.0) -> None:
        def answered():
            if self.proc.poll() is not None:
                pytest.fail(f"the server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                return self.request("/", timeout=timeout)[0] == 200
            except OSError:
                return False
        wait_for(answered, timeout, "the server to answer", 0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    site = make_site(root / "site")
    (root / "outside").mkdir()
    (root / "outside" / "secret.md").write_text(
        f"---\ntitle: Leak\ndate: 2023-01-01\nsummary: x\n---\n{SECRET}\n", encoding="utf-8")
    s = ServerProcess(site, root)
    try:
        s.wait_ready()
        yield s
    finally:
        s.stop()
    assert not (site / "public").exists(), "serve must never write public/"


def page_has(server: ServerProcess, path: str, text: str, status: int = 200) -> Callable[[], bool]:
    def check():
        got_status, body = server.get(path)
        return got_status == status and text in body
    return check


def page_lacks(server: ServerProcess, path: str, text: str, status: int = 200) -> Callable[[], bool]:
    def check():
        got_status, body = server.get(path)
        return got_status == status and text not in body
    return check


# -- serving ---------------------------------------------------------------------------------


def test_serves_the_built_site_from_memory(server):
    status, headers, body = server.request("/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    page = body.decode()
    assert "Arms for food" in page and "Drones from Iran" in page
    assert page.count(SCRIPT) == 1 and page.index(SCRIPT) < page.rindex("</body>")
    assert 'href="/articles/arms-for-food/"' in page, "links are rooted at the local address, not base_url's path"
    status, headers, body = server.request("/articles/arms-for-food/")
    assert status == 200 and b'class="entity"' in body
    status, headers, _ = server.request("/articles/arms-for-food")
    assert status in (301, 302) and headers["location"] == "/articles/arms-for-food/"
    assert server.request("/articles/arms-for-food/index.html")[0] == 200
    assert server.request("/images/dot.svg")[1]["content-type"] == "image/svg+xml"
    assert server.request("/feed.xml")[1]["content-type"].startswith("application/xml")
    assert server.request("/sitemap.xml")[0] == 200
    assert server.request("/site.webmanifest")[1]["content-type"] == "application/manifest+json"
    assert server.request("/favicon.ico")[1]["content-type"] == "image/x-icon"
    status, headers, body = server.request("/livereload.js")
    assert status == 200 and "javascript" in headers["content-type"] and b"LiveReload" in body
    status, headers, body = server.request("/index.html", method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0


def test_assets_have_their_content_types(server):
    page = server.get("/")[1]
    css = page.split('href="/assets/site.', 1)[1].split('"', 1)[0]
    status, headers, body = server.request("/assets/site." + css)
    assert status == 200 and headers["content-type"] == "text/css; charset=utf-8"
    assert SCRIPT.encode() not in body, "only HTML responses get the livereload script"


def test_unknown_paths_get_the_sites_404_page(server):
    for path in ("/nope", "/nope/", "/articles/nope/", "/assets/", "/index.htm"):
        status, headers, body = server.request(path)
        assert status == 404, path
        assert headers["content-type"] == "text/html; charset=utf-8"
        assert SCRIPT.encode() in body


def test_edit_add_and_delete_articles(server):
    site = server.site
    article = site / "content" / "articles" / "arms-for-food.md"
    original = article.read_text(encoding="utf-8")
    try:
        article.write_text(original.replace("asked North Korea for shells", "asked North Korea for rockets"),
                           encoding="utf-8")
        wait_for(page_has(server, "/articles/arms-for-food/", "for rockets"), what="the edited text")
        article.write_text(original.replace("title: \"Arms for food\"", "title: \"Arms for grain\""),
                           encoding="utf-8")
        wait_for(page_has(server, "/", "Arms for grain"), what="the new title on the home page")
        assert "Arms for grain" in server.get("/articles/drones/")[1], "cross-references show the new title"

        write_article(site, "new-piece", "Wagner recruited in Iran.\n", title="A brand new piece",
                      date="2023-04-01")
        wait_for(page_has(server, "/articles/new-piece/", "A brand new piece"), what="the added article")
        assert "A brand new piece" in server.get("/")[1]
        assert "/articles/new-piece/" in server.get("/glossary/iran/")[1], "backlinks include the new article"

        (site / "content" / "articles" / "new-piece.md").unlink()
        wait_for(page_has(server, "/articles/new-piece/", "", status=404), what="the deleted article to 404")
        assert "A brand new piece" not in server.get("/")[1]
    finally:
        article.write_text(original, encoding="utf-8")
        (site / "content" / "articles" / "new-piece.md").unlink(missing_ok=True)
        wait_for(page_has(server, "/", "Arms for food"), what="the original site")


def test_a_drafts_address_says_it_is_a_draft_and_how_to_show_it(server):
    site = server.site
    draft = site / "content" / "articles" / "work-in-progress.md"
    try:
        write_article(site, "work-in-progress", "Not finished.\n", title="Half written", extra="draft: true\n")
        wait_for(page_has(server, "/articles/work-in-progress/", "This article is a draft", status=404),
                 what="the draft note on the 404 page")
        body = server.get("/articles/work-in-progress/")[1]
        assert "content/articles/work-in-progress.md" in body and "--drafts" in body
        assert "This article is a draft" not in server.get("/articles/nope/")[1]  # only at a draft's address
    finally:
        draft.unlink(missing_ok=True)
        wait_for(page_lacks(server, "/articles/work-in-progress/", "This article is a draft", status=404),
                 what="the note gone with the draft")


def test_a_request_right_after_a_save_waits_for_the_rebuild(server):
    if not sys.platform.startswith("linux"):
        pytest.skip("the polling watcher sees a save only at its next poll")
    article = server.site / "content" / "articles" / "drones.md"
    original = article.read_text(encoding="utf-8")
    try:
        for n in range(3):
            article.write_text(original.replace("sold drones", f"sold drones (take {n})"), encoding="utf-8")
            status, body = server.get("/articles/drones/")  # no polling: this one request must see the save
            assert status == 200 and f"(take {n})" in body
    finally:
        article.write_text(original, encoding="utf-8")
        wait_for(page_lacks(server, "/articles/drones/", "(take "), what="the original article")


def test_glossary_and_settings_edits(server):
    site = server.site
    entry = site / "content" / "glossary" / "iran.md"
    config = site / "site.yaml"
    original_entry, original_config = entry.read_text(encoding="utf-8"), config.read_text(encoding="utf-8")
    try:
        entry.write_text(original_entry.replace('title: "Iran"', 'title: "Islamic Republic of Iran"')
                         .replace("aliases: []", 'aliases:\n  - "Iran"'), encoding="utf-8")
        wait_for(page_has(server, "/glossary/iran/", "Islamic Republic of Iran"), what="the new entry title")
        config.write_text(original_config.replace("Test explainers", "Renamed explainers"), encoding="utf-8")
        wait_for(page_has(server, "/", "Renamed explainers"), what="the new site title")
    finally:
        entry.write_text(original_entry, encoding="utf-8")
        config.write_text(original_config, encoding="utf-8")
        wait_for(page_lacks(server, "/", "Renamed explainers"), what="the original settings")
        wait_for(page_lacks(server, "/glossary/iran/", "Islamic Republic"), what="the original entry")


# -- errors in the page ----------------------------------------------------------------------


def test_a_broken_file_shows_an_overlay_on_every_page_until_fixed(server):
    article = server.site / "content" / "articles" / "drones.md"
    original = article.read_text(encoding="utf-8")
    broken = original.replace("date: 2023-02-01", "date: 2023-02-31")
    line = broken.split("\n").index("date: 2023-02-31") + 1
    where = f"content/articles/drones.md:{line}:"
    try:
        article.write_text(broken, encoding="utf-8")
        wait_for(page_has(server, "/articles/drones/", OVERLAY), what="the overlay")
        for path, status in (("/", 200), ("/articles/arms-for-food/", 200), ("/glossary/russia/", 200),
                             ("/no-such-page/", 404)):
            got, body = server.get(path)
            assert got == status, path
            assert OVERLAY in body and where in body, path
            assert "2023-02-31" in body, "the overlay quotes the source line"
            assert body.index(OVERLAY) < body.rindex("</body>")
            assert body.count(SCRIPT) == 1
        assert "Arms for food" in server.get("/")[1], "the last good page is still under the overlay"
        status, headers, body = server.request("/images/dot.svg")
        assert status == 200 and OVERLAY.encode() not in body, "only HTML gets the overlay"
        log = wait_for(lambda: where in server.log() and "build failed" in server.log() and server.log(),
                       what="the diagnostics in the terminal")
        assert "content/articles/drones.md" in log

        article.write_text(original, encoding="utf-8")
        wait_for(page_lacks(server, "/articles/drones/", OVERLAY), what="the overlay to go")
        assert OVERLAY not in server.get("/")[1]
    finally:
        article.write_text(original, encoding="utf-8")
        wait_for(page_lacks(server, "/", OVERLAY), what="the site to recover")


def test_the_overlay_escapes_what_it_quotes(server):
    article = server.site / "content" / "articles" / "drones.md"
    original = article.read_text(encoding="utf-8")
    try:
        article.write_text(original.replace("tags: [iran]", "tags: [iran]\n<script>alert(1)</script>: x: ["),
                           encoding="utf-8")
        body = wait_for(lambda: (lambda b: OVERLAY in b and b)(server.get("/articles/drones/")[1]),
                        what="the overlay")
        overlay = body[body.index(OVERLAY):]
        assert "<script>alert(1)" not in overlay and "&lt;script&gt;alert(1)" in overlay
    finally:
        article.write_text(original, encoding="utf-8")
        wait_for(page_lacks(server, "/", OVERLAY), what="the site to recover")


def test_terminal_prints_one_summary_line_per_rebuild(server):
    article = server.site / "content" / "articles" / "arms-for-food.md"
    original = article.read_text(encoding="utf-8")
    try:
        article.write_text(original + "\nOne more paragraph about Russia.\n", encoding="utf-8")
        wait_for(page_has(server, "/articles/arms-for-food/", "One more paragraph"), what="the edit")
        line = wait_for(lambda: next((ln for ln in server.log().splitlines()[::-1]
                                      if "content/articles/arms-for-food.md" in ln and " ms" in ln), ""),
                        what="the summary line")
        assert "rendered" in line and "files changed" in line, line
    finally:
        article.write_text(original, encoding="utf-8")
        wait_for(page_lacks(server, "/articles/arms-for-food/", "One more paragraph"), what="the original")


# -- safety ----------------------------------------------------------------------------------

PROBES = [
    "/../etc/passwd",
    "/../../../../../../etc/passwd",
    "/articles/../../../etc/passwd",
    "/%2e%2e/",
    "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "/%252e%252e/",
    "/%252e%252e/%252e%252e/etc/passwd",
    "/..%5c..%5c",
    "/..%5c..%5cetc%5cpasswd",
    "/..\\..\\etc\\passwd",
    "/%00",
    "/index.html%00.css",
    "/articles/%00/",
    "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/%ff",
    "/./index.html",
    "/" + "a" * 5000,
    "/" + "../" * 1000 + "etc/passwd",
    "//etc/passwd",
    "/%2f%2fetc/passwd",
    "/outside/secret.md",
    "/content/articles/drones.md",
    "/site.yaml",
]


@pytest.mark.parametrize("path", PROBES, ids=lambda p: p[:40])
def test_traversal_probes_get_4xx(server, path):
    status, _, body = server.request(path)
    assert 400 <= status < 500, (path, status)
    assert b"root:" not in body and SECRET.encode() not in body and b"title: " not in body


def test_raw_request_bytes_never_get_a_500(server):
    for raw in (b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /..\\x HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET http://evil.example/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(raw)
            reply = b""
            while b"\r\n" not in reply:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        if reply:  # Tornado may also just close the connection on a malformed request line
            status = int(reply.split(b" ", 2)[1])
            assert 400 <= status < 500, (raw, reply[:80])


def test_symlinks_leading_outside_are_never_served(server):
    site = server.site
    outside = site.parent / "outside"
    links = [site / "content" / "articles" / "leak.md", site / "content" / "images" / "passwd",
             site / "content" / "leaked-folder"]
    try:
        links[0].symlink_to(outside / "secret.md")
        links[1].symlink_to("/etc/passwd")
        links[2].symlink_to(outside, target_is_directory=True)
        wait_for(lambda: "file.symlink" in server.log(), what="the symlink warning")
        for path in ("/articles/leak/", "/images/passwd", "/leaked-folder/secret.md", "/articles/leak"):
            status, _, body = server.request(path)
            assert status == 404, path
            assert SECRET.encode() not in body and b"root:" not in body
        assert SECRET not in server.get("/")[1]
    finally:
        for link in links:
            if link.is_symlink():
                link.unlink()


def test_suggest_panel_follows_each_rebuild(server):
    """/_suggest/ (preview only) lists the names without an entry, made again after each save."""
    site = server.site
    status, headers, _ = server.request("/_suggest")
    assert status == 302 and headers["location"] == "/_suggest/"
    status, body = server.get("/_suggest/")
    assert status == 200 and "Names without a glossary entry" in body and SCRIPT in body
    assert "Sergei Shoigu" not in body
    drones = site / "content" / "articles" / "drones.md"
    original = drones.read_text(encoding="utf-8")
    try:
        write_article(site, "shoigu-visit", "Defense Minister Sergei Shoigu visited Pyongyang.\n",
                      title="A visit", date="2023-04-02")
        drones.write_text(original.replace("Iran sold drones", "Sergei Shoigu's <b>Iran</b> sold drones"),
                          encoding="utf-8")
        wait_for(page_has(server, "/_suggest/", "Sergei Shoigu"), what="the name in the panel")
        body = server.get("/_suggest/")[1]
        assert "[PERSON]" in body and "2 articles, 2 mentions" in body and "sergei-shoigu" in body
        assert "content/articles/drones.md:7" in body  # the line of the first mention
        assert "&lt;b&gt;Iran&lt;/b&gt;" in body and "<b>" not in body  # the sentence is escaped
        drones.write_text(original, encoding="utf-8")
        wait_for(page_lacks(server, "/_suggest/", "Sergei Shoigu"), what="the name to leave the panel")
    finally:
        drones.write_text(original, encoding="utf-8")
        (site / "content" / "articles" / "shoigu-visit.md").unlink(missing_ok=True)
        wait_for(page_lacks(server, "/", "A visit"), what="the original site")
    assert server.get("/_suggest/index.html")[0] == 404  # not a file of the built site


def test_serve_never_creates_public(server):
    assert not (server.site / "public").exists()


def test_non_loopback_host_warns_and_busy_port_is_a_usage_error(tmp_path):
    site = make_site(tmp_path / "site")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "site_builder", "serve", "--site", str(site), "--port", str(port)],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "cannot listen" in r.stderr, r.stderr
    s = ServerProcess(site, tmp_path, "--host", "0.0.0.0")
    try:
        wait_for(lambda: "warning: listening on 0.0.0.0" in s.log(), 60, "the warning")
    finally:
        s.stop()
    assert s.proc.returncode == 0


# -- the request mapping, without a server ---------------------------------------------------


@pytest.mark.parametrize("raw,expected", [
    ("/", (0, "")),
    ("/a/b/", (0, "a/b/")),
    ("/a%20b.html", (0, "a b.html")),
    ("/caf%C3%A9/", (0, "café/")),
    ("/100%.png", (0, "100%.png")),  # a lone % is a literal percent sign
    ("/../x", (400, None)),
    ("/a/./b", (400, None)),
    ("/%2e%2e/x", (400, None)),
    ("/%252e%252e/x", (400, None)),
    ("/a%5cb", (400, None)),
    ("/a%00b", (400, None)),
    ("/a%0ab", (400, None)),
    ("/%ff", (400, None)),
    ("a", (400, None)),
    ("/" + "x" * 3000, (414, None)),
])
def test_normalise(raw, expected):
    status, key = normalise(raw)
    assert status == expected[0]
    if expected[1] is not None:
        assert key == expected[1]


def test_respond_maps_paths_onto_the_tree():
    files = {"index.html": b"<html><body>home</body></html>", "a/index.html": b"<body>a</body>",
             "404.html": b"<body>missing</body>", "x.css": b"body{}", "feed.xml": b"<feed/>"}
    snap = Snapshot(files)
    assert respond(snap, "/", b"<s>").body == b"<html><body>home<s></body></html>"
    assert respond(snap, "/a").status == 302 and respond(snap, "/a").location == "/a/"
    r = respond(snap, "/zzz", b"<s>")
    assert (r.status, r.body) == (404, b"<body>missing<s></body>")
    assert respond(snap, "/x.css", b"<s>").body == b"body{}"
    assert respond(snap, "/feed.xml").content_type == "application/xml; charset=utf-8"
    d = Diagnostic("content/articles/a.md", 3, 7, "error", "frontmatter.date", "impossible <date>", "fix it")
    failing = Snapshot(files, (d,), b"<overlay/>")
    assert respond(failing, "/", b"<s>").body == b"<html><body>home<overlay/><s></body></html>"
    assert respond(failing, "/x.css").body == b"body{}"
    never = Snapshot(None, (d,), b"", b"<body>errors</body>")
    r = respond(never, "/anything/", b"<s>")
    assert r.status == 503 and r.body == b"<body>errors<s></body>"
    drafts = Snapshot(files, drafts={"articles/wip/": "content/articles/<wip>.md"})
    for path in ("/articles/wip/", "/articles/wip", "/articles/wip/index.html"):
        r = respond(drafts, path)
        assert r.status == 404 and b"This article is a draft" in r.body and b"&lt;wip&gt;.md" in r.body, path
    assert b"draft" not in respond(drafts, "/articles/other/").body
    assert inject(b"<BODY>x</BODY>", b"!") == b"<BODY>x!</BODY>"
    assert inject(b"no body", b"!") == b"no body!"


# -- the watcher, without a server -----------------------------------------------------------


def test_watcher_reports_saves_temporaries_and_new_folders(tmp_path):
    import asyncio

    from site_builder.serve import SiteWatcher

    site = make_site(tmp_path / "site")
    seen: list[tuple[list[str], list[str], bool]] = []

    async def scenario() -> None:
        watcher = SiteWatcher(str(site))
        if not watcher.start(lambda changed, transient, complete: seen.append((changed, transient, complete))):
            pytest.skip("no inotify here: the polling watcher is covered by the next test")

        async def batch(what: str) -> tuple[list[str], list[str], bool]:
            for _ in range(200):  # bounded: 2 s
                if seen:
                    await asyncio.sleep(0.02)  # let the rest of the batch arrive
                    changed = [watcher.label(p) for c, _, _ in seen for p in c]
                    transient = [watcher.label(p) for _, t, _ in seen for p in t]
                    complete = seen[-1][2]
                    seen.clear()
                    return changed, transient, complete
                await asyncio.sleep(0.01)
            pytest.fail(f"no event for {what}")

        try:
            (site / "content" / "articles" / "drones.md").write_text("x", encoding="utf-8")
            changed, _, complete = await batch("a save")
            assert "content/articles/drones.md" in changed and complete
            tmp = site / "content" / "glossary" / ".iran.md.swp"
            tmp.write_text("swap", encoding="utf-8")
            tmp.unlink()
            (site / "content" / "glossary" / "sedXYZ").write_text("title", encoding="utf-8")
            (site / "content" / "glossary" / "sedXYZ").rename(site / "content" / "glossary" / "iran.md")
            changed, transient, _ = await batch("sed -i")
            assert changed == ["content/glossary/iran.md"] and transient == ["content/glossary/sedXYZ"]
            (site / "content" / "articles" / "2024").mkdir()
            await batch("a new folder")
            (site / "content" / "articles" / "2024" / "new.md").write_text("x", encoding="utf-8")
            changed, _, _ = await batch("a file in the new folder")
            assert "content/articles/2024/new.md" in changed
            (site / "site.yaml").write_text("title: x\n", encoding="utf-8")
            (site / "public").mkdir()
            changed, _, _ = await batch("site.yaml")
            assert changed == ["site.yaml"]
        finally:
            watcher.stop()

    # A thread of its own: a session's sync Playwright may already run an event loop in this one.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result(timeout=60)


def test_polling_watcher_sees_changes(tmp_path):
    from site_builder.serve import SiteWatcher

    site = make_site(tmp_path / "site")
    watcher = SiteWatcher(str(site))
    watcher.examine()
    assert watcher.examine() == (None, None)
    article = site / "content" / "articles" / "drones.md"
    article.write_text("changed", encoding="utf-8")
    os.utime(article, (time.time() + 5, time.time() + 5))
    path, _ = watcher.examine()
    assert path and watcher.label(path) == "content/articles/drones.md"


# -- incremental builds equal clean builds ---------------------------------------------------

ARTICLE_SLUGS = ["a1", "a2", "a3", "a4", "a5"]
ENTRY_SLUGS = ["russia", "north-korea", "iran", "wagner-group"]
TITLES = {"russia": ["Russia", "Russian Federation"], "north-korea": ["North Korea", "DPRK"],
          "iran": ["Iran", "Islamic Republic of Iran"], "wagner-group": ["Wagner Group", "PMC Wagner"]}
ALIASES = {"russia": ["Moscow", "Kremlin"], "north-korea": ["Pyongyang", "Korea"], "iran": ["Tehran"],
           "wagner-group": ["Wagner", "the Group"]}
SENTENCES = [
    "Russia asked North Korea for shells. Russia denied asking North Korea.",
    "The Kremlin denied that Pyongyang sent anything.",
    "Iran sold drones to the Russian Federation.",
    "PMC Wagner fought in Ukraine; Wagner denied it.",
    "Tehran and Moscow signed a deal.",
    "See [[a1]] for the background.",
    "Compare [[a2]] and [[a3|the third story]].",
    "Nobody mentioned anything here.",
    "## Russia in a heading\n\nNorth Korea and the DPRK in a paragraph.",
    "::: related\na1\na3\n:::",
]


class IncrementalEqualsClean(RuleBasedStateMachine):
    """Random edits to a site; after each, a kept-alive Builder must equal a fresh one."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="incremental-"))
        self.site = self.tmp / "site"
        self.articles: dict[str, dict] = {}
        self.entries: dict[str, dict] = {}
        self.policy = "first"

    @initialize()
    def start(self) -> None:
        for slug in ENTRY_SLUGS[:3]:
            self.entries[slug] = {"slug": slug, "title": TITLES[slug][0], "aliases": [], "body": ""}
        write_glossary(self.site, list(self.entries.values()))
        for i, slug in enumerate(ARTICLE_SLUGS[:3]):
            body = "\n\n".join((SENTENCES[i], SENTENCES[(6, 5, 9)[i]], SENTENCES[0]))  # cross-references
            self.articles[slug] = {"title": slug.upper(), "body": body, "date": f"2023-0{i + 1}-10"}
            self._write_article(slug)
        self._write_config()
        self.builder = Builder(str(self.site))
        self.builder.run()

    def teardown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _write_article(self, slug: str) -> None:
        a = self.articles[slug]
        write_article(self.site, slug, a["body"] + "\n", title=a["title"], date=a["date"])

    def _write_entry(self, slug: str) -> None:
        write_glossary(self.site, [self.entries[slug]])

    def _write_config(self) -> None:
        (self.site / "site.yaml").write_text(f"title: Random\nlink: {self.policy}\n", encoding="utf-8")

    @rule(slug=st.sampled_from(ARTICLE_SLUGS), text=st.sampled_from(SENTENCES))
    def edit_article_body(self, slug: str, text: str) -> None:
        if slug in self.articles:
            self.articles[slug]["body"] += "\n\n" + text
            self._write_article(slug)

    @rule(slug=st.sampled_from(ARTICLE_SLUGS), title=st.sampled_from(["Shells", "Drones", "A3", "Grain deal"]))
    def edit_article_title(self, slug: str, title: str) -> None:
        if slug in self.articles:
            self.articles[slug]["title"] = title
            self._write_article(slug)

    @rule(slug=st.sampled_from(ARTICLE_SLUGS), date=st.sampled_from(["2022-12-01", "2023-05-05"]))
    def edit_article_date(self, slug: str, date: str) -> None:
        if slug in self.articles:
            self.articles[slug]["date"] = date
            self._write_article(slug)

    @rule(slug=st.sampled_from(ARTICLE_SLUGS), text=st.sampled_from(SENTENCES))
    def add_article(self, slug: str, text: str) -> None:
        if slug not in self.articles:
            self.articles[slug] = {"title": f"New {slug}", "body": text, "date": "2023-06-01"}
            self._write_article(slug)

    @precondition(lambda self: len(self.articles) > 1)
    @rule(slug=st.sampled_from(ARTICLE_SLUGS))
    def delete_article(self, slug: str) -> None:
        if slug in self.articles:
            del self.articles[slug]
            (self.site / "content" / "articles" / f"{slug}.md").unlink()

    @rule(slug=st.sampled_from(ENTRY_SLUGS), n=st.integers(0, 1))
    def edit_entry_title(self, slug: str, n: int) -> None:
        if slug in self.entries:
            self.entries[slug]["title"] = TITLES[slug][n]
            self._write_entry(slug)

    @rule(slug=st.sampled_from(ENTRY_SLUGS), n=st.integers(0, 1))
    def toggle_entry_alias(self, slug: str, n: int) -> None:
        alias = ALIASES[slug][n % len(ALIASES[slug])]
        if slug in self.entries:
            aliases = self.entries[slug]["aliases"]
            if alias in aliases:
                aliases.remove(alias)
            else:
                aliases.append(alias)
            self._write_entry(slug)

    @rule(slug=st.sampled_from(ENTRY_SLUGS))
    def add_or_delete_entry(self, slug: str) -> None:
        if slug in self.entries:
            del self.entries[slug]
            (self.site / "content" / "glossary" / f"{slug}.md").unlink()
        else:
            self.entries[slug] = {"slug": slug, "title": TITLES[slug][0], "aliases": [], "body": "An entry."}
            self._write_entry(slug)

    @rule(policy=st.sampled_from(["first", "all"]))
    def edit_link_policy(self, policy: str) -> None:
        self.policy = policy
        self._write_config()

    @invariant()
    def incremental_equals_clean(self) -> None:
        if not hasattr(self, "builder"):
            return
        incremental = self.builder.run()
        clean = Builder(str(self.site)).run()
        assert [d.format() for d in incremental.diagnostics] == [d.format() for d in clean.diagnostics]
        if clean.files is None or incremental.files is None:
            assert clean.files is incremental.files is None
            return
        differ = sorted(k for k in set(clean.files) | set(incremental.files)
                        if clean.files.get(k) != incremental.files.get(k))
        assert not differ, f"incremental output differs from a clean build in {differ}"


IncrementalEqualsClean.TestCase.settings = settings(
    max_examples=int(os.environ.get("INCREMENTAL_EXAMPLES", "8")), stateful_step_count=20, deadline=None,
    derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
test_incremental_build_equals_clean_build = IncrementalEqualsClean.TestCase
