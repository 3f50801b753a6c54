"""Sweeps that scale out (issue 21): the measured options travel with each task, Dask workers
with their own empty caches give the local pool's rows, a killed Dask sweep resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bssim.options.catalog import MeasuredCatalog
from bssim.options.table import OptionTable
from bssim.scenario import parse_scenario
from bssim.sim import run
from bssim.sim.portable import SourcePayload, pack, unpack
from bssim.sim.sources import DeclaredSource, MeasuredSource
from bssim.sim.sweep import run_sweep

NET = """
name = "tiny_net"
seed = 2
[cell]
min_distance_m = 35.0
[users]
count = 42
[scheduler]
p_max_w = 3.0
[network]
rings = 1
sectors = 3
interference = "load"
[content]
source = "declared"
D_bits = { dist = "uniform", low = 2.0e5, high = 1.0e6 }
C_fraction = 0.2
alpha = 0.8
[sim]
epochs = 3
speed_mps = 20.0
"""
TIMING = ["solve_time_s", "wall_s", "user_epochs_per_s", "mean_solve_time_s"]


def _catalog() -> MeasuredCatalog:
    rows = [{"item": f"m#{f}", "content": "m", "frame": f, "scheme": s, "rate_level": lv, "rate_label": f"r{lv}",
             "snr_db": np.nan, "symbols": np.nan, "bits": (0.2 if s == "key" else 1.0) * 3e5 * (1 + lv) * (1 + f),
             "ssim": 0.5 + 0.1 * lv + (0.2 if s == "key" else 0.0)}
            for f in (0, 1, 2) for s in ("direct", "key") for lv in (0, 1)]
    df = pd.DataFrame(rows)
    return MeasuredCatalog(OptionTable.from_rows(df), ["m"], [np.array([0, 1, 2])], np.array([1.0]), df,
                           {"checkpoint_hash": "synthetic"})


def test_payload_is_small_bytes_and_rebuilds_the_same_source():
    src = MeasuredSource(_catalog())
    payload = pack(src)
    assert isinstance(payload, SourcePayload) and 0 < payload.nbytes < 50_000
    back = unpack(payload)
    t0, t1 = src.catalog.table, back.catalog.table
    assert t0.item_names == t1.item_names and t0.scheme == t1.scheme
    np.testing.assert_array_equal(t0.bits, t1.bits)
    np.testing.assert_array_equal(t0.quality["ssim"], t1.quality["ssim"])
    sc = parse_scenario({"name": "m", "seed": 1, "users": {"count": 20}, "scheduler": {"p_max_w": 2.0},
                         "content": {"source": "measured", "media": ["x"]}, "sim": {"epochs": 3}})
    a, b = run(sc, source=src), run(sc, source=back)
    pd.testing.assert_frame_equal(a.user_epochs, b.user_epochs)
    declared = DeclaredSource(parse_scenario({"content": {"source": "declared", "D_bits": 1e5, "C_bits": 1e4,
                                                          "alpha": 0.8}}).content)
    assert pack(declared) is declared and unpack(declared) is declared
    with pytest.raises(TypeError, match="cannot ship"):
        pack(object())


@pytest.fixture
def net(tmp_path) -> Path:
    p = tmp_path / "net.toml"
    p.write_text(NET)
    return p


def _rows(res) -> pd.DataFrame:
    ue = res.user_epochs()
    return ue.drop(columns=[c for c in TIMING if c in ue]).sort_values(["point", "epoch", "user"]).reset_index(drop=True)


@pytest.mark.slow
def test_dask_workers_with_their_own_empty_caches_give_the_pool_rows(net, tmp_path):
    distributed = pytest.importorskip("distributed")
    grid = {"p_max": [1.0, 4.0], "network.interference": ["none", "load"]}
    pool = run_sweep(net, grid, out=tmp_path / "pool", workers=2)
    caches = [tmp_path / f"worker{i}-cache" for i in range(2)]
    workers = {f"w{i}": {"cls": distributed.Nanny, "options": {"nthreads": 1, "env": {"BSSIM_CACHE": str(c)}}}
               for i, c in enumerate(caches)}
    scheduler = {"cls": distributed.Scheduler, "options": {"dashboard_address": None}}
    with distributed.SpecCluster(workers=workers, scheduler=scheduler, silence_logs=40) as cluster, \
            distributed.Client(cluster) as client:
        seen = client.run(lambda: os.environ.get("BSSIM_CACHE"))
        assert sorted(seen.values()) == sorted(str(c) for c in caches)
        dask = run_sweep(net, grid, out=tmp_path / "dask", dask=cluster.scheduler_address)
    assert dask.n_computed == 4
    pd.testing.assert_frame_equal(_rows(pool), _rows(dask))
    cols = [c for c in pool.summary.columns if c not in TIMING]
    pd.testing.assert_frame_equal(pool.summary[cols], dask.summary[cols])
    # the workers never touched a cache: none was created
    assert not any(c.exists() and any(c.iterdir()) for c in caches)


def _done(out: Path) -> dict[str, float]:
    return {p.name: (p / "manifest.json").stat().st_mtime for p in (out / "points").glob("p_max_w=*")
            if (p / "manifest.json").is_file()}


@pytest.mark.slow
def test_killed_dask_sweep_resumes_and_skips_finished_points(net, tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "killed"
    values = "0.5,1,2,3,4,5,6,8"
    cmd = [sys.executable, "-c", "from bssim.cli import app; app()", "sweep", str(net), "--param", "p_max",
           "--values", values, "--epochs", "12", "--dask", "local", "--workers", "1", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 240
        while time.time() < deadline and len(_done(out)) < 2 and proc.poll() is None:
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)  # the client, its LocalCluster and workers: the whole group
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    done = _done(out)
    assert 2 <= len(done) < 8, "the kill should land mid-sweep"
    grid = {"p_max": [float(v) for v in values.split(",")]}
    r = run_sweep(net, grid, out=out, epochs=12, workers=1, dask="local")
    assert r.n_skipped == len(done) and r.n_computed == 8 - len(done)
    after = _done(out)
    assert all(after[k] == v for k, v in done.items()) and len(after) == 8
    fresh = run_sweep(net, grid, out=tmp_path / "fresh", epochs=12)
    cols = [c for c in fresh.summary.columns if c not in TIMING]
    pd.testing.assert_frame_equal(r.summary[cols], fresh.summary[cols])
