"""Bad input a new user tries (issue 11's table): each gets one clear `error:` line (exit 2)
naming the file, field or option, the value and the rule, before any long work; or a correct
result. No shared data needed."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bssim.cli import app

runner = CliRunner()
TINY = """
name = "tiny"
seed = 5
[users]
count = {count}
[scheduler]
p_max_w = {p_max}
[cell]
bandwidth_hz = {bandwidth}
radius_m = {radius}
loss_w = {loss}
[content]
source = "declared"
D_bits = 4.0e5
C_fraction = 0.2
alpha = 0.8
[sim]
epochs = 2
"""


def _scenario(tmp_path: Path, **kw) -> Path:
    values = {"count": 6, "p_max": 3.0, "bandwidth": 1e6, "radius": 300.0, "loss": 0.0, **kw}
    p = tmp_path / "s.toml"
    p.write_text(TINY.format(**values))
    return p


def _error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error:") or "\nerror:" in result.output or "error:" in result.output
    assert "Traceback" not in result.output
    for n in needles:
        assert n in result.output, (n, result.output)


@pytest.mark.parametrize(
    "field, value, needle",
    [("bandwidth", "inf", "cell.bandwidth_hz"), ("loss", "inf", "cell.loss_w"), ("radius", "inf", "cell.radius_m"),
     ("p_max", "nan", "scheduler.p_max_w")],
)
def test_non_finite_scenario_values_name_the_field(tmp_path, field, value, needle):
    r = runner.invoke(app, ["solve", str(_scenario(tmp_path, **{field: value})), "--json"])
    _error(r, needle, "finite")


def test_zero_users_run_prints_no_nan_share(tmp_path):
    r = runner.invoke(app, ["run", str(_scenario(tmp_path, count=0)), "--out", str(tmp_path / "r"), "--quiet"])
    assert r.exit_code == 0, r.output
    assert "nan" not in r.output.lower() and "n/a" in r.output


@pytest.mark.parametrize("command", ["run", "sweep", "plot"])
def test_out_that_is_a_file_or_under_a_file_is_refused_before_work(tmp_path, command):
    scenario = _scenario(tmp_path)
    afile = tmp_path / "afile"
    afile.write_text("x")
    done = tmp_path / "done"
    if command == "plot":
        assert runner.invoke(app, ["run", str(scenario), "--out", str(done), "--quiet"]).exit_code == 0
    for out in (afile, afile / "sub"):
        if command == "run":
            r = runner.invoke(app, ["run", str(scenario), "--out", str(out), "--quiet"])
        elif command == "sweep":
            r = runner.invoke(app, ["sweep", str(scenario), "--param", "p_max", "--values", "1,2", "--out", str(out)])
        else:
            r = runner.invoke(app, ["plot", str(done), "--out", str(out)])
        _error(r, "--out", str(afile))


def _unwritable_dir() -> Path | None:
    for candidate in (Path("/sys"), Path("/proc/1")):
        try:
            fd, probe = tempfile.mkstemp(dir=candidate)
        except OSError:
            return candidate
        os.close(fd)
        os.unlink(probe)
    return None


@pytest.mark.skipif(_unwritable_dir() is None, reason="no unwritable folder on this machine (running as root on a writable file system)")
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_out_on_a_read_only_place_is_reported_before_the_simulation(tmp_path, command):
    out = _unwritable_dir() / "bssim-results"
    args = ["run", str(_scenario(tmp_path)), "--out", str(out), "--quiet"] if command == "run" else \
        ["sweep", str(_scenario(tmp_path)), "--param", "p_max", "--values", "1", "--out", str(out)]
    _error(runner.invoke(app, args), "--out", "cannot write")


def test_sweep_repeated_value_is_an_error_before_anything_is_written(tmp_path):
    out = tmp_path / "sw"
    r = runner.invoke(app, ["sweep", str(_scenario(tmp_path)), "--param", "p_max", "--values", "5,5", "--out", str(out)])
    _error(r, "p_max", "repeats 5")
    assert not out.exists()


def test_sweep_bad_value_leaves_no_folder(tmp_path):
    out = tmp_path / "sw"
    r = runner.invoke(app, ["sweep", str(_scenario(tmp_path)), "--param", "p_max", "--values", "1,-3", "--out", str(out)])
    _error(r, "scheduler.p_max_w", "-3")
    assert not out.exists()


def test_version_alone_prints_the_version():
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.output.strip()[0].isdigit()


def test_results_folder_is_readable_by_others_and_the_manifest_has_no_absolute_shared_paths(tmp_path):
    r = runner.invoke(app, ["run", str(_scenario(tmp_path)), "--out", str(tmp_path / "r"), "--quiet"])
    assert r.exit_code == 0, r.output
    mode = stat.S_IMODE((tmp_path / "r").stat().st_mode)
    assert mode & 0o055 == 0o055, oct(mode)
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    from bssim.paths import shared_dir

    assert str(shared_dir()) not in json.dumps(manifest)


def test_frames_syntax_error_names_the_field_before_any_measurement(tmp_path):
    video = tmp_path / "v.avi"
    video.write_bytes(b"not a video")
    bad = tmp_path / "m.toml"
    bad.write_text(f'[content]\nsource = "measured"\n[[content.media]]\npath = "{video}"\n[[content.media]]\n'
                   f'path = "{video}"\nframes = "0-10"\n')
    r = runner.invoke(app, ["solve", str(bad), "--json"])
    _error(r, "content.media[1].frames", "'0-10'", "START:STOP:STEP")


def test_missing_rembg_model_is_reported_first(tmp_path, monkeypatch):
    monkeypatch.setenv("U2NET_HOME", str(tmp_path / "no-models"))
    folder = tmp_path / "imgs"
    folder.mkdir()
    bad = tmp_path / "m.toml"
    bad.write_text(f'[content]\nsource = "measured"\nextractor = "rembg"\nmedia = ["{folder}"]\n')
    r = runner.invoke(app, ["solve", str(bad), "--json"])
    _error(r, "content.extractor", "u2netp")
