"""English word frequencies, for the precision guards and the glossary checks.

Derived from spaCy's English ``lexeme_prob`` table (spacy-lookups-data) by
``scripts/derive_word_frequencies.py``; importing this module does not import spaCy.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import gzip
import os


@functools.lru_cache(maxsize=None)
def stop_words() -> frozenset[str]:
    """spaCy's English stop words, read from its source file: importing spaCy costs
    over half a second, and a warm build must not pay that."""
    spec = importlib.util.find_spec("spacy")
    if spec is None or spec.origin is None:  # pragma: no cover - spaCy is a dependency
        return frozenset()
    path = os.path.join(os.path.dirname(spec.origin), "lang", "en", "stop_words.py")
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) > 500:
            return frozenset(node.value.split())
    return frozenset()


@functools.lru_cache(maxsize=None)
def word_log_probs() -> dict[str, float]:
    """English word frequencies (log-probabilities), derived from spacy-lookups-data."""
    path = os.path.join(os.path.dirname(__file__), "data", "word-frequencies.tsv.gz")
    out: dict[str, float] = {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            word, _, prob = line.rstrip("\n").partition("\t")
            out[word] = float(prob)
    return out


COMMON_FLOOR = -14.0  # log-probability above which a word is an ordinary English word


def is_common_word(word: str) -> bool:
    """True for ordinary English words ("today", "meanwhile", "treasury")."""
    lower = word.lower()
    return lower in stop_words() or word_log_probs().get(lower, -99.0) > COMMON_FLOOR


def is_common_sense(term: str) -> bool:
    """A one-word term whose lower-case form is at least about as common as the term
    ("Treasury", "Turkey", "State"): at the start of a sentence, its capital proves nothing."""
    probs = word_log_probs()
    lower = probs.get(term.lower(), -99.0)
    as_written = probs.get(term, -99.0)
    return term.lower() != term and lower > COMMON_FLOOR and lower > as_written - 1.0


