"""The shared knowledge of seed 001's explicit semantic base (Seb): a patch codebook.

Seed 001 (Zheng et al., "Semantic Communications with Explicit Semantic Base for Image
Transmission") cuts images into h×w patches, maps each patch to a latent feature with a
learned encoder, clusters the features with k-means (the cluster centres are the Sebs) and
represents an image by each patch's Seb index. Here, at granularity (patch side p, codebook
size K):

* **learned patch features**: the first ``n_features`` principal components of the p×p×3
  patches of the training set (block PCA, :func:`bssim.jscc.linear.fit_linear_basis`), a
  learned *linear* encoder f(P) = V (P − μ) in place of the paper's GDN autoencoder;
* **Sebs**: k-means (``scipy.cluster.vq.kmeans2``, k-means++ start, recorded seed) of those
  features over every training patch; each patch's Seb = its nearest centre;
* **reference patches**: the mean training patch of each Seb's cluster (pixels in [0, 1]),
  what the receiver pastes for an index (the paper's reference-patch generator);
* **usage**: how often each Seb was used in training, +1 (the entropy model of the indices,
  shared like the codebook).

Fitted by ``bssim seeds fit-seb`` on the training photographs and the videos' training frames
(never Kodak nor evaluation frames), stored as ``torch.save`` of plain tensors (float16 pixels,
read with ``weights_only=True``); the shipped files are ``bssim/schemes/data/seb_p{p}_k{K}.pt``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.cluster.vq import kmeans2

from bssim.tensorfile import load_tensor_file, save_tensor_file
from bssim.jscc.linear import blocks_to_image, fit_linear_basis, image_to_blocks

FORMAT = "bssim-seb-codebook/1"
DATA_DIR = Path(__file__).resolve().parent / "data"
SHIPPED = ((32, 64), (16, 256))  # (patch side p, codebook size K), coarse to fine


@dataclass(frozen=True)
class SebCodebook:
    """Sebs at one granularity: patch side ``patch_px``, K = ``len(usage)`` Sebs.

    ``mean`` (d,) and ``components`` (F, d): the learned feature map f(P) = components (P − mean),
    d = 3·p²; ``centres`` (K, F) the Sebs in feature space; ``patches`` (K, d) the reference
    patches in [0, 1]; ``usage`` (K,) training counts + 1; ``fitted_on``: provenance."""

    patch_px: int
    mean: np.ndarray
    components: np.ndarray
    centres: np.ndarray
    patches: np.ndarray
    usage: np.ndarray
    fitted_on: str

    @property
    def size(self) -> int:
        return int(self.centres.shape[0])

    @property
    def label(self) -> str:
        """``p16k256``: the granularity."""
        return f"p{self.patch_px}k{self.size}"

    def features(self, blocks: np.ndarray) -> np.ndarray:
        """Learned features (N, F) of patches (N, d) in [0, 1]."""
        return (blocks - self.mean) @ self.components.T

    def assign(self, image: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        """Seb index of every patch of ``image`` (row-major, edge-padded to multiples of p): the
        nearest centre in feature space; returns (indices (N,), padded (Hp, Wp))."""
        blocks, padded = image_to_blocks(image, self.patch_px)
        f = self.features(blocks)
        d2 = (f * f).sum(1)[:, None] - 2 * f @ self.centres.T + (self.centres * self.centres).sum(1)[None, :]
        return np.argmin(d2, axis=1).astype(np.int32), padded

    def reference(self, indices: np.ndarray, padded: tuple[int, int], hw: tuple[int, int]) -> np.ndarray:
        """The Seb reference image (H, W, 3) uint8: each index's reference patch, cropped to ``hw``."""
        return blocks_to_image(self.patches[indices], self.patch_px, padded, hw)


def _training_blocks(images: Sequence[np.ndarray], p: int) -> np.ndarray:
    return np.concatenate([image_to_blocks(im, p)[0] for im in images]).astype(np.float32)


def fit_codebook(images: Sequence[np.ndarray], patch_px: int, size: int, n_features: int = 16, seed: int = 0,
                 iterations: int = 20, fitted_on: str = "") -> SebCodebook:
    """Fit the Sebs of one granularity on ``images`` (module docstring): block PCA, then k-means
    of the first ``n_features`` components with K = ``size`` centres from ``seed``."""
    if size < 2 or n_features < 1 or n_features > 3 * patch_px * patch_px:
        raise ValueError(f"codebook size {size} (>= 2) and features {n_features} (1..3·p²) out of range")
    basis = fit_linear_basis(images, patch_px)
    comps = basis.components[:n_features]
    blocks = _training_blocks(images, patch_px)
    if len(blocks) < size:
        raise ValueError(f"{len(blocks)} training patches of {patch_px} px: fewer than the {size} Sebs asked for")
    feats = ((blocks - basis.mean.astype(np.float32)) @ comps.T.astype(np.float32)).astype(np.float64)
    centres, labels = kmeans2(feats, size, iter=iterations, minit="++", seed=np.random.default_rng(seed))
    counts = np.bincount(labels, minlength=size)
    sums = np.zeros((size, blocks.shape[1]))
    np.add.at(sums, labels, blocks)
    patches = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], 0.5)
    return SebCodebook(patch_px, basis.mean, comps, centres, np.clip(patches, 0, 1), counts + 1,
                       fitted_on or f"{len(images)} images, {len(blocks)} patches, seed {seed}")


def save_codebook(cb: SebCodebook, path: str | Path) -> None:
    """Write ``cb`` atomically: ``torch.save`` of plain tensors (pixels float16) and strings."""
    t = lambda a, dt: torch.from_numpy(np.ascontiguousarray(a, dtype=dt))  # noqa: E731
    obj = {"format": FORMAT, "patch_px": int(cb.patch_px), "mean": t(cb.mean, np.float32),
           "components": t(cb.components, np.float32), "centres": t(cb.centres, np.float32),
           "patches": t(cb.patches, np.float16), "usage": t(cb.usage, np.int64), "fitted_on": str(cb.fitted_on)}
    save_tensor_file(obj, path)


def load_codebook(path: str | Path) -> SebCodebook:
    """Read a codebook written by :func:`save_codebook` (``torch.load(weights_only=True)``), checking shapes."""
    p = Path(path)
    obj = load_tensor_file(p, "Seb codebook", FORMAT)
    a = {k: obj[k].double().numpy() for k in ("mean", "components", "centres", "patches")}
    pp, d = int(obj["patch_px"]), 3 * int(obj["patch_px"]) ** 2
    k, f = a["centres"].shape
    if a["mean"].shape != (d,) or a["components"].shape != (f, d) or a["patches"].shape != (k, d) or obj["usage"].shape != (k,):
        raise ValueError(f"{p}: inconsistent shapes for patch side {pp} and {k} Sebs")
    return SebCodebook(pp, a["mean"], a["components"], a["centres"], a["patches"], obj["usage"].numpy(), str(obj["fitted_on"]))


def shipped_path(patch_px: int, size: int) -> Path:
    """``bssim/schemes/data/seb_p{p}_k{K}.pt``."""
    return DATA_DIR / f"seb_p{patch_px}_k{size}.pt"


def shipped_codebooks() -> list[SebCodebook]:
    """The shipped granularities of :data:`SHIPPED` that exist (coarse to fine)."""
    return [load_codebook(shipped_path(p, k)) for p, k in SHIPPED if shipped_path(p, k).is_file()]
