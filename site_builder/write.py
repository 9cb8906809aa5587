"""The only writer to the output folder.

Nothing is written unless the whole build succeeded. Then, when many files change (a
first build, a template edit), a complete new tree is written in a hidden staging
folder next to the output folder and swapped in with two renames, so a killed build
leaves the previous output complete; files whose bytes did not change are hard-linked
from the previous tree, so their modification times stay as they were (deploys and
live reload see only real changes). When few files change (an article edit), copying
thousands of links would cost more than the edit itself: the changed files are then
replaced one by one, each atomically (written beside its target, then renamed over it),
and files that are gone are removed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
from dataclasses import dataclass
from typing import Mapping

from site_builder.errors import UsageError

_STAGING = ".{name}.staging-{pid}"
_OLD = ".{name}.old-{pid}"
_SPOOL = ".{name}.spool-{pid}"
_SEARCH = ".{name}.search-{pid}"


@dataclass(frozen=True)
class Previous:
    """Stands for "the bytes the previous build wrote at this path" (their digest):
    the file is carried over without being rendered or read again."""

    digest: str


@dataclass(frozen=True)
class Spooled:
    """A rendered file waiting in the spool folder (see ``spool``), with its digest."""

    path: str
    digest: str


def spool_dir(out: str) -> str:
    """Where a build's process-pool workers leave the pages they render, beside ``out``
    (same file system, so moving them into the output is a rename)."""
    out = os.path.abspath(out)
    return os.path.join(os.path.dirname(out), _SPOOL.format(name=os.path.basename(out), pid=os.getpid()))


def search_dir(out: str) -> str:
    """Where a build's search indexer (search.py) works, beside ``out``; gone when it is done."""
    out = os.path.abspath(out)
    return os.path.join(os.path.dirname(out), _SEARCH.format(name=os.path.basename(out), pid=os.getpid()))


def spool(folder: str, out: str, rel: str, n: int, data: bytes) -> Spooled | Previous:
    """A rendered file, set aside for write_tree: Previous when ``out`` already holds exactly
    these bytes at ``rel`` (nothing to write), else written to the spool folder."""
    if _same(os.path.join(out, *_check_rel(rel)), data):
        return Previous(file_digest(data))
    path = os.path.join(folder, f"{n}")
    with open(path, "wb") as fh:
        fh.write(data)
    return Spooled(path, file_digest(data))


@dataclass(frozen=True)
class WriteStats:
    written: int  # files whose bytes changed or are new
    kept: int  # files carried over unchanged
    removed: int  # files of the previous tree that are gone
    manifest: dict[str, tuple[str, int, int]]  # path -> (sha256, size, mtime_ns) of the new tree


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Every build leaves this file in its output folder: it is how a later build knows the
# folder is its own to replace (see check_out_dir). Its bytes never change.
MARKER = ".site-builder-output"
MARKER_BYTES = (b'{"generator": "site-builder", "about": "this folder is the output of site-builder build; '
                b'the next build replaces everything in it"}\n')
_REPOSITORY_DIRS = (".git", ".hg", ".svn")


def _is_or_inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_out_dir(site: str, out: str, force: bool = False) -> None:
    """Refuse (UsageError, exit 2) an output folder whose replacement could delete what no
    build made. Never allowed: ``/``, the home folder or a folder holding it, the site or a
    folder holding it, ``content/`` or ``templates/`` or anything inside them, a repository
    (or its metadata folder), a file. An existing folder is replaced only when it is empty,
    holds an earlier build's MARKER, or is the site's own ``public/``; ``force`` allows any
    other folder (but none of the first list)."""
    site_r = os.path.realpath(site)
    out_r = os.path.realpath(out)
    home = os.path.realpath(os.path.expanduser("~"))

    def refuse(why: str, hint: str = "choose another --out") -> None:
        raise UsageError(f"refusing to use '{out}' as the output folder: {why}; {hint}")

    if out_r == os.sep:
        refuse("it is the root of the file system")
    if _is_or_inside(home, out_r):
        refuse("it is or contains your home folder")
    if _is_or_inside(site_r, out_r):
        refuse(f"it is or contains the site {site_r}")
    for sub in ("content", "templates"):
        if _is_or_inside(out_r, os.path.join(site_r, sub)):
            refuse(f"it is inside the site's {sub}/ folder")
    parts = out_r.split(os.sep)
    if any(d in parts for d in _REPOSITORY_DIRS) or any(os.path.lexists(os.path.join(out_r, d)) for d in _REPOSITORY_DIRS):
        refuse("it is a version-control repository or part of one")
    if os.path.lexists(out) and not os.path.isdir(out):  # the swap would replace (delete) the file
        refuse("it is a file, not a folder")
    if not os.path.isdir(out) or force or os.path.isfile(os.path.join(out, MARKER)) \
            or out_r == os.path.join(site_r, "public"):
        return
    with os.scandir(out) as entries:
        if next(entries, None) is None:
            return
    refuse("it is not empty and no earlier build made it (it has no .site-builder-output file)",
           "choose an empty or new folder, or pass --force if everything in it may be deleted")


