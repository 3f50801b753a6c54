"""Seed-002 fine-tune on real data: ``bssim jscc train --semantic --video --init`` runs end to end
on a tiny model, recording the video frames it used (which ``bssim semantic compare`` then
refuses), and a semantic checkpoint's schemes join every menu. (Where the importance lies on
labelled people: tests/integration/test_semantic_truth.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from bssim.paths import shared_data

VTEST = shared_data("vtest.avi")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not VTEST.is_file(), reason=f"shared video missing: {VTEST}")]


@pytest.fixture(autouse=True)
def _need_u2netp():
    from bssim.semantic.u2netp import default_onnx_path

    if not default_onnx_path().is_file():
        pytest.skip(f"u2netp.onnx not found at {default_onnx_path()}")


def test_semantic_fine_tune_cli_records_its_video_frames(tmp_path: Path):
    from bssim.cli import app
    from bssim.jscc.checkpoint import read_checkpoint

    (tmp_path / "imgs").mkdir()
    for i in range(3):
        rng = np.random.default_rng(i)
        cv2.imwrite(str(tmp_path / "imgs" / f"{i}.png"), rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    tiny = ["--c-s", "8", "--c-half", "8", "--c-full", "4", "--n-res", "0", "--crop", "32", "--crop-tail", "0",
            "--crops-per-epoch", "8", "--batch", "4", "--threads", "1"]  # fmt: skip
    base = tmp_path / "base.pt"
    r = CliRunner().invoke(app, ["jscc", "train", "--data", str(tmp_path / "imgs"), "--out", str(base), "--epochs", "1", *tiny])
    assert r.exit_code == 0, r.output
    out = tmp_path / "sem.pt"
    r = CliRunner().invoke(app, ["jscc", "train", "--data", str(tmp_path / "imgs"), "--out", str(out), "--epochs", "1",
                                 "--init", str(base), "--semantic", "--video", f"{VTEST}:200:401:200", *tiny])  # fmt: skip
    assert r.exit_code == 0, r.output
    meta = read_checkpoint(out)["meta"]
    assert meta["video_frames"] == ["vtest.avi#200", "vtest.avi#400"]
    assert meta["importance_images"] == 2 + 2 and 0.0 <= meta["importance_clipped_share"] < 0.05
    assert meta["init_checkpoint"] and meta["settings"]["semantic"] is True
    compare = ["semantic", "compare", "--model", f"a={base}", "--model", f"b={out}", "--reference", "a", "--snr", "10"]
    r = CliRunner().invoke(app, [*compare, "--video", f"{VTEST}:400:401"])
    assert r.exit_code == 2 and "model 'b' was trained on evaluation frame(s) ['vtest.avi#400']" in r.output
    r = CliRunner().invoke(app, [*compare, "--video", f"{VTEST}:390:401:10"])
    assert r.exit_code == 2 and "evaluation frames are 400-794" in r.output


def test_a_semantic_checkpoint_adds_its_codec_to_every_menu(tmp_path, monkeypatch):
    """content.semantic_checkpoint: each item is measured again with that JSCC, as the codec
    jscc_semantic_digital beside jscc_digital. With the MSE checkpoint itself in that role the
    new rows must equal the old ones (same weights), and the scheduler sees both codecs."""
    import shutil

    import pandas as pd

    from bssim.cli import app
    from bssim.options.catalog import measure_content
    from bssim.jscc import default_checkpoint_path
    from bssim.scenario import ScenarioError, parse_scenario

    monkeypatch.setenv("BSSIM_CACHE", str(tmp_path / "cache"))
    same = shutil.copy(default_checkpoint_path(), tmp_path / "same.pt")
    data = {"name": "m", "content": {"source": "measured", "scales": [0.5], "channel_levels": [4, 8],
                                     "semantic_checkpoint": str(same), "codecs": ["jscc_digital"],
                                     "media": [{"path": "@shared/data/vtest.avi", "frames": "300:301", "library_frames": 10}]}}  # fmt: skip
    cat = measure_content(parse_scenario(data))
    assert set(cat.table.scheme) == {"direct", "key"}
    assert set(cat.table.codec) == {"jscc_digital", "jscc_semantic_digital"}
    rows = cat.rows.set_index(["codec", "scheme", "rate_label"])
    a, b = rows.loc["jscc_digital"], rows.loc["jscc_semantic_digital"]
    pd.testing.assert_series_equal(a["bits"], b["bits"])
    pd.testing.assert_series_equal(a["ssim"], b["ssim"])
    versions = cat.provenance["codecs"]
    assert versions["jscc_semantic_digital"] == versions["jscc_digital"]  # the same weights' hash
    missing = {**data, "content": {**data["content"], "semantic_checkpoint": str(tmp_path / "nope.pt")}}
    with pytest.raises(FileNotFoundError, match="content.semantic_checkpoint"):
        measure_content(parse_scenario(missing))
    with pytest.raises(ScenarioError, match="semantic_checkpoint"):
        parse_scenario({**data, "content": {**data["content"], "semantic_checkpoint": 3}})
    toml = tmp_path / "m.toml"
    toml.write_text(f'name = "m"\n[users]\ncount = 6\n[content]\nsource = "measured"\nscales = [0.5]\n'
                    f'channel_levels = [4, 8]\ncodecs = ["jscc_digital"]\nsemantic_checkpoint = "{same}"\n[[content.media]]\n'
                    f'path = "@shared/data/vtest.avi"\nframes = "300:301"\nlibrary_frames = 10\n')  # fmt: skip
    r = CliRunner().invoke(app, ["solve", str(toml), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output[r.output.index("{"):])
    assert out["menu_items"] == 2 * 2 * 2  # schemes x codecs x channel levels
    assert sum(out[f"n_{s}"] for s in ("direct", "key", "none")) == 6
    assert {d["codec"] for d in out["choices_detail"]} <= {"jscc_digital", "jscc_semantic_digital", "none"}
