"""The shipped JSCC checkpoint as a digital source codec (bssim.jscc.digital)."""

from __future__ import annotations

import numpy as np
import pytest

from bssim.jscc import load_model
from bssim.jscc.digital import code_levels, decode_image, encode_image, supported_levels
from bssim.metrics import psnr_db


@pytest.fixture(scope="module")
def model():
    return load_model()


def _image(h=52, w=70, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([128 + 80 * np.sin(xx / 7.0), 128 + 80 * np.cos(yy / 5.0), 100 + (xx + yy) % 90], -1)
    return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)


def test_receiver_decodes_the_bitstream_to_the_measured_image(model):
    img = _image()
    [(data, rec)] = code_levels(model, img)
    assert rec.shape == img.shape and rec.dtype == np.uint8
    assert np.array_equal(decode_image(model, data), rec)
    assert encode_image(model, img) == data  # deterministic
    assert psnr_db(img, rec) > 15.0


def test_counted_bits_are_the_bytes_of_the_stream_and_grow_with_bits_per_value(model):
    img = _image(64, 64, 1)
    sizes = [len(code_levels(model, img, bits_per_value=b)[0][0]) for b in (3, 6, 8)]
    assert sizes[0] < sizes[1] < sizes[2]
    low = psnr_db(img, code_levels(model, img, bits_per_value=2)[0][1])
    high = psnr_db(img, code_levels(model, img, bits_per_value=8)[0][1])
    assert high > low


def test_unsupported_level_is_rejected_with_the_allowed_ones(model):
    bad = 999
    with pytest.raises(ValueError, match="not supported"):
        code_levels(model, _image(), levels=(bad,))
    assert None in supported_levels(model)
