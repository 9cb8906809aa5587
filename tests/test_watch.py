"""The watcher on real files: file-system events and the forced polling fallback.

Each scenario runs a ``SiteWatcher`` on an event loop of its own, edits files on disk and
waits (bounded) for the batch that names the edit. "Ignored" is checked without timing: the
ignored files are written first and a real file last, and the batches up to the one that
names the real file must not name them.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from watchfiles import Change

from site_builder.build import Builder
from site_builder.discover import is_temp_file
from site_builder.watch import REWRITE, TRANSIENT, SiteWatcher
from test_serve import ServerProcess, make_site, wait_for

MODES = [pytest.param(False, id="events"), pytest.param(True, id="polling")]
EDITOR_FILES = [".#a.md", "a.md~", ".a.md.swp", "#a.md#", "4913", "5036", ".DS_Store", "Thumbs.db", "a.md.tmp"]


def in_a_thread(coro):
    """``asyncio.run`` in a thread of its own: a session's sync Playwright may hold this one's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout=120)


class Watching:
    """A started SiteWatcher and what it reported, as labels."""

    def __init__(self, site: Path, polling: bool, theme: Path | None = None) -> None:
        kwargs = {"theme": str(theme)} if theme else {}
        self.watcher = SiteWatcher(str(site), force_polling=polling, poll_interval=0.05, **kwargs)
        self.batches: list[tuple[list[str], list[str], bool]] = []
        self.notes: list[str] = []
        self.watcher.note = self.notes.append

    def __enter__(self) -> Watching:
        by_events = self.watcher.start(self._record)
        assert by_events == (not self.watcher.force_polling), self.notes
        assert self.watcher.polling == self.watcher.force_polling
        return self

    def __exit__(self, *exc) -> None:
        self.watcher.stop()

    def _record(self, changed: list[str], transient: list[str], complete: bool) -> None:
        label = self.watcher.label
        self.batches.append(([label(p) for p in changed], [label(p) for p in transient], complete))

    def labels(self) -> list[str]:
        return [p for changed, transient, _ in self.batches for p in changed + transient]

    async def until(self, label: str, what: str, timeout: float = 20.0) -> list[str]:
        """Every label reported up to and including the batch that names ``label``."""
        for _ in range(int(timeout / 0.01)):
            for i, (changed, transient, _) in enumerate(self.batches):
                if label in changed or label in transient:
                    return [p for c, t, _ in self.batches[:i + 1] for p in c + t]
            await asyncio.sleep(0.01)
        pytest.fail(f"no change reported for {what} ({label}); reported so far: {self.labels()}")


def small_theme(root: Path) -> Path:
    theme = root / "theme"
    (theme / "templates").mkdir(parents=True)
    (theme / "templates" / "base.html").write_text("<html>{% block body %}{% endblock %}</html>\n")
    return theme


@pytest.mark.parametrize("polling", MODES)
def test_reports_edits_to_content_templates_settings_and_theme(tmp_path, polling):
    site = make_site(tmp_path / "site")
    (site / "templates").mkdir()
    (site / "templates" / "article.html").write_text("{{ page.title }}\n")
    theme = small_theme(tmp_path)

    async def scenario() -> None:
        with Watching(site, polling, theme) as w:
            (site / "content" / "articles" / "drones.md").write_text("edited\n", encoding="utf-8")
            await w.until("content/articles/drones.md", "an article edit")
            (site / "content" / "glossary" / "iran.md").unlink()
            await w.until("content/glossary/iran.md", "a deleted entry")
            (site / "templates" / "article.html").write_text("{{ page.title }}!\n")
            await w.until("templates/article.html", "a template edit")
            (site / "site.yaml").write_text("title: Renamed\n", encoding="utf-8")
            await w.until("site.yaml", "a settings edit")
            (theme / "templates" / "base.html").write_text("<html></html>\n")
            await w.until("theme/templates/base.html", "a theme edit")
            (site / "public").mkdir()
            (site / "public" / "index.html").write_text("x")
            (site / "notes.txt").write_text("x")
            (site / "content" / "articles" / "last.md").write_text("x", encoding="utf-8")
            seen = await w.until("content/articles/last.md", "a last edit")
            assert not any(p.startswith(("public", "notes")) for p in seen), "only the sources are watched"

    in_a_thread(scenario())


