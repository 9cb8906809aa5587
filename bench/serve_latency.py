"""Save-to-reload latency of ``site-builder serve``.

    python bench/serve_latency.py [--articles 1000,5000] [--entries 300] [--reps 7] [--profile]
    python bench/serve_latency.py --articles 5000 --baseline /tmp/before --rounds 2   # before/after
    python bench/serve_latency.py --articles 1000 --without-search   # what search costs a reload

For each size it generates a site with ``bench/generate.py`` (~800 words an article,
glossary entries with aliases; deterministic, reused when already there), starts
``python -m site_builder serve`` on it in a subprocess, connects to livereload's
websocket like a browser does, and measures the time from writing a file to receiving
the reload message for

  (a) a one-article body edit, and
  (b) a glossary-title edit (a person gains a middle initial; the surname alias keeps matching).

``--without-search`` also measures a copy of the site whose ``site.yaml`` says
``search: false``, alternating with the site itself. With search on, timing starts once
the server serves its first search index (the steady state of an editing session).

It prints each repetition with the server's own figures (build time, time since it saw the
change) and the medians. ``--profile`` also profiles ``Builder.run()`` in-process after a
one-article edit and prints where the time goes. Figures only; nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

from tornado.websocket import websocket_connect

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SUMMARY = re.compile(r"built in (\d+) ms, (\d+) ms after the change")
COUNTS = re.compile(r": ([a-z]+ \d+(?:, [a-z]+ \d+)*; \d+ files changed)")


def make_site(work: str, articles: int, entries: int, seed: int) -> tuple[str, dict]:
    sys.path.insert(0, HERE)
    from generate import generate, generator_digest  # bench/generate.py: one generator for every benchmark

    out = os.path.join(work, f"serve-{articles}x{entries}-s{seed}")
    manifest_path = os.path.join(out, "corpus.json")
    if os.path.exists(manifest_path):
        with open(manifest_path, encoding="utf-8") as fh:
            manifest = json.load(fh)
        if manifest.get("generator") == generator_digest():
            return out, manifest
    t = time.perf_counter()
    manifest = generate(out, articles, entries, seed, formats=("site-builder",))
    print(f"  generated {articles} articles, {entries} entries in {time.perf_counter() - t:.1f} s -> {out}")
    return out, manifest


def without_search_copy(site: str) -> str:
    """A copy of the generated site with 'search: false' (made once, reused)."""
    import shutil

    copy = site + "-nosearch"
    if not os.path.exists(os.path.join(copy, "corpus.json")):
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(site, copy, ignore=shutil.ignore_patterns(".cache", "public"))
        with open(os.path.join(copy, "site.yaml"), "a", encoding="utf-8") as fh:
            fh.write("\nsearch: false\n")
    return copy


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, site: str, log: str, src: str | None = None) -> None:
        self.port = free_port()
        self.log_path = log
        self._log = open(log, "wb")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        if src:  # another checkout's site_builder (before/after a change)
            env["PYTHONPATH"] = src
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "site_builder", "serve", "--site", site, "--port", str(self.port)],
            cwd=src or ROOT, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as fh:
            return fh.read()

    def wait_ready(self, timeout: float) -> float:
        start = time.perf_counter()
        deadline = start + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=timeout) as r:
                    if r.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"the server did not answer within {timeout} s:\n{self.log()}")

    def wait_index(self, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/pagefind/pagefind-entry.json",
                                            timeout=timeout) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"no search index within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


async def connect(port: int):
    ws = await websocket_connect(f"ws://127.0.0.1:{port}/livereload")
    await ws.write_message(json.dumps({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]}))
    hello = json.loads(await ws.read_message())
    assert hello["command"] == "hello", hello
    await ws.write_message(json.dumps({"command": "info", "url": f"http://127.0.0.1:{port}/", "plugins": {}}))
    return ws


async def drain(ws, quiet: float = 0.3) -> None:
    """Swallow messages until the socket has been quiet for ``quiet`` seconds."""
    while True:
        try:
            await asyncio.wait_for(ws.read_message(), quiet)
        except asyncio.TimeoutError:
            return


async def reloaded(ws, timeout: float) -> None:
    """Wait for livereload's next reload message."""
    while True:
        msg = await asyncio.wait_for(ws.read_message(), timeout)
        if msg is None:
            raise SystemExit("the websocket closed")
        if json.loads(msg).get("command") == "reload":
            return


