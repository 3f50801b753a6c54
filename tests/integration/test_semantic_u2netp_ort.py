"""The PyTorch U²-Net-p equals rembg's ONNX model (onnxruntime) on a real frame."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bssim.paths import shared_data

VTEST = shared_data("vtest.avi")


def _onnx_path():
    from bssim.semantic.u2netp import default_onnx_path

    path = default_onnx_path()
    if not path.is_file():
        pytest.skip(f"u2netp.onnx not found at {path} (set BSSIM_SHARED or U2NET_HOME)")
    return path


def _rembg_input(frame: np.ndarray) -> np.ndarray:
    """rembg's u2netp input: 320x320 LANCZOS, divided by the image's maximum, ImageNet mean/std."""
    from PIL import Image

    im = np.asarray(Image.fromarray(frame).resize((320, 320), Image.Resampling.LANCZOS), np.float64)
    im = im / max(im.max(), 1e-6)
    x = (im - (0.485, 0.456, 0.406)) / (0.229, 0.224, 0.225)
    return x.transpose(2, 0, 1)[None].astype(np.float32)


def test_torch_u2netp_equals_onnxruntime_on_a_vtest_frame():
    import onnxruntime as ort

    from bssim.files import read_frames
    from bssim.semantic.u2netp import load_u2netp

    path = _onnx_path()
    if not VTEST.is_file():
        pytest.skip(f"{VTEST} not found (shared data)")
    x = _rembg_input(read_frames(VTEST, [450])[450])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    ref = np.stack([o[:, 0] for o in sess.run(None, {sess.get_inputs()[0].name: x})], 1)  # (1, 7, H, W)
    with torch.no_grad():
        ours = torch.sigmoid(load_u2netp(path)(torch.from_numpy(x))).numpy()
    assert ours.shape == ref.shape == (1, 7, 320, 320)
    assert np.abs(ours - ref).max() < 1e-4
    assert (ref[0, 0] > 0.5).any(), "the frame has salient people: a blank output would pass trivially"

