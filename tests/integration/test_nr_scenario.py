"""scenarios/dense_cell_nr.toml (measured content over the ``nr`` link): ``bssim run`` works and
records the NR outcome; NR needs more power than Shannon for the same items."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bssim.cli import app
from bssim.paths import shared_data

ROOT = Path(__file__).parent.parent.parent
NR = ROOT / "scenarios" / "dense_cell_nr.toml"
NEEDED = [shared_data("vtest.avi"), shared_data("Megamind.avi"), shared_data("kodak")]
pytestmark = pytest.mark.skipif(not all(p.exists() for p in NEEDED), reason=f"shared data missing: {NEEDED}")


def test_dense_cell_nr_runs_and_records_harq_outcome(tmp_path):
    result = CliRunner().invoke(app, ["run", str(NR), "--epochs", "2", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    users = pd.read_parquet(tmp_path / "out" / "user_epochs.parquet")
    served = users[users["deadline_met"]]
    assert len(served) > 0.8 * len(users)
    assert served["nr_mcs"].between(0, 28).all() and (served["nr_slots"] >= 1).all()
    assert served["delivered"].mean() >= 0.8
    assert np.all(served["rx_snr_db"] >= served["nr_threshold_sinr_db"] - 1e-6)


def test_nr_needs_more_power_than_shannon_for_the_same_item():
    from bssim.sim import make_source, prepare_scenario, solve_epoch

    sc, path = prepare_scenario(NR)
    source = make_source(sc, path)
    res_nr, _, _ = solve_epoch(sc, source=source)
    res_sh, _, _ = solve_epoch(sc, source=source, overrides={"link.model": "shannon"})
    both = np.isfinite(res_nr.menu.power_w) & np.isfinite(res_sh.menu.power_w)
    ratio = res_nr.menu.power_w[both] / res_sh.menu.power_w[both]
    assert np.median(ratio) > 1.0
