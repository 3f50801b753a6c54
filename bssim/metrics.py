"""Image quality metrics on RGB uint8 images (H, W, 3): PSNR, SSIM, MS-SSIM.

- PSNR = 10·log10(255² / MSE) in dB, over all pixels and channels; identical images
  would give ``inf``: PSNR is capped at :data:`PSNR_CAP_DB`.
- SSIM: Wang et al. 2004, Gaussian window (σ = 1.5), per channel and averaged
  (scikit-image ``structural_similarity`` with ``gaussian_weights=True``).
- MS-SSIM: Wang et al. 2003, five scales with the standard weights (implemented here in
  torch; it agrees with pytorch-msssim where that applies, see tests/test_metrics.py).
  Images whose shorter side is too small for five scales (<= 160 px) are evaluated with as
  many scales as fit, with the weights renormalised; below 11 px it is ``nan``.
- Task metrics ``person_iou`` and ``person_f1`` (can the receiver still find the people?):
  :mod:`bssim.semantic.task`, docs/semantic.md. They run neural/HOG models: slow, measured
  only when asked.

:data:`QUALITY_METRICS` names every metric an option can be measured and scheduled by.
"""

from __future__ import annotations

import numpy as np

PSNR_CAP_DB = 100.0
IMAGE_METRICS = ("ssim", "psnr_db", "ms_ssim")
TASK_METRICS = ("person_iou", "person_f1")
QUALITY_METRICS = IMAGE_METRICS + TASK_METRICS
_MSSSIM_WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])

#: The range of each quality metric (column name): SSIM in [-1, 1] (Wang et al. 2004), MS-SSIM
#: in [0, 1] (negative contrast-structure terms are clipped, as pytorch-msssim does), PSNR of
#: uint8 images in [0, PSNR_CAP_DB] dB (MSE <= 255²), task metrics (IoU, F1) in [0, 1].
METRIC_RANGES = {"ssim": (-1.0, 1.0), "ms_ssim": (0.0, 1.0), "psnr_db": (0.0, PSNR_CAP_DB),
                 "person_iou": (0.0, 1.0), "person_f1": (0.0, 1.0)}


def metric_range(metric: str) -> tuple[float, float]:
    """(low, high) of a quality metric (``psnr`` or ``psnr_db``, ``ssim``, ...)."""
    key = {"psnr": "psnr_db"}.get(metric, metric)
    if key not in METRIC_RANGES:
        raise ValueError(f"quality metric {metric!r}: choose one of {', '.join(METRIC_RANGES)}")
    return METRIC_RANGES[key]


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
    """SSIM in [-1, 1] (1 = identical), Gaussian window, averaged over RGB channels.

    Wang et al. 2004 with an 11-tap Gaussian window (σ = 1.5), population covariances,
    C1 = (0.01·255)², C2 = (0.03·255)², mean of the SSIM map over the pixels at least 5 px
    from the border: the same definition as scikit-image's ``structural_similarity``
    (``gaussian_weights=True, use_sample_covariance=False``; equal to 1e-6, tested), with
    the filtering done by OpenCV (~10x faster).
    """
    import cv2

    _check_pair(reference, test)
    if min(reference.shape[:2]) < 11:
        raise ValueError(f"SSIM needs images of at least 11x11 pixels, got {reference.shape[:2]}")
    x = reference.astype(np.float32)
    y = test.astype(np.float32)

    def blur(t: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(t, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)[5:-5, 5:-5]

    mu_x, mu_y = blur(x), blur(y)
    sxx = blur(x * x) - mu_x * mu_x
    syy = blur(y * y) - mu_y * mu_y
    sxy = blur(x * y) - mu_x * mu_y
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x * mu_x + mu_y * mu_y + c1) * (sxx + syy + c2))
    return float(ssim_map.mean(dtype=np.float64))


