"""The linear-anchored deep JSCC (bssim.jscc.anchored, issue 18)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from bssim.jscc import load_model, transmit
from bssim.jscc.anchored import AnchoredJSCC, dequantise_codes, quantise_codes, quantise_side
from bssim.jscc.checkpoint import save_checkpoint
from bssim.jscc.config import JSCCConfig
from bssim.jscc.digital import code_levels, stream_channels
from bssim.jscc.linear import default_linear_basis, default_linear_basis_path, linear_transmit
from bssim.jscc.train import fresh_model

SMALL = {"c_full": 4, "c_half": 8, "c_s": 8, "n_res": 1, "policy_hidden": 8, "arch": "anchored", "block_px": 8}


def needs_basis(block_px: int = 8) -> None:
    if not default_linear_basis_path(block_px).is_file():
        pytest.skip(f"shipped basis {default_linear_basis_path(block_px)} absent")


def photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(4 * xx + c) * np.cos(3 * yy - c) for c in range(3)], axis=-1)
    return np.clip(127 + 90 * base + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return 10 * math.log10(255**2 / max(float(np.mean((a.astype(float) - b.astype(float)) ** 2)), 1e-12))


@pytest.fixture(scope="module", params=[(8, "index"), (16, "index"), (16, "variance")], ids=["b8", "b16", "b16-variance"])
def model(request: pytest.FixtureRequest) -> AnchoredJSCC:
    block_px, coef_order = request.param
    needs_basis(block_px)
    torch.manual_seed(0)
    return fresh_model(JSCCConfig(**{**SMALL, "block_px": block_px, "coef_order": coef_order})).eval()


def test_starts_as_the_linear_code(model: AnchoredJSCC) -> None:
    """At initialisation the network is the linear anchor: same image (noiseless, up to rounding), same symbols."""
    if model.cfg.coef_order != "index":
        pytest.skip("the linear anchor sends coefficients in basis order")
    img = photo(44, 60)
    basis = default_linear_basis(model.cfg.block_px)
    for n, k_over_n in ((8, 1 / 12), (16, 1 / 6)):
        net = transmit(model, img, 20.0, channel="none", n_active=n)
        lin = linear_transmit(img, basis, k_over_n, None)
        assert np.abs(net.image.astype(int) - lin.image.astype(int)).max() <= 2
        assert net.n_channel_uses == lin.symbols
    noisy = [psnr(img, transmit(model, img, s, seed=1, n_active=8).image) for s in (0.0, 10.0, 20.0)]
    lin_noisy = [psnr(img, linear_transmit(img, basis, 1 / 12, s, seed=1).image) for s in (0.0, 10.0, 20.0)]
    assert noisy == sorted(noisy)
    assert np.allclose(noisy, lin_noisy, atol=0.5)  # different noise draws, same code


def test_symbols_have_unit_power_and_nested_levels(model: AnchoredJSCC) -> None:
    x = torch.from_numpy(photo(64, 64)).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        for n in model.rate_levels:
            z, mask, side = model.encode_side(x, torch.tensor([10.0]), n_active=n)
            assert float((z[:, :n] ** 2).mean()) == pytest.approx(0.5, rel=2e-2)
            assert float(z[:, n:].abs().sum()) == 0.0
            assert side.shape == (1, 2, model.k)


def test_side_information_counted_and_required(model: AnchoredJSCC) -> None:
    img = photo(40, 40)
    res = transmit(model, img, 10.0, n_active=8, bits_per_value=8)
    b = model.cfg.block_px
    lh = lw = -(-40 // b) * b // 4  # padded to whole b×b blocks
    coef_map = model.k if model.cfg.coef_order == "variance" else 0  # one bit per coefficient: sent or not
    assert res.payload_bits == 8 * lh * lw * 8 + 16 + 32 * 8 * (b // 4) ** 2 + coef_map  # 32 bits per sent coefficient
    z, mask = model.encode(torch.rand(1, 3, 16, 16), torch.tensor([5.0]))
    with pytest.raises(ValueError, match="side information"):
        model.decode(z, mask, torch.tensor([5.0]))


def test_variance_order_sends_the_largest_coefficients_nested() -> None:
    """coef_order "variance": each level sends the n·(b/4)² coefficients of largest λ, the lower levels' among them;
    in basis order it sends the first ones. The receiver's λ (0 where unsent) gives the same choice and order."""
    needs_basis(16)
    torch.manual_seed(0)
    net = {o: fresh_model(JSCCConfig(**{**SMALL, "block_px": 16, "coef_order": o})) for o in ("index", "variance")}
    lam = torch.rand(2, net["index"].k) + 1e-3
    prev = torch.zeros_like(lam)
    for n in net["index"].rate_levels:
        mask = torch.zeros(2, net["index"].cfg.c_out)
        mask[:, :n] = 1.0
        cm_idx, _ = net["index"].sent_coefficients(lam, mask)
        cm_var, order = net["variance"].sent_coefficients(lam, mask)
        n_coef = n * net["index"].coefficients_per_channel
        assert torch.equal(cm_idx[:, :n_coef], torch.ones(2, n_coef)) and cm_idx.sum() == 2 * n_coef
        assert cm_var.sum() == 2 * n_coef and bool((cm_var >= prev).all())
        assert bool(((lam * cm_var).sum(1) >= (lam * cm_idx).sum(1)).all())
        assert bool((lam.gather(1, order).diff(dim=1) <= 0).all())
        received, order_rx = net["variance"].sent_coefficients(lam * cm_var, mask)
        assert torch.equal(received, cm_var) and torch.equal(order_rx[:, :n_coef], order[:, :n_coef])
        prev = cm_var


