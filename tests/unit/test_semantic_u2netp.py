"""U²-Net-p's ONNX conversion checks what it converts (no shared data needed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bssim.semantic.u2netp import U2NetP, conv_execution_order, state_dict_from_onnx


def test_conversion_rejects_a_model_that_is_not_u2netp(tmp_path):
    """A file whose convolutions do not match the network's is refused, naming the mismatch."""
    import onnx
    from onnx import helper, numpy_helper

    w = numpy_helper.from_array(np.zeros((4, 3, 3, 3), np.float32), "w")
    b = numpy_helper.from_array(np.zeros(4, np.float32), "b")
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, None)],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)], [w, b])
    path = tmp_path / "tiny.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(ValueError, match="1 Conv nodes"):
        state_dict_from_onnx(path)


def test_network_keeps_the_input_size_and_runs_each_convolution_once():
    model = U2NetP().eval()
    with torch.no_grad():
        out = model(torch.zeros(1, 3, 40, 56))
    assert out.shape == (1, 7, 40, 56)
    assert len(conv_execution_order(model)) == sum(isinstance(m, torch.nn.Conv2d) for m in model.modules()) == 119
