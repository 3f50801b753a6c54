"""Two cheap probes of the deep JSCC's 26 dB ceiling (issue 18), no training.

1. **Per-channel power normalisation, on the linear code.** The SoftCast-style code of
   :mod:`bssim.jscc.linear` (8×8 PCA, k/n = 1/12) with its λ^(−1/4) power allocation, and the
   same code with every coefficient sent at equal power (what per-channel normalisation
   imposes on a network whose channels are its coefficients), LMMSE both. Kodak, AWGN.
2. **Where the shipped network loses the image.** The shipped checkpoint's latents at 8 and
   16 channels, noiseless, with a *linear* decoder fitted by least squares (3×3 latent
   neighbourhood → the 4×4×3 pixels of the centre position) on training photographs,
   against the shipped decoder on the same Kodak images. If the linear read-out of the
   latents is no better than the network's decoder, the information is gone at the encoder.

    python benchmarks/jscc_probe.py --out runs/jscc/probe.json
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import torch
import torch.nn.functional as F

from bssim.atomic import write_text
from bssim.files import list_images, read_image
from bssim.jscc import load_model, transmit, yang_kim_checkpoint_path
from bssim.jscc.data import center_crop, load_training_images
from bssim.jscc.digital import image_tensor
from bssim.jscc.linear import blocks_to_image, coefficients_for_rate, default_linear_basis, image_to_blocks


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return 10 * math.log10(255**2 / float(np.mean((a.astype(float) - b.astype(float)) ** 2)))


def linear_equal_power(image: np.ndarray, basis, k_over_n: float, snr_db: float, seed: int) -> np.ndarray:
    """The linear code with every sent coefficient at the same power 1/2 (per-channel normalisation), LMMSE."""
    m = coefficients_for_rate(basis.block_px, k_over_n)
    blocks, hw = image_to_blocks(image, basis.block_px)
    c = (blocks - basis.mean) @ basis.components[:m].T
    nu = c.mean(axis=0)
    lam = np.maximum(((c - nu) ** 2).mean(axis=0), 1e-12)
    g = np.sqrt(0.5 / lam)
    n0 = 0.5 * 10 ** (-snr_db / 10)
    y = (c - nu) * g + np.random.default_rng(seed).normal(0, math.sqrt(n0), c.shape)
    c_hat = nu + g * lam / (g * g * lam + n0) * y
    return blocks_to_image(c_hat @ basis.components[:m] + basis.mean, basis.block_px, hw, image.shape[:2])


def probe_power(kodak: list[np.ndarray]) -> list[dict]:
    from bssim.jscc.linear import linear_transmit

    basis, rows = default_linear_basis(8), []
    for snr in (0.0, 10.0, 20.0):
        soft = np.mean([psnr(im, linear_transmit(im, basis, 1 / 12, snr, seed=i).image) for i, im in enumerate(kodak)])
        equal = np.mean([psnr(im, linear_equal_power(im, basis, 1 / 12, snr, i)) for i, im in enumerate(kodak)])
        rows.append({"probe": "power allocation, linear 8x8 k/n=1/12", "snr_db": snr,
                     "softcast_lambda^-1/4_db": float(soft), "equal_power_db": float(equal)})  # fmt: skip
    return rows


def latents(model, image: np.ndarray, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Noiseless latents (1, n, h, w) of the first n channels and the padded image (1, 3, 4h, 4w)."""
    x = image_tensor(image)
    with torch.inference_mode():
        z, _ = model.encode(x, torch.tensor([20.0]), n_active=n)
    return z[:, :n].float(), x


def features(z: torch.Tensor) -> torch.Tensor:
    """3×3 neighbourhood of every latent position, plus a constant: (h·w, 9·n + 1)."""
    cols = F.unfold(F.pad(z, (1, 1, 1, 1), mode="replicate"), 3)[0].T
    return torch.cat([cols, torch.ones(cols.shape[0], 1)], dim=1)


def fit_readout(model, images: list[np.ndarray], n: int) -> torch.Tensor:
    xtx, xty = 0.0, 0.0
    for im in images:
        z, x = latents(model, im, n)
        a = features(z).double()
        t = F.pixel_unshuffle(x, 4)[0].reshape(48, -1).T.double()
        xtx, xty = xtx + a.T @ a, xty + a.T @ t
    return torch.linalg.solve(xtx + 1e-6 * torch.eye(xtx.shape[0], dtype=torch.float64), xty).float()


def readout(model, w: torch.Tensor, image: np.ndarray, n: int) -> np.ndarray:
    z, x = latents(model, image, n)
    out = (features(z) @ w).T.reshape(1, 48, z.shape[2], z.shape[3])
    rec = F.pixel_shuffle(out, 4)[0].clamp(0, 1).permute(1, 2, 0)
    return (rec * 255).round().byte().numpy()[: image.shape[0], : image.shape[1]]


def probe_readout(kodak: list[np.ndarray], data: str) -> list[dict]:
    model = load_model(yang_kim_checkpoint_path(), precision="fp32")
    train, _, _ = load_training_images(data)
    fit_set = [center_crop(im, 256) for im in train]
    rows = []
    for n in (8, 16):
        w = fit_readout(model, fit_set, n)
        lin = np.mean([psnr(im, readout(model, w, im, n)) for im in kodak])
        net = np.mean([psnr(im, transmit(model, im, 20.0, channel="none", n_active=n).image) for im in kodak])
        rows.append({"probe": "read-out of the shipped latents, noiseless", "channels": n,
                     "network_decoder_db": float(net), "linear_readout_db": float(lin), "model": model.model_version})  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kodak", default="../shared/data/kodak")
    ap.add_argument("--data", default="../shared/data/train_images")
    ap.add_argument("--out", default="runs/jscc/probe.json")
    a = ap.parse_args()
    torch.set_num_threads(1)
    kodak = [read_image(p) for p in list_images(a.kodak)]
    rows = probe_power(kodak)
    for r in rows:
        print(json.dumps(r), flush=True)
    more = probe_readout(kodak, a.data)
    for r in more:
        print(json.dumps(r), flush=True)
    write_text(a.out, json.dumps(rows + more, indent=1) + "\n")


if __name__ == "__main__":
    main()
