"""The SimPy engine: reproducibility, the epoch-0 instance, invariants, requests, churn, channel, mobility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bssim.cell import draw_users
from bssim.epoch import option_powers
from bssim.paths import shared_data
from bssim.scenario import parse_scenario
from bssim.sim import run
from bssim.sim.content import MeasuredSource

DECLARED = {"source": "declared", "D_bits": {"dist": "uniform", "low": 2e5, "high": 1e6},
            "C_fraction": {"dist": "uniform", "low": 0.05, "high": 0.3},
            "alpha": {"dist": "uniform", "low": 0.6, "high": 0.95}}


def scenario(users=30, epochs=6, seed=3, sim=None, scheduler=None, cell=None):
    return parse_scenario({
        "name": "tiny", "seed": seed, "users": {"count": users},
        "scheduler": {"p_max_w": 5.0, "grid": 500, **(scheduler or {})},
        "cell": cell or {}, "content": DECLARED, "sim": {"epochs": epochs, **(sim or {})},
    })


def test_same_seed_gives_identical_results_and_other_seed_differs():
    sc = scenario(sim={"arrival_rate_per_s": 20.0, "mean_stay_s": 0.5, "request": "poisson", "image_rate_per_s": 8.0})
    a, b = run(sc), run(sc)
    pd.testing.assert_frame_equal(a.user_epochs, b.user_epochs)
    pd.testing.assert_frame_equal(a.epochs.drop(columns="solve_time_s"), b.epochs.drop(columns="solve_time_s"))
    c = run(sc, seed=4)
    assert not c.user_epochs["gain_db"].equals(a.user_epochs["gain_db"])


def test_epoch_zero_is_the_instance_of_draw_users():
    """Initial users use the same streams as bssim.cell.draw_users: same gains, same option powers."""
    sc = scenario(users=25, epochs=1)
    ue = run(sc).user_epochs
    users = draw_users(sc, epoch=0)
    p0, p1 = option_powers(users, sc.scheduler.delay_bound_s)
    np.testing.assert_allclose(ue["p_direct_w"].to_numpy(), p0, rtol=1e-12)
    np.testing.assert_allclose(ue["p_key_w"].to_numpy(), p1, rtol=1e-12)
    np.testing.assert_allclose(ue["distance_m"].to_numpy(), users["distance_m"].to_numpy())
    np.testing.assert_allclose(ue["alpha"].to_numpy(), users["alpha"].to_numpy())


def test_invariants_of_every_epoch():
    sc = scenario(users=60, epochs=8, scheduler={"p_max_w": 2.0})
    r = run(sc)
    ue, ep = r.user_epochs, r.epochs
    assert len(ep) == 8 and len(ue) == 60 * 8
    per = ue.groupby("epoch")
    np.testing.assert_allclose(per["power_w"].sum().to_numpy(), ep["power_used_w"].to_numpy())
    assert (ep["power_used_w"] <= sc.scheduler.p_max_w * (1 + 1e-12)).all()
    np.testing.assert_allclose(per["quality"].sum().to_numpy(), ep["objective"].to_numpy())
    assert (ep["n_served"] + ep["n_dropped"] == ep["n_requests"]).all()
    direct, key, none = (ue["choice"] == 0), (ue["choice"] == 1), (ue["choice"] == -1)
    assert (ue.loc[direct, "quality"] == 1.0).all() and (ue.loc[none, "quality"] == 0.0).all()
    np.testing.assert_allclose(ue.loc[key, "quality"], ue.loc[key, "alpha"])
    np.testing.assert_allclose(ue.loc[direct, "bits"], ue.loc[direct, "D_bits"])
    assert (ue["deadline_met"] == ~none).all()
    assert none.any(), "a 2 W budget for 60 users should drop someone"
    assert ue.loc[none, "snr_db"].isna().all() and ue.loc[~none, "snr_db"].notna().all()
    assert set(ue["content_source"].astype(str)) == {"declared"}
    s = r.summary_dict()
    assert s["requests"] == 480 and abs(s["direct_share"] + s["key_share"] + s["drop_share"] - 1) < 1e-12


def test_solver_setting_is_used():
    r = run(scenario(scheduler={"solver": "all_direct"}))
    assert (r.user_epochs["choice"] != 1).all()
    r = run(scenario(scheduler={"solver": "all_key"}))
    assert (r.user_epochs["choice"] == 1).any()


@pytest.mark.parametrize("fps, expected", [(20.0, 2.0), (10.0, 1.0), (5.0, 0.5)])
def test_video_requests_follow_the_frame_rate(fps, expected):
    r = run(scenario(users=20, epochs=10, sim={"request": "video", "fps": fps}))
    items = r.epochs["items"].sum() / (20 * 10)
    assert items == pytest.approx(expected, abs=0.06)
    if fps > 10:
        ue = r.user_epochs
        assert (ue["items"] == 2).all()
        np.testing.assert_allclose(ue.loc[ue.choice == 0, "bits"], 2 * ue.loc[ue.choice == 0, "D_bits"])


def test_poisson_requests_have_the_right_rate():
    r = run(scenario(users=50, epochs=40, sim={"request": "poisson", "image_rate_per_s": 4.0}))
    rate = r.epochs["items"].sum() / (50 * 40 * 0.1)
    assert rate == pytest.approx(4.0, rel=0.15)
    assert (r.epochs["n_requests"] < r.epochs["n_active"]).all()  # P(no request) = e^-0.4


def test_users_join_and_leave_littles_law():
    """Empty cell, Poisson arrivals 40/s, mean stay 1 s: about 40 users present (Little's law)."""
    r = run(scenario(users=0, epochs=300, sim={"arrival_rate_per_s": 40.0, "mean_stay_s": 1.0}))
    ep = r.epochs
    assert ep["n_active"].iloc[0] == 0
    steady = ep["n_active"].iloc[50:].mean()
    assert steady == pytest.approx(40.0, rel=0.2)
    ue = r.user_epochs
    first = ue.groupby("user")["epoch"].min()
    last = ue.groupby("user")["epoch"].max()
    assert first.nunique() > 50 and (last < 299).sum() > 50  # users keep joining and leaving


def test_fading_is_redrawn_every_coherence_time():
    r = run(scenario(users=5, epochs=9, sim={"coherence_time_s": 0.3}))
    g = r.user_epochs.pivot(index="epoch", columns="user", values="gain_db").to_numpy()
    assert np.allclose(g[0], g[1]) and np.allclose(g[1], g[2])
    assert not np.allclose(g[2], g[3]) and np.allclose(g[3], g[5]) and not np.allclose(g[5], g[6])


def test_moving_users_stay_in_the_cell_and_change_distance():
    sc = scenario(users=40, epochs=30, sim={"speed_mps": 30.0}, cell={"radius_m": 100.0, "min_distance_m": 10.0})
    ue = run(sc).user_epochs
    d = ue.pivot(index="epoch", columns="user", values="distance_m")
    assert (d.diff().abs().iloc[1:] > 0).all().all() or (d.iloc[-1] != d.iloc[0]).all()
    assert ue["distance_m"].max() <= 100.0 and ue["distance_m"].min() >= 10.0


def test_static_users_keep_their_distance():
    d = run(scenario(users=10, epochs=4)).user_epochs.pivot(index="epoch", columns="user", values="distance_m")
    assert (d.nunique() == 1).all()


def _table(grid=(0.0, 10.0)):
    rows = []
    for f in (0, 10):
        for s in grid:
            rows.append({"content": "clip", "frame": f, "snr_db": s, "D_bits": 1e5 + 1e4 * s + f,
                         "C_bits": 2e4 + 1e3 * s, "alpha": 0.5 + 0.02 * s, "matched": f == 0})
    return pd.DataFrame(rows)


def test_measured_source_interpolates_at_the_operating_snr():
    src = MeasuredSource(_table())
    attrs = src.new_users(np.random.default_rng(0), 3)
    attrs["frame_offset"][:] = 0
    idx = np.arange(3)
    src.interp(attrs, idx, np.array([-5.0, 2.5, 30.0]))  # clamped below, inside, clamped above
    rq = src.requests(attrs, idx, np.zeros(3, dtype=np.int64))
    np.testing.assert_allclose(rq.D_bits, [1e5, 1e5 + 2.5e4, 2e5])
    np.testing.assert_allclose(rq.alpha, [0.5, 0.55, 0.7])
    assert rq.key_ok.all()
    rq = src.requests(attrs, idx, np.ones(3, dtype=np.int64))  # next frame: 10, background not matched
    np.testing.assert_allclose(rq.D_bits, [1e5 + 10, 1.25e5 + 10, 2e5 + 10])
    assert not rq.key_ok.any() and (rq.frame == 10).all()


def test_measured_source_rejects_incomplete_tables():
    with pytest.raises(ValueError, match="lacks column"):
        MeasuredSource(_table().drop(columns="alpha"))
    t = _table()
    with pytest.raises(ValueError, match="no frame measured at every SNR"):
        MeasuredSource(pd.concat([t[(t.frame == 0) & (t.snr_db == 0)], t[(t.frame == 10) & (t.snr_db == 10)]]))


def test_measured_content_in_the_engine_unmatched_frames_go_direct():
    sc = parse_scenario({"name": "m", "seed": 1, "users": {"count": 8}, "scheduler": {"p_max_w": 50.0},
                         "cell": {"radius_m": 50.0},
                         "content": {"source": "measured", "media": ["x"], "snr_db": [0.0, 10.0]},
                         "sim": {"epochs": 6}})
    r = run(sc, source=MeasuredSource(_table()))
    ue = r.user_epochs
    assert set(ue["content_source"].astype(str)) == {"measured"} and set(ue["frame"]) <= {0, 10}
    assert np.isinf(ue.loc[ue.frame == 10, "p_key_w"]).all()
    assert (ue.loc[ue.frame == 10, "choice"] != 1).all()
    assert ue["operating_snr_db"].notna().all() and ue["alpha_measured"].notna().all()


VIDEO = shared_data("vtest.avi")


@pytest.mark.slow
@pytest.mark.skipif(not VIDEO.is_file(), reason=f"shared video missing: {VIDEO}")
def test_measured_content_from_the_real_pipeline(tmp_path, monkeypatch):
    """One real frame of vtest.avi through the pipeline (cached on disk), then simulated."""
    monkeypatch.setenv("BSSIM_CACHE", str(tmp_path / "cache"))
    sc = parse_scenario({"name": "m", "seed": 1, "users": {"count": 6}, "scheduler": {"p_max_w": 5.0},
                         "cell": {"radius_m": 60.0, "bandwidth_hz": 5e6},
                         "content": {"source": "measured", "media": ["@shared/data/vtest.avi"], "snr_db": [10.0],
                                     "frames": "0:1:1", "library_frames": 8},
                         "sim": {"epochs": 3}})
    r = run(sc)
    ue = r.user_epochs
    assert set(ue["content_source"].astype(str)) == {"measured"} and set(ue["content"].astype(str)) == {"vtest"}
    assert (ue["frame"] == 0).all() and (ue["D_bits"] > ue["C_bits"]).all()
    assert r.manifest["checkpoint_hash"] and r.manifest["measurement"]["media"][0]["rows"] == 1
    assert list((tmp_path / "cache").rglob("*.json")), "the measurement is cached on disk"
    r2 = run(sc)  # second run: read from the cache, identical
    assert r2.manifest["measurement"]["media"][0]["rows_from_cache"] == 1
    pd.testing.assert_frame_equal(r.user_epochs, r2.user_epochs)
