"""``bssim solve`` end to end: scenario and CSV input, JSON output, solver agreement, errors."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bssim.cli import app
from bssim.epoch import solve_epoch

ROOT = Path(__file__).parent.parent
DENSE = ROOT / "scenarios" / "declared_cell.toml"  # fast: declared content
MEASURED = ROOT / "scenarios" / "dense_cell.toml"  # the main scenario: content measured on vtest.avi
runner = CliRunner()


def _solve_json(*args):
    result = runner.invoke(app, ["solve", *map(str, args), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_dense_cell_dp_and_cpsat_give_the_same_objective():
    dp = _solve_json(DENSE, "--solver", "dp")
    cp = _solve_json(DENSE, "--solver", "cpsat")
    assert dp["n_users"] == cp["n_users"] == 100
    assert dp["objective"] == pytest.approx(cp["objective"], abs=1e-9)
    for out in (dp, cp):
        assert set(out) >= {"solver", "objective", "n_users", "p_max_w", "power_used_w", "choices", "solve_time_s"}
        assert out["power_used_w"] <= out["p_max_w"] * (1 + 1e-9)
        assert set(out["choices"]) <= {-1, 0, 1}
    # the budget binds in the default scenario: someone is not served at full quality
    assert 0 < dp["objective"] < 100


def test_mip_is_an_upper_bound_for_the_grid_solvers():
    dp = _solve_json(DENSE, "--solver", "dp")
    mip = _solve_json(DENSE, "--solver", "mip")
    greedy = _solve_json(DENSE, "--solver", "greedy")
    assert dp["objective"] <= mip["objective"] + 1e-6
    assert greedy["objective"] <= mip["objective"] + 1e-6


def test_seed_changes_the_draw_and_same_seed_repeats():
    a = _solve_json(DENSE, "--seed", 3)
    b = _solve_json(DENSE, "--seed", 3)
    c = _solve_json(DENSE, "--seed", 4)
    assert a["choices"] == b["choices"] and a["objective"] == b["objective"]
    assert a["choices"] != c["choices"]


def test_table_output_lists_powers_and_choices():
    result = runner.invoke(app, ["solve", str(DENSE), "--show", "5"])
    assert result.exit_code == 0, result.output
    assert "P_n0/W" in result.stdout and "objective" in result.stdout


def test_users_csv_input(tmp_path):
    users = pd.DataFrame(
        {
            "noise_w": [1e-14] * 4,
            "gain": [1e-10, 1e-11, 1e-12, 1e-16],
            "loss_w": [0.0] * 4,
            "D_bits": [4e5, 4e5, 4e5, 4e5],
            "C_bits": [5e4, 5e4, 5e4, 5e4],
            "alpha": [0.8, 0.7, 0.9, 0.6],
        }
    )
    path = tmp_path / "users.csv"
    users.to_csv(path, index=False)
    out = _solve_json("--users", path, "--p-max-w", 2.0, "--T-s", 0.1, "--bandwidth-hz", 1e6)
    assert out["n_users"] == 4
    # cross-check with the Python API
    table, sol = solve_epoch(users, 2.0, 0.1, 1e6)
    assert out["choices"] == [int(c) for c in sol.choice]
    # user 3's gain is hopeless: never served
    assert out["choices"][3] == -1


@pytest.mark.parametrize(
    "args, message",
    [
        (["--users", "missing.csv", "--p-max-w", "1", "--T-s", "0.1", "--bandwidth-hz", "1e6"], "not found"),
        ([], "exactly one"),
        (["--users", "{csv}"], "--users needs --p-max-w, --T-s, --bandwidth-hz"),
    ],
)
def test_clear_errors(tmp_path, args, message):
    csv = tmp_path / "u.csv"
    csv.write_text("noise_w,gain,loss_w,D_bits,C_bits,alpha\n1e-14,1e-10,0,1e5,1e4,0.8\n")
    args = [a.replace("{csv}", str(csv)) for a in args]
    result = runner.invoke(app, ["solve", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_users_csv_bad_alpha_names_row_and_column(tmp_path):
    csv = tmp_path / "u.csv"
    csv.write_text("noise_w,gain,loss_w,D_bits,C_bits,alpha\n1e-14,1e-10,0,1e5,1e4,0.8\n1e-14,1e-10,0,1e5,1e4,1.5\n")
    result = runner.invoke(app, ["solve", "--users", str(csv), "--p-max-w", "1", "--T-s", "0.1", "--bandwidth-hz", "1e6"])
    assert result.exit_code == 2
    assert "alpha" in result.output and "row 3" in result.output and "(0, 1)" in result.output


def test_bad_scenario_value_exits_2_with_field_name(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(DENSE.read_text().replace("p_max_w = 20.0", "p_max_w = -1.0"))
    result = runner.invoke(app, ["solve", str(bad)])
    assert result.exit_code == 2
    assert "scheduler.p_max_w" in result.output


def test_huge_content_is_infeasible_not_nan():
    users = pd.DataFrame(
        {"noise_w": [1e-14, 1e-14], "gain": [1e-10, 1e-10], "loss_w": [0.0, 0.0],
         "D_bits": [1e12, 4e5], "C_bits": [1e11, 5e4], "alpha": [0.8, 0.8]}
    )
    table, sol = solve_epoch(users, 5.0, 0.1, 1e6)
    assert np.isinf(table["p_direct_w"].iloc[0]) and np.isinf(table["p_key_w"].iloc[0])
    assert table["choice"].iloc[0] == -1 and table["choice"].iloc[1] == 0
    assert np.isfinite(sol.objective) and sol.power_used_w <= 5.0


def test_measured_alpha_above_one_makes_key_the_better_option():
    """α ≥ 1 (key path better than direct, as measured on vtest.avi) is solved, not rejected."""
    from bssim.epoch import seed_problem
    from bssim.sched import solve

    p0 = np.array([1.0, 1.0])
    p1 = np.array([0.2, 0.2])
    pb = seed_problem(p0, p1, np.array([1.6, 0.5]), 10.0)
    sol = solve(pb, "dp", grid=1000)
    assert sol.choice.tolist() == [1, 0]  # key for the user whose key path is better, direct otherwise
    assert sol.objective == pytest.approx(2.6)
    with pytest.raises(ValueError, match="alpha of user 1"):
        seed_problem(p0, p1, np.array([0.5, -0.1]), 10.0)


def test_polish_never_loses_and_stays_below_the_mip_optimum():
    plain = _solve_json(DENSE, "--solver", "dp", "--grid", "200")
    polished = _solve_json(DENSE, "--solver", "dp", "--grid", "200", "--polish")
    mip = _solve_json(DENSE, "--solver", "mip")
    assert plain["objective"] <= polished["objective"] + 1e-12 <= mip["objective"] + 1e-6
    assert polished["power_used_w"] <= polished["p_max_w"] * (1 + 1e-12)


@pytest.fixture(scope="module")
def measured_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("bssim-cache")


def test_main_scenario_with_measured_content_dp_equals_cpsat(measured_cache, monkeypatch):
    """The issue's done-when on the main scenario: content measured on vtest.avi by the real
    pipeline (JSCC checkpoint, ORB matching, extraction), then DP and CP-SAT agree exactly."""
    from bssim.paths import shared_data

    if not shared_data("vtest.avi").is_file():
        pytest.skip(f"shared video absent: {shared_data('vtest.avi')}")
    monkeypatch.setenv("BSSIM_CACHE", str(measured_cache))
    dp = _solve_json(MEASURED, "--solver", "dp")
    cp = _solve_json(MEASURED, "--solver", "cpsat")  # second call: measurements read from the cache
    assert dp["n_users"] == cp["n_users"] == 100
    assert dp["objective"] == pytest.approx(cp["objective"], abs=1e-9)
    assert dp["power_used_w"] <= dp["p_max_w"] * (1 + 1e-12)
    assert list(measured_cache.rglob("*.json")), "measurements are cached on disk"
