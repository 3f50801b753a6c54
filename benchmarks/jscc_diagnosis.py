"""Where does the deep JSCC's 26 dB ceiling come from? Short controlled runs (issue 18, step 1).

Every variant is trained by the same loop for the same wall-clock budget (``--seconds``, one
torch thread): Adam 5e-4, MSE, batch 8 of 96 px crops of the training photographs (the 66 of
``train_images``; every 10th held out), 8 active channels (k/n = 1/12), a noiseless channel
(what limits the ceiling is not the noise). Reported: PSNR (dB) of the 8 held-out photographs
(256 px centre crops), noiseless, 8 channels, and the steps done.

Variants:

- ``yk``: the shipped architecture (Yang & Kim, BatchNorm, per-channel power normalisation,
  sigmoid output), from scratch;
- ``yk_nobn``: the same with every BatchNorm removed (identity);
- ``yk_gdn``: every BatchNorm replaced by GDN in the encoders and inverse GDN in the decoder
  (Ballé et al. 2016: y_i = x_i / sqrt(β_i + Σ_j γ_ij x_j²), inverse: times the root);
- ``yk_imgnorm``: per-image power normalisation (one scale for all active values) instead of
  per-channel;
- ``yk_nobn_imgnorm``: both;
- ``linear``: a learned linear code (the anchored model with its nonlinear branches frozen
  at zero, analysis and synthesis from a random orthogonal start), same loop;
- ``pca``: the same linear code started from the block PCA, not trained (the anchor);
- ``overfit_yk``: the shipped checkpoint fine-tuned on ONE training photograph (crops of
  it), PSNR on that photograph: can the architecture represent one image beyond 26 dB?
- ``overfit_yk_scratch``: the shipped architecture from scratch on that one photograph.
- ``ft_yk``: the shipped checkpoint fine-tuned noiselessly on all training photographs;
- ``ft_yk_imgnorm``: the same with per-image instead of per-channel power normalisation
  (the decoder sees differently scaled channels at first).

    python benchmarks/jscc_diagnosis.py --seconds 180 --out runs/jscc/diagnosis.json

Numbers depend on the machine's speed (steps done); the model card quotes one run.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bssim.atomic import write_text
from bssim.jscc import load_model, yang_kim_checkpoint_path
from bssim.jscc.checkpoint import build_model
from bssim.jscc.config import JSCCConfig
from bssim.jscc.data import center_crop, load_training_images
from bssim.jscc.linear import default_linear_basis
from bssim.jscc.policy import level_mask
from bssim.jscc.sampler import CropSampler
from bssim.jscc.train import to_tensor

LEVEL = 8
SNR_DB = 20.0  # the SNR the networks are told; the channel adds no noise


def image_norm(z: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-image power normalisation: mean square 1/2 over all active values of an image."""
    m = mask[:, :, None, None]
    p = (z * z * m).sum(dim=(1, 2, 3), keepdim=True) / (m.sum(dim=(1, 2, 3), keepdim=True) * z.shape[2] * z.shape[3])
    return z / torch.sqrt(2.0 * p + 1e-8) * m


def strip_bn(model: nn.Module) -> nn.Module:
    for name, child in model.named_children():
        if isinstance(child, nn.BatchNorm2d):
            setattr(model, name, nn.Identity())
        else:
            strip_bn(child)
    return model