class WriteFailed(Exception):
    """The output could not be written (disk full, no permission). Nothing was changed:
    the previous output is intact and no temporary file is left."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def describe_os_error(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower() if exc.errno else str(exc)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


def clean_leftovers(out: str) -> None:
    """Remove staging and old trees, spool and search folders left by killed builds (never a
    live build's; this process's own spool holds the pages about to be written)."""
    parent = os.path.dirname(os.path.abspath(out)) or "."
    name = os.path.basename(os.path.abspath(out))
    if not os.path.isdir(parent):
        return
    for entry in os.listdir(parent):
        for pattern in (_STAGING, _OLD, _SPOOL, _SEARCH):
            prefix = pattern.format(name=name, pid="")
            if entry.startswith(prefix):
                pid = entry[len(prefix):]
                if not pid.isdigit():
                    continue
                own = int(pid) == os.getpid()
                if (own and pattern not in (_SPOOL, _SEARCH)) or (not own and not _pid_alive(int(pid))):
                    shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)


def _same(path: str, data: bytes) -> bool:
    try:
        if os.path.getsize(path) != len(data):
            return False
        with open(path, "rb") as fh:
            return fh.read() == data
    except OSError:
        return False


def _stage(data: bytes | Spooled, target: str) -> str:
    """Put ``data`` in a temporary file beside ``target`` (a spooled file is already on this
    file system) and return that file's path; it is renamed over ``target`` later."""
    if isinstance(data, Spooled):
        return data.path
    tmp = os.path.join(os.path.dirname(target), _TMP.format(name=os.path.basename(target), pid=os.getpid()))
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


# At most this many changed or removed files (or one in IN_PLACE_SHARE of the tree, if
# more) are replaced in place; beyond that the whole tree is swapped.
IN_PLACE_MIN = 64
IN_PLACE_SHARE = 20
_TMP = ".{name}.sb-tmp-{pid}"


def _check_rel(rel: str) -> list[str]:
    parts = rel.split("/")
    if rel.startswith("/") or ".." in parts or "" in parts:
        raise ValueError(f"refusing to write outside the output folder: {rel!r}")
    return parts


def existing_files(out: str) -> set[str]:
    """Every file below ``out``, as relative paths with forward slashes."""
    found = set()
    root = os.path.abspath(out)
    skip = len(root.rstrip(os.sep)) + 1  # every dirpath os.walk gives starts with root (no relpath:
    for dirpath, _, filenames in os.walk(root):  # a sixth of the time of a build with nothing to do)
        rel_dir = dirpath[skip:].replace(os.sep, "/")
        prefix = rel_dir + "/" if rel_dir else ""
        found.update(prefix + f for f in filenames)
    return found


def _fits_in_place(out: str, changed: list[str]) -> bool:
    """No changed file's path is, or runs through, something of another kind, or a
    symbolic link (writing through one could land outside the output folder)."""
    for rel in changed:
        path = out
        for part in rel.split("/")[:-1]:
            path = os.path.join(path, part)
            if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
                return False
        if os.path.isdir(os.path.join(out, *rel.split("/"))):
            return False
    return True


def write_tree(out: str, files: Mapping[str, bytes | Previous | Spooled], existing: set[str] | None = None
               ) -> WriteStats:
    """Make ``out`` hold exactly ``files`` (relative path -> bytes), and nothing else.
    ``existing``: the files ``out`` holds, if the caller listed them already. An OSError
    (disk full, no permission) becomes WriteFailed, with the output as it was before."""
    out = os.path.abspath(out)
    for rel in files:
        _check_rel(rel)
    try:
        os.makedirs(os.path.dirname(out), exist_ok=True)
        clean_leftovers(out)
        return _write_tree(out, files, existing)
    except OSError as exc:
        where = exc.filename if isinstance(exc.filename, str) else out
        staging = os.path.join(os.path.dirname(out), _STAGING.format(name=os.path.basename(out), pid=os.getpid()))
        if _is_or_inside(where, staging):
            where = out + where[len(staging):]
        raise WriteFailed(where, f"could not write: {describe_os_error(exc)}") from None


