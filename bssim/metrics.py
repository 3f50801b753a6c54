"""Image quality metrics on RGB uint8 images (H, W, 3): PSNR, SSIM, MS-SSIM.

- PSNR = 10·log10(255² / MSE) in dB, over all pixels and channels; identical images give
  ``inf`` is avoided by capping at :data:`PSNR_CAP_DB`.
- SSIM: Wang et al. 2004, Gaussian window (σ = 1.5), per channel and averaged
  (scikit-image ``structural_similarity`` with ``gaussian_weights=True``).
- MS-SSIM: Wang et al. 2003, five scales with the standard weights (pytorch-msssim).
  Images whose shorter side is too small for five scales (< 161 px) are evaluated with as
  many scales as fit, with the weights renormalised; below 11 px it is ``nan``.
"""

from __future__ import annotations

import numpy as np

PSNR_CAP_DB = 100.0
_MSSSIM_WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])


def _check_pair(reference: np.ndarray, test: np.ndarray) -> None:
    if reference.shape != test.shape:
        raise ValueError(f"images differ in shape: {reference.shape} vs {test.shape}")
    if reference.ndim != 3 or reference.shape[2] != 3:
        raise ValueError(f"expected RGB images of shape (H, W, 3), got {reference.shape}")


def psnr_db(reference: np.ndarray, test: np.ndarray) -> float:
    """PSNR in dB of ``test`` against ``reference`` (both uint8 RGB), capped at 100 dB."""
    _check_pair(reference, test)
    mse = np.mean((reference.astype(np.float64) - test.astype(np.float64)) ** 2)
    if mse <= 0:
        return PSNR_CAP_DB
    return float(min(PSNR_CAP_DB, 10.0 * np.log10(255.0**2 / mse)))


def ssim(reference: np.ndarray, test: np.ndarray) -> float:
    """SSIM in [-1, 1] (1 = identical), Gaussian window, averaged over RGB channels."""
    from skimage.metrics import structural_similarity

    _check_pair(reference, test)
    if min(reference.shape[:2]) < 7:
        raise ValueError(f"SSIM needs images of at least 7x7 pixels, got {reference.shape[:2]}")
    return float(
        structural_similarity(
            reference,
            test,
            channel_axis=2,
            data_range=255,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
    )


def ms_ssim(reference: np.ndarray, test: np.ndarray) -> float:
    """MS-SSIM in [0, 1]; fewer scales for small images (see module docstring)."""
    import torch
    from pytorch_msssim import ms_ssim as _ms_ssim

    _check_pair(reference, test)
    side = min(reference.shape[:2])
    win = 11
    scales = 5
    while scales > 1 and side <= (win - 1) * 2 ** (scales - 1):
        scales -= 1
    if side < win:
        return float("nan")
    weights = _MSSSIM_WEIGHTS[:scales] / _MSSSIM_WEIGHTS[:scales].sum()
    ref = torch.from_numpy(np.ascontiguousarray(reference)).permute(2, 0, 1)[None].float()
    tst = torch.from_numpy(np.ascontiguousarray(test)).permute(2, 0, 1)[None].float()
    if scales == 1:
        from pytorch_msssim import ssim as _ssim

        return float(_ssim(ref, tst, data_range=255, size_average=True))
    return float(_ms_ssim(ref, tst, data_range=255, size_average=True, weights=weights.tolist()))


def quality(reference: np.ndarray, test: np.ndarray) -> dict[str, float]:
    """All three metrics as a dict with keys ``psnr_db``, ``ssim``, ``ms_ssim``."""
    return {
        "psnr_db": psnr_db(reference, test),
        "ssim": ssim(reference, test),
        "ms_ssim": ms_ssim(reference, test),
    }
