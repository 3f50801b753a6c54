"""Linear analog transmission of images, SoftCast-style (Jakubczak & Katabi, 2011).

The anchor every learned analog code must clear (issue 18). With b×b×3 blocks (vector
length d = 3·b²), a basis fitted on training photographs (block PCA, :func:`fit_linear_basis`)
and m real coefficients per block (:func:`coefficients_for_rate`, m = round(2·(k/n)·d))::

    x (N, d) blocks ─ −mean, project ─> c = V_m (x − μ)            (N, m)
    per image, per kept coefficient: mean ν_i (float16) and variance λ_i = mean_blocks (c_i − ν_i)²
    (log2-quantised, :func:`quantise_variances`): metadata, 32 bits per coefficient
    s_i = g_i (c_i − ν_i),  g_i = a · λ_i^(−1/4),  a such that mean_i g_i² λ_i = 1/2
    channel (bssim.jscc.channels: pairs of reals = complex symbols, E|x|² = 1, noise σ²/2 per real)
    ĉ_i = ν_i + g_i λ_i / (g_i² λ_i + σ²/2) · y_i                  (LMMSE)
    x̂ = V_mᵀ ĉ + μ, unblock, crop, clip, uint8

As in SoftCast, the per-image means and variances of the coefficients ride on a control
channel (``side_bits``); the encoder subtracts the quantised mean, so its error is sent too.

Every real value then has mean power 1/2 (two make one unit-power complex symbol), so the
per-symbol SNR is the link's SNR. λ^(−1/4) is SoftCast's MSE-optimal power allocation for
linear codes under a power constraint. Rayleigh block fading: zero-forcing equalisation
by :func:`bssim.jscc.channels.apply_channel`, then LMMSE with the post-equalisation SNR.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bssim.tensorfile import load_tensor_file, save_tensor_file
from bssim.jscc.channels import ChannelSpec, apply_channel, pilot_symbols

FORMAT = "bssim-linear-basis/1"
VARIANCE_BITS = 16  # bits of metadata per kept coefficient variance
MEAN_BITS = 16  # bits of metadata per kept coefficient mean (float16)
_LOG_STEPS = 256  # log2 resolution of the variance quantiser: λ̂ = 2^(q / 256)
_ZERO_CODE = -(2 ** (VARIANCE_BITS - 1))  # q reserved for λ = 0 (coefficient not sent)

__all__ = [
    "LinearBasis",
    "LinearTransmission",
    "coefficients_for_rate",
    "default_linear_basis",
    "default_linear_basis_path",
    "fit_linear_basis",
    "linear_transmit",
    "load_linear_basis",
    "save_linear_basis",
]


@dataclass(frozen=True)
class LinearBasis:
    """Block PCA basis: blocks of ``block_px``² pixels × 3 colours, vector length d = 3·b².

    ``mean`` (d,) in [0, 1] pixel units; ``components`` (d, d), rows = principal directions,
    descending training variance; ``variances`` (d,) training variances λ_i; ``fitted_on``:
    provenance (what it was fitted on, the command).
    """

    block_px: int
    mean: np.ndarray
    components: np.ndarray
    variances: np.ndarray
    fitted_on: str

    @property
    def dim(self) -> int:
        """d = 3·b² values per block."""
        return 3 * self.block_px * self.block_px


@dataclass(frozen=True)
class LinearTransmission:
    """Outcome of :func:`linear_transmit`."""

    image: np.ndarray  # (H, W, 3) uint8, the receiver's image (same size as the input)
    symbols: int  # complex channel uses k = ceil(sent real values / 2) (+ pilots)
    side_bits: int  # metadata bits: the kept coefficients' means and variances, 16 + 16 bits each


def _check_block(block_px: int) -> int:
    if isinstance(block_px, bool) or int(block_px) != block_px or not 1 <= block_px <= 32:
        raise ValueError(f"block_px must be an integer in 1..32, got {block_px!r}")
    return int(block_px)


def _check_rgb(image: np.ndarray, name: str = "image") -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        got = f"dtype {image.dtype}, shape {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise ValueError(f"{name} must be RGB uint8 of shape (H, W, 3), got {got}")
    if min(image.shape[:2]) < 1:
        raise ValueError(f"{name} must have H, W >= 1, got {image.shape}")


def image_to_blocks(image: np.ndarray, block_px: int) -> tuple[np.ndarray, tuple[int, int]]:
    """(H, W, 3) uint8 → (blocks (N, 3·b²) float64 in [0, 1], padded (Hp, Wp)); edge padding to multiples of b."""
    b = block_px
    h, w = image.shape[:2]
    padded = np.pad(image, ((0, (-h) % b), (0, (-w) % b), (0, 0)), mode="edge")
    hp, wp = padded.shape[:2]
    x = padded.astype(np.float64) / 255.0
    blocks = x.reshape(hp // b, b, wp // b, b, 3).transpose(0, 2, 1, 3, 4).reshape(-1, 3 * b * b)
    return blocks, (hp, wp)


def blocks_to_image(blocks: np.ndarray, block_px: int, padded_hw: tuple[int, int], hw: tuple[int, int]) -> np.ndarray:
    """Inverse of :func:`image_to_blocks`: blocks (N, 3·b²) in [0, 1] → cropped (H, W, 3) uint8."""
    b = block_px
    hp, wp = padded_hw
    x = blocks.reshape(hp // b, wp // b, b, b, 3).transpose(0, 2, 1, 3, 4).reshape(hp, wp, 3)
    x = x[: hw[0], : hw[1]]
    return np.ascontiguousarray(np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8))


def _images_digest(images: Sequence[np.ndarray]) -> str:
    h = hashlib.sha256()
    for img in images:
        h.update(str(img.shape).encode())
        h.update(np.ascontiguousarray(img).tobytes())
    return h.hexdigest()[:12]


def fit_linear_basis(images: Sequence[np.ndarray], block_px: int, *, fitted_on: str = "") -> LinearBasis:
    """Block PCA of the b×b×3 blocks of ``images`` (RGB uint8, each edge-padded to multiples of b).

    Mean μ and covariance Σ = E[(x − μ)(x − μ)ᵀ] over all blocks of all images, eigenvectors
    of Σ by descending eigenvalue. ``fitted_on`` (provenance) defaults to the number of images
    and the SHA-256 of their pixels.
    """
    b = _check_block(block_px)
    if len(images) == 0:
        raise ValueError("fit_linear_basis: no images")
    d = 3 * b * b
    total = np.zeros(d)
    outer = np.zeros((d, d))
    count = 0
    for i, img in enumerate(images):
        _check_rgb(img, f"images[{i}]")
        x, _ = image_to_blocks(img, b)
        total += x.sum(axis=0)
        outer += x.T @ x
        count += x.shape[0]
    mean = total / count
    cov = outer / count - np.outer(mean, mean)
    evals, evecs = np.linalg.eigh((cov + cov.T) / 2.0)
    order = np.argsort(evals)[::-1]
    provenance = fitted_on or f"{len(images)} images, pixels sha256 {_images_digest(images)}"
    return LinearBasis(
        block_px=b, mean=mean, components=np.ascontiguousarray(evecs[:, order].T),
        variances=np.clip(evals[order], 0.0, None), fitted_on=provenance,
    )  # fmt: skip


def save_linear_basis(basis: LinearBasis, path: str | Path) -> None:
    """Write ``basis`` atomically as ``torch.save`` of plain tensors (float32), str and int."""
    obj = {
        "format": FORMAT,
        "block_px": int(basis.block_px),
        "mean": torch.from_numpy(np.asarray(basis.mean, dtype=np.float32)),
        "components": torch.from_numpy(np.asarray(basis.components, dtype=np.float32)),
        "variances": torch.from_numpy(np.asarray(basis.variances, dtype=np.float32)),
        "fitted_on": str(basis.fitted_on),
    }
    save_tensor_file(obj, path)


def load_linear_basis(path: str | Path) -> LinearBasis:
    """Read a basis written by :func:`save_linear_basis` (``torch.load(weights_only=True)``), checking shapes."""
    p = Path(path)
    obj = load_tensor_file(p, "linear basis", FORMAT)
    b = _check_block(obj["block_px"])
    d = 3 * b * b
    arrays = {k: obj[k].double().numpy() for k in ("mean", "components", "variances")}
    for name, shape in (("mean", (d,)), ("components", (d, d)), ("variances", (d,))):
        if arrays[name].shape != shape:
            raise ValueError(f"{p}: {name} has shape {arrays[name].shape}, expected {shape} for block_px={b}")
    return LinearBasis(block_px=b, fitted_on=str(obj["fitted_on"]), **arrays)


def default_linear_basis_path(block_px: int = 8) -> Path:
    """The shipped basis ``bssim/jscc/checkpoints/linear_b{b}.pt``."""
    return Path(__file__).resolve().parent / "checkpoints" / f"linear_b{_check_block(block_px)}.pt"


def default_linear_basis(block_px: int = 8) -> LinearBasis:
    """Load the shipped basis for ``block_px`` (8 and 4 are shipped; MODEL_CARD.md gives the command)."""
    return load_linear_basis(default_linear_basis_path(block_px))


def coefficients_for_rate(block_px: int, k_over_n: float) -> int:
    """m = round(2·(k/n)·3·b²) real coefficients per block (two reals per complex channel use).

    k/n is complex symbols per source value (pixel-colour), in (0, 1/2]; m must be >= 1.
    """
    b = _check_block(block_px)
    r = float(k_over_n)
    if not math.isfinite(r) or not 0.0 < r <= 0.5:
        raise ValueError(f"k_over_n must be in (0, 0.5] complex symbols per pixel value, got {k_over_n!r}")
    m = int(round(2.0 * r * 3 * b * b))
    if m < 1:
        raise ValueError(f"k_over_n={k_over_n} gives no coefficient per {b}x{b} block (m = round(2·k/n·{3 * b * b}) = 0)")
    return m


def quantise_variances(lam: np.ndarray) -> np.ndarray:
    """The receiver's copy of the per-image variances: log2 quantised to 16 bits, λ̂ = 2^(q/256).

    Relative error ≤ 2^(1/512) − 1 ≈ 0.14 %; λ = 0 (coefficient identically zero) → λ̂ = 0.
    """
    lam = np.asarray(lam, dtype=np.float64)
    hi = 2 ** (VARIANCE_BITS - 1) - 1
    q = np.round(np.log2(np.maximum(lam, 1e-300)) * _LOG_STEPS).clip(_ZERO_CODE + 1, hi)
    q = np.where(lam > 0, q, _ZERO_CODE)
    return np.where(q == _ZERO_CODE, 0.0, np.exp2(q / _LOG_STEPS))


def power_gains(lam_hat: np.ndarray) -> np.ndarray:
    """g_i = a·λ_i^(−1/4) with mean_i g_i² λ_i = 1/2 (mean power 1/2 per real value); g = 0 where λ = 0."""
    on = lam_hat > 0
    g = np.zeros_like(lam_hat)
    if not on.any():
        return g
    g[on] = lam_hat[on] ** -0.25
    power = float(np.mean(g**2 * lam_hat))
    return g * math.sqrt(0.5 / power)


def _send(s: np.ndarray, snr_db: float | None, spec: ChannelSpec, seed: int) -> tuple[np.ndarray, float]:
    """Real values s (N, m) → (equalised received values, noise variance per real value)."""
    if snr_db is None or spec.kind == "none":
        return s, 0.0
    z = torch.from_numpy(s.reshape(1, -1))
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    y, snr_eff_db = apply_channel(z, torch.tensor([float(snr_db)], dtype=z.dtype), spec, gen)
    return y.numpy().reshape(s.shape), 0.5 * 10.0 ** (-float(snr_eff_db[0]) / 10.0)


def linear_transmit(
    image: np.ndarray,
    basis: LinearBasis,
    k_over_n: float,
    snr_db: float | None,
    channel: str = "awgn",
    seed: int = 0,
    *,
    csi: str = "perfect",
    n_pilots: int = 4,
) -> LinearTransmission:
    """Send one RGB uint8 image by the linear analog code (module docstring); deterministic per ``seed``.

    ``snr_db=None``: noiseless (the truncation limit). ``channel``: ``awgn``, ``rayleigh``
    (block fading, zero forcing; ``csi`` perfect or estimated with ``n_pilots`` pilots, which
    count as channel uses) or ``none``.
    """
    _check_rgb(image)
    spec = ChannelSpec(kind=channel, csi=csi, n_pilots=n_pilots)
    if snr_db is not None and not math.isfinite(float(snr_db)):
        raise ValueError(f"snr_db must be finite or None, got {snr_db}")
    b = basis.block_px
    m = coefficients_for_rate(b, k_over_n)
    blocks, padded_hw = image_to_blocks(image, b)
    v = basis.components[:m]
    c = (blocks - basis.mean) @ v.T  # (N, m)
    mu_hat = np.mean(c, axis=0).astype(np.float16).astype(np.float64)  # metadata: float16 means
    c = c - mu_hat
    lam_hat = quantise_variances(np.mean(c * c, axis=0))
    g = power_gains(lam_hat)
    y, noise_var = _send(c * g, snr_db, spec, seed)
    denom = g * g * lam_hat + noise_var
    w = np.divide(g * lam_hat, denom, out=np.zeros_like(denom), where=denom > 0)
    rec = blocks_to_image((y * w + mu_hat) @ v + basis.mean, b, padded_hw, image.shape[:2])
    k = math.ceil(c.size / 2) + pilot_symbols(spec)
    return LinearTransmission(image=rec, symbols=k, side_bits=(VARIANCE_BITS + MEAN_BITS) * m)