def masked_psnr_db(reference: np.ndarray, test: np.ndarray, mask: np.ndarray) -> float:
    """PSNR over the pixels where ``mask`` is True (NaN for an empty mask), capped at 100 dB."""
    _check_pair(reference, test)
    if not mask.any():
        return float("nan")
    d = reference[mask].astype(np.float64) - test[mask].astype(np.float64)
    mse = float(np.mean(d * d))
    return PSNR_CAP_DB if mse <= 0 else float(min(PSNR_CAP_DB, 10 * np.log10(255.0**2 / mse)))


def _gaussian_window(size: int = 11, sigma: float = 1.5):
    import torch

    x = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _ssim_and_cs(x, y, win, data_range: float = 255.0):
    """Per-channel mean SSIM and contrast-structure term (Wang et al. 2004), 'valid' Gaussian filtering."""
    import torch.nn.functional as F

    c = x.shape[1]
    wh = win.view(1, 1, 1, -1).repeat(c, 1, 1, 1)
    wv = win.view(1, 1, -1, 1).repeat(c, 1, 1, 1)

    def blur(t):
        return F.conv2d(F.conv2d(t, wh, groups=c), wv, groups=c)

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_x, mu_y = blur(x), blur(y)
    sxx = blur(x * x) - mu_x**2
    syy = blur(y * y) - mu_y**2
    sxy = blur(x * y) - mu_x * mu_y
    cs_map = (2 * sxy + c2) / (sxx + syy + c2)
    ssim_map = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1) * cs_map
    return ssim_map.mean(dim=(2, 3)), cs_map.mean(dim=(2, 3))


def ms_ssim(reference: np.ndarray, test: np.ndarray) -> float:
    """MS-SSIM in [0, 1] (Wang, Simoncelli, Bovik 2003): Π_{j<M} cs_j^{w_j} · ssim_M^{w_M} per
    channel, averaged over RGB; 11-tap Gaussian window σ = 1.5, 2× average-pool between scales.

    Five scales with the standard weights when the shorter side exceeds 160 px; smaller images
    use as many scales as fit (the weights renormalised); below 11 px it is ``nan``.
    """
    import torch
    import torch.nn.functional as F

    _check_pair(reference, test)
    side = min(reference.shape[:2])
    win_size = 11
    if side < win_size:
        return float("nan")
    scales = 5
    while scales > 1 and side <= (win_size - 1) * 2 ** (scales - 1):
        scales -= 1
    weights = torch.tensor(_MSSSIM_WEIGHTS[:scales] / _MSSSIM_WEIGHTS[:scales].sum(), dtype=torch.float32)
    x = torch.from_numpy(np.ascontiguousarray(reference)).permute(2, 0, 1)[None].float()
    y = torch.from_numpy(np.ascontiguousarray(test)).permute(2, 0, 1)[None].float()
    win = _gaussian_window(win_size)
    terms = []
    with torch.no_grad():
        for j in range(scales):
            ssim_c, cs_c = _ssim_and_cs(x, y, win)
            terms.append(torch.relu(cs_c if j < scales - 1 else ssim_c))
            if j < scales - 1:
                pad = (0, x.shape[3] % 2, 0, x.shape[2] % 2)
                x = F.avg_pool2d(F.pad(x, pad, mode="replicate"), 2)
                y = F.avg_pool2d(F.pad(y, pad, mode="replicate"), 2)
        stacked = torch.stack(terms, dim=0)  # (scales, 1, C)
        per_channel = torch.prod(stacked ** weights.view(-1, 1, 1), dim=0)
    return float(per_channel.mean())


def quality(reference: np.ndarray, test: np.ndarray) -> dict[str, float]:
    """All three metrics as a dict with keys ``psnr_db``, ``ssim``, ``ms_ssim``."""
    return {
        "psnr_db": psnr_db(reference, test),
        "ssim": ssim(reference, test),
        "ms_ssim": ms_ssim(reference, test),
    }
