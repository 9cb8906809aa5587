"""The only writer to the output folder.

A build writes a complete new tree in a hidden staging folder next to the output
folder and swaps it in with two renames only when everything succeeded; a failed
or killed build leaves the previous output complete. Files whose bytes did not
change are hard-linked from the previous tree, so their modification times stay
as they were (deploys and live reload see only real changes).
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from dataclasses import dataclass
from typing import Mapping

from site_builder.errors import UsageError

_STAGING = ".{name}.staging-{pid}"
_OLD = ".{name}.old-{pid}"


@dataclass(frozen=True)
class Previous:
    """Stands for "the bytes the previous build wrote at this path" (their digest):
    the file is carried over without being rendered or read again."""

    digest: str


@dataclass(frozen=True)
class WriteStats:
    written: int  # files whose bytes changed or are new
    kept: int  # files carried over unchanged
    removed: int  # files of the previous tree that are gone
    manifest: dict[str, tuple[str, int, int]]  # path -> (sha256, size, mtime_ns) of the new tree


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_out_dir(site: str, out: str) -> None:
    """Refuse an output folder whose replacement would delete the site's sources."""
    site_r = os.path.realpath(site)
    out_r = os.path.realpath(out)
    protected = [site_r] + [os.path.join(site_r, d) for d in ("content", "templates")]
    for p in protected:
        if out_r == p or p.startswith(out_r.rstrip(os.sep) + os.sep):
            raise UsageError(f"refusing to use '{out}' as the output folder: it is or contains {p}")
        if out_r.startswith(p + os.sep) and p != site_r:
            raise UsageError(f"refusing to use '{out}' as the output folder: it is inside {p}")
    if out_r == os.path.realpath(os.path.expanduser("~")) or out_r == os.sep:
        raise UsageError(f"refusing to use '{out}' as the output folder")
    if os.path.lexists(out) and not os.path.isdir(out):  # the swap would replace (delete) the file
        raise UsageError(f"refusing to use '{out}' as the output folder: it is a file, not a folder")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


def clean_leftovers(out: str) -> None:
    """Remove staging and old trees left by killed builds (never a live build's)."""
    parent = os.path.dirname(os.path.abspath(out)) or "."
    name = os.path.basename(os.path.abspath(out))
    if not os.path.isdir(parent):
        return
    for entry in os.listdir(parent):
        for pattern in (_STAGING, _OLD):
            prefix = pattern.format(name=name, pid="")
            if entry.startswith(prefix):
                pid = entry[len(prefix):]
                if pid.isdigit() and (int(pid) == os.getpid() or not _pid_alive(int(pid))):
                    shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)


def _same(path: str, data: bytes) -> bool:
    try:
        if os.path.getsize(path) != len(data):
            return False
        with open(path, "rb") as fh:
            return fh.read() == data
    except OSError:
        return False


def write_tree(out: str, files: Mapping[str, bytes | Previous]) -> WriteStats:
    """Replace ``out`` with exactly ``files`` (relative path -> bytes), atomically."""
    out = os.path.abspath(out)
    parent = os.path.dirname(out)
    name = os.path.basename(out)
    os.makedirs(parent, exist_ok=True)
    clean_leftovers(out)
    staging = os.path.join(parent, _STAGING.format(name=name, pid=os.getpid()))
    old = os.path.join(parent, _OLD.format(name=name, pid=os.getpid()))
    os.makedirs(staging)
    written = kept = 0
    manifest: dict[str, tuple[str, int, int]] = {}
    made: set[str] = set()
    try:
        for rel in sorted(files):
            data = files[rel]
            parts = rel.split("/")
            if rel.startswith("/") or ".." in parts or "" in parts:
                raise ValueError(f"refusing to write outside the output folder: {rel!r}")
            target = os.path.join(staging, *parts)
            folder = os.path.dirname(target)
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            previous = os.path.join(out, *parts)
            if isinstance(data, Previous):
                digest = data.digest
                try:
                    os.link(previous, target)
                except OSError:
                    shutil.copy2(previous, target)
                kept += 1
            else:
                digest = file_digest(data)
                if _same(previous, data):
                    try:
                        os.link(previous, target)
                        kept += 1
                        st = os.stat(target)
                        manifest[rel] = (digest, st.st_size, st.st_mtime_ns)
                        continue
                    except OSError:
                        pass
                with open(target, "wb") as fh:
                    fh.write(data)
                written += 1
            st = os.stat(target)
            manifest[rel] = (digest, st.st_size, st.st_mtime_ns)
        removed = 0
        if os.path.isdir(out):
            for dirpath, _, filenames in os.walk(out):
                for f in filenames:
                    rel = os.path.relpath(os.path.join(dirpath, f), out).replace(os.sep, "/")
                    if rel not in files:
                        removed += 1
            os.rename(out, old)
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if os.path.isdir(old) and not os.path.exists(out):
            os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return WriteStats(written, kept, removed, manifest)
