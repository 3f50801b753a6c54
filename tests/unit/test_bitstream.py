"""The latent bitstream (bssim.jscc.bitstream) and the JSCC as a digital codec (bssim.jscc.digital):
what is counted is the length of a real byte string, and the receiver decodes exactly it."""

from __future__ import annotations

import numpy as np
import pytest

from bssim.jscc.bitstream import decode_latents, empirical_entropy_bits, encode_latents, quantise


def _latents(seed: int = 0, shape=(6, 24, 40)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.2, 1.5, size=(shape[0], 1, 1))
    return (rng.laplace(size=shape) * scale + rng.normal(size=(shape[0], 1, 1))).astype(np.float32)


@pytest.mark.parametrize("bits", [2, 4, 6, 8])
def test_decode_reproduces_the_quantised_latents_exactly(bits):
    y = _latents(bits)
    data = encode_latents(y, bits)
    q = quantise(y, bits)
    assert np.array_equal(decode_latents(data), q.dequantise())
    step = (q.hi.astype(np.float64) - q.lo) / (2**bits - 1)
    assert np.all(np.abs(q.dequantise() - y) <= step[:, None, None] / 2 + 1e-3)


def test_coded_size_is_close_to_the_empirical_entropy():
    y = _latents(1, (8, 64, 64))
    data = encode_latents(y, 6)
    q = quantise(y, 6)
    entropy = empirical_entropy_bits(q.symbols)
    header = 6 + 9 * 8 + 4 * 8
    assert entropy < 8 * len(data) <= 1.04 * entropy + 8 * header + 8 * 4 * 8


def test_more_bits_per_value_cost_more_and_distort_less():
    y = _latents(2)
    sizes = [len(encode_latents(y, b)) for b in (3, 5, 7)]
    errors = [float(np.abs(decode_latents(encode_latents(y, b)) - y).mean()) for b in (3, 5, 7)]
    assert sizes[0] < sizes[1] < sizes[2]
    assert errors[0] > errors[1] > errors[2]


@pytest.mark.parametrize(
    "values, bits, message",
    [
        (np.zeros((2, 3)), 6, r"\(C, h, w\)"),
        (np.full((1, 2, 2), np.nan), 6, "finite"),
        (np.zeros((1, 2, 2)), 0, "bits_per_value = 0"),
        (np.zeros((1, 2, 2)), 13, "1..12"),
    ],
)
def test_bad_latents_are_rejected_with_the_rule(values, bits, message):
    with pytest.raises(ValueError, match=message):
        encode_latents(values, bits)


def test_truncated_bitstream_is_a_clear_error():
    data = encode_latents(_latents(3), 6)
    with pytest.raises(ValueError, match="truncated"):
        decode_latents(data[:5])


def test_constant_channel_codes_and_decodes():
    y = np.stack([np.full((8, 8), 0.25, np.float32), _latents(4, (1, 8, 8))[0]])
    assert np.allclose(decode_latents(encode_latents(y, 6))[0], 0.25, atol=1e-3)