async def measure(ws, server: Server, path: str, variants: list[str], timeout: float = 120.0) -> list[dict]:
    rows = []
    for text in variants:
        await drain(ws)
        seen = len(server.log())
        t0 = time.perf_counter()
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        await reloaded(ws, timeout)
        total = (time.perf_counter() - t0) * 1000
        row = {"total_ms": total}
        deadline = time.perf_counter() + 5
        while time.perf_counter() < deadline:  # the summary line is printed right after the reload
            tail = server.log()[seen:]
            m = SUMMARY.search(tail)
            if m:
                row["build_ms"], row["seen_ms"] = int(m.group(1)), int(m.group(2))
                c = COUNTS.search(tail)
                if c:
                    row["counts"] = c.group(1)
                break
            await asyncio.sleep(0.02)
        rows.append(row)
        extra = (f"  (server: build {row['build_ms']} ms, reload sent {row['seen_ms']} ms after it saw the change;"
                 f" {row.get('counts', '')})") if "build_ms" in row else ""
        print(f"    {total:7.1f} ms{extra}", flush=True)
    return rows


def article_variants(original: str, reps: int) -> list[str]:
    return [original.rstrip("\n") + f"\n\nA latency probe added this sentence, version {i}.\n" for i in range(reps)]


def entry_variants(original: str, reps: int) -> list[str]:
    m = re.search(r'^title: "?([^"\n]+)"?$', original, re.M)
    assert m, "the entry has no title line"
    first, _, rest = m.group(1).partition(" ")
    out = []
    for i in range(reps):
        title = f"{first} {chr(ord('A') + i % 26)}. {rest}" if rest else f"{first} {i}"
        out.append(original[:m.start()] + f'title: "{title}"' + original[m.end():])
    return out


def median_line(rows: list[dict]) -> str:
    total = statistics.median(r["total_ms"] for r in rows)
    builds = [r["build_ms"] for r in rows if "build_ms" in r]
    seen = [r["seen_ms"] for r in rows if "seen_ms" in r]
    line = f"median {total:.0f} ms save-to-reload"
    if builds:
        line += f" (build {statistics.median(builds):.0f} ms; reload sent {statistics.median(seen):.0f} ms after the change was seen)"
    return line


async def run_size(site: str, manifest: dict, reps: int, work: str, src: str | None = None) -> dict:
    article = os.path.join(site, "content", "articles", manifest["edit_article"] + ".md")
    entry = os.path.join(site, "content", "glossary", manifest["edit_entry"] + ".md")
    originals = {p: open(p, encoding="utf-8").read() for p in (article, entry)}
    server = Server(site, os.path.join(work, f"serve-{manifest['articles']}.log"), src)
    results = {}
    try:
        ready = server.wait_ready(1800)
        code = src or ROOT
        has_search = os.path.exists(os.path.join(code, "site_builder", "search.py"))  # a baseline may predate search
        if has_search and "search: false" not in open(os.path.join(site, "site.yaml"), encoding="utf-8").read():
            t = time.perf_counter()
            server.wait_index(600)
            print(f"  first search index served {time.perf_counter() - t:.1f} s after the server was ready")
        first = re.search(r"first build: .*built in (\d+) ms", server.log())
        print(f"  server ready in {ready:.1f} s" + (f" (first build {first.group(1)} ms)" if first else ""))
        ws = await connect(server.port)
        print(f"  (a) one-article body edit: {os.path.relpath(article, site)}")
        results["article"] = await measure(ws, server, article, article_variants(originals[article], reps))
        print(f"      {median_line(results['article'])}")
        with open(article, "w", encoding="utf-8") as fh:
            fh.write(originals[article])
        await reloaded(ws, 600)  # let the restoring rebuild finish before timing the next edit
        print(f"  (b) glossary-title edit: {os.path.relpath(entry, site)}")
        results["entry"] = await measure(ws, server, entry, entry_variants(originals[entry], reps))
        print(f"      {median_line(results['entry'])}")
        ws.close()
    finally:
        for p, text in originals.items():
            with open(p, "w", encoding="utf-8") as fh:
                fh.write(text)
        server.stop()
    return results


