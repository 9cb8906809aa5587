"""End to end in headless Chromium: a page open on the dev server follows the editor.

Open an article, edit its Markdown on disk: the page reloads by itself with the new
text. Break the front-matter: the page shows the error with its ``path:line``. Fix
it: the page recovers. Nothing here navigates the page after the first ``goto``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from test_serve import ServerProcess, make_site

TIMEOUT_MS = 10_000
CONNECTED = "() => !!(window.LiveReload && window.LiveReload.connector && window.LiveReload.connector.protocol > 0)"


def wait_in_page(page, script: str, arg=None, timeout: int = TIMEOUT_MS) -> None:
    """``page.wait_for_function`` that survives the reloads it is waiting for."""
    from playwright.sync_api import Error

    for _ in range(5):  # a reload in the middle of an evaluation destroys its context: look again
        try:
            page.wait_for_function(script, arg=arg, timeout=timeout, polling=50)
            return
        except Error as exc:
            if "context was destroyed" not in str(exc) and "navigation" not in str(exc).lower():
                raise
    page.wait_for_function(script, arg=arg, timeout=timeout, polling=50)


@pytest.fixture
def running(tmp_path: Path):
    server = ServerProcess(make_site(tmp_path / "site"), tmp_path)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_the_page_follows_edits_errors_and_fixes(browser, running):
    article = running.site / "content" / "articles" / "arms-for-food.md"
    original = article.read_text(encoding="utf-8")
    page = browser.new_page()
    try:
        page.goto(running.url + "/articles/arms-for-food/")
        assert "asked North Korea for shells" in page.inner_text("body")
        page.evaluate("() => { window.__notReloaded = true; }")
        wait_in_page(page, CONNECTED)

        # 1. an edit: the page reloads by itself with the new text
        article.write_text(original.replace("for shells", "for artillery rounds"), encoding="utf-8")
        wait_in_page(page, "() => document.body && document.body.innerText.includes('for artillery rounds')")
        assert page.evaluate("() => window.__notReloaded === undefined"), "the page was reloaded, not patched"
        wait_in_page(page, CONNECTED)

        # 2. a broken front-matter: the page shows the error and where it is
        broken = original.replace("date: 2023-03-30", "date: 2023-02-31")
        line = next(i for i, text in enumerate(broken.split("\n"), 1) if text.startswith("date:"))
        article.write_text(broken, encoding="utf-8")
        wait_in_page(page, """(where) => {
            const o = document.getElementById('site-builder-errors');
            return !!o && o.innerText.includes(where);
        }""", arg=f"content/articles/arms-for-food.md:{line}")
        overlay = page.inner_text("#site-builder-errors")
        assert "error[" in overlay and "hint:" in overlay
        assert page.is_visible("#site-builder-errors")
        wait_in_page(page, CONNECTED)

        # 3. fixed: the overlay goes and the page shows the last edit's text again
        article.write_text(original, encoding="utf-8")
        wait_in_page(page, "() => !document.getElementById('site-builder-errors') && document.body"
                           " && document.body.innerText.includes('for shells')")
    finally:
        page.close()
        article.write_text(original, encoding="utf-8")
