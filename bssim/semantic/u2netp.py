"""U²-Net-p (Qin et al., "U²-Net: Going deeper with nested U-structure for salient object
detection", Pattern Recognition 106, 2020) in PyTorch, with the weights of rembg's
``u2netp.onnx``.

The network is the paper's small variant, written from its description (section 3 and
table 1, "U²-Net†"): six encoder stages RSU-7, RSU-6, RSU-5, RSU-4, RSU-4F, RSU-4F and five
decoder stages RSU-4F, RSU-4, RSU-5, RSU-6, RSU-7, every stage with 16 middle and 64 output
channels; 2×2 max-pooling (ceil mode) between stages, bilinear up-sampling
(``align_corners=False``) on the way back; a 3×3 side convolution on the last decoder
stage of each scale (and on the bottom stage), the six side maps up-sampled to the input
size and fused by a 1×1 convolution. Outputs: σ(fused), σ(side1), …, σ(side6), as in the
ONNX file.

The ONNX export folded each batch normalisation into its convolution, so here every
"REBNCONV" is a convolution with bias + ReLU. Weights come from the ONNX file's initializers
(:func:`load_onnx_weights`): its 119 convolutions, in the order the graph runs them, are
matched to this module's convolutions in the order they run (recorded by forward hooks on
a small input), each pair checked for identical weight shape, dilation and padding, and
every initializer must be used exactly once. The converted state dict is cached under
``<bssim cache>/u2netp/<onnx sha256>.pt`` (``torch.load(weights_only=True)``, no pickles).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from bssim.atomic import atomic_path
from bssim.pipeline.extract import rembg_model_path
from bssim.content.cache import cache_dir
from bssim.files import file_hash

MID_CH, OUT_CH = 16, 64
STATE_FORMAT = "bssim-u2netp/1"


class ConvReLU(nn.Module):
    """3×3 convolution (batch norm folded in) with dilation d and padding d, then ReLU."""

    def __init__(self, in_ch: int, out_ch: int, dilation: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, padding=dilation, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv(x))


def upsample_like(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Bilinear resize of ``x`` to ``ref``'s height and width (align_corners=False)."""
    return F.interpolate(x, size=ref.shape[2:], mode="bilinear", align_corners=False)


def _pool(x: torch.Tensor) -> torch.Tensor:
    return F.max_pool2d(x, 2, stride=2, ceil_mode=True)


class RSU(nn.Module):
    """Residual U-block RSU-L (paper Fig. 2): L−1 encoder convolutions, a bottom
    convolution, L−1 decoder convolutions on [decoder, skip]; output = U(x) + conv_in(x).

    ``dilated=False``: RSU-L with pooling between encoder levels and a dilation-2 bottom.
    ``dilated=True``: RSU-LF, no pooling, dilations 1, 2, 4, … instead (bottom 2^(L−1)).
    """

    def __init__(self, height: int, in_ch: int, mid_ch: int = MID_CH, out_ch: int = OUT_CH,
                 dilated: bool = False) -> None:
        super().__init__()
        if height < 3:
            raise ValueError(f"RSU height must be >= 3, got {height}")
        self.pooled = not dilated
        enc_dil = [2**i for i in range(height - 1)] if dilated else [1] * (height - 1)
        self.conv_in = ConvReLU(in_ch, out_ch)
        self.encoder = nn.ModuleList(
            ConvReLU(out_ch if i == 0 else mid_ch, mid_ch, d) for i, d in enumerate(enc_dil))
        self.bottom = ConvReLU(mid_ch, mid_ch, 2 * enc_dil[-1])
        dec_dil = enc_dil[::-1]
        self.decoder = nn.ModuleList(
            ConvReLU(2 * mid_ch, out_ch if i == height - 2 else mid_ch, d) for i, d in enumerate(dec_dil))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_in = self.conv_in(x)
        skips, h = [], x_in
        for i, conv in enumerate(self.encoder):
            if self.pooled and i > 0:
                h = _pool(h)
            h = conv(h)
            skips.append(h)
        h = self.bottom(h)
        for i, (conv, skip) in enumerate(zip(self.decoder, reversed(skips))):
            if self.pooled and i > 0:
                h = upsample_like(h, skip)
            h = conv(torch.cat((h, skip), 1))
        return h + x_in


class U2NetP(nn.Module):
    """U²-Net-p: ``forward(x)`` with x (N, 3, H, W) normalised as ImageNet
    ((RGB/max − mean)/std, see :mod:`bssim.semantic.segment`) returns the logits
    (N, 7, H, W): channel 0 the fused map, 1..6 the side maps (probabilities = sigmoid)."""

    ENCODER = ((7, False), (6, False), (5, False), (4, False), (4, True), (4, True))

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.ModuleList(
            RSU(h, 3 if i == 0 else OUT_CH, dilated=d) for i, (h, d) in enumerate(self.ENCODER))
        self.decoder = nn.ModuleList(
            RSU(h, 2 * OUT_CH, dilated=d) for h, d in reversed(self.ENCODER[:-1]))
        self.side = nn.ModuleList(nn.Conv2d(OUT_CH, 1, 3, padding=1) for _ in range(6))
        self.fuse = nn.Conv2d(6, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"U2NetP expects (N, 3, H, W), got {tuple(x.shape)}")
        skips, h = [], x
        for i, stage in enumerate(self.encoder):
            h = stage(h if i == 0 else _pool(h))
            skips.append(h)
        tops = [h]  # stage outputs from the bottom (stage 6) up to decoder stage 1
        for stage, skip in zip(self.decoder, reversed(skips[:-1])):
            h = stage(torch.cat((upsample_like(h, skip), skip), 1))
            tops.append(h)
        sides = [conv(t) for conv, t in zip(self.side, reversed(tops))]  # side1 (full size) .. side6
        sides = [sides[0]] + [upsample_like(s, sides[0]) for s in sides[1:]]
        fused = self.fuse(torch.cat(sides, 1))
        return torch.cat([fused] + sides, 1)


