"""Deep JSCC speed on this machine: inference per 768×576 frame and training throughput.

    .venv/bin/python benchmarks/bench_jscc.py [--checkpoint PATH] [--threads 1] [--widths 16/32/64,32/64/128]

Goals (issue 9): encode + decode of one 768×576 frame in at most ~0.3–0.4 s on one CPU
thread with the shipped checkpoint (the scheduler measures many frames × rate levels).
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
from bssim.jscc.precision import native_bf16


def _timeit(fn, repeats: int) -> float:  # noqa: ANN001
    fn()  # warm-up
    t = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t) / repeats


def bench_inference(model: AdaptiveJSCC, repeats: int) -> dict[str, float]:
    """transmit() of a 768×576 frame (policy, lowest and highest level) in each precision."""
    frame = (np.random.default_rng(0).random((576, 768, 3)) * 255).astype(np.uint8)
    out: dict[str, float] = {}
    precisions = ["fp32"] + (["bf16"] if native_bf16("cpu") else [])
    for prec in precisions:
        model.precision = prec
        for name, lv in (("policy", None), ("min_level", model.rate_levels[0]), ("max_level", model.rate_levels[-1])):
            out[f"frame768x576_{prec}_{name}_s"] = _timeit(lambda lv=lv: transmit(model, frame, 10.0, n_active=lv), repeats)
    return out


def bench_training(cfg: JSCCConfig, precision: str, repeats: int, crop: int = 128, batch: int = 16) -> float:
    """Training images per second (one optimiser step on ``batch`` crops of ``crop`` px)."""
    from bssim.jscc.train import StepPlan, TrainSettings, to_tensor, train_step

    torch.manual_seed(0)
    m = AdaptiveJSCC(cfg)
    m.precision = precision
    m.train()
    opt = torch.optim.Adam(m.parameters(), lr=5e-4)
    s = TrainSettings(data=".", precision=precision)
    x = to_tensor((np.random.default_rng(0).random((batch, crop, crop, 3)) * 255).astype(np.uint8), "cpu")
    return batch / _timeit(lambda: train_step(m, opt, x, s, StepPlan(1.0, 1e-4, 1)), repeats)


def _parse_widths(text: str) -> list[JSCCConfig]:
    cfgs = []
    for w in (t for t in text.split(",") if t.strip()):
        c_full, c_half, c_s = (int(v) for v in w.split("/"))
        cfgs.append(JSCCConfig(c_full=c_full, c_half=c_half, c_s=c_s))
    return cfgs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None, help="default: the shipped checkpoint")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--widths", default="", help="also time untrained widths c_full/c_half/c_s, e.g. 16/32/64,32/64/128")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    results: dict[str, dict[str, float]] = {}
    m = load_model(a.checkpoint)
    cfgs = [("shipped " + m.model_version, m.cfg)] + [(f"{c.c_full}/{c.c_half}/{c.c_s}", c) for c in _parse_widths(a.widths)]
    for name, cfg in cfgs:
        model = m if name.startswith("shipped") else AdaptiveJSCC(cfg).eval()
        r = {"params_M": sum(p.numel() for p in model.parameters()) / 1e6, **bench_inference(model, a.repeats)}
        for prec in ["fp32"] + (["bf16"] if native_bf16("cpu") else []):
            r[f"train_crop128_b16_{prec}_img_per_s"] = bench_training(cfg, prec, a.repeats)
        results[name] = r
    info = {"machine": f"{platform.machine()} {platform.processor() or ''}".strip(), "torch_threads": torch.get_num_threads(),
            "torch": str(torch.__version__), "native_bf16": native_bf16("cpu")}  # fmt: skip
    if a.json:
        print(json.dumps({"info": info, "results": results}, indent=1))
        return
    print(f"# {info}")
    keys = list(dict.fromkeys(k for r in results.values() for k in r))
    print(f"{'metric':42s}" + "".join(f"{name:>22s}" for name in results))
    for k in keys:
        print(f"{k:42s}" + "".join(f"{r.get(k, float('nan')):22.3f}" for r in results.values()))


if __name__ == "__main__":
    main()
