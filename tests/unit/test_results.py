"""Results folders, sweeps (resume, parallel, Dask), the run/sweep/plot commands."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from bssim.cli import app
from bssim.results import load_run, write_run
from bssim.sim import run
from bssim.sim.sweep import run_sweep

TINY = """
name = "tiny"
seed = 5
[users]
count = 15
[scheduler]
p_max_w = 3.0
grid = 300
[content]
source = "declared"
D_bits = { dist = "uniform", low = 2.0e5, high = 1.0e6 }
C_fraction = 0.2
alpha = 0.8
[sim]
epochs = 4
"""


@pytest.fixture
def tiny(tmp_path) -> Path:
    p = tmp_path / "tiny.toml"
    p.write_text(TINY)
    return p


def test_results_folder_roundtrip_and_manifest(tiny, tmp_path):
    res = run(tiny, out=tmp_path / "r", csv=True)
    for f in ("user_epochs.parquet", "epochs.parquet", "summary.csv", "manifest.json", "user_epochs.csv", "epochs.csv"):
        assert (tmp_path / "r" / f).is_file(), f
    back = load_run(tmp_path / "r")
    pd.testing.assert_frame_equal(back.user_epochs, res.user_epochs)
    m = back.manifest
    assert m["scenario"]["name"] == "tiny" and m["scenario"]["users"]["count"] == 15
    assert m["seeds"]["master"] == 5 and m["packages"]["numpy"] and m["packages"]["simpy"]
    assert "commit" in m["git"] and m["content_source"] == "declared"
    assert pd.read_csv(tmp_path / "r" / "summary.csv")["requests"].iloc[0] == 60
    with pytest.raises(FileExistsError):
        write_run(res, tmp_path / "r")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_overrides_by_short_name_reach_the_manifest(tiny):
    res = run(tiny, overrides={"p_max": 7.5, "users.count": 4}, epochs=2, seed=9)
    sc = res.manifest["scenario"]
    assert sc["scheduler"]["p_max_w"] == 7.5 and sc["users"]["count"] == 4 and sc["seed"] == 9
    assert len(res.user_epochs) == 8 and (res.epochs["p_max_w"] == 7.5).all()


def _mtimes(out: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in (out / "points").glob("*/manifest.json")}


def test_sweep_combines_and_resumes_without_recomputing(tiny, tmp_path):
    out = tmp_path / "sw"
    r1 = run_sweep(tiny, {"p_max": [1.0, 4.0], "solver": ["dp", "greedy"]}, seeds=2, out=out)
    assert (r1.n_computed, r1.n_skipped) == (8, 0)
    s = pd.read_parquet(out / "summary.parquet")
    assert len(s) == 8 and {"p_max_w", "solver", "seed", "point"} <= set(s.columns)
    assert sorted(s["seed"].unique()) == [5, 6]
    e = pd.read_parquet(out / "epochs.parquet")
    assert len(e) == 8 * 4 and set(e["p_max_w"]) == {1.0, 4.0}
    u = pd.read_parquet(out / "user_epochs.parquet")
    assert len(u) == 8 * 4 * 15 and set(u["solver"]) == {"dp", "greedy"}
    # more power -> more quality, for each solver and seed
    piv = s.pivot_table(index=["solver", "seed"], columns="p_max_w", values="objective_per_epoch")
    assert (piv[4.0] >= piv[1.0]).all()

    before = _mtimes(out)
    victim = "p_max_w=4_solver=greedy_seed=6"
    import shutil

    shutil.rmtree(out / "points" / victim)
    (out / "points" / ".tmp-p_max_w=1_solver=dp_seed=5-x").mkdir()  # left by a killed run
    r2 = run_sweep(tiny, {"p_max": [1.0, 4.0], "solver": ["dp", "greedy"]}, seeds=2, out=out)
    assert (r2.n_computed, r2.n_skipped) == (1, 7)
    after = _mtimes(out)
    assert {k: v for k, v in after.items() if k != victim} == {k: v for k, v in before.items() if k != victim}
    assert victim in after and not list((out / "points").glob(".tmp-*"))
    pd.testing.assert_frame_equal(r2.summary.drop(columns=["wall_s", "user_epochs_per_s", "mean_solve_time_s"]),
                                  s.drop(columns=["wall_s", "user_epochs_per_s", "mean_solve_time_s"]))


def test_sweep_refuses_points_of_another_scenario(tiny, tmp_path):
    out = tmp_path / "sw"
    run_sweep(tiny, {"p_max": [1.0]}, out=out)
    with pytest.raises(ValueError, match="different scenario"):
        run_sweep(tiny, {"p_max": [1.0]}, out=out, overrides={"users.count": 3})


def test_process_pool_gives_the_same_results(tiny, tmp_path):
    a = run_sweep(tiny, {"p_max": [1.0, 2.0, 4.0]}, out=tmp_path / "a", workers=1).summary
    b = run_sweep(tiny, {"p_max": [1.0, 2.0, 4.0]}, out=tmp_path / "b", workers=2).summary
    cols = ["point", "objective_per_epoch", "mean_power_used_w", "drop_share"]
    pd.testing.assert_frame_equal(a[cols], b[cols])


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_results(tiny, tmp_path):
    pytest.importorskip("distributed")
    a = run_sweep(tiny, {"p_max": [1.0, 4.0]}, out=tmp_path / "a").summary
    b = run_sweep(tiny, {"p_max": [1.0, 4.0]}, out=tmp_path / "b", workers=2, dask="local").summary
    cols = ["point", "objective_per_epoch", "mean_power_used_w", "drop_share"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    # a running scheduler given by its address (what a cluster larger than this machine looks like)
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        c = run_sweep(tiny, {"p_max": [1.0, 4.0]}, out=tmp_path / "c", dask=cluster.scheduler_address).summary
    pd.testing.assert_frame_equal(a[cols], c[cols])


@pytest.mark.slow
def test_killed_sweep_resumes_without_recomputing_finished_points(tiny, tmp_path):
    """SIGKILL the CLI mid-sweep, rerun: finished points keep their files, the rest complete."""
    out = tmp_path / "killed"
    cmd = [sys.executable, "-c", "from bssim.cli import app; app()", "sweep", str(tiny), "--param", "p_max",
           "--values", "1,2,3,4,5,6,7,8", "--epochs", "60", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and len(_mtimes(out)) < 2 and proc.poll() is None:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    done = _mtimes(out)
    assert 2 <= len(done) < 8, "the kill should land mid-sweep"
    r = run_sweep(tiny, {"p_max": [1, 2, 3, 4, 5, 6, 7, 8]}, out=out, epochs=60)
    assert r.n_skipped == len(done) and r.n_computed == 8 - len(done)
    after = _mtimes(out)
    assert all(after[k] == v for k, v in done.items()) and len(after) == 8
    assert len(pd.read_parquet(out / "summary.parquet")) == 8


def test_cli_run_sweep_plot(tiny, tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["run", str(tiny), "--out", str(tmp_path / "r"), "--seed", "2", "--epochs", "3", "--quiet"])
    assert r.exit_code == 0, r.output
    assert "objective / epoch" in r.output and load_run(tmp_path / "r").manifest["seeds"]["master"] == 2
    r = runner.invoke(app, ["run", str(tiny), "--out", str(tmp_path / "r")])
    assert r.exit_code == 2 and "already exists" in r.output
    r = runner.invoke(app, ["run", str(tiny), "--out", str(tmp_path / "r2"), "--set", "p_max=-1"])
    assert r.exit_code == 2 and "scheduler.p_max_w" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["sweep", str(tiny), "--param", "p_max", "--values", "1,3", "--param", "solver",
                            "--values", "dp,greedy", "--seeds", "2", "--out", str(tmp_path / "sw")])
    assert r.exit_code == 0, r.output
    words = " ".join(r.output.split())  # the console may wrap lines at any width
    assert "8 computed" in words, r.output
    r = runner.invoke(app, ["sweep", str(tiny), "--param", "nonsense", "--values", "1", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "nonsense" in r.output
    for target in ("sw", "r"):
        r = runner.invoke(app, ["plot", str(tmp_path / target)])
        assert r.exit_code == 0, r.output
        files = [Path(line) for line in r.output.split()]
        assert files and all(f.is_file() and f.stat().st_size > 1000 for f in files)
        assert {f.suffix for f in files} == {".png", ".pdf"}
    figs = {f.stem for f in (tmp_path / "sw" / "figures").iterdir()}
    assert figs == {"objective", "quality", "power", "served", "options", "dp_gain", "scheme_codec_shares"}
    r = runner.invoke(app, ["plot", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "not found" in r.output
