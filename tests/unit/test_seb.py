"""Seed 001's explicit semantic base: the codebook (fit, save, load), the index stream, the
residual mapping and the ``seb`` scheme's rows (no shared data: synthetic images and the
shipped codebooks)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bssim.codecs import CodecConfig, make_codec
from bssim.metrics import psnr_db
from bssim.options.measure import MeasureSpec, measure_codec
from bssim.pipeline.transmitter import PipelineSettings
from bssim.schemes import Frame, scheme_names
from bssim.schemes.seb import HEADER, codebooks, decode_indices, encode_indices, from_residual, seb_stage, to_residual
from bssim.schemes.seb_codebook import SHIPPED, fit_codebook, load_codebook, save_codebook


def _images(n: int = 3, h: int = 64, w: int = 96) -> list[np.ndarray]:
    """Textured synthetic photographs: gradients, stripes and a disc, from a recorded seed."""
    rng = np.random.default_rng(7)
    out = []
    for i in range(n):
        y, x = np.mgrid[0:h, 0:w]
        img = np.stack([x * 255 / w, y * 255 / h, 128 + 80 * np.sin(x / (3.0 + i))], axis=-1)
        img[(y - h / 2) ** 2 + (x - w / 3) ** 2 < (h / 5) ** 2] = (230, 40, 40)
        out.append(np.clip(img + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8))
    return out


def test_more_sebs_give_a_closer_reference_and_the_fit_is_seeded():
    imgs = _images()
    few, many = fit_codebook(imgs, 8, 4, 6, seed=0), fit_codebook(imgs, 8, 64, 6, seed=0)
    again = fit_codebook(imgs, 8, 64, 6, seed=0)
    np.testing.assert_array_equal(many.centres, again.centres)

    def ref_psnr(cb):
        idx, padded = cb.assign(imgs[0])
        return psnr_db(imgs[0], cb.reference(idx, padded, imgs[0].shape[:2]))

    assert ref_psnr(many) > ref_psnr(few) + 1.0
    assert many.label == "p8k64" and many.usage.sum() == 3 * 8 * 12 + 64  # counts + 1 each


def test_codebook_round_trips_and_a_foreign_file_is_refused(tmp_path):
    cb = fit_codebook(_images(), 8, 16, 4)
    save_codebook(cb, tmp_path / "cb.pt")
    back = load_codebook(tmp_path / "cb.pt")
    np.testing.assert_allclose(back.centres, cb.centres, rtol=1e-6)
    np.testing.assert_allclose(back.patches, cb.patches, atol=1e-3)  # float16 pixels
    (tmp_path / "bad.pt").write_text("not a codebook")
    with pytest.raises(ValueError, match="cannot read Seb codebook"):
        load_codebook(tmp_path / "bad.pt")
    with pytest.raises(FileNotFoundError, match="not found"):
        load_codebook(tmp_path / "absent.pt")
    with pytest.raises(ValueError, match="fewer than"):
        fit_codebook(_images(1, 16, 16), 8, 16, 4)


def test_index_stream_decodes_exactly_and_costs_less_than_fixed_length():
    cb = fit_codebook(_images(), 8, 16, 4)
    img = _images(1, 40, 72)[0]  # 5 x 9 patches
    idx, padded = cb.assign(img)
    data = encode_indices(cb, idx, img.shape[:2], 2)
    got, hw = decode_indices(cb, data)
    np.testing.assert_array_equal(got, idx)
    assert hw == (40, 72)
    fixed = HEADER.size * 8 + len(idx) * math.log2(cb.size)
    assert 8 * len(data) <= fixed + 32  # one 32-bit word of range-coder overhead at most


def test_residual_mapping_is_exact_inside_the_offset_and_clips_outside():
    ref = np.full((4, 4, 3), 100, np.uint8)
    img = ref.copy()
    img[0, 0] = (0, 227, 255)  # −100, +127, +155 (clips at 255)
    r, clipped = to_residual(img, ref)
    assert r[0, 0].tolist() == [28, 255, 255] and clipped == pytest.approx(1 / 48)
    rec = from_residual(ref, r)
    assert rec[0, 0].tolist() == [0, 227, 227] and (rec[1:] == img[1:]).all()


def test_seb_rows_add_the_index_bits_to_the_codec_bits_with_unique_labels():
    assert "seb" in scheme_names()
    books = codebooks()
    assert [cb.label for cb in books] == [f"p{p}k{k}" for p, k in SHIPPED]
    img = _images(1, 96, 128)[0]
    frame = Frame(img, None, 0, PipelineSettings())
    codec = make_codec("webp", CodecConfig(qualities=(20, 80)))
    rows = measure_codec(frame, codec, MeasureSpec(scales=(1.0,), schemes=("direct", "seb"))).rows
    seb = [r for r in rows if r["scheme"] == "seb"]
    assert len(seb) == 2 * len(books) and len({r["rate_label"] for r in seb}) == len(seb)
    for cb in books:
        data, ref = seb_stage(img, cb, 0)
        lo, hi = (next(r for r in seb if r["setting"] == f"{cb.label}+q{q}") for q in (20, 80))
        assert lo["seb_bits"] == 8 * len(data) and lo["bits"] > lo["seb_bits"]
        assert hi["psnr_db"] > lo["psnr_db"] and hi["bits"] > lo["bits"]
        assert lo["seb_psnr_db"] == pytest.approx(psnr_db(img, ref))
