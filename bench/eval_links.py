"""Evaluate entity auto-linking against a hand-annotated corpus.

    python bench/eval_links.py                 # the report and the two figures
    python bench/eval_links.py --audit         # also list every term occurrence the annotator must judge
    python bench/eval_links.py --only 07       # texts whose name contains "07"
    python bench/eval_links.py --show-html 07  # print the linked body HTML of the first matching text

Every text in bench/link_eval/texts/ is built as an article of one temporary site whose
glossary is bench/link_eval/glossary.yaml, through the real pipeline
(``site_builder.build.Builder``) with the default first-mention policy. A second copy of
each article with ``nolink: true`` gives the reference rendering for the visible-text check.

The gold file bench/link_eval/gold/<text>.yaml says, for that text:

    entities: [slug, ...]   # what a careful editor says the text mentions in linkable prose
    optional: [slug, ...]   # defensible either way: a link is not wrong, its absence not missed
    traps:                  # spans that must NOT be linked (to any entity)
      - span: "actor Robert [Wagner]"   # context as the reader sees it; [brackets] mark the trap
        why: a person's surname

Scoring, per entity link found in the body HTML (``class="entity" data-entity="slug"``):
a link is wrong when it sits in an excluded zone (h1-h6, code, pre, another link), cuts a
word, covers a trap span, is not the text of one of the entry's terms, or points at an
entity the gold does not list. Precision = right links / all entity links; recall = gold
(article, entity) pairs with at least one right link / all gold pairs.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
EVAL = HERE / "link_eval"
# SITE_BUILDER_SRC=DIR evaluates another checkout's site_builder (e.g. an exported commit).
sys.path.insert(0, os.environ.get("SITE_BUILDER_SRC") or str(HERE.parent))

from site_builder.build import Builder  # noqa: E402

PRECISION_TARGET = 0.99
RECALL_TARGET = 0.97

EXCLUDED = {"h1", "h2", "h3", "h4", "h5", "h6", "code", "pre", "a"}
BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "tr", "blockquote", "pre", "div",
          "ul", "ol", "table", "figcaption", "dd", "dt", "hr", "br"}
PARA = "\u2029"  # ends a block in the plain text; contexts and sentences never cross it
ENTITY_LINK = re.compile(r'<a href="[^"]*" class="entity" data-entity="[^"]*">(.*?)</a>', re.S)


# -- reading the body HTML -------------------------------------------------------------

@dataclass
class Link:
    slug: str
    href: str
    start: int  # offsets into the plain text
    end: int
    zone: str  # the excluded element it sits in, or ""


class Body(HTMLParser):
    """The body as plain text, with every entity link's span and the zone of every character."""

    def __init__(self, html_text: str):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.zones: list[str] = []  # per character: the innermost excluded element, or ""
        self.pos = 0
        self.stack: list[tuple[str, Link | None]] = []
        self.links: list[Link] = []
        self.nested: list[str] = []  # entity links that contain another link
        self.feed(html_text)
        self.close()
        self.text = "".join(self.parts)

    def _zone(self) -> str:
        for tag, link in reversed(self.stack):
            if tag in EXCLUDED and link is None:
                return tag
        return ""

    def _emit(self, s: str) -> None:
        if not s:
            return
        self.parts.append(s)
        self.zones.extend([self._zone()] * len(s))
        self.pos += len(s)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("br", "hr", "img", "input", "meta", "source"):
            if tag in ("br", "hr"):
                self._emit(PARA)
            return
        link = None
        if tag == "a" and (a.get("class") or "").split() == ["entity"] and "data-entity" in a:
            if any(t == "a" for t, _ in self.stack):
                self.nested.append(a["data-entity"])
            link = Link(a["data-entity"], a.get("href", ""), self.pos, self.pos, self._zone())
            self.links.append(link)
        elif tag == "a" and any(l is not None for _, l in self.stack):
            self.nested.append("(a link inside an entity link)")
        self.stack.append((tag, link))

    def handle_endtag(self, tag):
        while self.stack:
            t, link = self.stack.pop()
            if link is not None:
                link.end = self.pos
            if t == tag:
                break
        if tag in BLOCKS:
            self._emit(PARA)

    def handle_data(self, data):
        self._emit(data)


