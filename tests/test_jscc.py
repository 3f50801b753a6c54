"""Tests of the deep JSCC: shapes, power, channels, payload, mask, checkpoints, training."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from bssim.jscc import (
    AdaptiveJSCC,
    JSCCConfig,
    default_checkpoint_path,
    load_model,
    payload_bits,
    transmit,
)
from bssim.jscc.channels import ChannelSpec, apply_channel, awgn, rayleigh
from bssim.jscc.checkpoint import save_checkpoint
from bssim.jscc.model import power_normalize
from bssim.jscc.payload import channel_uses

TINY = JSCCConfig(c_s=8, c_out=4, af_hidden=4, policy_hidden=8)


def tiny_model(seed: int = 0) -> AdaptiveJSCC:
    torch.manual_seed(seed)
    return AdaptiveJSCC(TINY).eval()


def smooth_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A natural-ish test image: smooth colour gradients plus mild texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    f = rng.uniform(1, 4, size=3)
    img = np.stack([np.sin(f[c] * 3 * xx + c) * np.cos(f[c] * 2 * yy) for c in range(3)], axis=2)
    img = 0.5 + 0.4 * img + 0.05 * rng.standard_normal((h, w, 3))
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


# --- shapes -----------------------------------------------------------------------------


def test_encoder_decoder_shapes() -> None:
    m = tiny_model()
    x = torch.rand(2, 3, 24, 40)
    snr = torch.tensor([0.0, 20.0])
    with torch.no_grad():
        z, mask = m.encode(x, snr)
        out = m.decode(z, mask, snr)
    assert z.shape == (2, TINY.c_out, 6, 10)
    assert mask.shape == (2, TINY.c_out)
    assert out.shape == x.shape
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_encode_rejects_sides_not_multiple_of_4() -> None:
    with pytest.raises(ValueError, match="multiples of 4"):
        tiny_model().encode(torch.rand(1, 3, 30, 32), torch.tensor([5.0]))


@pytest.mark.parametrize("shape", [(1, 1), (5, 7), (33, 18), (32, 32)])
def test_transmit_pads_and_crops_back(shape: tuple[int, int]) -> None:
    m = tiny_model()
    img = smooth_image(*shape)
    res = transmit(m, img, 10.0)
    assert res.image.shape == img.shape and res.image.dtype == np.uint8
    hp, wp = -(-shape[0] // 4) * 4, -(-shape[1] // 4) * 4
    n_act = res.n_active_channels
    assert 1 <= n_act <= TINY.c_out
    assert res.rate == pytest.approx(n_act / TINY.c_out)
    assert res.n_channel_uses == math.ceil(n_act * (hp // 4) * (wp // 4) / 2)
    assert res.cbr == pytest.approx(res.n_channel_uses / (shape[0] * shape[1] * 3))
    assert res.payload_bits == n_act * (hp // 4) * (wp // 4) * 8 + TINY.c_out


def test_transmit_validates_input() -> None:
    m = tiny_model()
    with pytest.raises(ValueError, match="uint8"):
        transmit(m, np.zeros((8, 8, 3), np.float32), 5.0)
    with pytest.raises(ValueError, match="channel"):
        transmit(m, np.zeros((8, 8, 3), np.uint8), 5.0, channel="optical")
    with pytest.raises(ValueError, match="snr_db"):
        transmit(m, np.zeros((8, 8, 3), np.uint8), float("nan"))


def test_transmit_deterministic_per_seed() -> None:
    m = tiny_model()
    img = smooth_image(32, 48)
    a = transmit(m, img, 3.0, seed=7)
    b = transmit(m, img, 3.0, seed=7)
    c = transmit(m, img, 3.0, seed=8)
    assert np.array_equal(a.image, b.image)
    assert not np.array_equal(a.image, c.image)
    for ch in ("rayleigh",):
        r1 = transmit(m, img, 3.0, channel=ch, seed=1)
        r2 = transmit(m, img, 3.0, channel=ch, seed=1)
        assert np.array_equal(r1.image, r2.image)
        assert r1.n_channel_uses == a.n_channel_uses + 4  # the pilots are channel uses


# --- power normalisation and channels ---------------------------------------------------


def test_power_normalisation_unit_symbol_power() -> None:
    g = torch.Generator().manual_seed(0)
    z = 3.7 * torch.randn(4, 16, 8, 8, generator=g) + 1.2
    mask = (torch.rand(4, 16, generator=g) < 0.5).float()
    mask[:, 0] = 1.0
    zn = power_normalize(z, mask)
    for b in range(4):
        active = zn[b][mask[b].bool()].reshape(-1)
        pairs = active.reshape(-1, 2)
        sym_power = float((pairs**2).sum(dim=1).mean())
        assert sym_power == pytest.approx(1.0, rel=1e-4)
        assert float(zn[b][~mask[b].bool()].abs().sum()) == 0.0


def test_model_output_has_unit_symbol_power() -> None:
    m = tiny_model()
    with torch.no_grad():
        z, mask = m.encode(torch.rand(3, 3, 16, 16), torch.tensor([0.0, 10.0, 20.0]))
    for b in range(3):
        act = z[b][mask[b] > 0.5]
        assert float((act**2).mean()) * 2 == pytest.approx(1.0, rel=1e-3)


@pytest.mark.parametrize("snr_db", [0.0, 7.0, 20.0])
def test_awgn_noise_power_matches_snr(snr_db: float) -> None:
    g = torch.Generator().manual_seed(1)
    z = torch.zeros(2, 8, 64, 64)
    y = awgn(z, torch.full((2,), snr_db), generator=g)
    # complex noise power = sum over the two real components = 2 * mean square per real value
    measured = float((y**2).mean()) * 2
    assert measured == pytest.approx(10 ** (-snr_db / 10), rel=0.02)


def test_awgn_measured_snr_with_signal() -> None:
    m = tiny_model()
    z, mask = m.encode(torch.rand(1, 3, 64, 64), torch.tensor([10.0]))
    act = mask[0] > 0.5
    y = awgn(z, torch.tensor([10.0]), generator=torch.Generator().manual_seed(3))
    sig = float((z[0][act].detach() ** 2).mean())
    noise = float(((y - z)[0][act].detach() ** 2).mean())
    assert 10 * math.log10(sig / noise) == pytest.approx(10.0, abs=0.3)


def test_rayleigh_perfect_csi_equalises() -> None:
    g = torch.Generator().manual_seed(2)
    z = torch.randn(3, 4, 8, 8, generator=g) / math.sqrt(2)
    y, snr_eff = rayleigh(z, torch.full((3,), 60.0), csi="perfect", generator=g)
    assert torch.allclose(y, z, atol=5e-3)  # at 60 dB only the tiny noise remains
    assert snr_eff.shape == (3,)


def test_rayleigh_estimated_csi_error_variance() -> None:
    # the equalised output of a unit symbol is h / ĥ; ĥ - h has variance σ²/n_pilots
    snr_db, n_p, trials = 10.0, 4, 4000
    z = torch.zeros(trials, 1, 1, 2)
    z[..., 0] = 1.0  # the complex symbol 1 + 0j
    y, _ = rayleigh(z, torch.full((trials,), snr_db), csi="estimated", n_pilots=n_p,
                    generator=torch.Generator().manual_seed(4))  # fmt: skip
    # with estimated CSI the error is larger than with perfect CSI at the same draws
    y_p, _ = rayleigh(z, torch.full((trials,), snr_db), csi="perfect", generator=torch.Generator().manual_seed(4))
    err_est = float(((y - z) ** 2).sum(dim=(1, 2, 3)).median())
    err_perf = float(((y_p - z) ** 2).sum(dim=(1, 2, 3)).median())
    assert err_est > err_perf
    with pytest.raises(ValueError):
        ChannelSpec(kind="rayleigh", csi="guess")


def test_apply_channel_awgn_passes_snr() -> None:
    z = torch.zeros(1, 2, 4, 4)
    _, snr = apply_channel(z, torch.tensor([12.0]), ChannelSpec("awgn"), torch.Generator().manual_seed(0))
    assert float(snr) == 12.0


# --- payload ----------------------------------------------------------------------------


def test_payload_formula() -> None:
    # Kodak 768x512 at rate 8/16: 8 channels x 192 x 128 values x 8 bits + 16 mask bits
    assert payload_bits(8, 128, 192) == 8 * 128 * 192 * 8 + 16
    assert payload_bits(8, 128, 192, bits_per_value=4, side_info_bits=64) == 8 * 128 * 192 * 4 + 16 + 64
    assert payload_bits(0, 10, 10) == 16
    assert channel_uses(3, 3, 3) == 14  # 27 real values -> 14 complex symbols
    assert channel_uses(3, 3, 3, pilots=4) == 18
    with pytest.raises(ValueError, match="bits_per_value"):
        payload_bits(1, 2, 2, bits_per_value=0)
    with pytest.raises(ValueError, match="n_active_channels"):
        payload_bits(-1, 2, 2)
    with pytest.raises(ValueError, match="exceed"):
        payload_bits(17, 2, 2)


# --- policy mask ------------------------------------------------------------------------


def test_policy_mask_binary_in_training_and_inference() -> None:
    m = tiny_model()
    x, snr = torch.rand(8, 3, 16, 16), torch.linspace(0, 20, 8)
    m.train()
    torch.manual_seed(0)
    _, mask_train = m.encode(x, snr)
    m.eval()
    _, mask_eval = m.encode(x, snr)
    for mask in (mask_train, mask_eval):
        vals = set(mask.detach().reshape(-1).tolist())
        assert vals <= {0.0, 1.0}
    assert bool((mask_eval.sum(dim=1) >= 1).all())


def test_policy_receives_gradient_through_mask() -> None:
    m = tiny_model()
    m.train()
    torch.manual_seed(0)
    z, mask = m.encode(torch.rand(4, 3, 16, 16), torch.full((4,), 5.0))
    out = m.decode(z, mask, torch.full((4,), 5.0))
    out.mean().backward()
    grads = [p.grad for p in m.policy.parameters()]
    assert any(g is not None and float(g.abs().sum()) > 0 for g in grads)


# --- checkpoints ------------------------------------------------------------------------


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    m = tiny_model(3)
    p = save_checkpoint(tmp_path / "m.pt", m, {"note": "test"})
    obj = torch.load(p, map_location="cpu", weights_only=True)  # plain types only
    assert obj["config"] == TINY.to_dict()
    m2 = load_model(p)
    img = smooth_image(20, 28)
    a, b = transmit(m, img, 5.0, seed=1), transmit(m2, img, 5.0, seed=1)
    assert np.array_equal(a.image, b.image)
    assert len(m2.model_version) == 12 and m2.meta["note"] == "test"
    # float16 storage converts back to float32 on load
    ph = save_checkpoint(tmp_path / "h.pt", m, half=True)
    m3 = load_model(ph)
    assert all(p.dtype == torch.float32 for p in m3.parameters())
    assert m3.model_version != m2.model_version


def test_load_model_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load_model(tmp_path / "nope.pt")
    bad = tmp_path / "bad.pt"
    torch.save({"x": torch.zeros(1)}, bad)
    with pytest.raises(ValueError, match="not a bssim JSCC checkpoint"):
        load_model(bad)


def test_shipped_checkpoint_loads() -> None:
    p = default_checkpoint_path()
    if not p.is_file():
        pytest.skip(f"shipped checkpoint absent: {p}")
    assert p.stat().st_size < 20e6
    m = load_model()
    res = transmit(m, smooth_image(40, 52), 10.0)
    assert res.image.shape == (40, 52, 3)
    assert 0.0 < res.rate <= 1.0


# --- data: CIFAR-10 batches through the restricted unpickler --------------------------------


def test_cifar_batches_load_safely(tmp_path: Path) -> None:
    from bssim.jscc.data import load_cifar10, load_training_images

    d = tmp_path / "cifar-10-batches-py"
    d.mkdir()
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, size=(5, 3072), dtype=np.uint8)
    with open(d / "data_batch_1", "wb") as f:
        pickle.dump({b"data": data, b"labels": [0, 1, 2, 3, 4]}, f, protocol=2)
    imgs = load_cifar10(tmp_path)
    assert imgs.shape == (5, 32, 32, 3)
    assert np.array_equal(imgs[1][..., 0].reshape(-1), data[1, :1024])
    train, val, _ = load_training_images(tmp_path)
    assert len(train) + len(val) == 5

    class Evil:
        def __reduce__(self):  # noqa: ANN204
            return (print, ("pwned",))

    with open(d / "data_batch_2", "wb") as f:
        pickle.dump({b"data": Evil()}, f, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        load_cifar10(tmp_path)


# --- training ---------------------------------------------------------------------------


def _write_images(folder: Path, n: int = 5) -> None:
    from PIL import Image

    folder.mkdir()
    for i in range(n):
        Image.fromarray(smooth_image(48, 64, seed=i)).save(folder / f"img{i}.png")


def _tiny_settings(data: Path, out: Path, epochs: int, c_s: int = 8, crops: int = 64, lr: float = 1e-2):
    from bssim.jscc.train import TrainSettings

    return TrainSettings(
        data=str(data), out=str(out), epochs=epochs, batch=16, crop=16, crops_per_epoch=crops,
        lr=lr, lr2=lr / 3, seed=0, val_every=5, val_crop=32,
        model={"c_s": c_s, "c_out": 4, "af_hidden": 4, "policy_hidden": 8},
    )  # fmt: skip


@pytest.fixture
def one_thread():
    """Train with one torch thread (the machine's cores are shared); restore afterwards."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_tiny_training_lowers_loss(tmp_path: Path, one_thread: None) -> None:
    from bssim.jscc.train import train

    _write_images(tmp_path / "imgs")
    s = _tiny_settings(tmp_path / "imgs", tmp_path / "t.pt", epochs=6, c_s=16, crops=256, lr=5e-3)
    model, log = train(s, progress=False)
    assert len(log) == 6
    assert [r["phase"] for r in log] == [1, 1, 2, 2, 3, 3]
    assert log[-1]["loss"] < 0.85 * log[0]["loss"]
    assert (tmp_path / "t.csv").is_file()
    assert load_model(tmp_path / "t.pt").meta["epochs_done"] == 6


def test_training_resume_matches_uninterrupted(tmp_path: Path, one_thread: None) -> None:
    from bssim.jscc.train import train

    _write_images(tmp_path / "imgs")
    full, _ = train(_tiny_settings(tmp_path / "imgs", tmp_path / "full.pt", 3), progress=False)
    s2 = _tiny_settings(tmp_path / "imgs", tmp_path / "part.pt", 3)
    s2.epochs = 1
    train(s2, progress=False)
    s2.epochs = 3
    resumed, log = train(s2, resume=tmp_path / "part.pt", progress=False)
    assert [r["epoch"] for r in log] == [1, 2, 3]
    for (k, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), k


# --- evaluation and separation baseline ---------------------------------------------------------


def test_capacity_bits_and_baseline() -> None:
    from bssim.jscc.evaluate import capacity_bits, separation_baseline

    assert capacity_bits(1000, 0.0) == 1000  # log2(1 + 1) = 1 bit per use
    assert capacity_bits(1000, 10 * math.log10(3)) == 2000
    img = smooth_image(64, 64)
    tiny = separation_baseline(img, 40)  # 5 bytes: no codec's header fits
    assert tiny["baseline_codec"] == "none"
    big = separation_baseline(img, 64 * 64 * 24)
    assert big["baseline_codec"] in ("jpeg", "webp", "jpeg2000")
    assert big["baseline_psnr_db"] > tiny["baseline_psnr_db"] + 5
    for c in ("jpeg", "webp", "jpeg2000"):
        assert big[f"{c}_bits"] <= 64 * 64 * 24


def test_eval_cli_json(tmp_path: Path) -> None:
    from PIL import Image
    from typer.testing import CliRunner

    from bssim.cli import app

    if not default_checkpoint_path().is_file():
        pytest.skip("shipped checkpoint absent")
    d = tmp_path / "imgs"
    d.mkdir()
    Image.fromarray(smooth_image(168, 176)).save(d / "a.png")
    r = CliRunner().invoke(app, ["jscc", "eval", "--images", str(d), "--snr", "0,20", "--json", "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [x["snr_db"] for x in rows] == [0.0, 20.0]
    for x in rows:
        for k in ("psnr_db", "ssim", "ms_ssim", "rate", "cbr", "baseline_psnr_db", "baseline_codec"):
            assert k in x
    assert (tmp_path / "o" / "psnr_vs_snr.png").stat().st_size > 1000
    bad = CliRunner().invoke(app, ["jscc", "eval", "--images", str(d), "--snr", "x"])
    assert bad.exit_code == 2 and "--snr" in bad.output