@pytest.mark.parametrize("polling", MODES)
def test_files_in_new_folders_are_reported(tmp_path, polling):
    site = make_site(tmp_path / "site")

    async def scenario() -> None:
        with Watching(site, polling) as w:
            (site / "content" / "articles" / "2024" / "q1").mkdir(parents=True)
            if not polling:  # events name the folder (polling names files only); its watch is then in place
                await w.until("content/articles/2024", "a new folder")
            (site / "content" / "articles" / "2024" / "q1" / "new.md").write_text("x", encoding="utf-8")
            await w.until("content/articles/2024/q1/new.md", "a file in a new folder")

    in_a_thread(scenario())


@pytest.mark.parametrize("polling", MODES)
def test_a_content_folder_made_after_the_start_is_watched(tmp_path, polling):
    site = tmp_path / "site"
    site.mkdir()
    (site / "site.yaml").write_text("title: Empty\n")

    async def scenario() -> None:
        with Watching(site, polling) as w:
            (site / "content").mkdir()
            if not polling:
                await w.until("content", "the new content folder")
            (site / "content" / "articles").mkdir()
            if not polling:
                await w.until("content/articles", "a folder in it")
            (site / "content" / "articles" / "first.md").write_text("x", encoding="utf-8")
            await w.until("content/articles/first.md", "the first article")

    in_a_thread(scenario())


@pytest.mark.parametrize("polling", MODES)
def test_editor_files_and_hidden_folders_are_not_reported(tmp_path, polling):
    site = make_site(tmp_path / "site")
    folder = site / "content" / "articles"

    async def scenario() -> None:
        with Watching(site, polling) as w:
            for name in EDITOR_FILES:
                (folder / name).write_text("temporary", encoding="utf-8")
            (folder / ".git").mkdir()
            (folder / ".git" / "index").write_text("x")
            (folder / "backup~").mkdir()
            (folder / "backup~" / "old.md").write_text("x")
            (folder / "real.md").write_text("x", encoding="utf-8")
            seen = await w.until("content/articles/real.md", "the real file")
            assert [p for p in seen if p != "content/articles/real.md"] == []
            for name in EDITOR_FILES:
                (folder / name).unlink()
            (folder / "second.md").write_text("x", encoding="utf-8")
            seen = await w.until("content/articles/second.md", "the second real file")
            assert [p for p in seen if not p.endswith(("/real.md", "/second.md"))] == [], "removals too"

    in_a_thread(scenario())


@pytest.mark.parametrize("polling", MODES)
def test_stop_ends_the_watch_threads(tmp_path, polling):
    site = make_site(tmp_path / "site")

    async def scenario() -> None:
        w = Watching(site, polling)
        with w:
            threads = [t for t in threading.enumerate() if t.name == "site-builder-watch"]
            assert len(threads) == (0 if polling else 2)
            (site / "content" / "articles" / "drones.md").write_text("edited\n", encoding="utf-8")
            await w.until("content/articles/drones.md", "an edit")
        assert not any(t.is_alive() for t in threads)
        w.watcher.stop()  # a second stop is harmless
        count = len(w.batches)
        (site / "content" / "articles" / "drones.md").write_text("after the stop\n", encoding="utf-8")
        await asyncio.sleep(0.3)
        assert len(w.batches) == count, "a stopped watcher reports nothing"

    in_a_thread(scenario())


def test_caught_up_returns_after_an_earlier_change_was_reported(tmp_path):
    """What lets a request made right after a save wait for that save's rebuild."""
    site = make_site(tmp_path / "site")

    async def scenario() -> None:
        with Watching(site, False) as w:
            for n in range(5):
                (site / "content" / "articles" / "drones.md").write_text(f"take {n}\n", encoding="utf-8")
                await w.watcher.caught_up(timeout=30)
                assert w.batches and w.batches[-1][0] == ["content/articles/drones.md"], n
                w.batches.clear()

    in_a_thread(scenario())