def profile(site: str, manifest: dict, top: int = 25) -> None:
    sys.path.insert(0, ROOT)
    from site_builder.build import Builder

    article = os.path.join(site, "content", "articles", manifest["edit_article"] + ".md")
    entry = os.path.join(site, "content", "glossary", manifest["edit_entry"] + ".md")
    originals = {p: open(p, encoding="utf-8").read() for p in (article, entry)}
    builder = Builder(site, base_url="http://127.0.0.1:8000/")
    t = time.perf_counter()
    builder.run()
    print(f"  in-process: first build {time.perf_counter() - t:.1f} s")
    try:
        for label, path, text in (("one-article edit", article, article_variants(originals[article], 1)[0]),
                                  ("glossary-title edit", entry, entry_variants(originals[entry], 1)[0])):
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            prof = cProfile.Profile()
            t = time.perf_counter()
            prof.enable()
            result = builder.run()
            prof.disable()
            print(f"  profile of Builder.run() after a {label}: {(time.perf_counter() - t) * 1000:.0f} ms, "
                  f"counts {result.counts}")
            s = io.StringIO()
            pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(top)
            print("\n".join("    " + ln for ln in s.getvalue().splitlines() if ln.strip()))
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(originals[path])
            builder.run()
    finally:
        for p, text in originals.items():
            with open(p, "w", encoding="utf-8") as fh:
                fh.write(text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--articles", default="1000,5000", help="comma-separated site sizes (default 1000,5000)")
    p.add_argument("--entries", type=int, default=300)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--work", default=os.path.join(HERE, "_work"))
    p.add_argument("--profile", action="store_true", help="also profile Builder.run() after a one-article edit")
    p.add_argument("--baseline", metavar="DIR", help="also measure the site-builder checkout in DIR, alternating")
    p.add_argument("--rounds", type=int, default=1, help="rounds per variant (alternating with --baseline)")
    p.add_argument("--without-search", action="store_true",
                   help="also measure a copy of the site with 'search: false', alternating")
    args = p.parse_args(argv)
    os.makedirs(args.work, exist_ok=True)
    summary = []
    variants = [("this checkout", None, False)] + \
        ([("baseline", os.path.abspath(args.baseline), False)] if args.baseline else []) + \
        ([("search: false", None, True)] if args.without_search else [])
    for n in (int(x) for x in args.articles.split(",") if x.strip()):
        site, manifest = make_site(args.work, n, args.entries, args.seed)
        merged: dict[str, dict[str, list]] = {}
        for rnd in range(args.rounds):
            for label, src, off in variants[rnd % len(variants):] + variants[: rnd % len(variants)]:  # alternate
                print(f"{n} articles, {args.entries} glossary entries, {label} (round {rnd + 1}):")
                where = without_search_copy(site) if off else site
                results = asyncio.run(run_size(where, manifest, args.reps, args.work, src))
                for kind, rows in results.items():
                    merged.setdefault(label, {}).setdefault(kind, []).extend(rows)
        for label, _, _ in variants:
            summary.append((n, label, median_line(merged[label]["article"]), median_line(merged[label]["entry"])))
        if args.profile:
            profile(site, manifest)
    print("\nsave-to-reload medians (file write -> livereload 'reload' message):")
    for n, label, a, e in summary:
        print(f"  {n:>6} articles, {label}:  article edit: {a}")
        print(f"  {'':>6}           glossary title: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
