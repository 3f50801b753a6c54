"""Task metrics measured per option through the real pipeline (direct and key) and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bssim.paths import shared_data

VIDEO = shared_data("vtest.avi")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not VIDEO.is_file(), reason=f"shared video missing: {VIDEO}")]


def _need_u2netp():
    from bssim.semantic.u2netp import default_onnx_path

    if not default_onnx_path().is_file():
        pytest.skip(f"u2netp.onnx not found at {default_onnx_path()}")


def test_every_scheme_carries_task_metrics_and_the_original_scores_one():
    from bssim.codecs.jscc_common import jscc_model
    from bssim.codecs.jscc_digital import JsccDigital
    from bssim.options.measure import MeasureSpec, measure_item
    from bssim.pipeline import BackgroundLibrary, read_frames
    from bssim.pipeline.video import video_background

    _need_u2netp()
    frame = read_frames(VIDEO, [550])[550]
    lib = BackgroundLibrary()
    lib.add("vtest_bg", video_background(VIDEO, max_frames=40).image)
    spec = MeasureSpec(scales=(0.5,), metrics=("ssim", "person_iou", "person_f1"))
    rows = {r["scheme"]: r for r in measure_item(frame, lib, [JsccDigital(jscc_model(None), 6, (16,))], spec).rows}
    assert set(rows) == {"direct", "key"}
    for r in rows.values():
        assert 0.0 <= r["person_iou"] <= 1.0 and 0.0 <= r["person_f1"] <= 1.0
        assert "psnr_db" not in r  # only what was asked
    # the key frame keeps the library's clean background (higher SSIM than the coded frame), and
    # U²-Net-p still finds the half-resolution people in both: the task metrics measure something
    assert rows["key"]["ssim"] > rows["direct"]["ssim"]
    assert min(rows["key"]["person_iou"], rows["direct"]["person_iou"]) > 0.3


def test_cli_measure_json_rows_carry_the_requested_metrics(tmp_path, monkeypatch):
    from bssim.cli import app
    from bssim.pipeline import read_frames
    from bssim.files import write_image

    _need_u2netp()
    monkeypatch.setenv("BSSIM_CACHE", str(tmp_path / "cache"))
    frame = read_frames(VIDEO, [550])[550]
    write_image(tmp_path / "img" / "walkers.png", np.ascontiguousarray(frame[300:528, 150:310]))  # two walkers
    runner = CliRunner()
    res = runner.invoke(app, ["pipeline", "measure", str(tmp_path / "img"), "--frames", "0:1:1", "--scales", "1",
                              "--metrics", "ssim,psnr,person_iou,person_f1", "--png-frames", "0", "--json",
                              "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    rows = pd.DataFrame(json.loads(res.stdout[res.stdout.index("["):]))
    for m in ("ssim", "psnr_db", "person_iou", "person_f1"):
        assert rows[m].between(0, 100).all(), m
    assert rows["person_iou"].max() > 0.5  # two big walkers survive the full-rate JSCC
    res = runner.invoke(app, ["pipeline", "measure", str(tmp_path / "img"), "--metrics", "ssim,iou",
                              "--out", str(tmp_path / "out2")])
    assert res.exit_code == 2 and "--metrics" in res.output and "iou" in res.output