def _write_tree(out: str, files: Mapping[str, bytes | Previous | Spooled], existing: set[str] | None) -> WriteStats:
    same: set[str] = set()
    removed: list[str] = []
    if os.path.isdir(out):
        changed = []
        for rel in sorted(files):
            data = files[rel]
            if isinstance(data, Spooled):  # its worker found it differs from the output's file
                changed.append(rel)
            elif not isinstance(data, Previous):
                if _same(os.path.join(out, *rel.split("/")), data):
                    same.add(rel)
                else:
                    changed.append(rel)
        removed = sorted((existing_files(out) if existing is None else existing) - files.keys())
        if len(changed) + len(removed) <= max(IN_PLACE_MIN, len(files) // IN_PLACE_SHARE) \
                and _fits_in_place(out, changed):
            return _update_in_place(out, files, changed, removed)
    return _swap_tree(out, files, same, len(removed))


def _update_in_place(out: str, files: Mapping[str, bytes | Previous | Spooled], changed: list[str],
                     removed: list[str]) -> WriteStats:
    """Two phases: every changed file is first written beside its target; only when all
    of them are written (the disk did not fill) are they renamed into place."""
    staged: list[tuple[str, str]] = []  # (temporary or spooled file, target)
    made: list[str] = []  # folders this update created, to remove again if it fails
    try:
        for rel in changed:
            target = os.path.join(out, *rel.split("/"))
            _make_folders(os.path.dirname(target), made)
            staged.append((_stage(files[rel], target), target))  # type: ignore[arg-type]
    except BaseException:
        for (tmp, _), rel in zip(staged, changed):
            if not isinstance(files[rel], Spooled):  # spooled pages go with the spool folder
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
    folders = set()
    for rel in removed:
        path = os.path.join(out, *rel.split("/"))
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        folders.add(os.path.dirname(path))
    for folder in sorted(folders, key=len, reverse=True):  # deepest first
        while folder != out and folder.startswith(out + os.sep):
            try:
                os.rmdir(folder)  # only when empty
            except OSError:
                break
            folder = os.path.dirname(folder)
    manifest: dict[str, tuple[str, int, int]] = {}
    for rel in sorted(files):
        data = files[rel]
        st = os.stat(os.path.join(out, *rel.split("/")))
        manifest[rel] = (_digest(data), st.st_size, st.st_mtime_ns)
    return WriteStats(len(changed), len(files) - len(changed), len(removed), manifest)


def _make_folders(folder: str, made: list[str]) -> None:
    """``os.makedirs``, remembering (outermost first) the folders it created."""
    missing = []
    while not os.path.isdir(folder):
        missing.append(folder)
        folder = os.path.dirname(folder)
    for f in reversed(missing):
        os.mkdir(f)
        made.append(f)


def _digest(data: bytes | Previous | Spooled) -> str:
    return data.digest if isinstance(data, (Previous, Spooled)) else file_digest(data)


def _swap_tree(out: str, files: Mapping[str, bytes | Previous | Spooled], same: set[str], removed: int
               ) -> WriteStats:
    """Replace ``out`` with a complete new tree, atomically. ``same``: files whose bytes the
    output already holds; ``removed``: how many of its files the new tree leaves out."""
    parent = os.path.dirname(out)
    name = os.path.basename(out)
    staging = os.path.join(parent, _STAGING.format(name=name, pid=os.getpid()))
    old = os.path.join(parent, _OLD.format(name=name, pid=os.getpid()))
    os.makedirs(staging)
    written = kept = 0
    manifest: dict[str, tuple[str, int, int]] = {}
    made: set[str] = set()
    try:
        for rel in sorted(files):
            data = files[rel]
            parts = _check_rel(rel)
            target = os.path.join(staging, *parts)
            folder = os.path.dirname(target)
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            previous = os.path.join(out, *parts)
            if isinstance(data, Previous) or rel in same:  # carried over: same inode, same mtime
                try:
                    os.link(previous, target)
                except OSError:
                    shutil.copy2(previous, target)
                kept += 1
            else:
                if isinstance(data, Spooled):
                    os.rename(data.path, target)
                else:
                    with open(target, "wb") as fh:
                        fh.write(data)
                written += 1
            st = os.stat(target)
            manifest[rel] = (_digest(data), st.st_size, st.st_mtime_ns)
        if os.path.isdir(out):
            os.rename(out, old)
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if os.path.isdir(old) and not os.path.exists(out):
            os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return WriteStats(written, kept, removed, manifest)
