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
from bssim.jscc.policy import choice_to_mask, expected_groups, sample_choice

# 8 channels in 4 groups of 2, one always on: levels (2, 4, 6, 8)
TINY = JSCCConfig(c_full=4, c_half=8, c_s=8, n_res=1, c_out=8, group_size=2, n_fixed_groups=1, policy_hidden=8)


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


# --- config and rate levels -------------------------------------------------------------


def test_rate_levels_from_group_layout() -> None:
    assert TINY.rate_levels == (2, 4, 6, 8)
    assert JSCCConfig().rate_levels == (4, 6, 8, 10, 12, 14, 16)
    assert JSCCConfig(n_fixed_groups=4).rate_levels == (8, 10, 12, 14, 16)
    assert tiny_model().rate_levels == TINY.rate_levels
    with pytest.raises(ValueError, match="multiple of group_size"):
        JSCCConfig(c_out=15, group_size=2)
    with pytest.raises(ValueError, match="n_fixed_groups"):
        JSCCConfig(n_fixed_groups=0)
    with pytest.raises(ValueError, match="unknown JSCC config keys"):
        JSCCConfig.from_dict({**TINY.to_dict(), "af_hidden": 4})


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
    assert n_act in TINY.rate_levels
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
    with pytest.raises(ValueError, match=r"n_active must be one of the rate levels \(2, 4, 6, 8\), got 5"):
        transmit(m, np.zeros((8, 8, 3), np.uint8), 5.0, n_active=5)


def test_transmit_deterministic_per_seed() -> None:
    m = tiny_model()
    img = smooth_image(32, 48)
    a = transmit(m, img, 3.0, seed=7)
    b = transmit(m, img, 3.0, seed=7)
    c = transmit(m, img, 3.0, seed=8)
    assert np.array_equal(a.image, b.image)
    assert not np.array_equal(a.image, c.image)
    r1 = transmit(m, img, 3.0, channel="rayleigh", seed=1)
    r2 = transmit(m, img, 3.0, channel="rayleigh", seed=1)
    assert np.array_equal(r1.image, r2.image)
    assert r1.n_channel_uses == a.n_channel_uses + 4  # the pilots are channel uses


def test_transmit_forced_levels_and_noiseless_channel() -> None:
    m = tiny_model()
    img = smooth_image(32, 48)
    for n in TINY.rate_levels:
        res = transmit(m, img, 10.0, n_active=n)
        assert res.n_active_channels == n
        assert res.n_channel_uses == math.ceil(n * 8 * 12 / 2)
    a = transmit(m, img, 20.0, channel="none", seed=1, n_active=4)
    b = transmit(m, img, 20.0, channel="none", seed=2, n_active=4)
    assert np.array_equal(a.image, b.image)  # no noise: the seed does not matter


# --- power normalisation ----------------------------------------------------------------


def test_power_normalisation_per_channel() -> None:
    g = torch.Generator().manual_seed(0)
    z = 3.7 * torch.randn(4, 16, 8, 8, generator=g) + torch.arange(16.0)[None, :, None, None]
    mask = (torch.rand(4, 16, generator=g) < 0.5).float()
    mask[:, 0] = 1.0
    zn = power_normalize(z, mask)
    for b in range(4):
        on = mask[b].bool()
        # every active channel: mean square 1/2 per real value, so complex pairs have power 1
        per_channel = (zn[b][on] ** 2).mean(dim=(1, 2))
        assert torch.allclose(per_channel, torch.full_like(per_channel, 0.5), rtol=1e-4)
        pairs = zn[b][on].reshape(-1, 2)
        assert float((pairs**2).sum(dim=1).mean()) == pytest.approx(1.0, rel=1e-4)
        assert float(zn[b][~on].abs().sum()) == 0.0


def test_first_channels_of_all_on_encoding_are_normalised() -> None:
    m = tiny_model()
    x, snr = torch.rand(2, 3, 16, 24), torch.tensor([3.0, 15.0])
    with torch.no_grad():
        z_all, _ = m.encode(x, snr, n_active=8)
        z4, mask4 = m.encode(x, snr, n_active=4)
    trunc = z_all * mask4[:, :, None, None]
    assert torch.allclose(trunc, z4, atol=1e-6)
    assert torch.allclose(power_normalize(trunc, mask4), z4, atol=1e-5)


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


