"""``bssim solve`` end to end on declared content and menu CSVs: JSON, solver agreement, errors."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bssim.cli import app
from bssim.epoch import EpochConfig, schedule
from bssim.sim.usercsv import read_menu_csv

ROOT = Path(__file__).parent.parent.parent
DECLARED = ROOT / "scenarios" / "declared_cell.toml"
runner = CliRunner()


def _solve_json(*args):
    result = runner.invoke(app, ["solve", *map(str, args), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_declared_cell_dp_and_cpsat_agree_and_report_each_choice():
    dp = _solve_json(DECLARED, "--solver", "dp")
    cp = _solve_json(DECLARED, "--solver", "cpsat")
    assert dp["n_users"] == cp["n_users"] == 100
    assert dp["info"]["int_objective"] == cp["info"]["int_objective"]
    for out in (dp, cp):
        assert out["power_used_w"] <= out["p_max_w"] * (1 + 1e-9)
        assert len(out["choices_detail"]) == 100
        row = out["choices_detail"][0]
        assert set(row) >= {"user", "scheme", "rate_level", "power_w", "bits", "quality", "utility"}
        assert {r["scheme"] for r in out["choices_detail"]} <= {"none", "direct", "key"}
    assert 0 < dp["objective"] < 100  # the budget binds


def test_mip_bounds_the_grid_solvers_and_dp_beats_greedy():
    dp = _solve_json(DECLARED, "--solver", "dp")
    mip = _solve_json(DECLARED, "--solver", "mip")
    greedy = _solve_json(DECLARED, "--solver", "greedy")
    assert greedy["objective"] <= dp["objective"] + 1e-9 <= mip["objective"] + 1e-6


def test_seed_changes_the_draw_and_same_seed_repeats():
    a = _solve_json(DECLARED, "--seed", 3)
    b = _solve_json(DECLARED, "--seed", 3)
    c = _solve_json(DECLARED, "--seed", 4)
    assert a["choices"] == b["choices"] and a["objective"] == b["objective"]
    assert a["choices"] != c["choices"]


def test_table_output_lists_schemes_and_powers():
    result = runner.invoke(app, ["solve", str(DECLARED), "--show", "5"])
    assert result.exit_code == 0, result.output
    assert "power/W" in result.stdout and "scheme" in result.stdout and "objective" in result.stdout


def _seed_users() -> pd.DataFrame:
    return pd.DataFrame({"noise_w": [1e-14] * 4, "gain": [1e-10, 1e-11, 1e-12, 1e-16], "loss_w": [0.0] * 4,
                         "D_bits": [4e5] * 4, "C_bits": [5e4] * 4, "alpha": [0.8, 0.7, 1.2, 0.6]})


def test_seed_layout_csv_with_alpha_above_one(tmp_path):
    path = tmp_path / "users.csv"
    _seed_users().to_csv(path, index=False)
    out = _solve_json("--users", path, "--p-max-w", 2.0, "--T-s", 0.1, "--bandwidth-hz", 1e6)
    assert out["n_users"] == 4
    inputs, _ = read_menu_csv(path, 0.1, "ssim", 1e6)
    res = schedule(inputs, EpochConfig(p_max_w=2.0))
    assert out["choices"] == res.choice.tolist()
    detail = {r["user"]: r for r in out["choices_detail"]}
    assert detail[3]["scheme"] == "none"  # a hopeless gain: never served
    assert detail[2]["scheme"] == "key" and detail[2]["quality"] == pytest.approx(1.2)  # key better than direct


def _long_menu() -> pd.DataFrame:
    rows = []
    for user, gain in ((0, 1e-10), (1, 1e-12), (2, 1e-13)):
        for scheme, levels in (("direct", ((2e5, 0.6), (6e5, 0.75))), ("key", ((4e4, 0.85),))):
            for level, (bits, q) in enumerate(levels):
                rows.append({"user": user, "scheme": scheme, "rate_level": level, "bits": bits, "quality": q,
                             "gain": gain, "noise_w": 1e-14, "loss_w": 0.0})
    return pd.DataFrame(rows)


def test_long_menu_csv_brings_a_researchers_own_options(tmp_path):
    path = tmp_path / "menu.csv"
    _long_menu().to_csv(path, index=False)
    out = _solve_json("--users", path, "--p-max-w", 0.5, "--T-s", 0.1, "--bandwidth-hz", 1e6)
    assert out["menu_items"] == 3 and out["n_users"] == 3
    assert {r["scheme"] for r in out["choices_detail"]} <= {"none", "direct", "key"}
    served = [r for r in out["choices_detail"] if r["scheme"] != "none"]
    assert served and all(r["power_w"] > 0 for r in served)
    lots = _solve_json("--users", path, "--p-max-w", 1e3, "--T-s", 0.1, "--bandwidth-hz", 1e6)
    assert lots["objective"] >= out["objective"]
    assert all(r["scheme"] == "key" for r in lots["choices_detail"])  # the best option when power is plenty


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.drop(columns="scheme"), "missing column"),
        (lambda d: d.assign(gain=d["gain"].where(d.index != 2, np.inf)), "column 'gain' line 4"),
        (lambda d: d.assign(bits=d["bits"].where(d.index != 1, -5)), "column 'bits' line 3"),
        (lambda d: d.assign(loss_w=np.arange(len(d)) * 1e-3), "differ between rows of the same user"),
        (lambda d: pd.concat([d, d.iloc[[0]]]), "repeats the option"),
        (lambda d: d.drop(columns="quality"), "no quality column"),
    ],
)
def test_bad_menu_csv_names_the_column_line_and_rule(tmp_path, edit, message):
    path = tmp_path / "menu.csv"
    edit(_long_menu()).to_csv(path, index=False)
    result = runner.invoke(app, ["solve", "--users", str(path), "--p-max-w", "1", "--T-s", "0.1", "--bandwidth-hz", "1e6"])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--users", "missing.csv", "--p-max-w", "1", "--T-s", "0.1", "--bandwidth-hz", "1e6"], "not found"),
        ([], "exactly one"),
        (["--users", "{csv}"], "--users needs --p-max-w, --T-s"),
        (["--users", "{csv}", "--p-max-w", "nan", "--T-s", "0.1"], "--p-max-w"),
        (["--users", "{csv}", "--p-max-w", "1", "--T-s", "0.1", "--bandwidth-hz", "inf"], "--bandwidth-hz"),
    ],
)
def test_clear_errors(tmp_path, args, message):
    csv = tmp_path / "u.csv"
    csv.write_text("noise_w,gain,loss_w,D_bits,C_bits,alpha\n1e-14,1e-10,0,1e5,1e4,0.8\n")
    args = [a.replace("{csv}", str(csv)) for a in args]
    result = runner.invoke(app, ["solve", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_bad_scenario_value_exits_2_with_field_name(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(DECLARED.read_text().replace("p_max_w = 20.0", "p_max_w = -1.0"))
    result = runner.invoke(app, ["solve", str(bad)])
    assert result.exit_code == 2
    assert "scheduler.p_max_w" in result.output


def test_huge_content_is_infeasible_and_json_stays_standard(tmp_path):
    users = _seed_users().assign(D_bits=[1e12, 4e5, 4e5, 4e5], C_bits=[1e11, 5e4, 5e4, 5e4])
    path = tmp_path / "u.csv"
    users.to_csv(path, index=False)
    result = runner.invoke(app, ["solve", "--users", str(path), "--p-max-w", "5", "--T-s", "0.1",
                                 "--bandwidth-hz", "1e6", "--json"])
    assert result.exit_code == 0, result.output
    assert "Infinity" not in result.stdout and "NaN" not in result.stdout
    out = json.loads(result.stdout)
    assert out["choices_detail"][0]["scheme"] == "none" and np.isfinite(out["objective"])


def test_polish_never_loses_and_stays_below_the_mip_optimum():
    plain = _solve_json(DECLARED, "--solver", "dp", "--grid", "200")
    polished = _solve_json(DECLARED, "--solver", "dp", "--grid", "200", "--polish")
    mip = _solve_json(DECLARED, "--solver", "mip")
    assert plain["objective"] <= polished["objective"] + 1e-12 <= mip["objective"] + 1e-6
    assert polished["power_used_w"] <= polished["p_max_w"] * (1 + 1e-12)
