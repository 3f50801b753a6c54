"""The SimPy engine (bssim.sim): reproducibility, the one epoch path, invariants, requests,
churn, channel, mobility, and measured sources. Declared or synthetic content: no shared data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bssim import link
from bssim.options.catalog import MeasuredCatalog
from bssim.sim.sources import MeasuredSource
from bssim.options.table import OptionTable
from bssim.scenario import parse_scenario
from bssim.sim import run, solve_epoch

DECLARED = {"source": "declared", "D_bits": {"dist": "uniform", "low": 2e5, "high": 1e6},
            "C_fraction": {"dist": "uniform", "low": 0.05, "high": 0.3},
            "alpha": {"dist": "uniform", "low": 0.6, "high": 0.95}}


def scenario(users=30, epochs=6, seed=3, sim=None, scheduler=None, cell=None, content=None):
    return parse_scenario({
        "name": "tiny", "seed": seed, "users": {"count": users},
        "scheduler": {"p_max_w": 5.0, **(scheduler or {})},
        "cell": cell or {}, "content": content or DECLARED, "sim": {"epochs": epochs, **(sim or {})},
    })


def test_same_seed_gives_identical_results_and_other_seed_differs():
    sc = scenario(sim={"arrival_rate_per_s": 20.0, "mean_stay_s": 0.5, "request": "poisson", "image_rate_per_s": 8.0})
    a, b = run(sc), run(sc)
    pd.testing.assert_frame_equal(a.user_epochs, b.user_epochs)
    pd.testing.assert_frame_equal(a.epochs.drop(columns="solve_time_s"), b.epochs.drop(columns="solve_time_s"))
    c = run(sc, seed=4)
    assert not c.user_epochs["gain_db"].equals(a.user_epochs["gain_db"])


def test_solve_epoch_is_the_epoch_of_the_run_and_prices_by_shannon():
    """bssim solve and bssim run go through the same epoch: same choices, powers by inversion."""
    sc = scenario(users=25, epochs=3)
    ue = run(sc).user_epochs
    res, table, _ = solve_epoch(sc, epoch=2)
    mine = ue[ue["epoch"] == 2].reset_index(drop=True)
    np.testing.assert_array_equal(table["scheme"].astype(str), mine["scheme"].astype(str))
    np.testing.assert_allclose(table["power_w"], mine["power_w"])
    ch = res.inputs.channels
    expect = link.required_power_w(res.inputs.offers.bits, ch.delay_s, ch.bandwidth_hz[:, None], ch.noise_w[:, None],
                                   ch.gain[:, None], ch.loss_w[:, None])
    np.testing.assert_allclose(res.menu.power_w, expect, rtol=1e-12)


def test_invariants_of_every_epoch():
    sc = scenario(users=60, epochs=8, scheduler={"p_max_w": 0.5})
    r = run(sc)
    ue, ep = r.user_epochs, r.epochs
    assert len(ep) == 8 and len(ue) == 60 * 8
    per = ue.groupby("epoch")
    np.testing.assert_allclose(per["power_w"].sum().to_numpy(), ep["power_used_w"].to_numpy())
    assert (ep["power_used_w"] <= sc.scheduler.p_max_w * (1 + 1e-12)).all()
    np.testing.assert_allclose(per["utility"].sum().to_numpy(), ep["objective"].to_numpy())
    assert (ep["n_served"] + ep["n_dropped"] == ep["n_requests"]).all()
    scheme = ue["scheme"].astype(str)
    direct, key, none = scheme == "direct", scheme == "key", scheme == "none"
    assert (ue.loc[direct, "quality"] == 1.0).all() and (ue.loc[none, "quality"] == 0.0).all()
    assert ue.loc[key, "quality"].between(0.6, 0.95).all()
    assert (ue["deadline_met"] == ~none).all()
    assert none.any(), "a 0.5 W budget for 60 users should leave someone out"
    assert ue.loc[none, "rx_snr_db"].isna().all() and ue.loc[~none, "rx_snr_db"].notna().all()
    assert set(ue["content_source"].astype(str)) == {"declared"}
    s = r.summary_dict()
    assert s["requests"] == 480 and abs(s["direct_share"] + s["key_share"] + s["drop_share"] - 1) < 1e-12


def test_declared_alpha_above_one_is_accepted_and_key_wins():
    content = {**DECLARED, "alpha": 1.3}
    r = run(scenario(users=20, epochs=2, content=content, scheduler={"p_max_w": 100.0}))
    assert (r.user_epochs["scheme"].astype(str) == "key").all()


def test_solver_setting_is_used():
    r = run(scenario(scheduler={"solver": "all_direct"}))
    assert (r.user_epochs["scheme"].astype(str) != "key").all()
    r = run(scenario(scheduler={"solver": "all_key"}))
    assert (r.user_epochs["scheme"].astype(str) == "key").any()


def test_the_objective_never_falls_when_the_budget_grows():
    """The content does not depend on P_max, so more budget can only help (epoch by epoch)."""
    objectives = [run(scenario(users=40, epochs=4, scheduler={"p_max_w": p})).epochs["objective"].to_numpy()
                  for p in (0.05, 0.2, 1.0, 5.0)]
    assert all(np.all(b >= a - 1e-9) for a, b in zip(objectives, objectives[1:]))
    assert objectives[-1].sum() > objectives[0].sum()


@pytest.mark.parametrize("fps, expected", [(20.0, 2.0), (10.0, 1.0), (5.0, 0.5)])
def test_video_requests_follow_the_frame_rate(fps, expected):
    r = run(scenario(users=20, epochs=10, sim={"request": "video", "fps": fps}))
    items = r.epochs["items"].sum() / (20 * 10)
    assert items == pytest.approx(expected, abs=0.06)


def test_several_frames_in_one_epoch_cost_their_sum():
    kw = dict(users=10, epochs=2, scheduler={"p_max_w": 1e3, "solver": "all_direct"},
              cell={"bandwidth_hz": 2e7, "radius_m": 60.0})
    one = run(scenario(sim={"request": "video", "fps": 10.0}, **kw)).user_epochs
    two = run(scenario(sim={"request": "video", "fps": 20.0}, **kw)).user_epochs
    assert (two["items"] == 2).all() and (one["items"] == 1).all()
    both = (one["scheme"].astype(str) == "direct") & (two["scheme"].astype(str) == "direct")
    assert both.mean() > 0.8
    np.testing.assert_allclose(two.loc[both, "bits"].to_numpy(), 2 * one.loc[both, "bits"].to_numpy())


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
    assert ep["n_active"].iloc[50:].mean() == pytest.approx(40.0, rel=0.2)
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
    assert (d.iloc[-1] != d.iloc[0]).mean() > 0.9
    assert ue["distance_m"].max() <= 100.0 and ue["distance_m"].min() >= 10.0


def test_static_users_keep_their_distance():
    d = run(scenario(users=10, epochs=4)).user_epochs.pivot(index="epoch", columns="user", values="distance_m")
    assert (d.nunique() == 1).all()


def _catalog() -> MeasuredCatalog:
    """Two media: 'clip' (frame 0 matched, frame 10 not), 'photos' (direct only)."""
    rows = []
    for item, content, frame, schemes in (("clip#0", "clip", 0, ("direct", "key")), ("clip#10", "clip", 10, ("direct",)),
                                          ("photos#0", "photos", 0, ("direct",))):
        for scheme in schemes:
            for level in (0, 1):
                rows.append({"item": item, "content": content, "frame": frame, "scheme": scheme, "rate_level": level,
                             "rate_label": f"r{level}", "snr_db": np.nan, "symbols": np.nan,
                             "bits": (1e5 if scheme == "key" else 4e5) * (1 + level),
                             "ssim": 0.6 + 0.1 * level + (0.25 if scheme == "key" else 0.0)})
    df = pd.DataFrame(rows)
    table = OptionTable.from_rows(df)
    return MeasuredCatalog(table, ["clip", "photos"], [np.array([0, 1]), np.array([2])], np.array([0.5, 0.5]), df)


def test_measured_source_cycles_items_and_unmatched_frames_go_direct():
    sc = scenario(users=12, epochs=6, scheduler={"p_max_w": 50.0}, cell={"radius_m": 50.0},
                  content={"source": "measured", "media": ["x"]})
    r = run(sc, source=MeasuredSource(_catalog()))
    ue = r.user_epochs
    assert set(ue["content_source"].astype(str)) == {"measured"}
    assert set(ue["content"].astype(str)) == {"clip", "photos"}
    clip = ue[ue["content"].astype(str) == "clip"]
    assert set(clip["frame"]) == {0, 10}
    assert not ue.loc[ue.frame == 10, "key_available"].any()
    assert (ue.loc[(ue.frame == 10) | (ue["content"].astype(str) == "photos"), "scheme"].astype(str) != "key").all()
    assert (clip.loc[clip.frame == 0, "scheme"].astype(str) == "key").all()  # better and cheaper
    per_user = clip.groupby("user")["frame"].apply(list)
    assert all(f[i] != f[i + 1] for f in per_user for i in range(len(f) - 1))  # one item per request, cycling
