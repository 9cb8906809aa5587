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
    if name[:1].isalnum() and name[-1:].isalnum() and not name[-1:].isdigit() \
            and not name.lower().endswith((".tmp", "thumbs.db")):
        return False  # the common case, without the regex: "deal.md", "photo.jpg"
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
    stamps: dict[tuple, SourceFile | StaticFile]  # file stamp -> what was found there, for the next run


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _digest(abspath: str) -> str:
    h = hashlib.sha256()
    with open(abspath, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _walk(folder: str, rel: str, real_site: str, diags: list[Diagnostic]) -> list[tuple[str, str, os.stat_result]]:
    """(relative path, absolute path, stat) of every file below ``folder``, skipping hidden
    and temporary files and symlinks that lead outside the site (a symlink loop inside it
    is walked once). One ``os.scandir`` per folder and one stat per file: this runs on every
    rebuild of the dev server, so it does no more per file than it must."""
    found: list[tuple[str, str, os.stat_result]] = []
    seen: set[str] = set()
    stack = [(folder, rel)]
    while stack:
        folder, rel = stack.pop()
        real = os.path.realpath(folder)
        if real in seen:
            continue
        seen.add(real)
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name[0] == "." or is_temp_file(name):
                continue
            if entry.is_symlink() and not _inside(os.path.realpath(entry.path), real_site):
                what = "folder" if entry.is_dir() else "file"
                diags.append(warning(f"{rel}/{name}", 0, 0, "file.symlink",
                                     f"skipped a symlinked {what} that leads outside the site",
                                     f"copy the {what} into the site instead of linking it"))
            elif entry.is_dir():
                stack.append((entry.path, f"{rel}/{name}"))
            elif entry.is_file():
                try:
                    found.append((f"{rel}/{name}", entry.path, entry.stat()))
                except OSError:
                    continue
    return found


def discover(site: str, stamps: dict[tuple, SourceFile | StaticFile] | None = None) -> Discovered:
    """Every source and static file under content/, with the sha256 of its bytes. ``stamps``
    (from the last run's ``Discovered.stamps``) gives back the file found under the same
    stamp (path, size, mtime, inode, ctime): an unchanged file is neither read again nor
    made again, so later stages can tell it is the same by identity."""
    site = os.path.abspath(site)
    real_site = os.path.realpath(site)
    content = os.path.join(site, CONTENT)
    known = stamps or {}
    now: dict[tuple, SourceFile | StaticFile] = {}
    sources: list[SourceFile] = []
    statics: list[StaticFile] = []
    diags: list[Diagnostic] = []
    if not os.path.isdir(content):
        return Discovered((), (), (), {})
    for rel, full, st in _walk(content, CONTENT, real_site, diags):
        stamp = (full, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
        found = known.get(stamp)
        if found is None:
            try:
                found = _found(rel, full, _digest(full))
            except OSError:  # gone or unreadable since it was listed: the next build sees it again
                continue
        now[stamp] = found
        if isinstance(found, StaticFile):
            statics.append(found)
        elif found.kind:
            sources.append(found)
        else:
            diags.append(warning(rel, 0, 0, "file.ignored",
                                 "this Markdown file is neither an article nor a glossary entry",
                                 "move it under content/articles/ or directly into content/glossary/"))
    sources.sort(key=lambda s: s.path)
    statics.sort(key=lambda s: s.path)
    return Discovered(tuple(sources), tuple(statics), tuple(diags), now)


def _found(rel: str, full: str, digest: str) -> SourceFile | StaticFile:
    """What a file under content/ is: an article, a glossary entry, a Markdown file that is
    neither (kind ""), or a static file copied as it is."""
    if not rel.endswith(".md"):
        return StaticFile(rel, full, rel[len(CONTENT) + 1:], digest)
    if rel.startswith(ARTICLES + "/"):
        return SourceFile(rel, full, ARTICLE, digest)
    if rel.rsplit("/", 1)[0] == GLOSSARY:
        return SourceFile(rel, full, ENTRY, digest)
    return SourceFile(rel, full, "", digest)
