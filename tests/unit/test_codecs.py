"""The scheme and codec registries (issue 17): every codec counts the bits of a real bitstream
(or the symbols it sends), its rate settings order its payload, the link accepts only codecs of
its kind, and equal options under two labels are measured once."""

from __future__ import annotations

import numpy as np
import pytest

from bssim.baselines.practical import encode
from bssim.codecs import CODECS, CodeJob, CodecConfig, codec_entry, codec_names, make_codec
from bssim.codecs.base import register_codec
from bssim.metrics import psnr_db
from bssim.options.measure import MeasureSpec, check_codec, measure_codec
from bssim.pipeline.transmitter import PipelineSettings
from bssim.schemes import SCHEMES, Frame, scheme_names


def _image(h: int = 96, w: int = 128) -> np.ndarray:
    """A smooth image with edges: gradients, a disc and a bar."""
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255 / w, y * 255 / h, 128 + 60 * np.sin(x / 7.0)], axis=-1)
    img[(y - h / 2) ** 2 + (x - w / 3) ** 2 < (h / 5) ** 2] = (230, 40, 40)
    img[10:20, 60:120] = (20, 20, 200)
    return np.clip(img, 0, 255).astype(np.uint8)


def test_registries_hold_one_entry_per_file_with_words_colours_and_kinds():
    assert scheme_names()[:2] == ("direct", "key")
    assert {"avif", "webp", "jpeg2000", "jscc_digital", "jscc", "linear"} <= set(CODECS)
    assert set(codec_names("digital")) >= {"avif", "webp", "jpeg2000", "jscc_digital"}
    assert set(codec_names("analog")) >= {"jscc", "linear"}
    for entry in CODECS.values():
        assert entry.words and entry.colour and entry.kind in ("digital", "analog")
    for entry in SCHEMES.values():
        assert entry.words and entry.colour
    with pytest.raises(ValueError, match="codec 'bpg' unknown"):
        codec_entry("bpg")
    with pytest.raises(ValueError, match="registered twice"):
        register_codec("avif", "digital", "AVIF", "tab:blue")(lambda cfg: None)


@pytest.mark.parametrize("name", ["avif", "webp", "jpeg2000"])
def test_standard_codecs_count_the_bytes_of_their_file_and_gain_with_quality(name):
    codec = make_codec(name, CodecConfig(qualities=(10, 50, 90)))
    img = _image()
    coded = codec.code(img, codec.settings(), CodeJob())
    assert [c.cost for c in coded] == [8 * len(encode(img, name, q)) for q in (10, 50, 90)]
    bits = [c.cost for c in coded]
    quality = [psnr_db(img, c.image) for c in coded]
    assert bits == sorted(bits) and quality[-1] > quality[0]
    assert all(c.image.shape == img.shape for c in coded)


@pytest.mark.parametrize("name", ["avif", "webp", "jpeg2000"])
def test_standard_codecs_code_tiny_crops(name):
    """A person's box can be a few pixels wide; OpenJPEG needs 32 px sides: padded, counted, cropped."""
    codec = make_codec(name, CodecConfig(qualities=(30,)))
    crop = _image()[:8, :12]
    [coded] = codec.code(crop, codec.settings(), CodeJob())
    assert coded.image.shape == crop.shape and coded.cost > 0


def test_standard_codec_quality_settings_are_checked():
    with pytest.raises(ValueError, match="1..100"):
        make_codec("avif", CodecConfig(qualities=(0, 50)))


def test_linear_codec_counts_symbols_and_improves_with_snr_and_rate():
    codec = make_codec("linear", CodecConfig(k_over_n=(1 / 24, 1 / 6)))
    assert [s.label for s in codec.settings()] == ["kn1/24", "kn1/6"]
    img = _image()
    low = codec.code(img, codec.settings(), CodeJob(0.0, "awgn", 1))
    high = codec.code(img, codec.settings(), CodeJob(20.0, "awgn", 1))
    n = img.size
    for c, r in zip(low, (1 / 24, 1 / 6)):  # k = (k/n)·n complex symbols, plus side information
        assert r * n <= c.cost <= r * n * 1.6
    assert psnr_db(img, high[1].image) > psnr_db(img, low[1].image) + 3
    assert psnr_db(img, high[1].image) > psnr_db(img, high[0].image)


def test_a_link_takes_only_codecs_of_its_kind():
    with pytest.raises(ValueError, match="'linear' is analog, but this link carries bits"):
        check_codec(make_codec("linear"), "digital")
    with pytest.raises(ValueError, match="'avif' is digital, but this link carries channel symbols"):
        check_codec(make_codec("avif"), "analog")


def test_direct_rows_carry_scheme_codec_level_and_merge_scales_equal_after_the_cap():
    """Under max_pixels, scales 1 and 0.75 of a large frame give the same pixels: one option,
    labelled by its effective scale, so no two rows have equal bits under two labels."""
    img = np.ascontiguousarray(np.tile(_image(), (2, 2, 1)))  # 192 x 256
    settings = PipelineSettings(max_pixels=160 * 120)  # 39 % of the frame's pixels
    frame = Frame(img, None, 0, settings)
    codec = make_codec("webp", CodecConfig(qualities=(20, 60)))
    rows = measure_codec(frame, codec, MeasureSpec(scales=(1.0, 0.75, 0.5), schemes=("direct", "key"))).rows
    assert {r["scheme"] for r in rows} == {"direct"}  # no library: no key option
    assert {r["codec"] for r in rows} == {"webp"}
    labels = [r["rate_label"] for r in rows]
    assert len(rows) == 2 * 2 and len(set(labels)) == 4  # scales 1 and 0.75 give the capped 62 %
    assert set(labels) == {"s0.62/q20", "s0.62/q60", "s0.50/q20", "s0.50/q60"}
    assert sorted(r["rate_level"] for r in rows) == [0, 1, 2, 3]
    cheapest = min(rows, key=lambda r: r["rate_level"])
    assert cheapest["bits"] == min(r["bits"] for r in rows)


def test_scenario_codecs_and_schemes_are_checked_against_the_registries_and_the_link():
    from bssim.options.catalog import codec_names_for, measure_spec
    from bssim.scenario import parse_scenario

    def scenario(**content):
        return parse_scenario({"name": "t", "content": {"source": "measured", "media": ["x.avi"], **content}})

    assert codec_names_for(scenario()) == ("avif",)  # the digital links' default
    analog = parse_scenario({"name": "t", "link": {"model": "analog"},
                             "content": {"source": "measured", "media": ["x.avi"]}})
    assert codec_names_for(analog) == ("jscc",)
    with pytest.raises(ValueError, match="content.codecs: codec 'bpg' unknown"):
        codec_names_for(scenario(codecs=["bpg"]))
    with pytest.raises(ValueError, match="content.codecs: 'linear' is an analog codec, but link.model = 'shannon'"):
        codec_names_for(scenario(codecs=["linear"]))
    with pytest.raises(ValueError, match="content.schemes: scheme 'magic' unknown"):
        measure_spec(scenario(schemes=["direct", "magic"]))