# --- policy and nested masks --------------------------------------------------------------


def test_choice_to_mask_is_nested_thermometer() -> None:
    eye = torch.eye(TINY.n_choices)
    masks = choice_to_mask(eye, TINY)
    assert masks.tolist() == [
        [1, 1, 0, 0, 0, 0, 0, 0],
        [1, 1, 1, 1, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 1, 0, 0],
        [1, 1, 1, 1, 1, 1, 1, 1],
    ]
    # nested: each level's channels contain the previous level's
    for lo, hi in zip(masks[:-1], masks[1:]):
        assert bool((hi >= lo).all())


def test_forced_levels_give_nested_masks() -> None:
    m = tiny_model()
    x, snr = torch.rand(3, 3, 16, 16), torch.tensor([0.0, 10.0, 20.0])
    prev = None
    for n in m.rate_levels:
        _, mask = m.encode(x, snr, n_active=n)
        assert mask.sum(dim=1).tolist() == [n] * 3
        assert mask[:, :n].eq(1).all() and mask[:, n:].eq(0).all()
        if prev is not None:
            assert bool((mask >= prev).all())
        prev = mask


@pytest.mark.parametrize("bad", [0, 3, 5, 16, -2, 4.0, True, "4"])
def test_forced_level_errors_name_value_and_levels(bad: object) -> None:
    with pytest.raises(ValueError) as err:
        tiny_model().encode(torch.rand(1, 3, 8, 8), torch.tensor([5.0]), n_active=bad)
    assert "(2, 4, 6, 8)" in str(err.value) and repr(bad) in str(err.value)


def test_policy_masks_in_training_and_inference() -> None:
    m = tiny_model()
    x, snr = torch.rand(8, 3, 16, 16), torch.linspace(0, 20, 8)
    m.train()
    torch.manual_seed(0)
    _, mask_train = m.encode(x, snr, tau=2.0)
    m.eval()
    _, mask_eval = m.encode(x, snr)
    _, mask_eval2 = m.encode(x, snr)
    assert torch.equal(mask_eval, mask_eval2)  # deterministic arg-max at inference
    for mask in (mask_train, mask_eval):
        assert set(mask.detach().reshape(-1).tolist()) <= {0.0, 1.0}
        assert set(mask.detach().sum(dim=1).int().tolist()) <= set(TINY.rate_levels)
    probs = m.policy_probs(x, snr)
    assert probs.shape == (8, TINY.n_choices)
    assert torch.allclose(probs.sum(dim=1), torch.ones(8))
    expected = TINY.rate_levels[int(probs[0].argmax())]
    assert int(mask_eval[0].sum()) == expected
    rate = m.expected_rate(x, snr)
    assert rate.shape == (8,)
    assert torch.allclose(rate, (probs * torch.tensor([2.0, 4.0, 6.0, 8.0])).sum(dim=1) / 8)


def test_gumbel_samples_follow_policy_probabilities() -> None:
    logits = torch.log(torch.tensor([[0.1, 0.2, 0.3, 0.4]])).repeat(20000, 1)
    onehot = sample_choice(logits, tau=0.5, generator=torch.Generator().manual_seed(0))
    freq = onehot.detach().mean(dim=0)
    assert torch.allclose(freq, torch.tensor([0.1, 0.2, 0.3, 0.4]), atol=0.015)
    assert torch.allclose(expected_groups(logits[:1]), torch.tensor([2.0]))  # 0.2 + 0.6 + 1.2


def test_policy_receives_gradient_through_mask() -> None:
    m = tiny_model()
    m.train()
    torch.manual_seed(0)
    z, mask = m.encode(torch.rand(4, 3, 16, 16), torch.full((4,), 5.0), tau=1.0)
    out = m.decode(z, mask, torch.full((4,), 5.0))
    out.mean().backward()
    grads = [p.grad for p in m.policy.parameters()]
    assert any(g is not None and float(g.abs().sum()) > 0 for g in grads)


