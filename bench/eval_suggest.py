"""Evaluate ``site-builder suggest`` on the link evaluation corpus (issue 14).

    python bench/eval_suggest.py            # both figures, with every judgement printed
    python bench/eval_suggest.py --quiet    # the figures only
    python bench/eval_suggest.py --quiet --seeds 5   # and the completed glossary's recall for
                                            # 5 other shuffles × rounds of 5, 10, 20 entries

The site is bench/link_eval: its 25 news texts as articles and its 66-entry glossary
(bench/link_eval/glossary.yaml), built through the real pipeline (``build.suggest``).

* Recall of removed entries, measured twice: on the glossary as it is, and on a completed
  glossary (a realistic one for these texts): the same entries plus one entry for every
  name of bench/suggest_eval/gold.yaml's accept list (so the names the link corpus never
  needed, Moscow or Brent, are in it, as they would be on a site that had run for a while).
  The entries that the gold files (bench/link_eval/gold/*.yaml,
  written for the link evaluation) list as mentioned in two articles or more are cut into
  rounds of ROUND entries (a fixed shuffle); each round removes its entries from the
  glossary and runs suggest with the default --min-articles 2. A removed entry is found
  when one of the top 2 × ROUND suggestions has, as its name or one of its aliases, one of
  the entry's terms (title or alias; case, apostrophes and spacing aside). Target ≥ 0.80.
* Precision of the top 20. With the whole glossary, the top 20 suggestions at the default
  settings (and, since fewer may recur in two articles, also the top 20 with
  --min-articles 1) are judged against bench/suggest_eval/gold.yaml, a list of names an
  editor would accept and reject written before the rules were tuned. A name in neither
  list counts as not accepted. Target ≥ 0.85.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "link_eval"
GOLD = HERE / "suggest_eval" / "gold.yaml"
sys.path.insert(0, os.environ.get("SITE_BUILDER_SRC") or str(HERE.parent))

from site_builder.build import suggest  # noqa: E402
from site_builder.suggest import key_of  # noqa: E402

ROUND = 10
RECALL_TARGET, PRECISION_TARGET = 0.80, 0.85


def make_site(site: Path, glossary: list[dict]) -> None:
    shutil.rmtree(site, ignore_errors=True)
    (site / "content" / "articles").mkdir(parents=True)
    (site / "content" / "glossary").mkdir(parents=True)
    for text in sorted((CORPUS / "texts").glob("*.md")):
        shutil.copy(text, site / "content" / "articles" / text.name)
    for e in glossary:
        (site / "content" / "glossary" / f"{e['slug']}.md").write_text(
            f"---\ntitle: {json.dumps(e['title'])}\naliases: {json.dumps(e.get('aliases') or [])}\n"
            f"summary: {json.dumps('About ' + e['title'] + '.')}\ntype: {e.get('type', 'OTHER')}\n---\n\nText.\n",
            encoding="utf-8")


def recurring_entries() -> list[str]:
    counts: Counter = Counter()
    for gold in (CORPUS / "gold").glob("*.yaml"):
        counts.update(set(yaml.safe_load(gold.read_text(encoding="utf-8")).get("entities") or []))
    return sorted(slug for slug, n in counts.items() if n >= 2)


def completed(glossary: list[dict]) -> list[dict]:
    """The glossary plus an entry for each accepted name it does not already hold."""
    from site_builder.urls import slugify

    gold = yaml.safe_load(GOLD.read_text(encoding="utf-8"))
    have = {key_of(t) for e in glossary for t in [e["title"], *(e.get("aliases") or [])]}
    slugs = {e["slug"] for e in glossary}
    out = list(glossary)
    for name in gold["accept"]:
        slug = slugify(name)
        if key_of(name) in have or slug in slugs:
            continue
        have.add(key_of(name))
        slugs.add(slug)
        out.append({"slug": slug, "title": name, "aliases": [], "type": "OTHER"})
    return out


def recall(glossary: list[dict], work: Path, quiet: bool, seed: int = 14, size: int = ROUND) -> tuple[int, int]:
    slugs = recurring_entries()
    random.Random(seed).shuffle(slugs)
    found = total = 0
    for r in range(0, len(slugs), size):
        removed = slugs[r:r + size]
        make_site(work, [e for e in glossary if e["slug"] not in removed])
        top = suggest(str(work), cache=False).top(2, 2 * len(removed))
        offered = [{key_of(s.name), *map(key_of, s.aliases)} for s in top]
        for slug in removed:
            e = next(e for e in glossary if e["slug"] == slug)
            terms = {key_of(t) for t in [e["title"], *(e.get("aliases") or [])]}
            rank = next((k for k, forms in enumerate(offered, 1) if forms & terms), None)
            found += rank is not None
            total += 1
            if not quiet:
                print(f"  round {r // size + 1}: {slug:28} {'found at ' + str(rank) if rank else 'MISSED'}")
    return found, total


def precision(glossary: list[dict], work: Path, min_articles: int, quiet: bool) -> tuple[int, int]:
    gold = yaml.safe_load(GOLD.read_text(encoding="utf-8"))
    accept = {key_of(n) for n in gold["accept"]}
    reject = {key_of(n) for n in gold["reject"]}
    make_site(work, glossary)
    top = suggest(str(work), cache=False, min_articles=min_articles).top(min_articles, 20)
    good = 0
    for s in top:
        forms = {key_of(s.name), *map(key_of, s.variants)}
        verdict = "accepted" if forms & accept else "REJECTED" if key_of(s.name) in reject else "UNJUDGED"
        good += verdict == "accepted"
        if not quiet:
            print(f"  {s.name:34} {len(s.articles)} articles, {s.mentions} mentions: {verdict}")
    return good, len(top)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--seeds", type=int, default=0, metavar="N",
                    help="also measure the completed glossary's recall with N other shuffles and rounds of 5, "
                         "10 and 20 removed entries (is the figure a lucky partition?)")
    args = ap.parse_args(argv)
    glossary = yaml.safe_load((CORPUS / "glossary.yaml").read_text(encoding="utf-8"))
    work = Path(tempfile.mkdtemp(prefix="eval-suggest-")) / "site"
    try:
        print("recall of removed entries, glossary as it is (each round: top 2x removed, --min-articles 2):")
        f0, t0 = recall(glossary, work, args.quiet)
        print("recall of removed entries, completed glossary:")
        f, t = recall(completed(glossary), work, args.quiet)
        print("precision of the top 20, default --min-articles 2:")
        g2, n2 = precision(glossary, work, 2, args.quiet)
        print("precision of the top 20, --min-articles 1:")
        g1, n1 = precision(glossary, work, 1, args.quiet)
        spread = robustness(completed(glossary), work, args.seeds)
    finally:
        shutil.rmtree(work.parent, ignore_errors=True)
    print(f"recall, glossary as it is: {f0}/{t0} = {f0 / t0:.3f} (target ≥ {RECALL_TARGET})")
    print(f"recall, completed glossary: {f}/{t} = {f / t:.3f} (target ≥ {RECALL_TARGET})")
    print(f"precision, top {n2} at --min-articles 2: {g2}/{n2} = {g2 / max(n2, 1):.3f} (target ≥ {PRECISION_TARGET})")
    print(f"precision, top {n1} at --min-articles 1: {g1}/{n1} = {g1 / max(n1, 1):.3f}")
    for size, rates in spread.items():
        print(f"recall, completed glossary, {len(rates)} shuffles, rounds of {size}: "
              f"median {statistics.median(rates):.3f}, lowest {min(rates):.3f}")
    return 0


def robustness(glossary: list[dict], work: Path, seeds: int) -> dict[int, list[float]]:
    """Recall on the completed glossary for other shuffles and round sizes."""
    spread: dict[int, list[float]] = {}
    for size in (5, 10, 20) if seeds else ():
        for seed in range(1, seeds + 1):
            f, t = recall(glossary, work, True, seed=seed, size=size)
            spread.setdefault(size, []).append(f / t)
    return spread


if __name__ == "__main__":
    sys.exit(main())
