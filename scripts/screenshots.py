#!/usr/bin/env python3
"""Screenshots of the sample site as readers see it, for anyone to look at.

    python scripts/screenshots.py [OUT]    # default OUT: ./screenshots (not committed)

Builds the sample site (content/, site.yaml, templates/) into a temporary folder, serves
it on 127.0.0.1 and takes full-page PNGs in Chromium (/usr/bin/chromium, headless) of the
main article, the glossary index and an entry, at 390 and 1280 px, in light and dark (lazy
images loaded first, as a reader scrolling down would see them).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from site_builder.build import publish  # noqa: E402

PAGES = {"article": "articles/russia-north-korea-arms-for-food/", "glossary": "glossary/",
         "entry": "glossary/john-kirby/"}
WIDTHS = (390, 1280)
SCHEMES = ("light", "dark")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def build_sample(work: Path) -> Path:
    site = work / "site"
    shutil.copytree(ROOT / "content", site / "content")
    shutil.copy2(ROOT / "site.yaml", site / "site.yaml")
    if (ROOT / "templates").is_dir():
        shutil.copytree(ROOT / "templates", site / "templates")
    result, _ = publish(str(site), str(site / "public"))
    if not result.ok:
        sys.exit("\n".join(d.format() for d in result.diagnostics))
    return site / "public"


def show_every_image(page) -> None:
    """A full-page screenshot shows what a reader who scrolls sees: lazy images are loaded
    (a reader's browser loads them as they come near; a screenshot does not scroll)."""
    page.evaluate("document.querySelectorAll('img[loading=lazy]').forEach((i) => { i.loading = 'eager'; })")
    page.wait_for_function("[...document.images].every((i) => i.complete)")


def main() -> None:
    from playwright.sync_api import sync_playwright

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        public = build_sample(Path(tmp))
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(public))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                for width in WIDTHS:
                    for scheme in SCHEMES:
                        page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
                        for name, path in PAGES.items():
                            page.goto(base + path)
                            show_every_image(page)
                            target = out / f"{name}-{width}-{scheme}.png"
                            page.screenshot(path=str(target), full_page=True)
                            print(target)
                        page.close()
                browser.close()
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
