"""The main scenario, scenarios/dense_cell.toml, on content measured by the real pipeline
(vtest.avi, Megamind.avi, Kodak): the decision is worth simulating (issue 8's done-when)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bssim.cli import app
from bssim.paths import shared_data
from bssim.sim import make_source, prepare_scenario, solve_epoch

MAIN = Path(__file__).parent.parent.parent / "scenarios" / "dense_cell.toml"
NEEDED = [shared_data("vtest.avi"), shared_data("Megamind.avi"), shared_data("kodak")]
pytestmark = pytest.mark.skipif(not all(p.exists() for p in NEEDED), reason=f"shared data missing: {NEEDED}")
P_MAX_W = (0.5, 2.0, 5.0, 20.0, 80.0)
SOLVERS = ("dp", "greedy", "all_key", "all_direct")


@pytest.fixture(scope="module")
def main():
    sc, path = prepare_scenario(MAIN)
    return sc, make_source(sc, path)


@pytest.fixture(scope="module")
def objectives(main):
    sc, source = main
    out = {}
    for solver in SOLVERS:
        for p in P_MAX_W:
            res, table, _ = solve_epoch(sc, overrides={"p_max_w": p, "solver": solver}, source=source)
            out[solver, p] = (res.solution.objective, table)
    return out


def test_the_menu_has_schemes_codecs_and_rate_levels_and_the_key_path_only_where_matched(main):
    sc, source = main
    t = source.catalog.table
    assert set(t.scheme) == {"direct", "key"} and set(t.codec) == {"avif", "jscc_digital"}
    available = np.isfinite(t.bits)
    for scheme in ("direct", "key"):
        for codec in ("avif", "jscc_digital"):
            settings = sc.content.qualities if codec == "avif" else sc.content.channel_levels  # each codec's ladder
            per_item = len(sc.content.scales) * len(settings)
            cols = [k for k, (s, c) in enumerate(zip(t.scheme, t.codec)) if (s, c) == (scheme, codec)]
            assert len({t.rate_label[k] for k in cols}) == len(cols)  # one column per label
            assert available[:, cols].sum(axis=1).max() <= per_item
            # no two options of an item have the same bits (labels that would lie are merged)
            for i in range(t.n_items):
                bits = t.bits[i, cols][available[i, cols]]
                assert np.unique(bits).size == bits.size
    key_cols = [k for k, s in enumerate(t.scheme) if s == "key"]
    has_key = np.isfinite(t.bits[:, key_cols]).any(axis=1)
    names = np.array(t.item_names)
    assert has_key[np.char.startswith(names.astype(str), "vtest")].all()
    assert not has_key[np.char.startswith(names.astype(str), "kodak")].any()
    mega = has_key[np.char.startswith(names.astype(str), "Megamind")]
    assert 0 < mega.sum() < mega.size  # one background per shot: some shots match, some do not


def test_objective_never_falls_with_the_budget(objectives):
    for solver in ("dp", "greedy"):
        values = [objectives[solver, p][0] for p in P_MAX_W]
        assert all(b >= a - 1e-9 for a, b in zip(values, values[1:])), (solver, values)


def test_dp_beats_greedy_beats_the_fixed_policies_where_the_budget_binds(objectives):
    binding = [p for p in P_MAX_W if p <= 5.0]
    for p in binding:
        dp, greedy, key, direct = (objectives[s, p][0] for s in SOLVERS)
        assert dp >= greedy - 1e-9 and greedy > key > direct, (p, dp, greedy, key, direct)
    assert max(objectives["dp", p][0] - objectives["greedy", p][0] for p in binding) > 0.1


def test_the_chosen_options_shift_with_the_budget(objectives):
    low = objectives["dp", P_MAX_W[0]][1]
    high = objectives["dp", P_MAX_W[-1]][1]
    assert (low["scheme"].astype(str) == "none").sum() > (high["scheme"].astype(str) == "none").sum()
    served_low = low[low["scheme"].astype(str) != "none"]
    served_high = high[high["scheme"].astype(str) != "none"]
    assert served_high["rate_level"].mean() > served_low["rate_level"].mean()


def test_cli_json_reports_scheme_and_rate_level_and_dp_equals_cpsat(main):
    runner = CliRunner()
    outs = {}
    for solver in ("dp", "cpsat"):
        r = runner.invoke(app, ["solve", str(MAIN), "--solver", solver, "--json"])
        assert r.exit_code == 0, r.output
        outs[solver] = json.loads(r.stdout)
    dp, cp = outs["dp"], outs["cpsat"]
    assert dp["info"]["int_objective"] == cp["info"]["int_objective"]
    assert dp["objective"] == pytest.approx(cp["objective"], abs=1e-6)
    detail = dp["choices_detail"]
    assert len(detail) == 100 and {"scheme", "codec", "rate_level", "rate_label", "power_w", "quality"} <= set(detail[0])
    assert dp["power_used_w"] <= dp["p_max_w"] * (1 + 1e-12)
