"""On-disk cache of measurements, video probes and background libraries.

Everything lives under ``$BSSIM_CACHE`` (default ``~/.cache/bssim``), one file (or folder)
per key, where the key is the SHA-256 of a JSON of everything the value depends on (the
content's pixels or file hash, settings, JSCC checkpoint hash, cache format). Writes are
atomic (temporary file + rename), so an interrupted run never leaves a half-written entry,
and an unreadable entry is recomputed. Nothing in it is ever unpickled: JSON, PNG and
``.npy`` without pickles only.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bssim.atomic import check_output_folder, write_text
from bssim.pipeline.library import BackgroundLibrary

CACHE_FORMAT = 2


def cache_dir() -> Path:
    """``$BSSIM_CACHE`` or ``~/.cache/bssim``."""
    return Path(os.environ.get("BSSIM_CACHE", Path.home() / ".cache" / "bssim")).expanduser()


def cache_key(kind: str, key: dict[str, Any]) -> str:
    blob = json.dumps({"format": CACHE_FORMAT, "kind": kind, **key}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _entry(kind: str, key: dict[str, Any], suffix: str = ".json") -> Path:
    h = cache_key(kind, key)
    return cache_dir() / kind / h[:2] / f"{h}{suffix}"


def check_cache_dir() -> Path:
    """The cache folder, checked before work whose result it will store: a clear error when
    ``$BSSIM_CACHE`` is a file, under a file, or not writable (e.g. under /proc)."""
    where = "BSSIM_CACHE" if "BSSIM_CACHE" in os.environ else "the cache folder (set BSSIM_CACHE to move it)"
    return check_output_folder(cache_dir(), where)


def read_json(kind: str, key: dict[str, Any], valid: Callable[[Any], bool] | None = None) -> Any | None:
    """The cached value, or None when absent, unreadable or of the wrong shape (``valid``
    returns False): a miss, recomputed and rewritten by the caller. On a miss the cache folder
    is checked (:func:`check_cache_dir`) so that the work is not done for nothing."""
    try:
        value = json.loads(_entry(kind, key).read_text(encoding="utf-8"))
        if valid is None or valid(value):
            return value
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        pass
    check_cache_dir()
    return None


def rows_valid(value: Any, required: Iterable[str]) -> bool:
    """A non-empty list of dicts, each with every ``required`` key (a cached measurement)."""
    need = tuple(required)
    return isinstance(value, list) and len(value) > 0 and all(
        isinstance(r, dict) and all(k in r for k in need) for r in value)


def write_json(kind: str, key: dict[str, Any], value: Any) -> None:
    path = _entry(kind, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(value, default=_plain))


def _plain(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def cached_json(kind: str, key: dict[str, Any], compute: Callable[[], Any],
                valid: Callable[[Any], bool] | None = None) -> Any:
    """Read the value of ``key`` (if ``valid``) or compute and store it."""
    value = read_json(kind, key, valid)
    if value is None:
        value = compute()
        write_json(kind, key, value)
    return value


def cached_library(key: dict[str, Any], build: Callable[[], Any]):
    """A :class:`~bssim.pipeline.library.BackgroundLibrary` saved under its key, or built and saved."""

    folder = _entry("library", key, suffix="")
    if (folder / "index.json").is_file():
        try:
            return BackgroundLibrary.load(folder)
        except (OSError, ValueError, KeyError, TypeError, IndexError):  # a damaged entry: rebuilt
            pass
    check_cache_dir()
    lib = build()
    folder.parent.mkdir(parents=True, exist_ok=True)
    if folder.exists():
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    lib.save(folder)
    return lib