class GDN(nn.Module):
    """Generalised divisive normalisation (Ballé, Laparra & Simoncelli 2016), x (B, C, H, W) → same shape.

    y_i = x_i / sqrt(β_i + Σ_j γ_ij x_j²); ``inverse``: y_i = x_i · sqrt(…) (IGDN, for decoders).
    β and γ are kept non-negative by squaring their parameters; β starts at 1, γ at 0.1·I.
    """

    def __init__(self, channels: int, inverse: bool = False) -> None:
        super().__init__()
        self.inverse = inverse
        self.beta_root = nn.Parameter(torch.ones(channels))
        self.gamma_root = nn.Parameter(torch.eye(channels).mul(math.sqrt(0.1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gamma = (self.gamma_root**2)[:, :, None, None]
        norm = torch.sqrt(nn.functional.conv2d(x * x, gamma, self.beta_root**2) + 1e-9)
        return x * norm if self.inverse else x / norm


def bn_to_gdn(model: nn.Module, prefix: str = "") -> nn.Module:
    """Every BatchNorm2d → GDN, inverse GDN under ``decoder``."""
    for name, child in model.named_children():
        path = f"{prefix}{name}"
        if isinstance(child, nn.BatchNorm2d):
            setattr(model, name, GDN(child.num_features, inverse=path.startswith("decoder")))
        else:
            bn_to_gdn(child, path + ".")
    return model


class Variant:
    """A model and how it sends one batch noiselessly at 8 channels."""

    def __init__(self, model: nn.Module, norm: str = "model") -> None:
        self.model, self.norm = model, norm

    def run(self, x: torch.Tensor) -> torch.Tensor:
        snr = torch.full((x.shape[0],), SNR_DB)
        mask = level_mask(LEVEL, x.shape[0], self.model.cfg)
        z, _ = self.model.analyse(x, snr)
        if self.norm == "image":
            sym, side = image_norm(z, mask), None
        else:
            sym, side = self.model.symbols(z, mask, snr)
        return self.model.decode(sym, mask, snr, side)[..., : x.shape[2], : x.shape[3]]


def make(name: str) -> Variant:
    torch.manual_seed(0)
    if name == "pca" or name == "linear":
        m = build_model(JSCCConfig(arch="anchored"))
        for mod in (m.source_encoder, m.refiner, m.gain):
            for p in mod.parameters():
                p.requires_grad_(False)
        if name == "pca":
            basis = default_linear_basis(8)
            m.init_from_basis(basis.components, basis.mean)
        else:
            q, _ = torch.linalg.qr(torch.randn(192, 192))
            m.init_from_basis(q.T.numpy(), np.full(192, 0.5))
        return Variant(m)
    if name in ("overfit_yk", "ft_yk", "ft_yk_imgnorm"):
        return Variant(load_model(yang_kim_checkpoint_path(), precision="fp32"), "image" if "imgnorm" in name else "model")
    m = build_model(JSCCConfig())
    if "nobn" in name:
        strip_bn(m)
    if "gdn" in name:
        bn_to_gdn(m)
    return Variant(m, "image" if "imgnorm" in name else "model")


def psnr(v: Variant, xs: list[torch.Tensor]) -> float:
    v.model.eval()
    with torch.no_grad():
        vals = [10 * math.log10(1 / float(torch.mean((v.run(x).clamp(0, 1) - x) ** 2))) for x in xs]
    return float(np.mean(vals))


def train(v: Variant, sampler: CropSampler, seconds: float) -> int:
    params = [p for p in v.model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=5e-4)
    rng, steps, t0 = np.random.default_rng(0), 0, time.time()
    v.model.train()
    while time.time() - t0 < seconds:
        x = to_tensor(sampler.batch(8, rng), "cpu")
        loss = torch.mean((v.run(x) - x) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        steps += 1
    return steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data/train_images")
    ap.add_argument("--seconds", type=float, default=180.0)
    ap.add_argument("--variants", default="pca,linear,overfit_yk,overfit_yk_scratch,ft_yk,ft_yk_imgnorm,yk,yk_nobn,yk_imgnorm")
    ap.add_argument("--out", default="runs/jscc/diagnosis.json")
    a = ap.parse_args()
    torch.set_num_threads(1)
    train_imgs, val_imgs, _ = load_training_images(a.data)
    val = [to_tensor(center_crop(im, 256)[None], "cpu") for im in val_imgs]
    one = train_imgs[0]
    one_x = [to_tensor(center_crop(one, 512)[None], "cpu")]
    rows = []
    for name in a.variants.split(","):
        v = make(name)
        overfit = name.startswith("overfit")
        evalset = one_x if overfit else val
        before = psnr(v, evalset)
        steps = 0 if name == "pca" else train(v, CropSampler([one] if overfit else train_imgs, 96), a.seconds)
        row = {"variant": name, "steps": steps, "seconds": a.seconds if steps else 0.0,
               "eval": "one training photo (512 px centre)" if overfit else "8 held-out photos (256 px centre)",
               "psnr_before_db": before, "psnr_after_db": psnr(v, evalset)}  # fmt: skip
        rows.append(row)
        print(json.dumps(row), flush=True)
    write_text(a.out, json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
