"""What a reader downloads for one search: the bytes of Pagefind's files fetched by a fresh
browser for ``/search/?q=<query>`` on a built site.

    python bench/search_bytes.py /work/corpus5k/public --query Wagner,sanctions,"central bank"

It serves the output folder over HTTP, opens the search page in Chromium (Debian's, as the
tests do) with an empty cache for each query, waits until the results are shown and the
network is quiet, and sums the bodies of the responses under ``pagefind/``: as served by a
plain static server, and as a host that compresses JavaScript and JSON (Netlify) would
send them (gzip; Pagefind's index files are gzip'd already). Figures only; nothing asserts.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import re
import threading
import urllib.parse

from playwright.sync_api import expect, sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


class Quiet(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript",
                      ".wasm": "application/wasm"}

    def log_message(self, *args) -> None:
        pass


def measure(page, url: str) -> list[tuple[str, int, int]]:
    fetched: list = []
    page.on("response", lambda r: fetched.append(r) if "/pagefind/" in r.url else None)
    page.goto(url)
    expect(page.locator("#search-status")).to_have_text(re.compile(r"results?|No results"), timeout=60000)
    page.wait_for_load_state("networkidle")
    rows = []
    for r in fetched:
        body = r.body()
        compressible = r.url.endswith((".js", ".json"))
        rows.append((r.url.split("/pagefind/", 1)[1], len(body), len(gzip.compress(body)) if compressible else len(body)))
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folder", help="a built site's output folder")
    p.add_argument("--query", default="Wagner", help="comma-separated queries")
    p.add_argument("--verbose", action="store_true", help="list every file fetched")
    args = p.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=args.folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for query in args.query.split(","):
            ctx = browser.new_context()
            rows = measure(ctx.new_page(), f"{base}/search/?q={urllib.parse.quote(query)}")
            ctx.close()
            raw, zipped = sum(r[1] for r in rows), sum(r[2] for r in rows)
            print(f"{query!r}: {len(rows)} files, {raw / 1024:.0f} KB as served, {zipped / 1024:.0f} KB "
                  f"with JavaScript and JSON compressed")
            if args.verbose:
                for name, size, gz in sorted(rows):
                    print(f"    {name}: {size} ({gz})")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
