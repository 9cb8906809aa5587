"""Shared test helpers: fixture files, tiny sites, the real pipeline."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import pytest
import yaml

TESTS = Path(__file__).parent
ROOT = TESTS.parent
FIXTURES = TESTS / "fixtures"


def read_fixture_file(path: Path) -> list[tuple[int, str, str, str]]:
    """markdown-it-py's plain-text format: title / '.' / input / '.' / expected / '.'.

    Returns (line, title, input, expected) for each case.
    """
    lines = path.read_text(encoding="utf-8").split("\n")
    cases = []
    i = 0
    while i < len(lines):
        if lines[i] == "." and i > 0 and lines[i - 1].strip():
            title_line = i - 1
            j = i + 1
            while lines[j] != ".":
                j += 1
            k = j + 1
            while lines[k] != ".":
                k += 1
            source = "\n".join(lines[i + 1:j])
            expected = "\n".join(lines[j + 1:k])
            cases.append((title_line + 1, lines[title_line], source, expected))
            i = k + 1
        else:
            i += 1
    return cases


def fixture_params(pattern: str):
    params = []
    for path in sorted(FIXTURES.glob(pattern)):
        for line, title, source, expected in read_fixture_file(path):
            params.append(pytest.param(source, expected, id=f"{path.stem}:{line}:{title[:40]}"))
    return params


def glossary_entries() -> list[dict]:
    return yaml.safe_load((FIXTURES / "glossary.yaml").read_text(encoding="utf-8"))


def write_glossary(site: Path, entries: list[dict]) -> None:
    folder = site / "content" / "glossary"
    folder.mkdir(parents=True, exist_ok=True)
    for e in entries:
        aliases = "".join(f"\n  - {yaml.safe_dump(a, default_style=chr(34)).strip()}" for a in e.get("aliases", []))
        text = (f"---\ntitle: {yaml.safe_dump(e['title'], default_style=chr(34)).strip()}\n"
                f"aliases:{aliases if aliases else ' []'}\nsummary: About {e['title']}.\ntype: {e.get('type', 'OTHER')}\n---\n"
                f"{e.get('body', '')}\n")
        (folder / f"{e['slug']}.md").write_text(text, encoding="utf-8")


def write_article(site: Path, slug: str, body: str, *, title: str | None = None, date: str = "2023-03-30",
                  extra: str = "") -> Path:
    folder = site / "content" / "articles"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.md"
    path.write_text(f"---\ntitle: {json.dumps(title or slug.replace('-', ' ').title())}\ndate: {date}\n"
                    f"summary: Summary of {slug}.\n{extra}---\n{body}", encoding="utf-8")
    return path


def body_of(html: str) -> str:
    """The article or entry body from a built page (the theme's prose block)."""
    m = re.search(r'<div class="prose (?:article|entry)-body"(?: data-pagefind-body)?>\n(.*?)\n  </div>\n', html, re.S)
    assert m, "the theme's article and entry templates put the body in a 'prose' block"
    return m.group(1)


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "site_builder", *args], cwd=cwd or ROOT, env=full_env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    s = tmp_path / "site"
    s.mkdir()
    return s


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def copy_sample(site: Path) -> Path:
    """The sample site (content, templates, site.yaml) copied into ``site``, for a test to build."""
    for name in ("content", "templates"):
        shutil.copytree(ROOT / name, site / name)
    shutil.copy(ROOT / "site.yaml", site / "site.yaml")
    return site


@contextlib.contextmanager
def served(folder: Path, handler: type = http.server.SimpleHTTPRequestHandler) -> Iterator[str]:
    """``folder`` over HTTP on 127.0.0.1 (a static host, as a reader's browser meets it):
    yields the base URL, stops the server afterwards."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