def test_side_codes_round_trip() -> None:
    nu, lam = torch.tensor([0.3, -1.2, 2.0]), torch.tensor([1e-3, 0.5, 3.0])
    nu_q, lam_q = quantise_side(nu, lam)
    back = dequantise_codes(*quantise_codes(nu_q, lam_q))
    assert torch.equal(back[0], nu_q) and torch.equal(back[1], lam_q)
    assert torch.allclose(lam_q, lam, rtol=2e-3)


def test_digital_bitstream_round_trip(model: AnchoredJSCC) -> None:
    img = photo(36, 52, seed=2)  # not multiples of 8: padded, cropped back
    out = code_levels(model, img, [4, 16, None], bits_per_value=8)
    for (data, rec), n in zip(out, (4, 16, None)):
        assert rec.shape == img.shape
        if n is not None:
            assert stream_channels(model, data) == n
            ref = transmit(model, img, 20.0, channel="none", n_active=n).image
            assert psnr(ref, rec) > 35.0  # 8-bit latents decode close to the unquantised ones
    assert len(out[1][0]) > len(out[0][0])


def test_checkpoint_round_trip(model: AnchoredJSCC, tmp_path: Path) -> None:
    p = save_checkpoint(tmp_path / "a.pt", model, {"note": "test"})
    back = load_model(p, precision="fp32")
    assert isinstance(back, AnchoredJSCC) and back.cfg == model.cfg
    img = photo(32, 40)
    a = transmit(model, img, 5.0, seed=3, n_active=8).image
    b = transmit(back, img, 5.0, seed=3, n_active=8).image
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


