"""The JSCC policy against its own forced levels at equal mean rate, on the held-out photographs.

    .venv/bin/python benchmarks/policy_heldout.py [--checkpoint PATH] [--data ../shared/data/train_images]

The held-out photographs are those training leaves out (every 10th of the sorted folder,
:func:`bssim.jscc.data.load_training_images`), as 512 px centre crops. For each SNR (AWGN), every
image is sent at the policy's choice and at each forced level, with channel seed 1000·j + i
(the convention of ``bssim jscc eval``). P_forced(r̄) is the time-sharing line through the
levels' mean PSNRs at the policy's mean rate r̄ (:func:`bssim.jscc.compare.interpolate`).
Prints one JSON row per SNR: policy PSNR and rate, per-image rates, forced PSNR at r̄, Δ, and
every forced level's PSNR (``levels_psnr_db``, which also selects among training runs).
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch


def main() -> None:
    from bssim.jscc import load_model, transmit
    from bssim.jscc.compare import interpolate
    from bssim.jscc.data import center_crop, load_training_images
    from bssim.jscc.evaluate import mse_u8, psnr_from_mse_u8

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--data", default="../shared/data/train_images")
    ap.add_argument("--crop", type=int, default=512)
    ap.add_argument("--snr", default="0,10,20")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = load_model(args.checkpoint)
    _, val, names = load_training_images(args.data, 10)
    imgs = [np.ascontiguousarray(center_crop(v, args.crop)) for v in val]
    for j, snr in enumerate(float(v) for v in args.snr.split(",")):
        res = {}
        for lv in (None, *model.rate_levels):
            out = [transmit(model, img, snr, seed=1000 * j + i, n_active=lv) for i, img in enumerate(imgs)]
            psnr = float(np.mean([psnr_from_mse_u8(mse_u8(a, o.image)) for a, o in zip(imgs, out)]))
            res[lv] = (psnr, float(np.mean([o.rate for o in out])), [o.rate for o in out])
        forced, _ = interpolate(res[None][1], [(r, p) for lv, (p, r, _) in res.items() if lv is not None])
        print(json.dumps({"snr_db": snr, "policy_psnr_db": res[None][0], "rate": res[None][1], "rates": res[None][2],
                          "forced_psnr_at_rate_db": forced, "delta_db": res[None][0] - forced, "images": names,
                          "levels_psnr_db": {lv: round(p, 3) for lv, (p, _, _) in res.items() if lv is not None},
                          "model_version": model.model_version}))  # fmt: skip


if __name__ == "__main__":
    main()
