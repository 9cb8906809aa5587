"""Find the site's source files: articles, glossary entries and static files."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass

from site_builder.errors import Diagnostic, warning
from site_builder.model import ARTICLE, ENTRY, SourceFile

CONTENT = "content"
ARTICLES = "content/articles"
GLOSSARY = "content/glossary"

# Editor leftovers: Emacs lock and autosave files, backups, Vim swap files, hidden files
# (macOS's .DS_Store among them), and Windows Explorer's thumbnail cache.
_TEMP_RE = re.compile(r"^(\.#.*|#.*#|.*~|\..*\.sw[a-p]|\.~lock\..*#|.*\.tmp|thumbs\.db)$", re.IGNORECASE)


def _vim_write_test(name: str) -> bool:
    """Vim checks that it may write a folder by creating and removing a file named 4913,
    or 4913 + 123·k when that name is taken."""
    return name.isascii() and name.isdigit() and int(name) >= 4913 and (int(name) - 4913) % 123 == 0


def is_temp_file(name: str) -> bool:
    return bool(_TEMP_RE.match(name)) or name.startswith(".") or _vim_write_test(name)


@dataclass(frozen=True)
class StaticFile:
    path: str  # site-relative source path
    abspath: str
    out_path: str  # relative to the output folder
    digest: str


@dataclass(frozen=True)
class Discovered:
    sources: tuple[SourceFile, ...]
    statics: tuple[StaticFile, ...]
    diagnostics: tuple[Diagnostic, ...]
    stamps: dict[tuple, str]  # file stamp -> digest, for the next run (see discover)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _digest(abspath: str) -> str:
    h = hashlib.sha256()
    with open(abspath, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _walk(folder: str, rel: str, real_site: str, diags: list[Diagnostic], seen: set[str] | None = None):
    """(relative path, absolute path, stat) of every file below ``folder``, sorted,
    skipping hidden and temporary files and symlinks that lead outside the site.
    One ``os.scandir`` per folder and one stat per file."""
    seen = set() if seen is None else seen
    real = os.path.realpath(folder)
    if real in seen:  # a symlink loop inside the site
        return
    seen.add(real)
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        name = entry.name
        path = f"{rel}/{name}"
        if name.startswith(".") or is_temp_file(name):
            continue
        if entry.is_symlink() and not _inside(os.path.realpath(entry.path), real_site):
            what = "folder" if entry.is_dir() else "file"
            diags.append(warning(path, 0, 0, "file.symlink",
                                 f"skipped a symlinked {what} that leads outside the site",
                                 f"copy the {what} into the site instead of linking it"))
            continue
        if entry.is_dir():
            yield from _walk(entry.path, path, real_site, diags, seen)
        elif entry.is_file():
            try:
                yield path, entry.path, entry.stat()
            except OSError:
                continue


def discover(site: str, stamps: dict[tuple, str] | None = None) -> Discovered:
    """Every source and static file under content/, with the sha256 of its bytes. ``stamps``
    (from the last run's ``Discovered.stamps``) gives the digests of files whose stamp
    (path, size, mtime, inode, ctime) has not changed, so only changed files are read."""
    site = os.path.abspath(site)
    real_site = os.path.realpath(site)
    content = os.path.join(site, CONTENT)
    known = stamps or {}
    now: dict[tuple, str] = {}
    sources: list[SourceFile] = []
    statics: list[StaticFile] = []
    diags: list[Diagnostic] = []
    if not os.path.isdir(content):
        return Discovered((), (), (), {})
    for rel, full, st in _walk(content, CONTENT, real_site, diags):
        stamp = (full, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
        digest = known.get(stamp) or _digest(full)
        now[stamp] = digest
        if rel.endswith(".md"):
            folder = rel.rsplit("/", 1)[0]
            if rel.startswith(ARTICLES + "/"):
                sources.append(SourceFile(rel, full, ARTICLE, digest))
            elif folder == GLOSSARY:
                sources.append(SourceFile(rel, full, ENTRY, digest))
            else:
                diags.append(warning(rel, 0, 0, "file.ignored",
                                     "this Markdown file is neither an article nor a glossary entry",
                                     "move it under content/articles/ or directly into content/glossary/"))
            continue
        statics.append(StaticFile(rel, full, rel[len(CONTENT) + 1:], digest))
    sources.sort(key=lambda s: s.path)
    statics.sort(key=lambda s: s.path)
    return Discovered(tuple(sources), tuple(statics), tuple(diags), now)
