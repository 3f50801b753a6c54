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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bssim.atomic import write_text

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


def read_json(kind: str, key: dict[str, Any]) -> Any | None:
    """The cached value, or None when absent or unreadable."""
    try:
        return json.loads(_entry(kind, key).read_text())
    except (OSError, json.JSONDecodeError):
        return None


def write_json(kind: str, key: dict[str, Any], value: Any) -> None:
    path = _entry(kind, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(value, default=_plain))


def _plain(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def cached_json(kind: str, key: dict[str, Any], compute: Callable[[], Any]) -> Any:
    """Read the value of ``key`` or compute and store it."""
    value = read_json(kind, key)
    if value is None:
        value = compute()
        write_json(kind, key, value)
    return value


def cached_library(key: dict[str, Any], build: Callable[[], Any]):
    """A :class:`~bssim.pipeline.library.BackgroundLibrary` saved under its key, or built and saved."""
    from bssim.pipeline.library import BackgroundLibrary

    folder = _entry("library", key, suffix="")
    if (folder / "index.json").is_file():
        try:
            return BackgroundLibrary.load(folder)
        except (OSError, ValueError):
            pass
    lib = build()
    folder.parent.mkdir(parents=True, exist_ok=True)
    if folder.exists():
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    lib.save(folder)
    return lib
