"""Deep JSCC throughput on the CPU: encode+decode of 32x32 crops, one Kodak image, training.

    .venv/bin/python benchmarks/bench_jscc.py [--checkpoint PATH] [--threads N] [--c-s 64,256]

Prints a table and (with --json) a JSON object. Numbers depend on the machine and on what
else runs on it; the model card quotes the figures measured on the project machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import torch

from bssim.jscc import AdaptiveJSCC, JSCCConfig, load_model, transmit
from bssim.jscc.channels import awgn


def _timeit(fn, repeats: int) -> float:  # noqa: ANN001
    fn()  # warm-up
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t) / repeats


def bench_model(model: AdaptiveJSCC, repeats: int = 3) -> dict[str, float]:
    model.eval()
    out: dict[str, float] = {}
    g = torch.Generator().manual_seed(0)
    for batch in (1, 32, 128):
        x = torch.rand(batch, 3, 32, 32, generator=g)
        snr = torch.full((batch,), 10.0)

        def run() -> None:
            with torch.inference_mode():
                z, m = model.encode(x, snr)
                model.decode(awgn(z, snr, generator=g), m, snr)

        out[f"crops32_b{batch}_img_per_s"] = batch / _timeit(run, repeats)
    rng = np.random.default_rng(0)
    kodak = (rng.random((512, 768, 3)) * 255).astype(np.uint8)
    try:
        from bssim.jscc.data import read_rgb
        from bssim.paths import shared_data

        p = shared_data("kodak", "kodim23.png")
        if p.is_file():
            kodak = read_rgb(p)
    except (OSError, ValueError):
        pass
    out["kodak_768x512_transmit_ms"] = 1000 * _timeit(lambda: transmit(model, kodak, 10.0), repeats)
    frame = (rng.random((576, 768, 3)) * 255).astype(np.uint8)
    out["frame_768x576_transmit_ms"] = 1000 * _timeit(lambda: transmit(model, frame, 10.0), repeats)
    # training: one optimiser step on a batch of 128 64x64 crops (as in `bssim jscc train`)
    from bssim.jscc.train import TrainSettings, train_step

    tm = AdaptiveJSCC(model.cfg)
    tm.train()
    opt = torch.optim.Adam(tm.parameters(), lr=5e-4)
    s = TrainSettings(data=".")
    for crop, batch in ((64, 32), (64, 128), (32, 128)):
        xb = torch.rand(batch, 3, crop, crop, generator=g)
        out[f"train_crop{crop}_b{batch}_img_per_s"] = batch / _timeit(lambda: train_step(tm, opt, xb, s), repeats)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None, help="default: the shipped checkpoint")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    ap.add_argument("--c-s", default="", help="also time untrained models of these widths, e.g. 64,256")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    results: dict[str, dict[str, float]] = {}
    m = load_model(a.checkpoint)
    results[f"shipped c_s={m.cfg.c_s} ({m.model_version})"] = bench_model(m, a.repeats)
    for w in [int(t) for t in a.c_s.split(",") if t.strip()]:
        results[f"untrained c_s={w}"] = bench_model(AdaptiveJSCC(JSCCConfig(c_s=w)).eval(), a.repeats)
    info = {"machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "torch_threads": torch.get_num_threads(), "torch": str(torch.__version__)}  # fmt: skip
    if a.json:
        print(json.dumps({"info": info, "results": results}, indent=1))
        return
    print(f"# {info}")
    keys = list(next(iter(results.values())).keys())
    print(f"{'metric':34s}" + "".join(f"{name:>30s}" for name in results))
    for k in keys:
        print(f"{k:34s}" + "".join(f"{r[k]:30.1f}" for r in results.values()))


if __name__ == "__main__":
    main()
