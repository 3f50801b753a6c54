"""Spatial semantic importance for the seed-002 loss (``bssim jscc train --semantic``).

Seed 002 weights the distortion by "the gradient of the intelligent task's perception results
with respect to the features". The task is finding people; its perception result is the
person area the segmenter sees, S(x) = Σ_pixels p(x), p the U²-Net-p person probability
(:func:`bssim.semantic.segment.probability_torch`). With A_k the feature maps of U²-Net-p's
decoder stage at H/4 × W/4 (the JSCC latent's grid: one position per 4 × 4 pixels), the
importance is Grad-CAM's (Selvaraju et al. 2017)

    α_k = mean_{i,j} ∂S/∂A_k(i, j),      g(i, j) = ReLU(Σ_k α_k A_k(i, j)),

resized to the image (bilinear). Raw pixel gradients |∂S/∂x| were tried first and rejected:
on vtest frame 550 only 12 % of their mass falls on the hand-labelled people, who cover 6 %
of the frame (a saturated sigmoid has no gradient inside confident regions), against 85 %
for g (scripts in docs/semantic.md).

g is computed once per training image at a working size (longer side ``work_side_px``, the
same for every image so that maps are comparable). Maps are absolute, not normalised per
image: an image without people has small importance everywhere. :func:`importance_channel`
divides by the mean over the whole training set, so the loss weight
w = (1 − β) + β · g / mean(g) has mean 1 over the data.

Cost: one forward and a partial backward pass of U²-Net-p per image (about 5 s at 512 px
on one CPU thread); maps are cached on disk by image content.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from bssim.files import check_rgb
from bssim.semantic.u2netp import load_u2netp
from bssim.semantic.segment import probability_torch
from bssim.atomic import write_bytes

IMPORTANCE_SCALE = 4.0  # stored uint8 value of a weight equal to the data mean (weights up to 255/4 = 64: on vtest people reach 50-130 x their frame's mean)


@dataclass(frozen=True)
class ImportanceSettings:
    """Working size (px, longer side) and Gaussian smoothing (in H/4 positions) of the map."""

    work_side_px: int = 512
    sigma_px: float = 1.0

    def __post_init__(self) -> None:
        if self.work_side_px < 32:
            raise ValueError(f"work_side_px = {self.work_side_px}: must be >= 32 (five 2x poolings)")
        if self.sigma_px < 0:
            raise ValueError(f"sigma_px = {self.sigma_px}: must be >= 0")


def pixel_importance(image: np.ndarray, settings: ImportanceSettings = ImportanceSettings(),
                     segmenter=None, method: str = "grad_cam") -> np.ndarray:  # fmt: skip
    """Importance map g (H, W) float32 >= 0 of an RGB uint8 image (module docstring).
    ``method = "gradient"``: the rejected Σ_rgb |∂S/∂x| instead, for the comparison."""

    image = check_rgb(image)
    if method not in ("grad_cam", "gradient"):
        raise ValueError(f"importance method {method!r}: choose grad_cam or gradient")
    h, w = image.shape[:2]
    f = settings.work_side_px / max(h, w)
    size = (max(32, round(w * f)), max(32, round(h * f)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    x = torch.from_numpy(small).permute(2, 0, 1)[None].float() / 255.0
    model = segmenter if segmenter is not None else load_u2netp()
    g = grad_cam(model, x) if method == "grad_cam" else input_gradient(model, x)
    if settings.sigma_px > 0:
        g = cv2.GaussianBlur(g, (0, 0), settings.sigma_px)
    return cv2.resize(g, (w, h), interpolation=cv2.INTER_LINEAR)


def grad_cam(model, x: torch.Tensor) -> np.ndarray:
    """g = ReLU(Σ_k α_k A_k) (H/4, W/4) float32 of one image x (1, 3, H, W) in [0, 1], A the
    output of U²-Net-p's decoder stage at quarter resolution (module docstring)."""

    stage = model.decoder[-3]  # decoder stages run from H/32 up to H: [-3] works at H/4
    acts: list[torch.Tensor] = []
    hook = stage.register_forward_hook(lambda _m, _i, out: acts.append(out))
    try:
        area = probability_torch(x, model).sum()
    finally:
        hook.remove()
    (grad,) = torch.autograd.grad(area, acts[0])
    alpha = grad.mean(dim=(2, 3), keepdim=True)
    return torch.relu((alpha * acts[0]).sum(dim=1))[0].detach().numpy().astype(np.float32)


def input_gradient(model, x: torch.Tensor) -> np.ndarray:
    """Σ_rgb |∂S/∂x| (H, W) float32 of one image x (1, 3, H, W) in [0, 1]."""

    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(probability_torch(x, model).sum(), x)
    return grad[0].abs().sum(dim=0).numpy().astype(np.float32)


def cached_importance(image: np.ndarray, cache_dir: Path, settings: ImportanceSettings = ImportanceSettings(),
                      segmenter=None) -> np.ndarray:  # fmt: skip
    """:func:`pixel_importance`, cached as ``<cache_dir>/<sha256 of image and settings>.npy``."""
    import hashlib
    import io


    key = hashlib.sha256(image.tobytes() + repr((image.shape, settings)).encode()).hexdigest()[:24]
    path = Path(cache_dir) / f"{key}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    g = pixel_importance(image, settings, segmenter)
    buf = io.BytesIO()
    np.save(buf, g, allow_pickle=False)
    write_bytes(path, buf.getvalue())
    return g


def importance_channel(maps: list[np.ndarray]) -> tuple[list[np.ndarray], float]:
    """uint8 maps round(IMPORTANCE_SCALE · g / mean(g)) (clipped at 255) with mean(g) over all pixels of all
    maps, and the share of pixels clipped."""
    total = sum(float(m.sum()) for m in maps)
    count = sum(m.size for m in maps)
    mean = total / max(count, 1)
    if not mean > 0:
        raise ValueError("semantic importance is zero on every training image (no gradient reaches the pixels)")
    out, clipped = [], 0
    for m in maps:
        q = np.round(m * (IMPORTANCE_SCALE / mean))
        clipped += int((q > 255).sum())
        out.append(np.clip(q, 0, 255).astype(np.uint8))
    return out, clipped / max(count, 1)
