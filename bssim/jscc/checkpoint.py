"""Checkpoint files of the deep JSCC: plain dicts of tensors and python types.

A checkpoint is ``torch.save`` of::

    {"format": "bssim-jscc/2", "config": JSCCConfig.to_dict(), "state_dict": {name: tensor},
     "meta": {...plain types...}, optional "train_state": {...}}

so that it loads with ``torch.load(path, weights_only=True)`` (no arbitrary unpickling).
Shipped checkpoints store weights as float16 (half the size) and are converted back to
float32 on load. ``train_state`` (optimizer state, RNG states, epoch) is only in training
checkpoints used by ``--resume``.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch

from bssim.atomic import atomic_path
from bssim.jscc.anchored import AnchoredJSCC
from bssim.jscc.model import AdaptiveJSCC, JSCCConfig

JSCCModel = AdaptiveJSCC | AnchoredJSCC

FORMAT = "bssim-jscc/2"
OLD_FORMATS = {
    "bssim-jscc/1": "the previous architecture (independent per-channel on/off policy, no nested rate levels)",
}


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def save_checkpoint(
    path: str | Path,
    model: JSCCModel,
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


def _torch_load(path: Path) -> Any:
    """torch.load with ``weights_only=True``; our own message (never PyTorch's advice to unpickle)."""
    if path.stat().st_size == 0:
        raise ValueError(f"cannot read JSCC checkpoint {path}: the file is empty")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise ValueError(
            f"cannot read JSCC checkpoint {path}: it holds Python objects other than tensors and plain "
            "types, which bssim does not load (only weights-only checkpoints are accepted)"
        ) from None
    except Exception as exc:  # noqa: BLE001 - any torch/zip error: the file is not a checkpoint
        raise ValueError(f"cannot read JSCC checkpoint {path}: not a readable torch file ({type(exc).__name__})") from None


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load the raw checkpoint dict with ``weights_only=True``; clear errors for bad files.

    Checkpoints of an older format (e.g. ``bssim-jscc/1``) are rejected with the reason.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"JSCC checkpoint not found: {path}")
    obj = _torch_load(path)
    fmt = obj.get("format") if isinstance(obj, dict) else None
    if fmt in OLD_FORMATS:
        raise ValueError(
            f"{path} is a JSCC checkpoint of {OLD_FORMATS[fmt]} (format {fmt!r}); this bssim reads "
            f"format {FORMAT!r}: retrain with `bssim jscc train` or use the shipped checkpoint"
        )
    if fmt != FORMAT:
        raise ValueError(f"{path} is not a bssim JSCC checkpoint (expected format {FORMAT!r})")
    _check_finite(obj.get("state_dict"), path)
    return obj


def _check_finite(state_dict: Any, path: Path) -> None:
    """Every floating-point weight finite (a diverged training run saves NaN / inf weights)."""
    if not isinstance(state_dict, dict):
        raise ValueError(f"{path} is not a bssim JSCC checkpoint (no state_dict of weights)")
    for name, t in state_dict.items():
        if torch.is_tensor(t) and t.is_floating_point() and not bool(torch.isfinite(t).all()):
            n_bad = int((~torch.isfinite(t)).sum())
            raise ValueError(f"JSCC checkpoint {path}: weight {name!r} has {n_bad} non-finite values (NaN or inf); "
                             "the training diverged, this model cannot be used")


def build_model(cfg: JSCCConfig) -> JSCCModel:
    """A fresh model of ``cfg.arch``: :class:`AdaptiveJSCC` (``yang_kim``) or :class:`AnchoredJSCC` (``anchored``)."""
    return AnchoredJSCC(cfg) if cfg.arch == "anchored" else AdaptiveJSCC(cfg)


def model_from_checkpoint(obj: dict[str, Any], device: str = "cpu") -> JSCCModel:
    """Build the model from a checkpoint dict (weights converted to float32), in eval mode."""
    model = build_model(JSCCConfig.from_dict(obj["config"]))
    sd = {k: (v.float() if v.is_floating_point() else v) for k, v in obj["state_dict"].items()}
    try:
        model.load_state_dict(sd)
    except RuntimeError as exc:
        first = str(exc).splitlines()[1:2] or [str(exc)[:200]]
        raise ValueError(f"JSCC checkpoint weights do not match its config: {first[0].strip()}") from None
    return model.to(device).eval()
