"""Benchmark of the ``nr`` link: pricing and the HARQ outcome at dense-cell scale.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_nr.py [--users 400] [--options 40]

Random bitstream sizes (10 kbit .. 1 Mbit) for N users x K options, 5 MHz each, T = 100 ms,
numerology 1 (13 PRBs, 200 slots), gains over 40 dB. Measured: the first pricing (Sionna
import, BLER-table interpolation, one MCS grid), then per call (best of 5) ``price`` and
``outcome`` (greedy decision), and 100 epochs' worth of both.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=400)
    ap.add_argument("--options", type=int, default=40)
    a = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    from bssim import link
    from bssim.epoch import EpochConfig, EpochInput, schedule
    from bssim.options.nr_link import NrLink
    from bssim.options.links import Channels
    from bssim.options.table import Offers

    n, k = a.users, a.options
    rng = np.random.default_rng(0)
    bits = rng.uniform(1e4, 1e6, size=(n, k))
    q = np.sort(rng.uniform(0.5, 1.0, size=(n, k)), axis=1)[:, :, None]
    offers = Offers(("direct",) * k, np.arange(k), tuple(map(str, range(k))), bits, np.full((n, k), np.nan),
                    {"ssim": q}, np.array([np.nan]), np.ones(n, np.int64))
    ch = Channels(link.db_to_linear(rng.uniform(-130, -90, n)), np.full(n, link.thermal_noise_w(5e6, 7.0)),
                  np.zeros(n), np.full(n, 5e6), 0.1)
    nr = NrLink()
    t = time.perf_counter()
    nr.price(offers, ch)
    first = time.perf_counter() - t
    price = min(_time(lambda: nr.price(offers, ch)) for _ in range(5))
    res = schedule(EpochInput(offers, ch), EpochConfig(p_max_w=20.0, link=nr, solver="greedy"))
    out = min(_time(lambda: nr.outcome(res, np.random.default_rng(1))) for _ in range(5))
    print(f"{platform.node()} {os.cpu_count()} CPUs, N = {n}, K = {k}")
    print(f"first price (Sionna import + tables): {first:.2f} s")
    print(f"price: {price * 1e3:.2f} ms, outcome: {out * 1e3:.2f} ms, 100 epochs: {100 * (price + out):.2f} s")


def _time(f) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
