"""Quality metrics against independent implementations and on the edge cases."""

import numpy as np
import pytest
import torch
from pytorch_msssim import ms_ssim as reference_ms_ssim

from bssim import metrics


def _noisy_pair(h, w, sigma, seed=0):
    rng = np.random.default_rng(seed)
    # a smooth image with structure, plus noise
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([128 + 60 * np.sin(xx / 9.0 + c) * np.cos(yy / 13.0) for c in range(3)], axis=2)
    ref = np.clip(base + rng.normal(0, 5, base.shape), 0, 255).astype(np.uint8)
    noisy = np.clip(ref + rng.normal(0, sigma, ref.shape), 0, 255).astype(np.uint8)
    return ref, noisy


@pytest.mark.parametrize("sigma", [3.0, 15.0, 40.0])
def test_ms_ssim_matches_pytorch_msssim_on_large_images(sigma):
    ref, noisy = _noisy_pair(200, 260, sigma)
    ours = metrics.ms_ssim(ref, noisy)
    t = lambda a: torch.from_numpy(a).permute(2, 0, 1)[None].float()  # noqa: E731
    theirs = float(reference_ms_ssim(t(ref), t(noisy), data_range=255))
    assert ours == pytest.approx(theirs, abs=2e-3)


def test_ms_ssim_small_images_use_fewer_scales_and_stay_ordered():
    ref, mild = _noisy_pair(64, 48, 5.0)
    _, strong = _noisy_pair(64, 48, 40.0)
    a, b = metrics.ms_ssim(ref, mild), metrics.ms_ssim(ref, strong)
    assert 0 < b < a < 1
    assert metrics.ms_ssim(ref, ref) == pytest.approx(1.0, abs=1e-6)
    assert np.isnan(metrics.ms_ssim(ref[:8, :8], mild[:8, :8]))


def test_psnr_and_ssim_values():
    ref, noisy = _noisy_pair(64, 64, 10.0)
    mse = np.mean((ref.astype(float) - noisy.astype(float)) ** 2)
    assert metrics.psnr_db(ref, noisy) == pytest.approx(10 * np.log10(255**2 / mse))
    assert metrics.psnr_db(ref, ref) == metrics.PSNR_CAP_DB
    assert metrics.ssim(ref, ref) == pytest.approx(1.0)
    assert metrics.ssim(ref, noisy) < 0.95


def test_shape_errors_are_clear():
    ref, noisy = _noisy_pair(32, 32, 5.0)
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.psnr_db(ref, noisy[:16])
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        metrics.ssim(ref[..., 0], noisy[..., 0])


@pytest.mark.parametrize("sigma", [3.0, 15.0, 40.0])
def test_ssim_equals_scikit_image_definition(sigma):
    from skimage.metrics import structural_similarity

    ref, noisy = _noisy_pair(97, 131, sigma)
    theirs = structural_similarity(ref, noisy, channel_axis=2, data_range=255, gaussian_weights=True,
                                   sigma=1.5, use_sample_covariance=False)
    assert metrics.ssim(ref, noisy) == pytest.approx(theirs, abs=1e-5)
