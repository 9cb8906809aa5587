"""Random sites made of random good and bad pieces (front-matter, bodies, file names,
settings), built through the real command line in this process. Whatever the input:

* the exit code is 0 or 1 (2 for a usage error), never an internal error;
* nothing prints a traceback;
* a failed build leaves the previous output exactly as it was;
* a successful build's feed and sitemap are well-formed XML and every page parses as
  HTML without a single parse error (html5lib, strict).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import html5lib
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from site_builder.cli import main
from site_builder.write import MARKER, MARKER_BYTES

TITLES = ["Russia and North Korea", '"NO"', "NO", "1.10", "2023-01-01", "<script>alert(1)</script>", "a\\x01b",
          "'unclosed", "[a, b", "{x: y}", "&anchor x", "!!python/object:os.system x", "Tom's \u2018quote\u2019",
          "\u202eevil", "x" * 300, "", "  ", "Ünïcödé 日本 Пхеньян", "a: b: c"]
DATES = ["2023-03-30", "2024-02-30", "2023-3-1", "yesterday", "", "2023-03-30T10:00:00", "NO", "[1]"]
TAGS = ["[russia]", "[C++, C]", "[日本, 中国]", "russia", "[]", "[1.10, 2023]", "[" + "a" * 300 + "]",
        "[a\\x01b]", "[north korea, North-Korea]", "{a: b}"]
BODIES = [
    "Russia asked North Korea for shells.\n", "See [[deal]] and [[nowhere]] and [[deal|our piece]].\n",
    "::: related\ndeal\nnowhere\n:::\n", "::: related\n" * 50, "![" * 200, "!?" * 300, "'s" * 300,
    "<script>alert(1)</script> <a href=\"x\">Russia</a>\n", "[x](javascript:alert(1)) [y](/missing/)\n",
    "`Russia` and ```\nRussia\n```\n", "Raw \x1b escape \x0c and \ufffe and \x00 NUL.\n", "# Russia\n\nRussia.\n",
    "Wagner\nGroup met DPRK officials.\n", "| a | b |\n|---|---|\n| Russia | x |\n", "[^1]\n\n[^1]: A note on Russia.\n",
    "", "\u202e\u200b\ufeff text\n",
]
EXTRAS = ["", "draft: true\n", "draft: maybe\n", "slug: Bad Slug\n", "slug: " + "a" * 300 + "\n", "nolink: true\n",
          "nolink: [russia]\n", "related: [deal, nowhere]\n", "image: javascript:alert(1)\n",
          "image:\n  src: https://example.org/a.png\n  alt: a\n", "image:\n  src: /images/none.png\n",
          "byline: 1.10\n", "unknown_key: 1\n", "title: twice\n", "tags: &a [x]\n"]
NAMES = ["deal", "food", "Deal", "a b", "日本", "\u33af" * 80, "x" * 200, "-", "nested/deep", "..dots", "#temp#",
         "4913", ".hidden"]
SETTINGS = ["", "title: Site\n", "link: all\n", "link: sometimes\n", "allow_html: true\n",
            "base_url: https://example.org/sub/\n", "base_url: 'http://[::1/'\n", "max_file_size: 1" + "0" * 40 + "MB\n",
            "max_file_size: 1KB\n", "related_count: -1\n", "title: [a\n", "\x07: x\n"]
ENTRY_TITLES = ["Russia", "North Korea", "Wagner Group", "DPRK", "US", "Russia", "<b>x</b>", "", "a" * 300]


def mostly(good: list[str], anything: list[str]) -> st.SearchStrategy[str]:
    """A good value four times in five, anything (good or bad) otherwise: most sites then
    build, so the output checks run as often as the failure checks."""
    return st.one_of(*[st.sampled_from(good)] * 4, st.sampled_from(anything))


def front_matter(title: str, date: str, tags: str, extra: str) -> str:
    lines = ["---"]
    if title is not None:
        lines.append(f"title: {title}")
    if date is not None:
        lines.append(f"date: {date}")
    lines.append("summary: One sentence.")
    if tags is not None:
        lines.append(f"tags: {tags}")
    return "\n".join(lines) + "\n" + extra + "---\n"


articles = st.lists(st.tuples(mostly(["deal", "food", "日本", "a b", "nested/deep"], NAMES),
                              mostly(["Russia and North Korea", '"NO"', "1.10", "Tom's \u2018quote\u2019",
                                      "<script>alert(1)</script>", "Ünïcödé 日本 Пхеньян", "a\\x01b"], TITLES),
                              mostly(["2023-03-30", "2022-12-01"], DATES),
                              st.one_of(st.none(), mostly(["[russia]", "[日本, 中国]", "[1.10, 2023]", "[]"], TAGS)),
                              mostly(["", "draft: true\n", "nolink: [russia]\n", "byline: 1.10\n",
                                      "image:\n  src: https://example.org/a.png\n  alt: a\n"], EXTRAS),
                              mostly([b for b in BODIES if "nowhere" not in b and "missing" not in b], BODIES),
                              mostly([b for b in BODIES if "nowhere" not in b and "missing" not in b], BODIES)),
                    min_size=0, max_size=4)
entries = st.lists(st.tuples(st.sampled_from(["russia", "north-korea", "wagner", "Russia", "x" * 200]),
                             mostly(["Russia", "North Korea", "Wagner Group", "<b>x</b>"], ENTRY_TITLES),
                             mostly(["[]", "[DPRK]"], ["[]", "[DPRK]", "[Wagner, Wagner]", "x"]),
                             mostly(["GPE", "ORG"], ["GPE", "ORG", "COUNTRY", "1"]),
                             mostly([b for b in BODIES if "nowhere" not in b and "missing" not in b], BODIES)),
                   min_size=0, max_size=3)


def write_site(root: Path, site_yaml: str, arts: list, ents: list) -> None:
    (root / "content" / "articles").mkdir(parents=True)
    (root / "content" / "glossary").mkdir(parents=True)
    (root / "site.yaml").write_text(site_yaml, encoding="utf-8")
    for name, title, date, tags, extra, body1, body2 in arts:
        path = root / "content" / "articles" / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            path.write_text(front_matter(title, date, tags, extra) + body1 + "\n" + body2, encoding="utf-8")
    for name, title, aliases, kind, body in ents:
        text = f"---\ntitle: {title}\naliases: {aliases}\nsummary: About it.\ntype: {kind}\n---\n{body}"
        with contextlib.suppress(OSError):
            (root / "content" / "glossary" / f"{name}.md").write_text(text, encoding="utf-8")


def previous_output(out: Path) -> dict[str, bytes]:
    out.mkdir()
    (out / MARKER).write_bytes(MARKER_BYTES)
    (out / "index.html").write_bytes(b"<!DOCTYPE html><title>previous</title>\n")
    return {p.name: p.read_bytes() for p in out.iterdir()}


def run(*argv: str) -> tuple[int, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(list(argv))
    return code, stdout.getvalue() + stderr.getvalue()


def check_output(out: Path) -> None:
    for name in ("feed.xml", "sitemap.xml"):
        ET.parse(out / name)  # raises on anything that is not well-formed
    for page in out.rglob("*.html"):
        parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
        parser.parse(page.read_bytes())  # raises on the first parse error


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(site_yaml=mostly(["", "title: Site\n", "link: all\n", "allow_html: true\n",
                          "base_url: https://example.org/sub/\n"], SETTINGS), arts=articles, ents=entries, strict=st.booleans(),
       drafts=st.booleans())
def test_random_bad_sites_fail_cleanly_or_build_valid_output(site_yaml: str, arts: list, ents: list,
                                                             strict: bool, drafts: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        write_site(root, site_yaml, arts, ents)
        out = Path(tmp) / "out"
        before = previous_output(out)
        argv = ["build", "--site", str(root), "--out", str(out), "--jobs", "1", "--no-cache"]
        code, printed = run(*argv, *(["--strict"] if strict else []), *(["--drafts"] if drafts else []))
        assert "Traceback" not in printed, printed
        assert code in (0, 1), printed
        event(f"exit {code}")
        if code == 1:
            assert {p.name: p.read_bytes() for p in out.iterdir()} == before, "a failed build changed the output"
            assert " error[" in printed, printed
            assert sorted(os.listdir(tmp)) == ["out", "site"], "something was left beside the output"
        else:
            check_output(out)
        shutil.rmtree(root)
