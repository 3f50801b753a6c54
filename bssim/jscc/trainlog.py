"""The per-epoch CSV log of a training run (``<checkpoint>.csv``), rewritten atomically."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from bssim.atomic import atomic_path


def append_csv(path: Path, row: dict[str, Any]) -> None:
    """Add ``row`` (dropping rows of this or later epochs, as a resumed run repeats them)."""
    rows: list[dict[str, Any]] = []
    if path.is_file():
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    rows = [r for r in rows if int(r["epoch"]) < int(row["epoch"])] + [row]
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in keys})
