"""Command line: argument parsing and printing only; the work is in build/serve."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shlex
import sys
import time
from typing import Sequence

from site_builder import __version__
from site_builder.errors import Diagnostic, UsageError, summary

EXIT_OK, EXIT_CONTENT, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own exit code is 2 as well
        self.print_usage(sys.stderr)
        print(f"site-builder: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is out of range: a port is a number from 0 to 65535")
    return port


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="site-builder", description="Build annotated explainer sites from Markdown.")
    p.add_argument("--version", action="version", version=f"site-builder {__version__}")
    p.add_argument("--debug", action="store_true", help="show the Python traceback of an internal error")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    real_add_parser = sub.add_parser

    def add_parser(name: str, **kwargs):  # every command also takes --debug, after its name
        parser = real_add_parser(name, **kwargs)
        parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                            help="show the Python traceback of an internal error")
        return parser

    sub.add_parser = add_parser  # type: ignore[method-assign]

    b = sub.add_parser("build", help="build the site into the output folder")
    b.add_argument("--site", default=".", help="the site folder (default: .)")
    b.add_argument("--out", default=None, help="the output folder (default: SITE/public)")
    b.add_argument("--drafts", action="store_true", help="include articles marked draft: true")
    b.add_argument("--strict", action="store_true", help="treat warnings as errors")
    b.add_argument("--quiet", "-q", action="store_true", help="print errors and warnings only")
    b.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                   help="worker processes for linking and rendering (default: the number of cores)")
    b.add_argument("--no-cache", action="store_true", help="ignore and do not write the on-disk cache")
    b.add_argument("--base-url", metavar="URL", default=None,
                   help="publish under this address instead of site.yaml's base_url (deploy previews)")
    b.add_argument("--force", action="store_true",
                   help="replace an --out folder that holds other files (never /, your home folder, the site "
                        "or a repository)")

    c = sub.add_parser("check", help="run every content and link check; write nothing")
    c.add_argument("--site", default=".")
    c.add_argument("--drafts", action="store_true")
    c.add_argument("--strict", action="store_true")
    c.add_argument("--explain-related", metavar="SLUG", help="print why each related article was picked")

    s = sub.add_parser("serve", help="live-reload preview with incremental rebuilds")
    s.add_argument("--site", default=".")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=_port, default=8000, help="0 picks a free port (default: 8000)")
    s.add_argument("--drafts", action="store_true")
    s.add_argument("--open", action="store_true", help="open the site in a browser")

    _suggest_parser(sub)

    k = sub.add_parser("clean", help="remove the on-disk cache (.cache/site-builder/)")
    k.add_argument("--site", default=".")

    n = sub.add_parser("new", help="scaffold an article or a glossary entry")
    n.add_argument("kind", choices=("article", "term"))
    n.add_argument("title")
    n.add_argument("--site", default=".")
    return p


def _suggest_parser(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser("suggest", help="list names that recur in articles without a glossary entry")
    g.add_argument("--site", default=".")
    g.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")
    g.add_argument("--min-articles", type=int, default=2, metavar="N",
                   help="only names used in at least N articles (default: 2)")
    g.add_argument("--limit", type=int, default=None, metavar="N", help="at most N names")
    g.add_argument("--write", nargs="+", metavar="SLUG", default=None,
                   help="scaffold content/glossary/SLUG.md for these suggestions (their slugs as listed)")
    g.add_argument("--drafts", action="store_true", help="read articles marked draft: true too")
    g.add_argument("--no-cache", action="store_true", help="ignore and do not write the on-disk cache")
    g.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="worker processes")


def print_diagnostics(diagnostics: Sequence[Diagnostic], show_info: bool = True) -> None:
    for d in diagnostics:
        if d.severity == "info" and not show_info:
            continue
        print(d.format(), file=sys.stderr)


def _site(path: str) -> str:
    if not os.path.isdir(path):
        raise UsageError(f"the site folder '{path}' does not exist")
    return path


def cmd_build(args: argparse.Namespace) -> int:
    import gc

    from site_builder.build import publish
    from site_builder.config import check_base_url

    started = time.perf_counter()
    site = _site(args.site)
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    # A one-shot process: the cyclic collector would only rescan the build's live data
    # (see build.paused_gc), and turning it back on would cost one full pass at exit.
    gc.disable()
    result, stats = publish(site, args.out, drafts=args.drafts, strict=args.strict, jobs=args.jobs,
                          cache=not args.no_cache, force=args.force,
                          base_url=check_base_url(args.base_url) if args.base_url else None)
    print_diagnostics(result.diagnostics, show_info=not args.quiet)
    if not result.ok:
        print(f"build failed: {summary(result.diagnostics)}; the previous output is untouched", file=sys.stderr)
        return EXIT_CONTENT
    if not args.quiet:
        out = args.out or os.path.join(site, "public")
        c = result.counts
        print(f"built {len(result.files)} files into {out} in {(time.perf_counter() - started) * 1000:.0f} ms: "
              f"{c.get('read', 0)} read, {c.get('linked', 0)} linked, {c.get('rendered', 0)} rendered; "
              f"{stats.written} written, {stats.kept} unchanged, {stats.removed} removed; "
              f"{summary(result.diagnostics)}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from site_builder.build import Builder

    site = _site(args.site)
    result = Builder(site, drafts=args.drafts, strict=args.strict).run()
    print_diagnostics(result.diagnostics)
    if args.explain_related:
        code = _explain_related(result, args.explain_related)
        if code:
            return code
    if not result.ok:
        print(f"check failed: {summary(result.diagnostics)}", file=sys.stderr)
        return EXIT_CONTENT
    print(f"check passed: {summary(result.diagnostics)}")
    return EXIT_OK


def _explain_related(result, slug: str) -> int:
    from site_builder.errors import did_you_mean

    picks = result.picks.get(slug)
    if picks is None:
        known = sorted(result.picks)
        hint = did_you_mean(slug, known)
        print(f"site-builder: error: no published article has the slug '{slug}'" + (f"; {hint}" if hint else ""),
              file=sys.stderr)
        return EXIT_USAGE
    print(f"related reading for '{slug}':")
    for i, p in enumerate(picks, 1):
        if p.explicit:
            print(f"  {i}. {p.header.slug}  (chosen by the editor in 'related:')")
            continue
        print(f"  {i}. {p.header.slug}  score {p.score:.3f}")
        ents = ", ".join(f"{e} {w:.2f}" for e, w in p.shared_entities) or "none"
        tags = ", ".join(f"{t} {w:.2f}" for t, w in p.shared_tags) or "none"
        print(f"       shared entities (rarity weight): {ents}")
        print(f"       shared tags (rarity weight, ×0.5): {tags}")
        print(f"       nearness in date (×0.5): {p.date_score:.3f}")
    return EXIT_OK


def _clean_title(raw: str) -> str:
    """The title as text YAML can hold: bytes the terminal could not decode become U+FFFD,
    control characters and non-characters go, runs of whitespace become one space."""
    import unicodedata

    text = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    text = "".join(" " if ch.isspace() else ch for ch in text
                   if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cs", "Cn", "Co"))
    return " ".join(text.split())


def _taken_slugs(site: str) -> set[str]:
    """File stems of every article and glossary entry (they share one slug namespace)."""
    taken = set()
    for sub in ("articles", "glossary"):
        for _, _, files in os.walk(os.path.join(site, "content", sub)):
            taken.update(f[:-3].casefold() for f in files if f.endswith(".md"))
    return taken


SLUG_MAX = 80  # characters of a scaffolded file name's slug (file systems allow 255 bytes)


def _shorten_slug(slug: str) -> str:
    """At most SLUG_MAX characters, cut at a hyphen when there is one to cut at."""
    if len(slug) <= SLUG_MAX:
        return slug
    cut = slug[:SLUG_MAX + 1].rsplit("-", 1)[0]
    return (cut if len(cut) >= SLUG_MAX // 2 else slug[:SLUG_MAX]).strip("-")


def cmd_new(args: argparse.Namespace) -> int:
    from site_builder.urls import slugify

    site = _site(args.site)
    title = _clean_title(args.title)
    if not title:
        raise UsageError("the title is empty")
    base = "-".join(filter(None, slugify(title).split("-")))  # "--- A - B" → "a-b", a valid slug
    base = _shorten_slug(base) or ("article" if args.kind == "article" else "term")
    rel_folder = "content/articles" if args.kind == "article" else "content/glossary"
    folder = os.path.join(site, *rel_folder.split("/"))  # made by _create, which checks it
    taken = _taken_slugs(site)
    slug = base
    n = 2
    while slug in taken or os.path.exists(os.path.join(folder, slug + ".md")):
        slug = f"{base}-{n}"
        n += 1
    quoted = json.dumps(title, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar
    if args.kind == "article":
        text = (f"---\ntitle: {quoted}\ndate: {dt.date.today().isoformat()}\n"
                f"summary: {json.dumps('One sentence that says what this article explains.')}\n"
                "tags: []\ndraft: true\n---\n\nWrite the article here. Glossary terms link themselves.\n")
    else:
        text = (f"---\ntitle: {quoted}\naliases: []\n"
                f"summary: {json.dumps('One sentence that says who or what this is.')}\n"
                "type: OTHER\n---\n\nExplain the entry here.\n")
    print(_create(site, rel_folder, slug, text))
    print(_next_step(args.kind, site, slug), file=sys.stderr)
    return EXIT_OK


def _create(site: str, rel_folder: str, slug: str, text: str, fresh: bool = False) -> str:
    """Write a new file ``rel_folder/slug.md`` (never over an existing one); its site-relative
    path. ``fresh``: the slug is the editor's choice, so a taken one is a usage error."""
    folder = os.path.join(site, *rel_folder.split("/"))
    for sub in ("content", rel_folder):
        path = os.path.join(site, *sub.split("/"))
        if os.path.lexists(path) and not os.path.isdir(path):
            raise UsageError(f"{sub} is a file, not a folder: move it away, then run the command again")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {rel_folder}: {(exc.strerror or str(exc)).lower()}") from None
    if fresh and slug.casefold() in _taken_slugs(site):
        raise UsageError(f"'{slug}' is already the slug of an article or entry: edit that file instead")
    path = os.path.join(folder, slug + ".md")
    try:
        with open(path, "x", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        with contextlib.suppress(OSError):
            if os.path.getsize(path) == 0:
                os.unlink(path)
        raise UsageError(f"cannot write {rel_folder}/{slug}.md: {(exc.strerror or str(exc)).lower()}") from None
    return os.path.relpath(path, site)


def cmd_suggest(args: argparse.Namespace) -> int:
    from site_builder.build import suggest

    site = _site(args.site)
    for flag, value in (("--min-articles", args.min_articles), ("--limit", args.limit), ("--jobs", args.jobs)):
        if value is not None and value < (0 if flag == "--min-articles" else 1):
            raise UsageError(f"{flag} must be at least {0 if flag == '--min-articles' else 1}")
    result = suggest(site, drafts=args.drafts, jobs=args.jobs, cache=not args.no_cache,
                     min_articles=max(args.min_articles, 1))
    print_diagnostics(result.diagnostics)
    if any(d.is_error for d in result.diagnostics):
        print(f"suggest failed: {summary(result.diagnostics)}", file=sys.stderr)
        return EXIT_CONTENT
    if args.write is not None:
        return _write_suggestions(site, result.top(args.min_articles), args.write)
    shown = result.top(args.min_articles, args.limit)
    if args.format == "json":
        print(json.dumps([s.as_json() for s in shown], ensure_ascii=False, indent=2))
        return EXIT_OK
    for n, s in enumerate(shown, 1):
        print(_suggestion_text(n, s))
    total = len(result.top(args.min_articles))
    print(f"{total} name{'s' if total != 1 else ''} in {args.min_articles} or more articles without a glossary entry"
          + (f" ({len(shown)} shown)" if len(shown) < total else "")
          + ("; write one with: site-builder suggest --write SLUG" if shown else ""))
    return EXIT_OK


def _suggestion_text(n: int, s) -> str:
    kind = f" [{s.type}]" if s.type else ""
    lines = [f"{n}. {s.name}{kind}  (slug {s.slug}): {len(s.articles)} article{'s' if len(s.articles) != 1 else ''}, "
             f"{s.mentions} mention{'s' if s.mentions != 1 else ''}"
             + (f"; perhaps an alias of the entry '{s.alias_of}'" if s.alias_of else "")]
    if s.variants:
        lines.append("   also written: " + "; ".join(s.variants[:8]) + (" …" if len(s.variants) > 8 else ""))
    first = s.examples[0]
    lines.append(f"   {first.path}:{first.line}: {first.sentence}")
    return "\n".join(lines)


def _write_suggestions(site: str, suggestions: list, slugs: list[str]) -> int:
    """Scaffold one glossary entry per slug: the name, the aliases seen, the type, and the
    placeholder summary and body (warnings, errors under --strict: never published as is)."""
    from site_builder.errors import did_you_mean
    from site_builder.parse import PLACEHOLDER_BODY, PLACEHOLDER_SUMMARY

    by_slug = {s.slug: s for s in suggestions}
    for slug in slugs:
        if slug not in by_slug:
            hint = did_you_mean(slug, sorted(by_slug))
            raise UsageError(f"no current suggestion has the slug '{slug}'" + (f"; {hint}" if hint else "")
                             + " (run 'site-builder suggest' to list them)")
    for slug in dict.fromkeys(slugs):
        s = by_slug[slug]
        text = (f"---\ntitle: {json.dumps(s.name, ensure_ascii=False)}\n"
                f"aliases: {json.dumps(s.aliases, ensure_ascii=False)}\n"
                f"summary: {json.dumps(PLACEHOLDER_SUMMARY['term'])}\n"
                + (f"type: {s.type}\n" if s.type else "") + f"---\n\n{PLACEHOLDER_BODY['term']}\n")
        print(_create(site, "content/glossary", slug, text, fresh=True))
    return EXIT_OK


def _next_step(kind: str, site: str, slug: str) -> str:
    """What to do with the new file (on standard error: standard output is only the path)."""
    where = "" if os.path.abspath(site) == os.getcwd() else f" --site {shlex.quote(site)}"
    if kind == "article":
        return (f"next: write the article, then preview it with 'site-builder serve --drafts{where}' and open "
                f"http://127.0.0.1:8000/articles/{slug}/ (it is a draft: without --drafts the preview leaves it "
                "out; remove 'draft: true' to publish it)")
    return (f"next: write the entry, then preview it with 'site-builder serve{where}' and open "
            f"http://127.0.0.1:8000/glossary/{slug}/")


def cmd_clean(args: argparse.Namespace) -> int:
    from site_builder.cache import cache_dir, clean

    site = _site(args.site)
    try:
        what = clean(site)
    except OSError as exc:
        raise UsageError(f"cannot remove {os.path.relpath(cache_dir(site), site)}: "
                         f"{(exc.strerror or str(exc)).lower()}") from None
    print(f"{what} {os.path.relpath(cache_dir(site), site)}")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from site_builder.serve import serve

    return serve(_site(args.site), host=args.host, port=args.port, drafts=args.drafts, open_browser=args.open)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"build": cmd_build, "check": cmd_check, "new": cmd_new, "serve": cmd_serve,
                "clean": cmd_clean, "suggest": cmd_suggest}[args.command](args)
    except UsageError as exc:
        print(f"site-builder: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the last resort: a bug of ours, never an editor's mistake
        if args.debug:
            import traceback

            traceback.print_exc()
        print(f"site-builder: internal error ({type(exc).__name__}: {exc}). This is a bug in site-builder, "
              f"not in your site: please report it (see 'Reporting a bug' in the README) with the command you ran"
              + ("" if args.debug else " and the output of the same command with --debug"), file=sys.stderr)
        return EXIT_INTERNAL
