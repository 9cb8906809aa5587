"""Derive site_builder/data/word-frequencies.tsv.gz from spacy-lookups-data.

The link stage's precision guards ask "is this capitalised word an ordinary English word
that is only capitalised because it starts a sentence?" and "is this term's lower-case form
as common as the term itself?". spaCy's English ``lexeme_prob`` table answers both, but
loading its million rows takes seconds, so we keep the alphabetic words above a
frequency floor in a small file shipped with the package. Run this again after
upgrading spacy-lookups-data:

    pip install spacy-lookups-data
    python scripts/derive_word_frequencies.py
"""

from __future__ import annotations

import gzip
import os

from spacy.lookups import load_lookups

FLOOR = -15.5  # log-probability; below this a word is rare enough not to matter
OUT = os.path.join(os.path.dirname(__file__), "..", "site_builder", "data", "word-frequencies.tsv.gz")


def main() -> None:
    table = load_lookups("en", ["lexeme_prob"]).get_table("lexeme_prob")
    import spacy_lookups_data

    data_dir = os.path.join(os.path.dirname(spacy_lookups_data.__file__), "data")
    import json

    with gzip.open(os.path.join(data_dir, "en_lexeme_prob.json.gz"), "rt", encoding="utf-8") as fh:
        probs = json.load(fh)
    assert len(probs) == len(table)
    rows = sorted((w, p) for w, p in probs.items() if w.isalpha() and p > FLOOR)
    # mtime=0 keeps the file byte-identical across runs
    with open(OUT, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as fh:
        fh.write("".join(f"{w}\t{p:.2f}\n" for w, p in rows).encode("utf-8"))
    print(f"wrote {len(rows)} words to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
