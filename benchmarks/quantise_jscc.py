"""Seed 003's light deployment: post-training int8 quantisation of the shipped deep JSCC.

Two ``torch.ao`` routes, applied to the whole model (encoder, policy, decoder):

* **dynamic** (``quantize_dynamic``, {nn.Linear}: int8 weights, activations quantised per
  call): the only layers it covers are the SNR modulations' and the policy's MLPs;
* **static, FX graph mode** (``prepare_fx`` / ``convert_fx``, the x86 default qconfig mapping,
  per sub-network — source encoder, channel encoder, decoder — calibrated by coding 8 crops of
  training photographs): covers the convolutions; the script reports whether they trace.

For each model that builds: the serialised size of its state dict, the CPU latency of
``jscc_digital`` coding (encode + entropy code + decode) of Kodak images at 8 and 16 active
channels (median of the images, one thread), and the PSNR lost against the float model.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/quantise_jscc.py [--kodak 4]
"""

from __future__ import annotations

import argparse
import copy
import io
import time

import numpy as np
import torch

from bssim.files import list_images, read_image
from bssim.jscc import load_model
from bssim.jscc.data import load_training_images
from bssim.jscc.digital import code_levels
from bssim.jscc.model import snr_feature
from bssim.metrics import psnr_db
from bssim.paths import shared_data

LEVELS = (8, 16)


def state_bytes(model: torch.nn.Module) -> int:
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.getbuffer().nbytes


def measure(model, images) -> dict:
    times, psnrs = [], {n: [] for n in LEVELS}
    for img in images:
        t = time.perf_counter()
        coded = code_levels(model, img, LEVELS)
        times.append(time.perf_counter() - t)
        for n, (_, dec) in zip(LEVELS, coded):
            psnrs[n].append(psnr_db(img, dec))
    return {"s_per_image": float(np.median(times)), **{f"psnr_c{n}": float(np.mean(v)) for n, v in psnrs.items()}}


PARTS = ("source_encoder", "channel_encoder", "decoder")  # the model's traced sub-networks


def static_fx(model, calib) -> torch.nn.Module:
    """Each sub-network of :data:`PARTS` prepared (observers), calibrated by coding ``calib``
    through the whole model, then converted to int8."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    m = copy.deepcopy(model).eval()
    x = torch.rand(1, 3, 64, 64)
    snr = snr_feature(torch.full((1,), 10.0))
    xs = m.source_encoder(x)
    examples = {"source_encoder": (x,), "channel_encoder": (xs, snr), "decoder": (m.channel_encoder(xs, snr), snr)}
    for part in PARTS:
        setattr(m, part, prepare_fx(getattr(m, part), get_default_qconfig_mapping("x86"), examples[part]))
    for img in calib:
        code_levels(m, img, LEVELS)
    for part in PARTS:
        setattr(m, part, convert_fx(getattr(m, part)))
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kodak", type=int, default=4)
    args = ap.parse_args()
    torch.set_num_threads(1)
    images = [read_image(p) for p in list_images(shared_data("kodak"))[: args.kodak]]
    base = load_model(None).float().eval()
    rows = {"float32": (base, None)}
    rows["int8 dynamic (Linear)"] = (torch.ao.quantization.quantize_dynamic(copy.deepcopy(base), {torch.nn.Linear},
                                                                             dtype=torch.qint8), None)
    try:
        calib = load_training_images(shared_data("train_images"))[0][:8]
        rows["int8 static (FX)"] = (static_fx(base, [c[:256, :256] for c in calib]), None)
    except Exception as exc:  # noqa: BLE001 - report why the route does not apply
        rows["int8 static (FX)"] = (None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
    ref = None
    print("| model | state dict (MB) | s per Kodak image (c8 + c16, 1 thread) | PSNR c8 / c16 (dB) | Δ PSNR c8 / c16 (dB) |")
    print("|---|---:|---:|---:|---:|")
    for name, (model, why) in rows.items():
        if model is None:
            print(f"| {name} | – | – | – | does not build: {why} |")
            continue
        r = measure(model, images)
        ref = ref or r
        d = [r[f"psnr_c{n}"] - ref[f"psnr_c{n}"] for n in LEVELS]
        print(f"| {name} | {state_bytes(model) / 1e6:.2f} | {r['s_per_image']:.2f} | "
              f"{r['psnr_c8']:.2f} / {r['psnr_c16']:.2f} | {d[0]:+.2f} / {d[1]:+.2f} |")


if __name__ == "__main__":
    main()