def test_bf16_precision_close_to_fp32() -> None:
    m = tiny_model()
    x, snr = torch.rand(1, 3, 32, 32), torch.tensor([10.0])
    with torch.no_grad():
        z, mask = m.encode(x, snr, n_active=8)
        ref = m.decode(z, mask, snr)
        m.precision = "bf16"
        z2, mask2 = m.encode(x, snr, n_active=8)
        out = m.decode(z2, mask2, snr)
    assert z2.dtype == torch.float32 and out.dtype == torch.float32
    assert float((out - ref).abs().max()) < 0.05
    m.precision = "fp16"
    with pytest.raises(ValueError, match="precision"):
        m.encode(x, snr)


# --- checkpoints ------------------------------------------------------------------------


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    m = tiny_model(3)
    p = save_checkpoint(tmp_path / "m.pt", m, {"note": "test"})
    obj = torch.load(p, map_location="cpu", weights_only=True)  # plain types only
    assert obj["config"] == TINY.to_dict() and obj["format"] == "bssim-jscc/2"
    m2 = load_model(p, precision="fp32")
    img = smooth_image(20, 28)
    a, b = transmit(m, img, 5.0, seed=1), transmit(m2, img, 5.0, seed=1)
    assert np.array_equal(a.image, b.image)
    assert len(m2.model_version) == 12 and m2.meta["note"] == "test"
    # float16 storage converts back to float32 on load
    ph = save_checkpoint(tmp_path / "h.pt", m, half=True)
    m3 = load_model(ph)
    assert all(p.dtype == torch.float32 for p in m3.parameters())
    assert m3.model_version != m2.model_version
    assert m3.precision in ("fp32", "bf16")
    with pytest.raises(ValueError, match="precision"):
        load_model(p, precision="fp8")


def test_load_model_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load_model(tmp_path / "nope.pt")
    bad = tmp_path / "bad.pt"
    torch.save({"x": torch.zeros(1)}, bad)
    with pytest.raises(ValueError, match="not a bssim JSCC checkpoint"):
        load_model(bad)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty.pt: the file is empty"):
        load_model(empty)
    pickled = tmp_path / "pickled.pt"
    torch.save({"format": "bssim-jscc/2", "obj": Path("x")}, pickled)
    with pytest.raises(ValueError) as err:
        load_model(pickled)
    assert "pickled.pt" in str(err.value) and "weights_only=False" not in str(err.value)


def test_old_format_checkpoint_rejected_with_reason(tmp_path: Path) -> None:
    old = tmp_path / "old.pt"
    torch.save({"format": "bssim-jscc/1", "config": {"c_s": 64}, "state_dict": {}, "meta": {}}, old)
    with pytest.raises(ValueError, match=r"old.pt is a JSCC checkpoint of the previous architecture"):
        load_model(old)
    from typer.testing import CliRunner

    from bssim.cli import app

    d = tmp_path / "imgs"
    _write_images(d, 1)
    r = CliRunner().invoke(app, ["jscc", "eval", "--images", str(d), "--checkpoint", str(old), "--snr", "5"])
    assert r.exit_code == 2 and "error:" in r.output and "previous architecture" in r.output
    assert "Traceback" not in r.output


def test_checkpoint_weights_must_match_config(tmp_path: Path) -> None:
    m = tiny_model()
    p = save_checkpoint(tmp_path / "m.pt", m)
    obj = torch.load(p, weights_only=True)
    obj["config"]["c_s"] = 12
    torch.save(obj, p)
    with pytest.raises(ValueError, match="do not match its config"):
        load_model(p)


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


# --- data: augmented crops ------------------------------------------------------------------


