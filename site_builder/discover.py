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

# Editor leftovers: Emacs lock and autosave files, backups, Vim swap files, hidden files.
_TEMP_RE = re.compile(r"^(\.#.*|#.*#|.*~|\..*\.sw[a-p]|\.~lock\..*#|.*\.tmp)$")


def is_temp_file(name: str) -> bool:
    return bool(_TEMP_RE.match(name)) or name.startswith(".")


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


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _digest(abspath: str, known: dict[tuple, str] | None = None) -> str:
    """sha256 of the file; ``known`` remembers digests by (path, size, mtime, inode) so that
    a resident builder does not read unchanged files again."""
    if known is not None:
        st = os.stat(abspath)
        stamp = (abspath, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
        hit = known.get(stamp)
        if hit is None:
            hit = known[stamp] = _digest(abspath)
        return hit
    h = hashlib.sha256()
    with open(abspath, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def discover(site: str, known: dict[tuple, str] | None = None) -> Discovered:
    site = os.path.abspath(site)
    real_site = os.path.realpath(site)
    content = os.path.join(site, CONTENT)
    sources: list[SourceFile] = []
    statics: list[StaticFile] = []
    diags: list[Diagnostic] = []
    if not os.path.isdir(content):
        return Discovered((), (), ())
    for dirpath, dirnames, filenames in os.walk(content, followlinks=True):
        rel_dir = os.path.relpath(dirpath, site).replace(os.sep, "/")
        keep = []
        for d in sorted(dirnames):
            full = os.path.join(dirpath, d)
            if d.startswith("."):
                continue
            if os.path.islink(full) and not _inside(os.path.realpath(full), real_site):
                diags.append(warning(f"{rel_dir}/{d}", 0, 0, "file.symlink",
                                     "skipped a symlinked folder that leads outside the site",
                                     "copy the files into the site instead of linking them"))
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            if is_temp_file(name):
                continue
            full = os.path.join(dirpath, name)
            rel = f"{rel_dir}/{name}"
            if os.path.islink(full) and not _inside(os.path.realpath(full), real_site):
                diags.append(warning(rel, 0, 0, "file.symlink", "skipped a symlink that leads outside the site",
                                     "copy the file into the site instead of linking it"))
                continue
            if not os.path.isfile(full):
                continue
            digest = _digest(full, known)
            if name.endswith(".md"):
                if rel.startswith(ARTICLES + "/"):
                    sources.append(SourceFile(rel, full, ARTICLE, digest))
                elif rel.startswith(GLOSSARY + "/") and rel_dir == GLOSSARY:
                    sources.append(SourceFile(rel, full, ENTRY, digest))
                else:
                    diags.append(warning(rel, 0, 0, "file.ignored",
                                         "this Markdown file is neither an article nor a glossary entry",
                                         "move it under content/articles/ or directly into content/glossary/"))
                continue
            statics.append(StaticFile(rel, full, rel[len(CONTENT) + 1:], digest))
    sources.sort(key=lambda s: s.path)
    statics.sort(key=lambda s: s.path)
    return Discovered(tuple(sources), tuple(statics), tuple(diags))
