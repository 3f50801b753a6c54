"""Offers, link abstractions and objectives (bssim.options): the formulas of docs/model.md."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bssim import link
from bssim.codecs.jscc_common import channel_settings
from bssim.schemes.base import scale_groups
from bssim.options.links import AnalogLink, Channels, ShannonLink, make_link
from bssim.options.objective import Objective
from bssim.options.table import OptionTable


def _rows(analog: bool = False) -> pd.DataFrame:
    """Two items: A has direct and key at two levels, B (no library match) direct only."""
    snrs = [0.0, 10.0] if analog else [np.nan]
    rows = []
    for item, schemes in (("A", ("direct", "key")), ("B", ("direct",))):
        for scheme in schemes:
            for level, base_bits in ((0, 2e5), (1, 8e5)):
                bits = base_bits * (0.2 if scheme == "key" else 1.0)
                for snr in snrs:
                    q = 0.5 + 0.1 * level + (0.2 if scheme == "key" else 0.0) + (0.01 * snr if analog else 0.0)
                    rows.append({"item": item, "scheme": scheme, "rate_level": level, "rate_label": f"r{level}",
                                 "snr_db": snr, "bits": np.nan if analog else bits,
                                 "symbols": bits / 4 if analog else np.nan, "ssim": q, "psnr_db": 20 + 10 * q})
    return pd.DataFrame(rows)


def _channels(n: int) -> Channels:
    return Channels(gain=np.geomspace(1e-12, 1e-9, n), noise_w=np.full(n, 1e-13), loss_w=np.zeros(n),
                    bandwidth_hz=np.full(n, 5e6), delay_s=0.1)


def test_option_table_from_rows_is_dense_and_marks_missing_options():
    t = OptionTable.from_rows(_rows())
    assert t.item_names == ["A", "B"]
    assert t.scheme == ("direct", "direct", "key", "key")
    assert list(t.rate_level) == [0, 1, 0, 1]
    assert np.isnan(t.bits[1, 2:]).all() and np.isfinite(t.bits[0]).all()
    off = t.offers(np.array([1, 0, 0]), np.array([1, 2, 1]))
    assert off.bits.shape == (3, 4) and off.column("key", 1) == 3 and off.column("key", 7) == -1


def test_shannon_link_is_the_shannon_inversion_of_the_real_bits():
    t = OptionTable.from_rows(_rows())
    off = t.offers(np.array([0, 1, 0]), np.array([1, 1, 3]))
    ch = _channels(3)
    menu = ShannonLink().price(off, ch)
    expect = link.required_power_w(t.bits[0, 1] * 3, 0.1, 5e6, 1e-13, ch.gain[2])
    assert menu.power_w[2, 1] == pytest.approx(expect)
    assert np.isinf(menu.power_w[1, 2:]).all()  # item B has no key option
    assert menu.policies["all_direct"].tolist() == [1, 1, 1]
    assert menu.policies["all_key"].tolist() == [3, 1, 3]  # B falls back to direct (seed II.B)
    assert np.allclose(menu.quality["ssim"][0], t.quality["ssim"][0, :, 0])


def test_analog_link_power_formula_and_bandwidth_limit():
    t = OptionTable.from_rows(_rows(analog=True))
    off = t.offers(np.array([0]), np.array([1]))
    ch = _channels(1)
    menu = AnalogLink().price(off, ch)
    assert menu.power_w.shape == (1, 8)  # 4 options x 2 SNR levels
    k, snr_db = t.symbols[0, 3], 10.0
    m = menu.option_names.index("key/declared/r1@10dB")
    n0 = 1e-13 / 5e6
    assert menu.power_w[0, m] == pytest.approx(10 ** (snr_db / 10) * n0 * k / 0.1 / ch.gain[0])
    assert menu.quality["ssim"][0, m] == pytest.approx(t.quality["ssim"][0, 3, 1])
    too_many = link.analog_power_w(0.0, 5e6 * 0.1 * 1.01, 0.1, 5e6, 1e-13, 1e-10)
    assert np.isinf(too_many)


@pytest.mark.parametrize("kind", ["sum", "log", "seed"])
def test_objectives_are_increasing_in_quality_and_positive(kind):
    t = OptionTable.from_rows(_rows())
    menu = ShannonLink().price(t.offers(np.array([0, 1])), _channels(2))
    u = Objective(kind=kind).utility(menu)
    q = menu.quality["ssim"]
    ok = np.isfinite(u)
    assert (u[ok] > 0).all()
    row = u[0]
    order = np.argsort(q[0])
    assert np.all(np.diff(row[order]) >= 0)
    if kind == "seed":
        assert u[0, 1] == pytest.approx(1.0)  # direct at its top level is rho = 1


def test_min_quality_removes_items_and_bad_settings_are_errors():
    t = OptionTable.from_rows(_rows())
    menu = ShannonLink().price(t.offers(np.array([0])), _channels(1))
    u = Objective(min_quality=0.55).utility(menu)
    assert np.isnan(u[0, 0]) and np.isfinite(u[0, 1])
    with pytest.raises(ValueError, match="epsilon"):
        Objective(kind="log", epsilon=0.0)
    with pytest.raises(ValueError, match="psnr"):
        Objective(metric="psnr")
    with pytest.raises(ValueError, match="not measured"):
        Objective(metric="ms_ssim").utility(menu)
    with pytest.raises(ValueError, match="lte"):
        make_link("lte")


def test_jscc_channel_settings_come_from_the_model():
    class Cfg:
        c_out, target_rate = 16, 0.5

    class Fixed:
        rate_levels, cfg = (8, 12, 16), Cfg()

    class Single:
        rate_levels, cfg = (), Cfg()

    assert [s.label for s in channel_settings(Fixed(), "model")] == ["c8", "c12", "c16"]
    assert [s.value for s in channel_settings(Fixed(), (16, 8))] == [8, 16]
    with pytest.raises(ValueError, match="not rate levels"):
        channel_settings(Fixed(), (10,))
    assert [s.label for s in channel_settings(Single(), "model")] == ["policy"]


def test_scales_that_give_the_same_pixels_are_one_option_labelled_by_the_effective_scale():
    """A 1280x720 frame under the 768x576 cap: scales 1 and 0.75 give the same pixels (issue 17)."""
    frame = np.zeros((720, 1280, 3), np.uint8)
    groups = scale_groups([frame], [1.0, 0.75, 0.5], max_pixels=768 * 576)
    assert len(groups) == 2
    (eff_hi, (hi,)), (eff_lo, (lo,)) = groups
    assert hi.shape[0] * hi.shape[1] <= 768 * 576 and eff_hi == pytest.approx(0.69, abs=0.01)
    assert eff_lo == 0.5 and lo.shape[:2] == (360, 640)
    small = np.zeros((576, 768, 3), np.uint8)
    assert [e for e, _ in scale_groups([small], [1.0, 0.75, 0.5], max_pixels=768 * 576)] == [1.0, 0.75, 0.5]