# -- normalised search -----------------------------------------------------------------

_SAME = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ",
                       "\u202f": " ", "\u2009": " ", "\n": " ", "\t": " ", "\r": " "})


def normalise(text: str) -> tuple[str, list[int]]:
    """NFC, straight quotes, single spaces; with a map from each normalised offset to the original's."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        ch = ch.translate(_SAME)
        if unicodedata.combining(ch) and out:
            merged = unicodedata.normalize("NFC", out[-1] + ch)
            if len(merged) == 1:
                out[-1] = merged
                continue
        if ch == " " and out and out[-1] == " ":
            continue
        out.append(ch)
        index.append(i)
    index.append(len(text))
    return "".join(out), index


def norm_plain(s: str) -> str:
    return normalise(unicodedata.normalize("NFC", s))[0].strip()


def sentence_at(text: str, start: int, end: int) -> str:
    """The sentence (within its block) around text[start:end], one line."""
    a = text.rfind(PARA, 0, start) + 1
    b = text.find(PARA, end)
    b = len(text) if b < 0 else b
    block = text[a:b]
    s, e = start - a, end - a
    left = 0
    for m in re.finditer(r"[.!?][\"'”’)]*\s+(?=[\"'“‘(]*[A-Z0-9])", block[:s]):
        left = m.end()
    m = re.search(r"[.!?][\"'”’)]*(?=\s|$)", block[e:])
    right = e + m.end() if m else len(block)
    out = block[left:s] + "«" + block[s:e] + "»" + block[e:right]
    return " ".join(out.split())


def word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


# -- loading -----------------------------------------------------------------------------

@dataclass
class Trap:
    span: str
    why: str
    context: str
    inner: str
    entity: str = ""  # when set, only a link to this entity is wrong here (a nested alias)


@dataclass
class Gold:
    entities: set[str]
    optional: set[str]
    traps: list[Trap]
    notes: str = ""


def load_gold(path: Path, slugs: set[str]) -> tuple[Gold, list[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    problems = []
    entities = set(data.get("entities") or ())
    optional = set(data.get("optional") or ())
    for s in sorted((entities | optional) - slugs):
        problems.append(f"{path.name}: '{s}' is not a glossary slug")
    traps = []
    for t in data.get("traps") or ():
        if isinstance(t, str):
            t = {"span": t}
        span = t["span"]
        m = re.fullmatch(r"(.*)\[(.+?)\](.*)", span, re.S)
        if not m:
            problems.append(f"{path.name}: trap {span!r} has no [bracketed] part")
            continue
        traps.append(Trap(span, t.get("why", ""), m.group(1) + m.group(2) + m.group(3), m.group(2),
                          t.get("entity", "")))
    return Gold(entities, optional, traps, data.get("notes", "")), problems


def entry_markdown(e: dict) -> str:
    q = lambda s: yaml.safe_dump(s, default_style='"', allow_unicode=True).strip()  # noqa: E731
    aliases = "".join(f"\n  - {q(a)}" for a in e.get("aliases", []))
    return (f"---\ntitle: {q(e['title'])}\naliases:{aliases if aliases else ' []'}\n"
            f"summary: {q('About ' + e['title'] + '.')}\ntype: {e.get('type', 'OTHER')}\n---\n\n"
            f"{e['title']}.\n")


def with_nolink(text: str) -> str:
    assert text.startswith("---\n"), "texts start with front-matter"
    return "---\nnolink: true\n" + text[4:]


# -- the evaluation --------------------------------------------------------------------

@dataclass
class Finding:
    text: str
    entity: str
    cause: str
    sentence: str


@dataclass
class TextResult:
    name: str
    links: list[Link] = field(default_factory=list)
    right: int = 0
    fps: list[Finding] = field(default_factory=list)
    fns: list[Finding] = field(default_factory=list)
    found: set[str] = field(default_factory=set)
    mentions: int = 0  # untrapped occurrences of terms in linkable text (judged real by the annotator)
    missed: list[Finding] = field(default_factory=list)  # of those, not covered by a link to their entity
    problems: list[str] = field(default_factory=list)  # structural failures (zones, visible text, nesting)
    notes: list[str] = field(default_factory=list)  # informational: late first links, gold remarks
    audit: list[str] = field(default_factory=list)


def term_occurrences(plain_n: str, terms: dict[str, list[str]]) -> list[tuple[int, int, str, str]]:
    """Every case-sensitive, whole-word occurrence of every term in the normalised text:
    (start, end, slug, term); occurrences inside a longer one are dropped (longest wins)."""
    occ = []
    for slug, ts in terms.items():
        for t in ts:
            nt = norm_plain(t)
            pat = r"(?<![\w])" + re.escape(nt) + r"(?![\w]|'(?!s\b)\w)"
            for m in re.finditer(pat, plain_n):
                occ.append((m.start(), m.end(), slug, nt))
    occ.sort(key=lambda o: (o[0], -(o[1] - o[0])))
    kept: list[tuple[int, int, str, str]] = []
    for o in occ:
        if any(k[0] <= o[0] and o[1] <= k[1] and (k[1] - k[0]) > (o[1] - o[0]) for k in kept):
            continue
        if any(k[0] < o[1] and o[0] < k[1] for k in kept):
            continue  # overlapping, not nested: the earlier, longer one wins
        kept.append(o)
    return kept


def evaluate_text(name: str, body_html: str, reference_html: str, gold: Gold, terms: dict[str, list[str]],
                  audit: bool, policy: str = "first") -> TextResult:
    r = TextResult(name)
    body = Body(body_html)
    plain = body.text
    plain_n, idx = normalise(plain)
    r.links = body.links

    # structural checks
    stripped = ENTITY_LINK.sub(lambda m: m.group(1), body_html)
    if stripped != reference_html:
        k = next((i for i, (a, b) in enumerate(zip(stripped, reference_html)) if a != b),
                 min(len(stripped), len(reference_html)))
        r.problems.append(f"visible text changed at byte {k}: linked-and-stripped {stripped[max(0, k - 60):k + 60]!r} "
                          f"vs nolink {reference_html[max(0, k - 60):k + 60]!r}")
    for n in body.nested:
        r.problems.append(f"nested link: {n}")
    per_slug = defaultdict(int)
    for l in body.links:
        per_slug[l.slug] += 1
        if l.href != f"/glossary/{l.slug}/":
            r.problems.append(f"link to {l.slug} has href {l.href!r}")
    for s, n in per_slug.items():
        if n > 1 and policy == "first":
            r.problems.append(f"first-mention policy: {s} linked {n} times")

    # trap spans, in plain-text offsets
    trap_spans: list[tuple[int, int, Trap]] = []
    for t in gold.traps:
        pre = t.span[: t.span.find("[")]
        ctx = normalise(unicodedata.normalize("NFC", t.context.strip()))[0]
        off = len(normalise(unicodedata.normalize("NFC", pre.lstrip()))[0])
        inner = normalise(unicodedata.normalize("NFC", t.inner))[0]
        hits = [m.start() for m in re.finditer(re.escape(ctx), plain_n)]
        if not hits:
            r.notes.append(f"gold: trap {t.span!r} not found in the visible body text "
                           f"(fine only if it is in alt text)")
            continue
        for h in hits:
            s = h + off
            trap_spans.append((idx[s], idx[s + len(inner) - 1] + 1, t))

    def trap_at(a: int, b: int, slug: str | None = None) -> Trap | None:
        for s, e, t in trap_spans:
            if s < b and a < e and (not t.entity or slug is None or t.entity == slug):
                return t
        return None

    # each link
    right_slugs: set[str] = set()
    for l in body.links:
        sent = sentence_at(plain, l.start, l.end)
        linked_text = plain[l.start:l.end]
        cause = ""
        if l.zone:
            cause = f"excluded zone: inside <{l.zone}>"
        elif (l.start > 0 and word_char(plain[l.start - 1]) and word_char(plain[l.start])) or \
                (l.end < len(plain) and word_char(plain[l.end]) and word_char(plain[l.end - 1])):
            cause = "partial word"
        elif (t := trap_at(l.start, l.end, l.slug)) is not None:
            cause = f"trap: {t.why or t.span}"
        elif norm_plain(linked_text) not in {norm_plain(x) for x in terms.get(l.slug, [])}:
            cause = f"link text {linked_text!r} is not a term of {l.slug}"
        elif l.slug not in gold.entities and l.slug not in gold.optional:
            cause = "entity not mentioned (gold)"
        if cause:
            r.fps.append(Finding(name, l.slug, cause, sent))
        else:
            r.right += 1
            right_slugs.add(l.slug)
    r.found = right_slugs

    # where each entity's terms occur in linkable text (for FN diagnosis, late links and the audit)
    occ = term_occurrences(plain_n, terms)
    by_slug: dict[str, list[tuple[int, int, str]]] = defaultdict(list)  # original offsets
    for s, e, slug, t in occ:
        a, b = idx[s], idx[e - 1] + 1
        zone = next((z for z in body.zones[a:b] if z), "")
        trap = trap_at(a, b, slug)
        status = f"zone <{zone}>" if zone else (f"trap ({trap.why or trap.span})" if trap else "")
        by_slug[slug].append((a, b, status))
        if not status and (slug in gold.entities or slug in gold.optional):
            r.mentions += 1
            if not any(l.slug == slug and l.start < b and a < l.end for l in body.links):
                r.missed.append(Finding(name, slug, "mention not linked", sentence_at(plain, a, b)))
        if audit:
            linked = next((l.slug for l in body.links if l.start < b and a < l.end), None)
            mark = f"LINKED→{linked}" if linked else "not linked"
            r.audit.append(f"  {slug:24} {status or 'mention':28} {mark:28} {sentence_at(plain, a, b)}")

    for slug in sorted(gold.entities):
        if slug in right_slugs:
            first = next(((a, b) for a, b, st in by_slug.get(slug, []) if not st), None)
            link = next(l for l in body.links if l.slug == slug)
            if first and first[0] < link.start:
                r.notes.append(f"late link: {slug} first occurs in «{sentence_at(plain, *first)}» "
                               f"but is linked later in «{sentence_at(plain, link.start, link.end)}»")
            continue
        places = [sentence_at(plain, a, b) + (f"   [{st}]" if st else "") for a, b, st in by_slug.get(slug, [])]
        if not places:  # only under another capitalisation, or gold names it by a form the glossary lacks
            low = [m.start() for t in terms[slug] for m in re.finditer(r"(?<!\w)" + re.escape(norm_plain(t)) + r"(?!\w)",
                                                                         plain_n, re.I)]
            places = [sentence_at(plain, idx[p], idx[p] + 1) + "   [other capitalisation]" for p in sorted(low)]
        r.fns.append(Finding(name, slug, "not linked", " | ".join(places) or "(no occurrence of any term found)"))

    # gold consistency hints: an entity whose terms occur as plain mentions but that gold leaves out
    plain_mentions = {slug for slug, lst in by_slug.items() if any(not st for _, _, st in lst)}
    for slug in sorted(plain_mentions - gold.entities - gold.optional):
        r.notes.append(f"gold: {slug} occurs untrapped but is not in entities/optional: "
                       + " | ".join(sentence_at(plain, a, b) for a, b, st in by_slug[slug] if not st))
    return r


def build_site(site: Path, glossary: list[dict], texts: list[Path], policy: str = "first") -> None:
    (site / "content" / "glossary").mkdir(parents=True)
    (site / "content" / "articles").mkdir(parents=True)
    (site / "site.yaml").write_text(f"title: Link evaluation\nbase_url: http://localhost:8000/\nlink: {policy}\n",
                                    encoding="utf-8")
    for e in glossary:
        (site / "content" / "glossary" / f"{e['slug']}.md").write_text(entry_markdown(e), encoding="utf-8")
    for p in texts:
        src = p.read_text(encoding="utf-8")
        (site / "content" / "articles" / f"{p.stem}.md").write_text(src, encoding="utf-8")
        (site / "content" / "articles" / f"{p.stem}-nolink.md").write_text(with_nolink(src), encoding="utf-8")
        # the texts show images; give the build a file for each, so the internal link check passes
        for ref in re.findall(r"\]\((/[^)\s]+)\)|^\s*src: (/\S+)", src, re.M):
            ref = ref[0] or ref[1]
            target = site / "content" / ref.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(b"")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=str(EVAL), help="folder with glossary.yaml, texts/ and gold/")
    ap.add_argument("--only", help="evaluate only texts whose file name contains this")
    ap.add_argument("--audit", action="store_true", help="list every term occurrence with its judgement")
    ap.add_argument("--show-html", metavar="NAME", help="print the linked body HTML of a text and stop")
    ap.add_argument("--keep", action="store_true", help="keep the temporary site and print its path")
    ap.add_argument("--policy", choices=("first", "all"), default="first",
                    help="the site's link policy (the targets are defined for 'first'; 'all' exposes every trap)")
    args = ap.parse_args(argv)

    corpus = Path(args.corpus)
    glossary = yaml.safe_load((corpus / "glossary.yaml").read_text(encoding="utf-8"))
    terms = {e["slug"]: [e["title"], *e.get("aliases", [])] for e in glossary}
    texts = sorted((corpus / "texts").glob("*.md"))
    if args.only:
        texts = [t for t in texts if args.only in t.name]
    if not texts:
        print("no texts", file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="link-eval-"))
    try:
        site = tmp / "site"
        build_site(site, glossary, texts, args.policy)
        result = Builder(str(site)).run()
        article_diags = [d.format() for d in result.diagnostics if "/articles/" in d.path]
        if article_diags:
            print("Diagnostics on the articles:")
            for d in article_diags:
                print("  " + d.splitlines()[0])
            print()
        if not result.linked:
            print("the build linked nothing; diagnostics:", *[d.format() for d in result.diagnostics], sep="\n")
            return 2

        if args.show_html:
            for p in texts:
                if args.show_html in p.name:
                    print(result.linked[("article", p.stem)].body_html)
                    return 0
            return 2

        results: list[TextResult] = []
        gold_problems: list[str] = []
        slugs = set(terms)
        for p in texts:
            gold_path = corpus / "gold" / f"{p.stem}.yaml"
            if not gold_path.exists():
                gold_problems.append(f"{p.name}: no gold file {gold_path.name}")
                continue
            gold, problems = load_gold(gold_path, slugs)
            gold_problems += problems
            linked = result.linked[("article", p.stem)]
            reference = result.linked[("article", f"{p.stem}-nolink")].body_html
            r = evaluate_text(p.stem, linked.body_html, reference, gold, terms, args.audit, args.policy)
            # the stage's own facts must agree with its HTML
            made = [m.entry for m in linked.mentions]
            in_html = list(dict.fromkeys(l.slug for l in r.links))  # first link of each entity, in order
            if made != in_html:
                r.problems.append(f"LinkedDocument.mentions {made} differ from the links in body_html {in_html}")
            r.gold = gold  # type: ignore[attr-defined]
            results.append(r)
    finally:
        if args.keep:
            print(f"site kept at {tmp / 'site'}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    # -- the report -----------------------------------------------------------------------
    total_links = sum(len(r.links) for r in results)
    total_right = sum(r.right for r in results)
    gold_pairs = sum(len(r.gold.entities) for r in results)  # type: ignore[attr-defined]
    found_pairs = sum(len(r.gold.entities & r.found) for r in results)  # type: ignore[attr-defined]
    words = sum(len(re.findall(r"\w+(?:['’]\w+)*", p.read_text(encoding="utf-8").split("\n---\n", 1)[-1])) for p in texts)

    print(f"Entity-linking evaluation: {len(results)} texts, {words} words, {len(glossary)} glossary entries, "
          f"policy link: first\n")
    print(f"{'text':44} {'links':>5} {'right':>5} {'FP':>3} {'gold':>4} {'FN':>3}")
    for r in results:
        print(f"{r.name:44} {len(r.links):5} {r.right:5} {len(r.fps):3} {len(r.gold.entities):4} "  # type: ignore
              f"{len(r.fns):3}")
    print()

    fps = [f for r in results for f in r.fps]
    fns = [f for r in results for f in r.fns]
    print(f"FALSE POSITIVES ({len(fps)}), by cause:")
    by_cause: dict[str, list[Finding]] = defaultdict(list)
    for f in fps:
        by_cause[f.cause.split(":")[0] if f.cause.startswith(("excluded", "trap")) else f.cause].append(f)
    for cause in sorted(by_cause):
        print(f"  [{cause}]")
        for f in by_cause[cause]:
            detail = f" ({f.cause.split(': ', 1)[1]})" if ": " in f.cause else ""
            print(f"    {f.text}: → {f.entity}{detail}\n        {f.sentence}")
    if not fps:
        print("  none")
    print(f"\nFALSE NEGATIVES ({len(fns)}): gold (article, entity) pairs with no right link")
    for f in fns:
        print(f"    {f.text}: {f.entity}\n        {f.sentence}")
    if not fns:
        print("  none")

    problems = [(r.name, p) for r in results for p in r.problems]
    print(f"\nSTRUCTURAL CHECKS (visible text unchanged, no nesting, one link per entity, href): "
          f"{'all pass' if not problems else f'{len(problems)} FAILURES'}")
    for name, p in problems:
        print(f"    {name}: {p}")
    zone_fps = [f for f in fps if f.cause.startswith("excluded")]
    print(f"EXCLUDED ZONES (h1-h6, code, pre, links; alt text via the visible-text check): "
          f"{'no link inside' if not zone_fps else f'{len(zone_fps)} links inside'}")

    notes = [(r.name, n) for r in results for n in r.notes]
    if notes or gold_problems:
        print("\nNOTES (not scored):")
        for g in gold_problems:
            print(f"    {g}")
        for name, n in notes:
            print(f"    {name}: {n}")
    if args.audit:
        print("\nAUDIT: every whole-word, case-sensitive occurrence of a term (longest wins)")
        for r in results:
            print(f"{r.name}:")
            print("\n".join(r.audit))

    precision = total_right / total_links if total_links else 1.0
    recall = found_pairs / gold_pairs if gold_pairs else 1.0
    print(f"\nprecision = {total_right}/{total_links} = {precision:.4f}   (target ≥ {PRECISION_TARGET})  "
          f"{'PASS' if precision >= PRECISION_TARGET else 'FAIL'}")
    print(f"recall    = {found_pairs}/{gold_pairs} = {recall:.4f}   (target ≥ {RECALL_TARGET})  "
          f"{'PASS' if recall >= RECALL_TARGET else 'FAIL'}")
    print(f"structural checks: {'PASS' if not problems and not zone_fps else 'FAIL'}")
    if args.policy == "all":
        n = sum(r.mentions for r in results)
        missed = [m for r in results for m in r.missed]
        print(f"mention-level recall (link: all) = {n - len(missed)}/{n} = {(n - len(missed)) / max(n, 1):.4f}"
              f"   (untrapped term occurrences of gold entities; informational)")
        if args.audit or len(missed) <= 60:
            for m in missed:
                print(f"    missed: {m.text}: {m.entity}: {m.sentence}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