def test_train_cli_anchored_tiny(tmp_path: Path) -> None:
    needs_basis()
    from typer.testing import CliRunner

    from bssim.cli import app
    from bssim.files import write_image

    data = tmp_path / "photos"
    for i in range(4):
        write_image(data / f"p{i}.png", photo(72, 88, seed=i))
    out = tmp_path / "run.pt"
    args = ["jscc", "train", "--data", str(data), "--arch", "anchored", "--epochs", "1", "--crops-per-epoch", "8",
            "--batch", "4", "--crop", "32", "--crop-tail", "0", "--c-s", "8", "--c-half", "8", "--c-full", "4",
            "--n-res", "1", "--threads", "1", "--precision", "fp32", "--linear-lr-scale", "0.2", "--out", str(out)]  # fmt: skip
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    m = load_model(out)
    assert isinstance(m, AnchoredJSCC) and m.meta["settings"]["linear_lr_scale"] == 0.2
    bad = CliRunner().invoke(app, [*args[:-2], "--out", str(out), "--linear-lr-scale", "0"])
    assert bad.exit_code == 2 and "linear_lr_scale" in bad.output
    tuned = tmp_path / "variance.pt"
    r = CliRunner().invoke(app, [*args[:-2], "--init", str(out), "--coef-order", "variance", "--out", str(tuned)])
    assert r.exit_code == 0, r.output
    assert load_model(tuned).cfg.coef_order == "variance" and load_model(out).cfg.coef_order == "index"
    bad = CliRunner().invoke(app, [*args[:-2], "--init", str(out), "--coef-order", "largest", "--out", str(tmp_path / "x.pt")])
    assert bad.exit_code == 2 and "coef_order" in bad.output and "largest" in bad.output
    exported = tmp_path / "exported.pt"
    r = CliRunner().invoke(app, ["jscc", "export", str(out), str(exported), "--coef-order", "variance"])
    assert r.exit_code == 0, r.output
    back, orig = load_model(exported, precision="fp32"), load_model(out, precision="fp32")
    assert back.cfg.coef_order == "variance" and torch.allclose(back.analysis.weight, orig.analysis.weight, atol=1e-2)
    bad = CliRunner().invoke(app, ["jscc", "export", str(out), str(tmp_path / "y.pt"), "--coef-order", "top"])
    assert bad.exit_code == 2 and "--coef-order" in bad.output and "top" in bad.output


def test_analog_levels_matches_transmit_and_the_menus_codec(model: AnchoredJSCC) -> None:
    from bssim.codecs import CodeJob, RateSetting
    from bssim.codecs.jscc import JsccAnalog, generator
    from bssim.jscc.analog import analog_levels

    img = photo(36, 44, seed=5)
    for n in (8, 16):
        (k, rec, n_act), = analog_levels(model, img, [n], 5.0, "awgn", torch.Generator().manual_seed(7))
        ref = transmit(model, img, 5.0, seed=7, n_active=n)
        assert (k, n_act) == (ref.n_channel_uses, n) and np.array_equal(rec, ref.image)
    # the menus' codec: the same images, and the side information counted as ⌈bits/2⌉ symbols
    settings = [RateSetting(8, "c8", 8.0), RateSetting(16, "c16", 16.0)]
    coded = JsccAnalog(model, (8, 16)).code(img, settings, CodeJob(5.0, "awgn", 11))
    ref = analog_levels(model, img, [8, 16], 5.0, "awgn", generator(11, 5.0))
    for c, (k, rec, n) in zip(coded, ref):
        assert c.cost == k + -(-model.side_bits(n) // 2) > k and np.array_equal(c.image, rec)


def test_db_loss_is_the_mean_psnr_gradient_at_mse_scale() -> None:
    from bssim.jscc.train import distortion_loss

    x = torch.zeros(2, 3, 4, 4)
    xh = torch.cat([torch.full((1, 3, 4, 4), 0.1), torch.full((1, 3, 4, 4), 0.01)]).requires_grad_(True)
    mse = distortion_loss(xh, x, None, "mse")
    db = distortion_loss(xh, x, None, "db")
    assert float(db) == pytest.approx(float(mse))
    (g,) = torch.autograd.grad(db, xh)
    # d/dxh of m_i / m_i (weights fixed) is 2·xh / (n · m_i): the crop with 100x smaller MSE gets 10x the gradient per pixel
    assert float(g[1].mean() / g[0].mean()) == pytest.approx(10.0, rel=1e-4)
