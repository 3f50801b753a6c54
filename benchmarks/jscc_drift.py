"""How far training moved an anchored JSCC's linear transforms from the PCA basis it started at.

    .venv/bin/python benchmarks/jscc_drift.py CHECKPOINT [CHECKPOINT ...]

For each checkpoint of ``arch = "anchored"`` (a training checkpoint or an exported one), the
relative change ‖w_i − v_i‖ / ‖v_i‖ of the analysis and synthesis rows i (coefficient i of
K, in PCA order) against the shipped basis ``linear_b{b}.pt`` they were initialised from,
and the inner products a_i·s_i (1 at initialisation: each synthesis row is its analysis row).
Adam moves every weight by about the learning rate per step whatever its gradient, so the
rows of low-energy coefficients, whose gradients are mostly noise, random-walk away from the
basis (MODEL_CARD.md, "Why the linear transforms learn at 0.01×").
Prints one JSON object per checkpoint.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from bssim.jscc import load_model
from bssim.jscc.anchored import AnchoredJSCC
from bssim.jscc.linear import default_linear_basis

ROWS = (0, 10, 50, 100, 150, 200, 255)


def drift(model: AnchoredJSCC) -> dict:
    """Relative row changes of analysis and synthesis against the shipped basis, at coefficient indices ``ROWS``."""
    b, k = model.cfg.block_px, model.k
    basis = default_linear_basis(b)
    v = torch.from_numpy(np.asarray(basis.components[:k], dtype=np.float32))  # (K, d), d in (y, x, colour) order
    out: dict = {"checkpoint": model.model_version, "block_px": b, "k": k}
    rows = [i for i in ROWS if i < k]
    mats = {}
    for name in ("analysis", "synthesis"):
        w = getattr(model, name).weight.detach().float().reshape(k, 3, b, b).permute(0, 2, 3, 1).reshape(k, -1)
        mats[name] = w
        rel = (w - v).norm(dim=1) / v.norm(dim=1)
        out[f"{name}_rel_change"] = {i: round(float(rel[i]), 4) for i in rows}
    dots = (mats["analysis"] * mats["synthesis"]).sum(dim=1)
    out["analysis_dot_synthesis"] = {i: round(float(dots[i]), 4) for i in rows}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+")
    args = ap.parse_args()
    for path in args.checkpoints:
        model = load_model(path, precision="fp32")
        if not isinstance(model, AnchoredJSCC):
            raise SystemExit(f"error: {path}: not an anchored JSCC (arch {model.cfg.arch!r})")
        print(json.dumps(drift(model)))


if __name__ == "__main__":
    main()
