"""The on-disk cache: stage results kept between runs in ``<site>/.cache/site-builder/``,
one authenticated file per name (``memo.py`` decides what goes in them).

A site's folder is not trusted: a checkout (a pull request from a stranger) may ship a
``.cache/`` of its own. So every file is authenticated, and nothing in it can run code:

* each file carries an HMAC-SHA256 of its name, the schema, the package version and its
  bytes, made with a key kept outside the site (``$SITE_BUILDER_CACHE_KEY``, or a random
  key created once in the user's cache folder, see ``cache_key``). A file from another
  machine, another version, another name (a misplaced shard), a forged or a corrupted
  one fails the check and reads as empty: the build recomputes, never crashes;
* and even an authentic file is unpickled with an allowlist: only the package's own data
  classes (frozen dataclasses), dates and the built-in containers can be made from it.

Files are replaced atomically (a killed build leaves the old ones), and a failed save
(disk full, read-only site) leaves no temporary file behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import hmac
import io
import os
import pickle
import shutil
import tempfile
from typing import Any

from site_builder import __version__

SCHEMA = 9
CACHE_DIR = os.path.join(".cache", "site-builder")
KEY_ENV = "SITE_BUILDER_CACHE_KEY"
_MAGIC = b"site-builder-cache\n"
_MAC_SIZE = hashlib.sha256().digest_size


def cache_dir(site: str) -> str:
    return os.path.join(os.path.abspath(site), CACHE_DIR)


def key_file() -> str:
    """Where the machine's cache key lives: the user's cache folder, never a site's."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "site-builder-key", "key")


def cache_key() -> bytes:
    """The key that authenticates cache files: ``$SITE_BUILDER_CACHE_KEY`` when set (for CI,
    where the home folder does not survive between runs), else 32 random bytes made once in
    ``key_file()`` (readable by the user only). Without either (a read-only home folder) a
    random key for this process: the cache then only lasts as long as the process."""
    env = os.environ.get(KEY_ENV)
    if env:
        return hashlib.sha256(b"site-builder-cache-key\0" + env.encode("utf-8", "surrogateescape")).digest()
    path = key_file()
    try:
        with open(path, "rb") as fh:
            key = fh.read()
        if len(key) >= 32:
            return key
    except OSError:
        pass
    key = os.urandom(32)
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        try:
            os.link(tmp, path)  # never replaces a key another process made meanwhile
        finally:
            os.unlink(tmp)
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return _PROCESS_KEY


_PROCESS_KEY = os.urandom(32)
_SAFE_GLOBALS = {("datetime", "date"), ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "tuple"),
                 ("builtins", "list"), ("builtins", "dict"), ("builtins", "str"), ("builtins", "int"),
                 ("builtins", "float"), ("builtins", "bool"), ("builtins", "bytes")}


class _DataOnly(pickle.Unpickler):
    """Makes only data: the package's own dataclasses, dates and built-in containers."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _SAFE_GLOBALS:
            return getattr(__import__(module), name) if module == "builtins" else datetime.date
        if module.startswith("site_builder.") and "." not in name:
            import importlib

            cls = getattr(importlib.import_module(module), name, None)
            if isinstance(cls, type) and dataclasses.is_dataclass(cls) and not hasattr(cls, "__post_init__"):
                return cls
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the cache")


class _Signed:
    """A file that signs what is written to it."""

    def __init__(self, fh: Any, mac: Any):
        self.fh, self.mac = fh, mac

    def write(self, data: bytes) -> int:
        self.mac.update(data)
        return self.fh.write(data)


class DiskCache:
    def __init__(self, site: str, enabled: bool = True):
        self.dir = cache_dir(site)
        self.enabled = enabled
        self._key: bytes | None = None

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = cache_key()
        return self._key

    def _signer(self, name: str) -> Any:
        """An HMAC for the file ``name``, to ``update`` with its payload."""
        head = f"{name}\0{SCHEMA}\0{__version__}\0".encode("utf-8", "surrogateescape")
        return hmac.new(self.key, head, hashlib.sha256)

    def _mac(self, name: str, payload: bytes | memoryview) -> bytes:
        signer = self._signer(name)
        signer.update(payload)
        return signer.digest()

    def load(self, name: str) -> dict[Any, Any]:
        if not self.enabled:
            return {}
        path = os.path.join(self.dir, f"{name}.pickle")
        try:
            with open(path, "rb") as fh:
                blob = fh.read()
        except OSError:
            return {}
        head = len(_MAGIC) + _MAC_SIZE
        if not blob.startswith(_MAGIC) or len(blob) < head:
            return {}
        mac, payload = blob[len(_MAGIC):head], memoryview(blob)[head:]  # (no copy of a large table)
        if not hmac.compare_digest(mac, self._mac(name, payload)):
            return {}  # another machine's, another version's, misplaced, forged or corrupted
        try:
            stream = io.BytesIO(blob)
            stream.seek(head)
            data = _DataOnly(stream).load()
        except Exception:  # noqa: BLE001 - an authentic file that still does not load is no cache
            return {}
        return data if isinstance(data, dict) else {}

    def exists(self, name: str) -> bool:
        return self.enabled and os.path.exists(os.path.join(self.dir, f"{name}.pickle"))

    def save(self, name: str, data: dict[Any, Any]) -> None:
        if not self.enabled:
            return
        tmp = None
        try:
            os.makedirs(self.dir, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=self.dir)
            with os.fdopen(fd, "wb") as fh:  # pickled straight into the file, signed as it goes, then
                fh.write(_MAGIC + bytes(_MAC_SIZE))  # the signature put in front: no copy of a large
                signed = _Signed(fh, self._signer(name))  # table is held in memory
                pickle.Pickler(signed, protocol=pickle.HIGHEST_PROTOCOL).dump(data)
                fh.seek(len(_MAGIC))
                fh.write(signed.mac.digest())
            os.replace(tmp, os.path.join(self.dir, f"{name}.pickle"))
            tmp = None
        except OSError:
            pass  # a read-only or full disk still builds; it just will not be faster next time
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


def clean(site: str) -> str:
    """Remove the cache folder; says what it did. A symbolic link in its place is removed
    itself (what it points at is not ours to delete), as is a stray file."""
    path = cache_dir(site)
    if os.path.islink(path):
        os.unlink(path)
        return "removed the symbolic link (not what it points to)"
    if os.path.isdir(path):
        shutil.rmtree(path)
        return "removed"
    if os.path.lexists(path):
        os.unlink(path)
        return "removed the file"
    return "no cache at"
