"""Checkpoint files of the deep JSCC: plain dicts of tensors and python types.

A checkpoint is ``torch.save`` of::

    {"format": "bssim-jscc/1", "config": JSCCConfig.to_dict(), "state_dict": {name: tensor},
     "meta": {...plain types...}, optional "train_state": {...}}

so that it loads with ``torch.load(path, weights_only=True)`` (no arbitrary unpickling).
Shipped checkpoints store weights as float16 (half the size) and are converted back to
float32 on load. ``train_state`` (optimizer state, RNG states, epoch) is only in training
checkpoints used by ``--resume``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch

from bssim.atomic import atomic_path
from bssim.jscc.model import AdaptiveJSCC, JSCCConfig

FORMAT = "bssim-jscc/1"


def file_hash(path: str | Path, n: int = 12) -> str:
    """First ``n`` hex digits of the SHA-256 of the file (the model version / cache key)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:n]


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def save_checkpoint(
    path: str | Path,
    model: AdaptiveJSCC,
    meta: dict[str, Any] | None = None,
    *,
    half: bool = False,
    train_state: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` (config + weights, float16 if ``half``) and ``meta`` atomically."""
    sd = {k: (v.detach().cpu().half() if half and v.is_floating_point() else v.detach().cpu().clone())
          for k, v in model.state_dict().items()}  # fmt: skip
    obj: dict[str, Any] = {
        "format": FORMAT,
        "config": model.cfg.to_dict(),
        "state_dict": sd,
        "meta": dict(meta or {}),
    }
    if train_state is not None:
        obj["train_state"] = train_state
    atomic_torch_save(obj, path)
    return Path(path)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load the raw checkpoint dict with ``weights_only=True``; clear errors for bad files."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"JSCC checkpoint not found: {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - re-raised with the file name
        raise ValueError(f"cannot read JSCC checkpoint {path}: {exc}") from exc
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise ValueError(f"{path} is not a bssim JSCC checkpoint (expected format {FORMAT!r})")
    return obj


def model_from_checkpoint(obj: dict[str, Any], device: str = "cpu") -> AdaptiveJSCC:
    """Build the model from a checkpoint dict (weights converted to float32)."""
    model = AdaptiveJSCC(JSCCConfig.from_dict(obj["config"]))
    sd = {k: (v.float() if v.is_floating_point() else v) for k, v in obj["state_dict"].items()}
    model.load_state_dict(sd)
    return model.to(device).eval()
