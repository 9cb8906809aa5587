"""How related is "related reading"? Measured on a generated site.

    python bench/related_quality.py [--articles 1000] [--entries 300] [--seed 1]

Builds a generated site (bench/generate.py) with site-builder and prints, over every
article: how many show the configured number of related articles, and the share of
automatic picks that share at least one *rare* entity with the article (an entity
mentioned in at most 5 % of the articles, also shown for 2 % and 10 %).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import generate  # noqa: E402

from site_builder.build import Builder  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--articles", type=int, default=1000)
    p.add_argument("--entries", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "corpus")
        generate.generate(out, args.articles, args.entries, seed=args.seed, formats=("site-builder",))
        started = time.perf_counter()
        result = Builder(out).run()
        seconds = time.perf_counter() - started
    if not result.ok:
        print("\n".join(d.format() for d in result.diagnostics if d.is_error))
        return 1
    index = result.index
    n = len(index.articles)
    df: dict[str, int] = {}
    for (kind, _), doc in result.linked.items():
        if kind == "article":
            for e in doc.entities:
                df[e] = df.get(e, 0) + 1
    wanted = 3
    full = sum(len(result.picks.get(slug, [])) >= wanted for slug in index.articles)
    print(f"{n} articles, {len(index.entries)} glossary entries, built in {seconds:.1f} s")
    print(f"articles showing {wanted} related articles: {full}/{n} ({100 * full / n:.1f} %)")
    auto = [(slug, p) for slug, picks in result.picks.items() for p in picks if not p.explicit]
    ents = {slug: set(result.linked[("article", slug)].entities) for slug in index.articles}
    for share in (0.02, 0.05, 0.10):
        limit = max(1, int(share * n))
        good = sum(any(df[e] <= limit for e in ents[slug] & ents.get(p.header.slug, set())) for slug, p in auto)
        print(f"automatic picks sharing an entity found in ≤ {share:.0%} of articles (≤ {limit}): "
              f"{good}/{len(auto)} ({100 * good / max(1, len(auto)):.1f} %)")
    shared = [len(ents[slug] & ents.get(p.header.slug, set())) for slug, p in auto]
    print(f"shared entities per automatic pick: median {statistics.median(shared):.0f}, "
          f"none at all: {sum(1 for s in shared if s == 0)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
