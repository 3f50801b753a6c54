"""Sionna's 5G LDPC + QAM on real bits, and the practical separation baseline built on it."""

import numpy as np
import pytest

from bssim.baselines.practical import CODECS, decode, largest_fitting, practical_baseline
from bssim.metrics import psnr_db


def _image(h: int = 64, w: int = 96) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(0)
    img = np.stack([x * 255 / w, y * 255 / h, 128 + 60 * np.sin(x / 5.0) * np.cos(y / 7.0)], axis=-1)
    return np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)


def test_ldpc_qam_bler_falls_from_one_to_zero_around_the_mcs_threshold():
    from bssim.nr.coded import CodeBlockLink
    from bssim.nr.phy import Carrier, mcs_grid

    g = mcs_grid(Carrier(), 4, 0.1)
    i = int(np.flatnonzero(g.mcs == 10)[0])  # 16-QAM, R = 0.33, one code block of 720 bits
    thr = float(g.threshold_sinr_db[i])
    link = CodeBlockLink(int(g.modulation_order[i]), float(g.coderate[i]), int(g.cb_size[i]))
    below = link.bler(thr - 2.0, 200, seed=1)
    above = link.bler(thr + 2.0, 200, seed=2)
    assert below >= 0.9 and above <= 0.05, (below, above)


@pytest.mark.parametrize("codec", CODECS)
def test_codecs_fit_the_budget_and_decode(codec):
    img = _image()
    fit = largest_fitting(img, codec, 40_000)
    assert fit is not None
    data, q = fit
    assert 8 * len(data) <= 40_000
    dec = decode(data, codec)
    assert dec.shape == img.shape and psnr_db(img, dec) > 20
    small = largest_fitting(img, codec, 12_000)
    assert small is None or small[1] <= q
    assert decode(b"\x00" * 50, codec) is None


def test_practical_baseline_delivers_above_threshold_and_falls_off_the_cliff():
    img = _image()
    mean_psnr = psnr_db(img, np.broadcast_to(img.reshape(-1, 3).mean(0).round().astype(np.uint8), img.shape).copy())
    good = practical_baseline(img, 3000, 15.0, seed=1)
    assert good["practical_baseline_crc_ok"] and good["practical_baseline_mcs"] >= 10
    assert good["practical_baseline_codec"] in CODECS
    assert good["practical_baseline_psnr_db"] > mean_psnr + 5
    faded = practical_baseline(img, 3000, 15.0, fading_gain=0.05, seed=1)  # 13 dB fade: CRC fails
    assert faded["practical_baseline_mcs"] == good["practical_baseline_mcs"] and not faded["practical_baseline_crc_ok"]
    assert faded["practical_baseline_psnr_db"] == pytest.approx(mean_psnr)
    nothing = practical_baseline(img, 3000, -10.0, seed=1)  # below every MCS threshold
    assert nothing["practical_baseline_mcs"] == -1 and nothing["practical_baseline_psnr_db"] == pytest.approx(mean_psnr)


def test_eval_rows_and_summary_carry_the_practical_baseline():
    from bssim.jscc.evaluate import EvalSettings, _with_baseline, summarize

    img = _image()
    s = EvalSettings(snrs_db=(15.0,), quality_metrics=False)
    rows = []
    for i in range(2):
        row = {"kind": "policy", "level": None, "image": f"im{i}", "channel": "awgn", "snr_db": 15.0,
               "psnr_db": 30.0, "mse": 10.0, "rate": 1.0, "n_active": 16, "cbr": 0.1, "n_channel_uses": 3000}
        rows.append(_with_baseline(row, img, s, 0, i))
    for r in rows:
        assert r["practical_baseline_mcs"] >= 10 and r["practical_baseline_codec"] in CODECS
        assert r["practical_baseline_psnr_db"] <= r["baseline_psnr_db"] + 1e-9  # practical never beats ideal
    (summary,) = summarize(rows, "test")
    assert summary["practical_baseline_psnr_db"] == pytest.approx(np.mean([r["practical_baseline_psnr_db"] for r in rows]))
    assert summary["practical_baseline_codec"] in CODECS and summary["practical_baseline_delivered"] == 1.0


def test_link_adaptation_skips_mcs_sionna_cannot_encode():
    from bssim.baselines.practical import adapt
    from bssim.nr.phy import mcs_grid_for_symbols

    n = 20000  # large TBs: MCS 4 (R = 0.30) would need BG1 below rate 1/3
    g = mcs_grid_for_symbols(n, 1, 0.1)
    m4 = int(np.flatnonzero(g.mcs == 4)[0])
    j = adapt(g, n, float(g.threshold_sinr_db[m4]) + 0.01)
    assert j >= 0 and g.mcs[j] != 4 and g.threshold_sinr_db[j] <= g.threshold_sinr_db[m4] + 0.01
    assert adapt(g, n, -30.0) == -1


def test_a_video_receiver_shows_the_previous_frame_after_a_failed_block():
    """Sionna on real bits, block fading per frame: frame 2 in a 40 dB fade fails its CRC,
    so a video receiver keeps frame 1 and an image receiver shows the mean image."""
    from bssim.baselines.practical import practical_sequence, practical_transmit

    frames = {1: _image(), 2: _image()[::-1].copy(), 3: _image()[:, ::-1].copy()}
    n_symbols = {k: 6000 for k in frames}
    gains = [1.0, 1e-4, 1.0]
    video = practical_sequence(frames, n_symbols, 15.0, video=True, fading_gains=gains)
    assert [r["practical_baseline_fallback"] for r in video] == ["none", "previous_frame", "none"]
    _, decoded_first = practical_transmit(frames[1], 6000, 15.0, 1.0, seed=0)  # the sequence's first draw
    assert video[1]["practical_baseline_psnr_db"] == pytest.approx(psnr_db(frames[2], decoded_first), abs=1e-9)
    images = practical_sequence(frames, n_symbols, 15.0, video=False, fading_gains=gains)
    assert images[1]["practical_baseline_fallback"] == "mean_image"
    assert images[1]["practical_baseline_psnr_db"] < video[0]["practical_baseline_psnr_db"] - 10
    with pytest.raises(ValueError, match="fading_gains"):
        practical_sequence(frames, n_symbols, 15.0, video=True, fading_gains=[1.0])
