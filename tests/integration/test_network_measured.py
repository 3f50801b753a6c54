"""The network on content measured by the real pipeline (issue 21): ``bssim run
scenarios/network.toml`` works with measured menus, and a Dask sweep whose workers each have
their own empty cache gives the process pool's rows (the measured options travel with the task)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from bssim.cli import app
from bssim.paths import shared_data
from bssim.sim.sweep import run_sweep

ROOT = Path(__file__).parent.parent.parent
NEEDED = [shared_data("vtest.avi"), shared_data("kodak")]
pytestmark = pytest.mark.skipif(not all(p.exists() for p in NEEDED), reason=f"shared data missing: {NEEDED}")
SMALL = """
name = "net_measured"
seed = 3
[cell]
min_distance_m = 35.0
bandwidth_hz = 5.0e6
[users]
count = 42
[scheduler]
p_max_w = 2.0
[network]
rings = 1
sectors = 3
interference = "load"
bandwidth_hz = 20.0e6
[content]
source = "measured"
scales = [1.0, 0.5]
channel_levels = [8, 16]
[[content.media]]
path = "@shared/data/vtest.avi"
frames = "100:301:200"
library_frames = 12
[[content.media]]
path = "@shared/data/kodak"
files = 1
[sim]
epochs = 3
"""
TIMING = ["solve_time_s", "wall_s", "user_epochs_per_s", "mean_solve_time_s"]


def test_network_scenario_runs_with_measured_menus(tmp_path):
    r = CliRunner().invoke(app, ["run", str(ROOT / "scenarios" / "network.toml"), "--epochs", "2",
                                 "--set", "users.count=114", "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    u = pd.read_parquet(tmp_path / "run" / "user_epochs.parquet")
    assert {"sector", "sinr_db", "snr_db", "handovers"} <= set(u.columns)
    assert (u["sinr_db"] <= u["snr_db"]).all() and u["sector"].nunique() > 20
    assert set(u["content_source"].astype(str)) == {"measured"}
    r = CliRunner().invoke(app, ["network", "figure", str(tmp_path / "run")])
    assert r.exit_code == 0 and (tmp_path / "run" / "network_layout.png").is_file(), r.output


@pytest.mark.slow
def test_dask_workers_without_caches_match_the_pool_on_measured_content(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    scenario = tmp_path / "small.toml"
    scenario.write_text(SMALL)
    main_cache = tmp_path / "main-cache"
    monkeypatch.setenv("BSSIM_CACHE", str(main_cache))
    grid = {"p_max": [0.5, 2.0], "interference": ["none", "load"]}
    pool = run_sweep(scenario, grid, out=tmp_path / "pool", workers=2)
    assert any(main_cache.rglob("*")), "the submitting process measures (and caches) the content"
    caches = [tmp_path / f"worker{i}-cache" for i in range(2)]
    workers = {f"w{i}": {"cls": distributed.Nanny, "options": {"nthreads": 1, "env": {"BSSIM_CACHE": str(c)}}}
               for i, c in enumerate(caches)}
    with distributed.SpecCluster(workers=workers, scheduler={"cls": distributed.Scheduler,
                                                             "options": {"dashboard_address": None}},
                                 silence_logs=40) as cluster:
        dask = run_sweep(scenario, grid, out=tmp_path / "dask", dask=cluster.scheduler_address)

    def rows(res):
        ue = res.user_epochs()
        return ue.drop(columns=[c for c in TIMING if c in ue]).sort_values(["point", "epoch", "user"]).reset_index(drop=True)

    a, b = rows(pool), rows(dask)
    assert set(a["content_source"].astype(str)) == {"measured"} and len(a) == 4 * 3 * 42
    pd.testing.assert_frame_equal(a, b)
    assert not any(c.exists() and any(c.iterdir()) for c in caches)
    assert os.environ["BSSIM_CACHE"] == str(main_cache)