# ---- weights from the ONNX file ----------------------------------------------------------
def conv_execution_order(model: U2NetP) -> list[nn.Conv2d]:
    """``model``'s convolutions in the order a forward pass runs them (forward hooks)."""
    order: list[nn.Conv2d] = []
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    hooks = [m.register_forward_hook(lambda mod, _i, _o: order.append(mod)) for m in convs]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, 32, 32))
    finally:
        for h in hooks:
            h.remove()
    if len(order) != len(convs) or len(set(map(id, order))) != len(convs):
        raise RuntimeError(f"forward ran {len(order)} convolutions, model has {len(convs)} (each once expected)")
    return order


def _onnx_convs(path: Path) -> tuple[list[dict], dict]:
    """The ONNX graph's Conv nodes in graph order (weight, bias, dilation, pads) and its
    initializers as numpy arrays."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    convs = []
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if len(node.input) != 3:
            raise ValueError(f"{path}: Conv node {node.name!r} has no bias input")
        convs.append({"weight": node.input[1], "bias": node.input[2],
                      "dilation": tuple(attrs.get("dilations", (1, 1))),
                      "pads": tuple(attrs.get("pads", (0, 0, 0, 0))), "group": attrs.get("group", 1)})
    return convs, inits


def _check_pair(k: int, conv: nn.Conv2d, node: dict, inits: dict) -> None:
    w = inits[node["weight"]]
    pad = conv.padding
    ours = (tuple(conv.weight.shape), tuple(conv.dilation), (pad[0], pad[1], pad[0], pad[1]), conv.groups)
    theirs = (tuple(w.shape), node["dilation"], node["pads"], node["group"])
    if ours != theirs or inits[node["bias"]].shape != (conv.out_channels,):
        raise ValueError(f"ONNX conv #{k} ({node['weight']}) does not match the network's: "
                         f"(shape, dilation, pads, groups) {theirs} vs {ours}")


def state_dict_from_onnx(path: str | Path) -> dict[str, torch.Tensor]:
    """U2NetP state dict from ``u2netp.onnx``'s initializers, matched by execution order and
    checked conv by conv (shape, dilation, padding); every initializer used exactly once."""
    path = Path(path)
    model = U2NetP()
    names = {id(m): n for n, m in model.named_modules()}
    ours = conv_execution_order(model)
    nodes, inits = _onnx_convs(path)
    if len(nodes) != len(ours):
        raise ValueError(f"{path}: {len(nodes)} Conv nodes, U²-Net-p has {len(ours)}")
    used = [n[key] for n in nodes for key in ("weight", "bias")]
    if sorted(used) != sorted(inits) or len(set(used)) != len(used):
        raise ValueError(f"{path}: initializers are not used exactly once by the Conv nodes "
                         f"({len(inits)} initializers, {len(used)} uses, {len(set(used))} distinct)")
    sd = {}
    for k, (conv, node) in enumerate(zip(ours, nodes)):
        _check_pair(k, conv, node, inits)
        sd[f"{names[id(conv)]}.weight"] = torch.from_numpy(inits[node["weight"]].copy()).float()
        sd[f"{names[id(conv)]}.bias"] = torch.from_numpy(inits[node["bias"]].copy()).float()
    return sd


def default_onnx_path() -> Path:
    """``u2netp.onnx`` where rembg finds it (``U2NET_HOME``, else ``<shared>/models``)."""

    return rembg_model_path("u2netp")


def _cached_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The converted state dict, from ``<cache>/u2netp/<sha256>.pt`` or converted and stored."""

    digest = file_hash(path, 64)
    entry = cache_dir() / "u2netp" / f"{digest}.pt"
    try:
        obj = torch.load(entry, map_location="cpu", weights_only=True)
        if obj.get("format") == STATE_FORMAT and obj.get("onnx_sha256") == digest:
            return obj["state_dict"]
    except (OSError, RuntimeError, ValueError, AttributeError, KeyError):
        pass  # absent or unreadable: convert again
    sd = state_dict_from_onnx(path)
    entry.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(entry) as tmp:
        torch.save({"format": STATE_FORMAT, "onnx_sha256": digest, "state_dict": sd}, tmp)
    return sd


_MODELS: dict[str, U2NetP] = {}


def load_u2netp(path: str | Path | None = None) -> U2NetP:
    """U²-Net-p with the weights of ``path`` (default :func:`default_onnx_path`), in eval mode,
    parameters trainable (``requires_grad``) so gradients can flow to its input. One instance
    per file is kept in memory; callers must not modify its weights in place."""
    path = Path(path) if path is not None else default_onnx_path()
    if not path.is_file():
        raise FileNotFoundError(
            f"u2netp weights not found: {path} (set U2NET_HOME or BSSIM_SHARED to the folder "
            "holding u2netp.onnx; rembg's releases page has the file)")
    key = str(path.resolve())
    if key not in _MODELS:
        with torch.inference_mode(False):  # weights made under inference mode could never be differentiated
            model = U2NetP()
            model.load_state_dict(_cached_state_dict(path))
        _MODELS[key] = model.eval()
    return _MODELS[key]
