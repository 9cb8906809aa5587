"""Positions and diagnostics: the one way any stage reports an editor's mistake.

A diagnostic prints as::

    content/articles/deal.md:3:8: error[frontmatter.date]: impossible date '2024-02-30'
      hint: write a real calendar date as YYYY-MM-DD

Stages return diagnostics as data next to their results; nothing here raises.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable

@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str  # site-relative, with forward slashes
    line: int  # 1-based; 0 when the whole file is meant
    col: int  # 1-based; 0 when the whole line is meant
    severity: str
    code: str  # "area.kind"
    message: str
    hint: str = ""

    def format(self) -> str:
        # A whole-file problem points at the file's start, so every line parses the same way.
        where = f"{self.path}:{self.line or 1}:{self.col or 1}"
        text = f"{where}: {self.severity}[{self.code}]: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def error(path: str, line: int, col: int, code: str, message: str, hint: str = "") -> Diagnostic:
    return Diagnostic(path, line, col, "error", code, message, hint)


def warning(path: str, line: int, col: int, code: str, message: str, hint: str = "") -> Diagnostic:
    return Diagnostic(path, line, col, "warning", code, message, hint)


def info(path: str, line: int, col: int, code: str, message: str, hint: str = "") -> Diagnostic:
    return Diagnostic(path, line, col, "info", code, message, hint)


def strict(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Under ``--strict`` every warning becomes an error."""
    return [
        Diagnostic(d.path, d.line, d.col, "error", d.code, d.message, d.hint) if d.severity == "warning" else d
        for d in diagnostics
    ]


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted by file and position, duplicates removed: the order an editor fixes them in."""
    return sorted(set(diagnostics), key=lambda d: (d.path, d.line, d.col, d.code, d.message))


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def summary(diagnostics: Iterable[Diagnostic]) -> str:
    diagnostics = list(diagnostics)
    n_err = sum(d.severity == "error" for d in diagnostics)
    n_warn = sum(d.severity == "warning" for d in diagnostics)

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    return f"{plural(n_err, 'error')}, {plural(n_warn, 'warning')}"


def nearest(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The closest known names, for "did you mean" hints."""
    candidates = sorted(set(candidates))
    found = difflib.get_close_matches(word, candidates, n=n, cutoff=0.5)
    if len(found) < n:
        lowered = word.lower()
        found += [c for c in difflib.get_close_matches(lowered, candidates, n=n, cutoff=0.5) if c not in found]
    return found[:n]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    found = nearest(word, candidates)
    if not found:
        return ""
    return "did you mean " + " or ".join(f"'{f}'" for f in found) + "?"


class UsageError(Exception):
    """A bad command line: exit code 2, nothing written."""
