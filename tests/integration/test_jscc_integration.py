"""Deep JSCC tests on the shipped checkpoint and the shared Kodak images (skipped when absent)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bssim.jscc import default_checkpoint_path, load_model, transmit
from bssim.paths import shared_data

SNRS_DB = (0.0, 10.0, 20.0)


def _shipped():
    p = default_checkpoint_path()
    if not p.is_file():
        pytest.skip(f"shipped checkpoint absent: {p}")
    return load_model()


def test_shipped_checkpoint_loads_and_is_small() -> None:
    m = _shipped()
    assert default_checkpoint_path().stat().st_size < 20e6
    assert m.rate_levels == m.cfg.rate_levels and len(m.rate_levels) >= 2
    assert m.meta["epochs_done"] >= 1 and m.meta["weights_dtype"] == "float16"
    img = (np.random.default_rng(0).random((40, 52, 3)) * 255).astype(np.uint8)
    res = transmit(m, img, 10.0)
    assert res.image.shape == (40, 52, 3)
    assert res.n_active_channels in m.rate_levels


@pytest.mark.slow
def test_policy_adapts_over_kodak() -> None:
    """Over Kodak the policy's mean rate is non-increasing in SNR and differs across images
    (the shipped policy was fitted by `bssim jscc fit-policy`; MODEL_CARD.md)."""
    from bssim.jscc import pad_to_multiple
    from bssim.files import list_images, read_image

    kodak = shared_data("kodak")
    if not kodak.is_dir():
        pytest.skip(f"Kodak images absent: {kodak} (set BSSIM_SHARED)")
    m = _shipped()
    levels: dict[float, list[int]] = {snr: [] for snr in SNRS_DB}
    with torch.inference_mode():
        for f in list_images(kodak):
            x = torch.from_numpy(pad_to_multiple(read_image(f, allow_grey=True), 4)).permute(2, 0, 1)[None].float() / 255.0
            for snr in SNRS_DB:
                _, mask = m.encode(x, torch.tensor([snr]))
                levels[snr].append(int(mask.sum()))
    mean_rate = [np.mean(levels[snr]) / m.cfg.c_out for snr in SNRS_DB]
    assert all(a >= b for a, b in zip(mean_rate, mean_rate[1:])), f"mean rate rises with SNR: {mean_rate}"
    assert mean_rate[0] > mean_rate[-1], f"mean rate does not fall from 0 to 20 dB: {mean_rate}"
    assert any(len(set(levels[snr])) > 1 for snr in SNRS_DB), f"every image gets the same level: {levels}"
