"""Options measured on real content by the real pipeline (bssim.options.measure,
bssim.content): a vtest.avi frame (static camera, library matches), a Kodak photograph
(no library: direct only), analog curves, the cache, and probing of a partly broken video."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bssim.options.catalog import measure_content
from bssim.content.media import load_media, probe_video
from bssim.codecs.jscc import JsccAnalog
from bssim.codecs.jscc_common import jscc_model
from bssim.codecs.jscc_digital import JsccDigital
from bssim.options.measure import MeasureSpec, measure_item
from bssim.paths import shared_data
from bssim.scenario import Media, parse_scenario

VIDEO = shared_data("vtest.avi")
TREE = shared_data("tree.avi")
KODAK = shared_data("kodak")
pytestmark = pytest.mark.skipif(not VIDEO.is_file(), reason=f"shared video missing: {VIDEO}")


@pytest.fixture(scope="module")
def model():
    """The shipped JSCC's bitstream at 8 channels."""
    return [JsccDigital(jscc_model(None), 6, (8,))]


@pytest.fixture(scope="module")
def vtest():
    return load_media(Media(path=str(VIDEO), frames="300:301:1", library_frames=20), None, "content.media[0]")


def test_digital_options_of_a_street_camera_frame(model, vtest):
    frame = vtest.frames[300]
    spec = MeasureSpec(scales=(1.0, 0.5))
    rows = pd.DataFrame(measure_item(frame, vtest.library, model, spec).rows)
    assert set(rows["scheme"]) == {"direct", "key"} and rows["matched"].all()
    d = rows[rows.scheme == "direct"].set_index("rate_label")
    k = rows[rows.scheme == "key"].sort_values("rate_level")
    # a higher rate level costs more bits and gives more quality; the key path is far cheaper
    assert d.loc["s1.00/c8", "bits"] > 2.5 * d.loc["s0.50/c8", "bits"]
    assert d.loc["s1.00/c8", "psnr_db"] > d.loc["s0.50/c8", "psnr_db"]
    d = d.sort_values("rate_level")  # the same order of scales as k's
    assert (k["bits"].to_numpy() < 0.3 * d["bits"].to_numpy()).all()
    # the noise-free library background makes the key path better on the whole frame (alpha > 1)
    assert (k["ssim"].to_numpy() > d["ssim"].to_numpy()).all()
    assert rows["symbols"].isna().all() and rows["snr_db"].isna().all()


@pytest.mark.skipif(not KODAK.is_dir(), reason=f"Kodak missing: {KODAK}")
def test_a_photograph_without_library_has_direct_options_only(model):
    kodak = load_media(Media(path=str(KODAK), files=1), None, "content.media[0]")
    assert kodak.library is None
    rows = pd.DataFrame(measure_item(kodak.frames[0], None, model, MeasureSpec(scales=(0.75,))).rows)
    assert list(rows["scheme"]) == ["direct"] and not rows["matched"].any()


def test_analog_options_improve_with_snr_and_count_symbols(vtest):
    frame = vtest.frames[300]
    spec = MeasureSpec(scales=(0.5,), mode="analog", snr_db=(0.0, 20.0))
    model = jscc_model(None)
    rows = pd.DataFrame(measure_item(frame, vtest.library, [JsccAnalog(model, (8,))], spec).rows)
    d = rows[rows.scheme == "direct"].set_index("snr_db")
    assert d.loc[20.0, "psnr_db"] > d.loc[0.0, "psnr_db"] + 0.5
    h, w = 288, 384  # the frame at scale 0.5, sides multiples of 16 (no block padding)
    n = int(d["n_active"].iloc[0])
    side_symbols = -(-model.side_bits(n) // 2)  # the model's side information, as QPSK symbols
    assert d.loc[0.0, "symbols"] == pytest.approx(n * (h // 4) * (w // 4) / 2 + 16 + side_symbols, rel=0.01)
    assert rows["bits"].isna().all()


def test_measured_content_is_cached_and_independent_of_the_power_budget(tmp_path, monkeypatch):
    monkeypatch.setenv("BSSIM_CACHE", str(tmp_path / "cache"))
    data = {"name": "m", "content": {"source": "measured", "scales": [0.5],
                                     "media": [{"path": "@shared/data/vtest.avi", "frames": "0:200:100",
                                                "library_frames": 10}]}}
    a = measure_content(parse_scenario(data))
    assert list((tmp_path / "cache" / "options").rglob("*.json")), "items are cached on disk"
    b = measure_content(parse_scenario({**data, "scheduler": {"p_max_w": 0.1}}))
    np.testing.assert_array_equal(a.table.bits, b.table.bits)
    assert a.table.item_names == ["vtest#0", "vtest#100"] and a.provenance["codecs"]["avif"]
    assert set(a.table.codec) == {"avif"}  # the digital links' default codec


@pytest.mark.skipif(not TREE.is_file(), reason=f"shared video missing: {TREE}")
def test_a_partly_undecodable_video_is_probed_and_bad_frames_are_an_error():
    probe = probe_video(TREE)
    assert probe["container_frames"] > probe["decodable_frames"] > 0
    n = probe["decodable_frames"]
    with pytest.raises(ValueError, match=rf"content.media\[0\].frames = '0:400:100' asks for frame 300, but only the first {n}"):
        load_media(Media(path=str(TREE), frames="0:400:100"), None, "content.media[0]")
    ok = load_media(Media(path=str(TREE), frames=f"0:{n}:30", library_frames=10), None, "content.media[0]")
    assert sorted(ok.frames) == list(range(0, n, 30)) and ok.library is not None


def test_a_truncated_video_asking_for_frames_that_do_not_decode_is_an_error(tmp_path):
    """The first 1/30 of vtest.avi's bytes: the container still says 795 frames."""
    cut = tmp_path / "vtest_cut.avi"
    data = VIDEO.read_bytes()
    cut.write_bytes(data[: len(data) // 30])
    n = probe_video(cut)["decodable_frames"]
    assert 0 < n < 100
    with pytest.raises(ValueError, match=rf"frames = '0:795:200' asks for frame 600, but only the first {n} frames"):
        load_media(Media(path=str(cut), frames="0:795:200"), None, "content.media[0]")