def test_sampler_crops_are_deterministic_and_augmented() -> None:
    from bssim.jscc.sampler import CropSampler

    imgs = [smooth_image(48, 64, seed=i) for i in range(3)]
    sam = CropSampler(imgs, 16)
    a = sam.batch(8, np.random.default_rng(5))
    b = sam.batch(8, np.random.default_rng(5))
    c = sam.batch(8, np.random.default_rng(6))
    assert a.shape == (8, 16, 16, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_sampler_rescale_and_symmetries() -> None:
    import cv2

    from bssim.jscc.sampler import CropSampler

    img = smooth_image(32, 32, seed=1)
    sam = CropSampler([img], 16, min_scale=0.5, max_scale=0.5)  # the whole image at half size
    small = cv2.resize(img, (16, 16), interpolation=cv2.INTER_AREA)
    dihedral = [np.rot90(small, k) for k in range(4)] + [np.rot90(small, k)[:, ::-1] for k in range(4)]
    seen = set()
    rng = np.random.default_rng(0)
    for _ in range(64):
        crop = sam.one(img, rng)
        hits = [i for i, d in enumerate(dihedral) if np.array_equal(crop, d)]
        assert hits, "crop is not a rotation/flip of the half-size image"
        seen.add(hits[0])
    assert len(seen) == 8  # all eight symmetries of the square occur
    with pytest.raises(ValueError, match="scales"):
        CropSampler([img], 16, min_scale=0.0)


def test_read_image_with_opencv(tmp_path: Path) -> None:
    import cv2

    from bssim.files import read_image

    img = smooth_image(20, 24)
    cv2.imwrite(str(tmp_path / "a.png"), img[:, :, ::-1])
    assert np.array_equal(read_image(tmp_path / "a.png"), img)
    (tmp_path / "b.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="b.png"):
        read_image(tmp_path / "b.png")


# --- training ---------------------------------------------------------------------------


def _write_images(folder: Path, n: int = 5) -> None:
    import cv2

    folder.mkdir()
    for i in range(n):
        cv2.imwrite(str(folder / f"img{i}.png"), smooth_image(48, 64, seed=i)[:, :, ::-1])


def _tiny_settings(data: Path, out: Path, epochs: int, **kw):
    from bssim.jscc.train import TrainSettings

    base = dict(
        data=str(data), out=str(out), epochs=epochs, batch=8, crop=16, crop_tail=32, tail_fraction=0.34,
        crops_per_epoch=32, lr=5e-3, lr2=2e-3, lr_fine=1e-3, seed=0, val_every=5, val_crop=32,
        precision="fp32", model={"c_full": 4, "c_half": 8, "c_s": 8, "n_res": 1, "c_out": 8,
                                 "n_fixed_groups": 1, "policy_hidden": 8},
    )  # fmt: skip
    base.update(kw)
    return TrainSettings(**base)


@pytest.fixture
def one_thread():
    """Train with one torch thread (the machine's cores are shared); restore afterwards."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_schedule_phases_tau_and_tail() -> None:
    from bssim.jscc.train import TrainSettings

    sch = TrainSettings(data=".", epochs=20, crop=128, crop_tail=256, tail_fraction=0.2, batch=16,
                        crops_per_epoch=4096).schedule()  # fmt: skip
    assert [sch.phase(e) for e in range(20)] == [1] * 12 + [2] * 5 + [3] * 3
    assert sch.lr(0) == 5e-4 and sch.lr(12) == 5e-5 and sch.lr(19) == 1e-5
    taus = [sch.tau(t) for t in np.linspace(0, 20, 41)]
    assert taus[0] == pytest.approx(5.0) and all(a >= b for a, b in zip(taus, taus[1:]))
    assert sch.tau(17) == pytest.approx(0.1) and sch.tau(19.5) == pytest.approx(0.1)
    assert sch.crops(15) == (128, 16, 4096)
    assert sch.crops(16) == (256, 4, 1024)  # same pixels per step and per epoch
    assert [sch.is_warmup(e) for e in range(4)] == [True, True, True, False]  # 0.15 of 20 epochs


def test_settings_errors_name_the_option() -> None:
    with pytest.raises(ValueError, match=r"crops_per_epoch \(--crops-per-epoch\) must be >= 1, got 0"):
        _tiny_settings(Path("."), Path("x.pt"), 1, crops_per_epoch=0)
    with pytest.raises(ValueError, match=r"--crop-tail"):
        _tiny_settings(Path("."), Path("x.pt"), 1, crop_tail=30)
    with pytest.raises(ValueError, match=r"--phase-fractions"):
        _tiny_settings(Path("."), Path("x.pt"), 1, phase_fractions=(0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="precision"):
        _tiny_settings(Path("."), Path("x.pt"), 1, precision="half")


def test_dual_ascent_moves_lambda_towards_target_rate() -> None:
    from bssim.jscc.train import update_lambda

    s = _tiny_settings(Path("."), Path("x.pt"), 1, target_rate=0.5, lambda_step=1e-3)
    assert update_lambda(1e-3, 0.7, s) == pytest.approx(1.2e-3)
    assert update_lambda(1e-4, 0.3, s) == pytest.approx(-1e-4)  # negative: a reward for rate
    assert update_lambda(1e-3, 0.5, s) == pytest.approx(1e-3)
    assert update_lambda(1e-3, float("nan"), s) == 1e-3
    fixed = _tiny_settings(Path("."), Path("x.pt"), 1, target_rate=0.0)
    assert update_lambda(1e-3, 0.9, fixed) == 1e-3


def test_batch_choices_forced_share_and_fixed_level() -> None:
    from bssim.jscc.train import StepPlan, batch_choices

    m = tiny_model()
    logits = torch.zeros(8, TINY.n_choices)
    torch.manual_seed(0)
    plan = StepPlan(tau=1.0, lam=0.0, phase=1)
    ch, n_forced = batch_choices(m, logits, _tiny_settings(Path("."), Path("x"), 1, forced_share=0.5), plan)
    assert n_forced == 4 and ch.shape == (8, TINY.n_choices)
    assert torch.equal(ch.detach().sum(dim=1), torch.ones(8))
    _, n_forced = batch_choices(m, logits, _tiny_settings(Path("."), Path("x"), 1), StepPlan(1.0, 0.0, 1, warmup=True))
    assert n_forced == 8  # the policy waits in the warm-up
    ch, n_forced = batch_choices(m, logits, _tiny_settings(Path("."), Path("x"), 1, fixed_level=6), plan)
    assert n_forced == 8 and choice_to_mask(ch, TINY).sum(dim=1).tolist() == [6.0] * 8


def test_tiny_training_lowers_loss(tmp_path: Path, one_thread: None) -> None:
    from bssim.jscc.train import train

    _write_images(tmp_path / "imgs")
    s = _tiny_settings(tmp_path / "imgs", tmp_path / "t.pt", epochs=6, crops_per_epoch=256, lr=1e-2)
    model, log = train(s)
    assert len(log) == 6
    assert [r["phase"] for r in log] == [1, 1, 1, 1, 2, 3]
    assert [r["warmup"] for r in log] == [1, 0, 0, 0, 0, 0]
    assert [r["crop"] for r in log] == [16, 16, 16, 16, 32, 32]
    assert log[3]["mse"] < 0.8 * log[0]["mse"]  # last epoch on 16 px crops against the first
    assert (tmp_path / "t.csv").is_file()
    meta = load_model(tmp_path / "t.pt").meta
    assert meta["epochs_done"] == 6 and meta["chunks"][0]["last_epoch"] == 6
    for key in ("val_psnr_0db", "val_rate_10db", "val_psnr_L2_10db", "val_psnr_L8_10db", "lambda"):
        assert key in log[-1]


def test_training_resume_matches_uninterrupted(tmp_path: Path, one_thread: None) -> None:
    from bssim.jscc.train import train

    _write_images(tmp_path / "imgs")
    full, flog = train(_tiny_settings(tmp_path / "imgs", tmp_path / "full.pt", 3))
    train(_tiny_settings(tmp_path / "imgs", tmp_path / "part.pt", 3, max_seconds=1e-9))  # stops after 1 epoch
    assert load_model(tmp_path / "part.pt").meta["epochs_done"] == 1
    resumed, log = train(_tiny_settings(tmp_path / "imgs", tmp_path / "part.pt", 3), resume=tmp_path / "part.pt")
    assert [r["epoch"] for r in log] == [1, 2, 3]
    assert log[-1]["lambda"] == flog[-1]["lambda"] and log[-1]["loss"] == flog[-1]["loss"]
    for (k, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), k
    chunks = load_model(tmp_path / "part.pt").meta["chunks"]
    assert [(c["first_epoch"], c["last_epoch"]) for c in chunks] == [(1, 1), (2, 3)]


def test_fixed_rate_training_and_export(tmp_path: Path, one_thread: None) -> None:
    from bssim.jscc.train import export_checkpoint, train

    _write_images(tmp_path / "imgs")
    _, log = train(_tiny_settings(tmp_path / "imgs", tmp_path / "f.pt", 2, fixed_level=4))
    assert all(r["rate"] == pytest.approx(0.5) for r in log)
    p = export_checkpoint(tmp_path / "f.pt", tmp_path / "f16.pt")
    obj = torch.load(p, weights_only=True)
    assert "train_state" not in obj and obj["meta"]["weights_dtype"] == "float16"
    assert p.stat().st_size < (tmp_path / "f.pt").stat().st_size


def test_training_path_needs_no_heavy_dependencies(tmp_path: Path) -> None:
    """`bssim jscc train` runs with simpy, ortools, PIL, scipy, skimage, matplotlib, tqdm absent."""
    import subprocess
    import sys

    _write_images(tmp_path / "imgs", 3)
    code = f"""
import sys
for name in ("simpy", "ortools", "PIL", "scipy", "skimage", "matplotlib", "tqdm", "pyarrow", "rembg"):
    sys.modules[name] = None  # as if not installed: import raises ModuleNotFoundError
import bssim.jscc.train
assert "pydantic" not in sys.modules, "the training code imports pydantic"
from bssim.cli import app
app(["jscc", "train", "--data", {str(tmp_path / "imgs")!r}, "--out", {str(tmp_path / "t.pt")!r},
     "--epochs", "1", "--crops-per-epoch", "8", "--batch", "4", "--crop", "16", "--crop-tail", "0",
     "--c-s", "8", "--c-half", "8", "--c-full", "4", "--n-res", "1", "--threads", "1", "--precision", "fp32"])
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "t.pt").is_file()


def test_train_cli_bad_input_exits_2(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bssim.cli import app

    r = CliRunner().invoke(app, ["jscc", "train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "x.pt")])
    assert r.exit_code == 2 and "missing" in r.output
    _write_images(tmp_path / "imgs", 2)
    r = CliRunner().invoke(app, ["jscc", "train", "--data", str(tmp_path / "imgs"), "--c-s", "0"])
    assert r.exit_code == 2 and "c_s must be >= 1" in r.output
    r = CliRunner().invoke(app, ["jscc", "train", "--data", str(tmp_path / "imgs"), "--fixed-level", "7",
                                 "--epochs", "1", "--crops-per-epoch", "4", "--crop", "16", "--crop-tail", "0",
                                 "--out", str(tmp_path / "y.pt")])  # fmt: skip
    assert r.exit_code == 2 and "rate levels" in r.output


# --- evaluation and separation baseline ---------------------------------------------------------


def test_capacity_bits_and_baseline() -> None:
    from bssim.jscc.baseline import capacity_bits, separation_baseline

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


def _tiny_checkpoint(tmp_path: Path) -> Path:
    return save_checkpoint(tmp_path / "tiny.pt", tiny_model(1))


def test_evaluate_rows_levels_ceiling_and_psnr_conventions(tmp_path: Path) -> None:
    from bssim.jscc.evaluate import EvalSettings, evaluate

    _write_images(tmp_path / "imgs", 3)
    s = EvalSettings(snrs_db=(0.0, 20.0), channels=("awgn", "rayleigh"), baseline=False, quality_metrics=False)
    summary, rows = evaluate(tmp_path / "imgs", s, checkpoint=_tiny_checkpoint(tmp_path), precision="fp32")
    kinds = {(r["kind"], r["channel"]) for r in summary}
    assert kinds == {("policy", "awgn"), ("policy", "rayleigh"), ("level", "awgn"), ("level", "rayleigh"),
                     ("policy", "none"), ("level", "none")}  # fmt: skip
    assert len(rows) == 3 * (2 * 2 * (1 + 4) + (1 + 4))
    for r in summary:
        per = [x for x in rows if (x["kind"], x["channel"], x["snr_db"], x["level"]) == (r["kind"], r["channel"], r["snr_db"], r["level"])]
        assert r["n_images"] == 3 == len(per)
        assert r["rate"] == pytest.approx(np.mean([x["rate"] for x in per]))
        assert r["psnr_db"] == pytest.approx(np.mean([x["psnr_db"] for x in per]))
        assert r["psnr_mean_mse_db"] <= r["psnr_db"] + 1e-9  # Jensen: PSNR of the mean MSE is lower
        if r["kind"] == "level":
            assert r["rate"] == r["level"] / TINY.c_out and r["levels_used"] == 1
    by_level = {r["level"]: r for r in summary if r["kind"] == "level" and r["channel"] == "none"}
    assert sorted(by_level) == list(TINY.rate_levels)
    # the linear anchor at each row's k/n (n/96): more channels, more coefficients, higher noiseless PSNR
    lin = [by_level[n]["linear_psnr_db"] for n in sorted(by_level)]
    assert lin == sorted(lin) and lin[-1] > lin[0]
    assert all(math.isfinite(r["gain_over_linear_db"]) for r in summary)


def test_eval_cli_json_and_outputs(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bssim.cli import app

    _write_images(tmp_path / "imgs", 2)
    ck = _tiny_checkpoint(tmp_path)
    args = ["jscc", "eval", "--images", str(tmp_path / "imgs"), "--checkpoint", str(ck), "--snr", "0,20", "--json",
            "--out", str(tmp_path / "o"), "--no-ssim"]  # fmt: skip
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    pol = [x for x in rows if x["kind"] == "policy" and x["channel"] == "awgn"]
    assert [x["snr_db"] for x in pol] == [0.0, 20.0]
    for x in pol:
        for k in ("psnr_db", "psnr_mean_mse_db", "rate", "rate_min", "rate_max", "cbr", "baseline_psnr_db"):
            assert k in x
    assert {x["level"] for x in rows if x["kind"] == "level"} == set(TINY.rate_levels)
    for name in ("psnr_vs_snr_awgn.png", "rate_vs_snr.png", "psnr_vs_rate_awgn.png", "summary.csv", "table.txt"):
        assert (tmp_path / "o" / name).stat().st_size > 500
    for bad, opt in ((["--snr", "x"], "--snr"), (["--channel", "optical"], "--channel"), (["--csi", "guess"], "--csi")):
        b = CliRunner().invoke(app, ["jscc", "eval", "--images", str(tmp_path / "imgs"), "--checkpoint", str(ck), *bad])
        assert b.exit_code == 2 and opt in b.output and "Traceback" not in b.output


def test_interpolate_never_extrapolates() -> None:
    from bssim.jscc.compare import interpolate

    pts = [(0.375, 24.0), (0.5, 25.0), (0.625, 26.0)]
    assert interpolate(0.4375, pts)[0] == pytest.approx(24.5)
    assert interpolate(0.5, pts)[0] == pytest.approx(25.0)
    assert math.isnan(interpolate(0.7, pts)[0]) and math.isnan(interpolate(0.3, pts)[0])


def test_compare_cli_adaptive_vs_fixed(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bssim.cli import app

    _write_images(tmp_path / "imgs", 2)
    ad = save_checkpoint(tmp_path / "ad.pt", tiny_model(1))
    fixed = [save_checkpoint(tmp_path / f"f{n}.pt", tiny_model(n), {"settings": {"fixed_level": n}}) for n in (2, 8)]
    args = ["jscc", "compare", "--images", str(tmp_path / "imgs"), "--adaptive", str(ad), "--snr", "0,20", "--json",
            "--fixed", ",".join(str(p) for p in fixed), "--precision", "fp32"]  # fmt: skip
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [x["snr_db"] for x in rows] == [0.0, 20.0]
    for x in rows:
        assert 0.25 <= x["adaptive_rate"] <= 1.0 and "fixed2_psnr_db" in x and "fixed8_psnr_db" in x
        assert x["delta_db"] == pytest.approx(x["adaptive_psnr_db"] - x["fixed_psnr_at_rate_db"])
    bad = CliRunner().invoke(app, [*args[:-4], "--fixed", str(ad)])
    assert bad.exit_code == 2 and "not a fixed-rate model" in bad.output


@pytest.mark.parametrize("which", ["default", "semantic"])
def test_model_cards_name_the_shipped_checkpoints(which: str) -> None:
    """MODEL_CARD.md / MODEL_CARD_semantic.md give the version (hash) of the file they describe."""
    from bssim.files import file_hash
    from bssim.jscc import default_checkpoint_path, semantic_checkpoint_path

    path = default_checkpoint_path() if which == "default" else semantic_checkpoint_path()
    card = path.with_name("MODEL_CARD.md" if which == "default" else "MODEL_CARD_semantic.md").read_text()
    version = file_hash(path)[:12]
    header = card.split("\n## ")[0]  # the card's opening paragraphs list what ships
    assert f"`{version}`" in header, f"{path.name} is {version}; update its model card"
