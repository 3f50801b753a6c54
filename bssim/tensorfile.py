"""Small files of plain tensors (bases, codebooks): written atomically, read with
``torch.load(weights_only=True)`` (never unpickling anything but tensors and plain types)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch

from bssim.atomic import atomic_path


def save_tensor_file(obj: dict[str, Any], path: str | Path) -> None:
    """``torch.save(obj)`` to ``path`` atomically; ``obj`` holds tensors, numbers and strings."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load_tensor_file(path: str | Path, what: str, fmt: str) -> dict[str, Any]:
    """The dict saved at ``path``, whose ``format`` must be ``fmt``; errors name ``what`` and the file."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what} not found: {p}")
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise ValueError(f"cannot read {what} {p}: it holds Python objects other than tensors and plain types") from None
    except Exception as exc:  # noqa: BLE001 - any torch/zip error: not such a file
        raise ValueError(f"cannot read {what} {p}: not a readable torch file ({type(exc).__name__})") from None
    if not isinstance(obj, dict) or obj.get("format") != fmt:
        raise ValueError(f"{p} is not a bssim {what} (expected format {fmt!r})")
    return obj
