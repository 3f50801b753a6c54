"""Seed-002 training pieces: the pixel-importance plane (computation, cache, normalisation),
its passage through the crop augmentations, the weighted loss, fine-tune options, and the
comparison's bookkeeping (disjoint frames, paired differences)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from bssim.semantic.pixel_importance import (IMPORTANCE_SCALE, ImportanceSettings, cached_importance,
                                             importance_channel, pixel_importance)  # fmt: skip
from bssim.semantic.u2netp import U2NetP


@pytest.fixture(scope="module")
def segmenter():
    torch.manual_seed(1)  # (seed 0's random network gives Σ α_k A_k < 0 everywhere: an all-zero map)
    return U2NetP().eval()


def _image(h: int = 40, w: int = 56, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_pixel_importance_is_a_nonnegative_map_of_the_image_size_and_cached(segmenter, tmp_path: Path) -> None:
    img = _image()
    s = ImportanceSettings(work_side_px=64, sigma_px=1.0)
    g = pixel_importance(img, s, segmenter)
    assert g.shape == (40, 56) and g.dtype == np.float32 and (g >= 0).all() and g.max() > 0
    first = cached_importance(img, tmp_path, s, segmenter)
    assert len(list(tmp_path.glob("*.npy"))) == 1
    np.testing.assert_allclose(first, g, rtol=1e-5)
    again = cached_importance(img, tmp_path, s, segmenter=object())  # read back: the segmenter is not called
    np.testing.assert_array_equal(again, first)


def test_importance_settings_reject_bad_values() -> None:
    with pytest.raises(ValueError, match="work_side_px"):
        ImportanceSettings(work_side_px=16)
    with pytest.raises(ValueError, match="sigma_px"):
        ImportanceSettings(sigma_px=-1)


def test_importance_channel_is_relative_to_the_mean_over_all_images() -> None:
    a = np.full((16, 16), 1.0, np.float32)
    b = np.zeros((16, 16), np.float32)
    b[0, 0] = 1000.0  # mean over both maps: (256 + 1000) / 512
    planes, clipped = importance_channel([a, b])
    mean = 1256.0 / 512.0
    assert planes[0][0, 0] == round(IMPORTANCE_SCALE / mean) and planes[1][1, 1] == 0
    assert planes[1][0, 0] == 255 and clipped == pytest.approx(1 / 512)  # 1000 / mean · 4 > 255: clipped
    with pytest.raises(ValueError, match="zero on every training image"):
        importance_channel([b * 0])


def test_crops_carry_the_importance_plane_with_the_pixels() -> None:
    from bssim.jscc.sampler import CropSampler

    rgb = _image(64, 80, seed=3)
    four = np.concatenate([rgb, rgb[..., :1]], axis=2)  # importance plane = the red plane
    out = CropSampler([four], 32, min_scale=0.5).batch(16, np.random.default_rng(0))
    assert out.shape == (16, 32, 32, 4)
    np.testing.assert_array_equal(out[..., 3], out[..., 0])  # every resize, rotation and flip applied alike


def test_semantic_loss_weight_is_one_minus_beta_plus_beta_times_importance() -> None:
    from bssim.jscc.train import TrainSettings, split_importance

    x = torch.rand(2, 4, 8, 8)
    rgb, w = split_importance(x, TrainSettings(data=".", semantic=True, semantic_weight=0.25))
    assert rgb.shape == (2, 3, 8, 8)
    torch.testing.assert_close(w, 0.75 + 0.25 * x[:, 3:4] * (255.0 / IMPORTANCE_SCALE))
    assert split_importance(x[:, :3], TrainSettings(data="."))[1] is None
    with pytest.raises(ValueError, match="semantic_weight"):
        TrainSettings(data=".", semantic_weight=1.5)


def test_paired_summary_differences_and_interval() -> None:
    from bssim.studies.semantic_compare import paired_summary

    rows = pd.DataFrame({"video": "v.avi", "frame": [1, 2, 3] * 2, "model": ["a"] * 3 + ["b"] * 3, "snr_db": 10.0,
                         "person_iou": [0.2, 0.4, 0.6, 0.3, 0.6, 0.6], "person_f1": 1.0, "psnr_db": 30.0,
                         "psnr_person_db": np.nan})  # fmt: skip
    s = paired_summary(rows, "a").set_index("model")
    assert s.loc["b", "person_iou"] == pytest.approx(0.5)
    assert s.loc["b", "d_person_iou"] == pytest.approx(0.1)  # differences 0.1, 0.2, 0.0
    assert s.loc["b", "d_person_iou_ci95"] == pytest.approx(4.3027 * 0.1 / np.sqrt(3), rel=1e-3)
    assert np.isnan(s.loc["b", "d_psnr_person_db"])
    with pytest.raises(ValueError, match="reference model 'c'"):
        paired_summary(rows, "c")


def test_comparison_refuses_training_frames() -> None:
    from bssim.studies.semantic_compare import EvalFrame, check_disjoint

    frames = [EvalFrame("vtest.avi", 450, _image()), EvalFrame("vtest.avi", 460, _image())]
    check_disjoint(frames, ["vtest.avi#0", "vtest.avi#20"], "m")
    with pytest.raises(ValueError, match=r"model 'm' was trained on evaluation frame\(s\) \['vtest.avi#460'\]"):
        check_disjoint(frames, ["vtest.avi#460"], "m")


def _cli(*args: str):
    from typer.testing import CliRunner

    from bssim.cli import app

    return CliRunner().invoke(app, list(args))


def test_fine_tune_and_compare_options_fail_clearly(tmp_path: Path) -> None:
    import cv2

    (tmp_path / "imgs").mkdir()
    for i in range(2):
        cv2.imwrite(str(tmp_path / "imgs" / f"{i}.png"), _image(seed=i))
    data = ["jscc", "train", "--data", str(tmp_path / "imgs"), "--out", str(tmp_path / "m.pt")]
    r = _cli(*data, "--init", str(tmp_path / "a.pt"), "--resume", str(tmp_path / "b.pt"))
    assert r.exit_code == 2 and "--init and --resume exclude each other" in r.output
    r = _cli(*data, "--init", str(tmp_path / "none.pt"))
    assert r.exit_code == 2 and "no such checkpoint" in r.output
    r = _cli(*data, "--video", "clip.avi")
    assert r.exit_code == 2 and "PATH:START:STOP:STEP" in r.output
    r = _cli(*data, "--semantic", "--semantic-weight", "2")
    assert r.exit_code == 2 and "semantic_weight (--semantic-weight) must be in [0, 1]" in r.output
    r = _cli("semantic", "compare", "--model", "a=shipped", "--reference", "a", "--video", "v.avi:450:451")
    assert r.exit_code == 2 and "at least two models" in r.output
    r = _cli("semantic", "compare", "--model", "a=shipped", "--model", "b", "--reference", "a", "--video", "v.avi:450:451")
    assert r.exit_code == 2 and "expected NAME=CHECKPOINT" in r.output


def test_the_shared_segmenter_stays_differentiable_when_first_loaded_under_inference_mode(monkeypatch, tmp_path) -> None:
    """A first load inside torch.inference_mode (as person_mask does) must not make the cached
    network's weights inference tensors, or the seed-002 importance fails on it later."""
    from bssim.semantic import u2netp

    monkeypatch.setattr(u2netp, "_MODELS", {})
    monkeypatch.setattr(u2netp, "_cached_state_dict", lambda path: U2NetP().state_dict())
    fake = tmp_path / "u2netp.onnx"
    fake.write_bytes(b"x")
    with torch.inference_mode():
        model = u2netp.load_u2netp(fake)
    assert not any(p.is_inference() for p in model.parameters())
    g = pixel_importance(_image(), ImportanceSettings(work_side_px=64), u2netp.load_u2netp(fake))
    assert g.shape == (40, 56)
