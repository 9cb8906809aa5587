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

SCHEMA = 4
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


def clean(site: str) -> bool:
    """Remove the cache folder; True when there was one."""
    path = cache_dir(site)
    if os.path.isdir(path):
        shutil.rmtree(path)
        return True
    return False