def test_sort_names_changes_temporaries_and_writes_in_progress(tmp_path):
    site = make_site(tmp_path / "site")
    watcher = SiteWatcher(str(site))
    article = str(site / "content" / "articles" / "drones.md")
    new = str(site / "content" / "articles" / "new.md")
    gone = str(site / "content" / "articles" / "sedXYZ")
    folder = str(site / "content" / "articles")

    assert watcher.sort({(Change.modified, article)}, 100.0) == ([article], [], True)
    # reported again a moment later: still being written
    assert watcher.sort({(Change.modified, article)}, 100.0 + REWRITE / 2) == ([article], [], False)
    assert watcher.sort({(Change.modified, article)}, 101.0) == ([article], [], True)
    # made and removed in one batch (sed -i, an editor's temporary), beside the real change
    assert watcher.sort({(Change.added, gone), (Change.deleted, gone), (Change.added, article)}, 102.0) == (
        [article], [gone], True)
    # made, then removed soon after: a temporary; removed long after: a deletion
    Path(new).write_text("x")
    assert watcher.sort({(Change.added, new)}, 103.0) == ([new], [], True)
    Path(new).unlink()
    assert watcher.sort({(Change.deleted, new)}, 103.0 + TRANSIENT / 2) == ([], [new], True)
    Path(new).write_text("x")
    watcher.sort({(Change.added, new)}, 110.0)
    Path(new).unlink()
    assert watcher.sort({(Change.deleted, new)}, 110.0 + TRANSIENT * 2) == ([new], [], True)
    # folders are never "being written"
    watcher.sort({(Change.modified, folder)}, 120.0)
    assert watcher.sort({(Change.modified, folder)}, 120.0 + REWRITE / 2) == ([folder], [], True)


def test_editor_files_are_neither_discovered_nor_copied(tmp_path):
    for name in EDITOR_FILES:
        assert is_temp_file(name), name
    for name in ("4914", "2024", "a.md", "thumbs.md", "DS_Store", "index.html", "4913.md"):
        assert not is_temp_file(name), name
    site = make_site(tmp_path / "site")
    images = site / "content" / "images"
    for name in EDITOR_FILES:
        (images / name).write_text("temporary", encoding="utf-8")
    result = Builder(str(site)).run()
    assert result.ok, [d.format() for d in result.diagnostics]
    assert "images/dot.svg" in result.files
    assert [k for k in result.files if k.startswith("images/")] == ["images/dot.svg"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_stops_cleanly_on_a_signal(tmp_path, sig):
    s = ServerProcess(make_site(tmp_path / "site"), tmp_path)
    try:
        s.wait_ready()
        s.proc.send_signal(sig)
        s.proc.wait(30)  # bounded: a watch thread left behind would hang the exit
    finally:
        s.stop()
    assert s.proc.returncode == 0, s.log()
    assert s.out.read_text(encoding="utf-8").rstrip().endswith("stopped"), s.log()
    assert "Traceback" not in s.log()


def test_serve_polls_when_told_to(tmp_path, monkeypatch):
    """``WATCHFILES_FORCE_POLLING``: serve polls, and still follows the edits, even two saves
    of one file within a second (watchfiles' own polling compares whole seconds)."""
    site = make_site(tmp_path / "site")
    monkeypatch.setenv("WATCHFILES_FORCE_POLLING", "1")
    s = ServerProcess(site, tmp_path)
    try:
        s.wait_ready()
        article = site / "content" / "articles" / "drones.md"
        original = article.read_text(encoding="utf-8")
        for n in range(3):
            article.write_text(original.replace("sold drones", f"sold polled drones {n}"), encoding="utf-8")
            wait_for(lambda: f"sold polled drones {n}" in s.get("/articles/drones/")[1], what=f"polled edit {n}")
        assert "polling every" in s.log()
    finally:
        s.stop()
