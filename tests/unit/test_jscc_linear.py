"""The linear analog code (SoftCast-style anchor, bssim.jscc.linear)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from bssim.jscc.linear import (
    LinearBasis,
    coefficients_for_rate,
    default_linear_basis,
    default_linear_basis_path,
    fit_linear_basis,
    linear_transmit,
    load_linear_basis,
    quantise_variances,
    save_linear_basis,
)


def smooth_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A photograph-like test image: smooth gradients plus a little texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(3 * xx + c) * np.cos(2 * yy - c) for c in range(3)], axis=-1)
    img = 127 + 90 * base + rng.normal(0, 8, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(float) - b.astype(float)) ** 2))
    return 10 * math.log10(255**2 / max(mse, 1e-12))


@pytest.fixture(scope="module")
def basis4() -> LinearBasis:
    return fit_linear_basis([smooth_image(64, 80, s) for s in range(4)], 4)


def test_basis_is_orthonormal_and_sorted(basis4: LinearBasis) -> None:
    v = basis4.components
    assert v.shape == (48, 48) and basis4.mean.shape == (48,)
    np.testing.assert_allclose(v @ v.T, np.eye(48), atol=1e-9)
    assert np.all(np.diff(basis4.variances) <= 1e-12)
    assert "4 images" in basis4.fitted_on


def test_noiseless_all_coefficients_reconstructs_exactly(basis4: LinearBasis) -> None:
    img = smooth_image(37, 50, seed=9)  # sides not multiples of the block: padded and cropped back
    out = linear_transmit(img, basis4, k_over_n=0.5, snr_db=None)
    assert out.image.shape == img.shape and out.image.dtype == np.uint8
    assert np.abs(out.image.astype(int) - img.astype(int)).max() <= 1


def test_symbols_and_side_bits_follow_formula(basis4: LinearBasis) -> None:
    img = smooth_image(37, 50, seed=1)
    m = coefficients_for_rate(4, 1 / 6)
    assert m == 16
    out = linear_transmit(img, basis4, 1 / 6, 10.0)
    blocks = math.ceil(37 / 4) * math.ceil(50 / 4)
    assert out.symbols == math.ceil(blocks * m / 2)
    assert out.side_bits == 32 * m
    ray = linear_transmit(img, basis4, 1 / 6, 10.0, channel="rayleigh", csi="estimated", n_pilots=4)
    assert ray.symbols == out.symbols + 4


def test_psnr_rises_with_snr_and_rate(basis4: LinearBasis) -> None:
    img = smooth_image(64, 64, seed=3)
    by_snr = [psnr(img, linear_transmit(img, basis4, 1 / 12, s, seed=0).image) for s in (0.0, 10.0, 20.0, None)]
    assert by_snr == sorted(by_snr) and by_snr[-1] - by_snr[0] > 3.0
    by_rate = [psnr(img, linear_transmit(img, basis4, r, 10.0, seed=0).image) for r in (1 / 24, 1 / 12, 1 / 6)]
    assert by_rate == sorted(by_rate) and by_rate[-1] > by_rate[0] + 1.0


def test_deterministic_per_seed_and_fading(basis4: LinearBasis) -> None:
    img = smooth_image(32, 32)
    a, b = (linear_transmit(img, basis4, 1 / 6, 5.0, seed=4).image for _ in range(2))
    c = linear_transmit(img, basis4, 1 / 6, 5.0, seed=5).image
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    ray = linear_transmit(img, basis4, 1 / 6, 20.0, channel="rayleigh", seed=1).image
    assert ray.shape == img.shape


def test_unit_mean_power_per_real_value(basis4: LinearBasis) -> None:
    """With the channel at a very high SNR, the received values' power is the sent power: 1/2 per real."""
    from bssim.jscc import linear as lin

    img = smooth_image(64, 64, seed=2)
    blocks, _ = lin.image_to_blocks(img, 4)
    c = (blocks - basis4.mean) @ basis4.components[:8].T
    c = c - c.mean(axis=0)
    g = lin.power_gains(quantise_variances(np.mean(c * c, axis=0)))
    assert float(np.mean((c * g) ** 2)) == pytest.approx(0.5, rel=1e-2)


def test_rate_and_input_errors(basis4: LinearBasis) -> None:
    for bad in (0.0, -0.1, 0.51, float("nan")):
        with pytest.raises(ValueError, match="k_over_n"):
            coefficients_for_rate(8, bad)
    with pytest.raises(ValueError, match="RGB uint8"):
        linear_transmit(np.zeros((8, 8), np.uint8), basis4, 1 / 6, 0.0)
    with pytest.raises(ValueError, match="channel"):
        linear_transmit(smooth_image(8, 8), basis4, 1 / 6, 0.0, channel="fm")


def test_save_load_round_trip_and_bad_files(basis4: LinearBasis, tmp_path: Path) -> None:
    p = tmp_path / "b.pt"
    save_linear_basis(basis4, p)
    back = load_linear_basis(p)
    assert back.block_px == 4 and back.fitted_on == basis4.fitted_on
    np.testing.assert_allclose(back.components, basis4.components, atol=1e-6)
    torch.save({"format": "bssim-linear-basis/1", "block_px": 4, "mean": torch.zeros(5),
                "components": torch.zeros(48, 48), "variances": torch.zeros(48), "fitted_on": ""}, p)  # fmt: skip
    with pytest.raises(ValueError, match="mean has shape"):
        load_linear_basis(p)
    with pytest.raises(FileNotFoundError):
        load_linear_basis(tmp_path / "missing.pt")


@pytest.mark.parametrize("b", [8, 4])
def test_shipped_bases_load(b: int) -> None:
    if not default_linear_basis_path(b).is_file():
        pytest.skip(f"shipped basis {default_linear_basis_path(b)} absent")
    basis = default_linear_basis(b)
    assert basis.components.shape == (3 * b * b, 3 * b * b)
    assert "fit-linear" in basis.fitted_on


def test_fit_linear_cli_writes_basis_and_rejects_bad_block(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bssim.cli import app
    from bssim.files import write_image

    data = tmp_path / "photos"
    for i in range(3):
        write_image(data / f"p{i}.png", smooth_image(40, 48, seed=i))
    out = tmp_path / "b4.pt"
    r = CliRunner().invoke(app, ["jscc", "fit-linear", "--data", str(data), "--block", "4", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "--block 4" in load_linear_basis(out).fitted_on
    bad = CliRunner().invoke(app, ["jscc", "fit-linear", "--data", str(data), "--block", "0", "--out", str(out)])
    assert bad.exit_code == 2 and "--block" in bad.output
