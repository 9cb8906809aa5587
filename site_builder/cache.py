"""The on-disk cache: stage results kept between runs in ``<site>/.cache/site-builder/``.

Each stage's results live in one pickle, a mapping from a key (a hash of exactly what
the stage read, including the package version and a schema version) to the result.
A missing, corrupt, truncated or foreign file reads as empty: the build recomputes,
never crashes. Files are replaced atomically, so a killed build leaves the old ones.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from typing import Any

from site_builder import __version__

SCHEMA = 6
CACHE_DIR = os.path.join(".cache", "site-builder")
_MAGIC = ("site-builder-cache", SCHEMA, __version__)


def cache_dir(site: str) -> str:
    return os.path.join(os.path.abspath(site), CACHE_DIR)


class DiskCache:
    def __init__(self, site: str, enabled: bool = True):
        self.dir = cache_dir(site)
        self.enabled = enabled

    def load(self, name: str) -> dict[Any, Any]:
        if not self.enabled:
            return {}
        path = os.path.join(self.dir, f"{name}.pickle")
        try:
            with open(path, "rb") as fh:
                magic = pickle.load(fh)
                if magic != _MAGIC:
                    return {}
                data = pickle.load(fh)
        except Exception:  # noqa: BLE001 - any unreadable cache is simply no cache
            return {}
        return data if isinstance(data, dict) else {}

    def exists(self, name: str) -> bool:
        return self.enabled and os.path.exists(os.path.join(self.dir, f"{name}.pickle"))

    def save(self, name: str, data: dict[Any, Any]) -> None:
        if not self.enabled:
            return
        try:
            os.makedirs(self.dir, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=self.dir)
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(_MAGIC, fh, protocol=pickle.HIGHEST_PROTOCOL)
                pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, os.path.join(self.dir, f"{name}.pickle"))
        except OSError:
            pass  # a read-only site still builds; it just will not be faster next time


    # Large memos are kept in 16 shards by the first hex digit of their keys (which are
    # sha256 digests), so that an edit rewrites one shard, not the whole memo.

    SHARDS = "0123456789abcdef"

    @staticmethod
    def shard_of(key: Any) -> str:
        text = key if isinstance(key, str) else repr(key)
        return text[:1] if text[:1] in DiskCache.SHARDS else "0"

    def load_sharded(self, name: str) -> dict[Any, Any]:
        data: dict[Any, Any] = {}
        for shard in self.SHARDS:
            part = self.load(f"{name}.{shard}")
            data.update((k, v) for k, v in part.items() if self.shard_of(k) == shard)
        return data

    def save_sharded(self, name: str, data: dict[Any, Any], saved: dict[str, set]) -> dict[str, set]:
        """Write the shards whose keys changed since ``saved``; return the keys now saved."""
        parts: dict[str, dict[Any, Any]] = {shard: {} for shard in self.SHARDS}
        for k, v in data.items():
            parts[self.shard_of(k)][k] = v
        now = {}
        for shard, part in parts.items():
            now[shard] = set(part)
            if now[shard] != saved.get(shard):
                self.save(f"{name}.{shard}", part)
        return now


def clean(site: str) -> bool:
    """Remove the cache folder; True when there was one."""
    path = cache_dir(site)
    if os.path.isdir(path):
        shutil.rmtree(path)
        return True
    return False
