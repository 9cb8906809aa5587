"""Typography (curly quotes, dashes) on long runs of quotes: the time must grow linearly.

    python bench/typography.py

Renders paragraphs made of one pattern repeated n times, for doubling n, and prints the
milliseconds and the ratio to the previous size (about 2 for linear growth, 4 for
quadratic). markdown-it's smartquotes alone is quadratic in a paragraph's quotes; the
builder leaves paragraphs with more than TYPO_MAX_QUOTES quotes straight. The second table
does the same for front-matter text (``markdown.typeset``: a title, a summary), which the
same rules and the same guard typeset.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from site_builder import markdown  # noqa: E402

PATTERNS = {"quotes": '"', "apostrophes": "x'y ", "nested": "\"'\"", "mixed": "\"'", "words": '"a" \'b\' -- ',
            "dashes": "a -- b --- ", "dots": "... "}
SIZES = (4000, 8000, 16000, 32000)


def body(text: str) -> None:
    markdown.render(markdown.parse(text, 1))


def title(text: str) -> None:
    markdown.typeset.cache_clear()  # measured, not remembered
    markdown.typeset(text)


def best_of(text: str, runs: int = 3, how=body) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        how(text)
        times.append(time.perf_counter() - start)
    return min(times)


def table(how) -> None:
    print(f"{'pattern':<12}" + "".join(f"{n:>16}" for n in SIZES))
    for name, pattern in PATTERNS.items():
        row, last = [], None
        for n in SIZES:
            t = best_of(pattern * n, how=how)
            row.append(f"{t * 1000:8.1f}ms" + (f" x{t / last:4.1f}" if last else "      "))
            last = t
        print(f"{name:<12}" + "".join(f"{c:>16}" for c in row))


def main() -> None:
    print("body text (one paragraph)")
    table(body)
    print("front-matter text (markdown.typeset)")
    table(title)
    normal = ("The \"deal\" -- as officials called it -- was 'unprecedented'... " * 20 + "\n\n") * 200
    print(f"a 4,000-quote article in 200 paragraphs: {best_of(normal) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
