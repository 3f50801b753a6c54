"""Scenario files: shipped scenarios load, bad files get one clear message naming the field."""

from pathlib import Path

import numpy as np
import pytest

from bssim.cell import place_uniform_disc
from bssim.sim.sources import DeclaredSource
from bssim.scenario import ScenarioError, apply_overrides, load_scenario, parse_scenario, resolve_field_path

SCENARIOS = sorted((Path(__file__).parent.parent.parent / "scenarios").glob("*.toml"))
DECLARED = {"source": "declared", "D_bits": 5e5, "C_fraction": 0.2, "alpha": 0.8}


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_shipped_scenarios_load(path):
    sc = load_scenario(path)
    assert sc.users.count >= 1


def test_dense_cell_has_at_least_100_users():
    assert load_scenario(Path(__file__).parent.parent.parent / "scenarios" / "dense_cell.toml").users.count >= 100


def _write(tmp_path, text):
    p = tmp_path / "s.toml"
    p.write_text(text)
    return p


def test_bad_value_names_file_field_value_and_rule(tmp_path):
    p = _write(tmp_path, '[scheduler]\np_max_w = -3\n[content]\nsource = "declared"\nD_bits = 1e5\nC_fraction = 0.1\nalpha = 0.9\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(p)
    msg = str(err.value)
    assert str(p) in msg and "scheduler.p_max_w" in msg and "-3" in msg and "greater than or equal to 0" in msg


def test_unknown_field_is_an_error(tmp_path):
    p = _write(tmp_path, '[scheduler]\np_maxw = 3\n[content]\nsource = "declared"\nD_bits = 1e5\nC_fraction = 0.1\nalpha = 0.9\n')
    with pytest.raises(ScenarioError, match="scheduler.p_maxw.*unknown field"):
        load_scenario(p)


def test_malformed_toml_and_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(_write(tmp_path, "[cell\nradius_m = 3"))
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(tmp_path / "nope.toml")


def test_distribution_errors_are_specific():
    bad = dict(DECLARED, D_bits={"dist": "uniform", "low": 10, "high": 1})
    with pytest.raises(ScenarioError, match="content.D_bits.*high >= low"):
        parse_scenario({"content": bad}, "x.toml")
    with pytest.raises(ScenarioError, match="content.D_bits.*number or a distribution"):
        parse_scenario({"content": dict(DECLARED, D_bits="lots")}, "x.toml")
    with pytest.raises(ScenarioError, match="exactly one of C_bits and C_fraction"):
        parse_scenario({"content": dict(DECLARED, C_bits=1e4)}, "x.toml")


def test_cell_geometry_is_checked():
    with pytest.raises(ScenarioError, match="min_distance_m"):
        parse_scenario({"cell": {"radius_m": 50, "min_distance_m": 60}, "content": DECLARED})


def test_overrides_and_short_names():
    assert resolve_field_path("p_max") == "scheduler.p_max_w"
    assert resolve_field_path("count") == "users.count"
    with pytest.raises(ScenarioError, match="no scenario field"):
        resolve_field_path("pmax")
    data = apply_overrides({"content": DECLARED}, {"p_max": 5.0, "cell.radius_m": 100.0})
    sc = parse_scenario(data)
    assert sc.scheduler.p_max_w == 5.0 and sc.cell.radius_m == 100.0


def test_declared_content_draws_are_checked_and_alpha_above_one_is_allowed():
    rng = np.random.default_rng(0)
    sc = parse_scenario({"content": dict(DECLARED, C_fraction=-0.5)})
    with pytest.raises(ValueError, match="content.C_bits: user 0"):
        DeclaredSource(sc.content).new_users(rng, 3)
    sc = parse_scenario({"content": dict(DECLARED, alpha=1.2)})
    attrs = DeclaredSource(sc.content).new_users(rng, 3)
    np.testing.assert_allclose(attrs["q_key"], 1.2 * attrs["q_direct"])


def test_users_are_uniform_in_the_annulus():
    x, y = place_uniform_disc(np.random.default_rng(7), 5000, 200.0, 10.0)
    d = np.hypot(x, y)
    assert np.all((d >= 10) & (d <= 200))
    # uniform over the area: median radius ~ R/sqrt(2)
    assert np.median(d) == pytest.approx(200 / np.sqrt(2), rel=0.05)


@pytest.mark.parametrize(
    "data, message",
    [
        ({"scheduler": {"p_max_w": float("nan")}}, "scheduler.p_max_w.*finite"),
        ({"cell": {"bandwidth_hz": float("inf")}}, "cell.bandwidth_hz.*finite"),
        ({"cell": {"radius_m": float("inf")}}, "cell.radius_m.*finite"),
        ({"scheduler": {"grid": 100, "power_quantum_w": 0.01}}, "at most one of grid and power_quantum_w"),
        ({"link": {"model": "analog"}}, "needs measured content"),
        ({"objective": {"kind": "max"}}, "objective.kind"),
    ],
)
def test_non_finite_and_inconsistent_settings_are_rejected(data, message):
    with pytest.raises(ScenarioError, match=message):
        parse_scenario({"content": DECLARED, **data}, "x.toml")


def test_measured_media_accept_strings_and_tables():
    sc = parse_scenario({"content": {"source": "measured", "media": ["a.avi", {"path": "b", "share": 3, "files": 2}],
                                     "scales": [1.0, 0.5]}})
    m = sc.content.media_entries()
    assert [e.path for e in m] == ["a.avi", "b"] and m[1].share == 3 and m[1].files == 2
    with pytest.raises(ScenarioError, match="scales"):
        parse_scenario({"content": {"source": "measured", "media": ["a"], "scales": [1.5]}})
