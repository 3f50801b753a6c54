"""Issue 19, the second round of bad inputs and faults: nothing lost, nothing silently wrong,
every mistake one clear `error:` line (exit 2) naming the file, field or option, the value
and the rule, before any long work. One test (at least) per bullet of the issue; the DP's
bounded cost is tested in test_sched_sparse.py. No shared data needed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bssim.atomic import output_lock
from bssim.cli import app

runner = CliRunner()
TINY = """
name = "tiny"
seed = 5
[users]
count = 4
[scheduler]
p_max_w = 3.0
[cell]
bandwidth_hz = 1e6
radius_m = 300.0
[content]
source = "declared"
D_bits = 4.0e5
C_fraction = 0.2
alpha = 0.8
[sim]
epochs = 2
"""
PROC_OUT = "/proc/bssim-no-such-dir/out"


def _scenario(tmp_path: Path, text: str = TINY, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _error(result, *needles: str) -> str:
    out = result.output
    assert result.exit_code == 2, out
    assert "Traceback" not in out and "error: error:" not in out, out
    assert out.count("error:") >= 1, out
    for n in needles:
        assert n in out, (n, out)
    return out


# ---------------------------------------------------------------- 2. data loss


def test_refused_sweep_leaves_sweep_json_unchanged(tmp_path):
    sc, out = _scenario(tmp_path), tmp_path / "S"
    base = ["sweep", str(sc), "--param", "p_max", "--values", "1,2", "--out", str(out)]
    assert runner.invoke(app, base + ["--epochs", "2"]).exit_code == 0
    before = (out / "sweep.json").read_bytes()
    _error(runner.invoke(app, base + ["--epochs", "3"]), "different scenario")
    assert (out / "sweep.json").read_bytes() == before


@pytest.mark.parametrize("argv", [
    ["jscc", "train", "--data", "{tmp}/no-data", "--out", PROC_OUT + ".pt"],
    ["jscc", "fit-policy", "--checkpoint", "{ckpt}", "--data", "{tmp}", "--out", PROC_OUT + ".pt"],
    ["jscc", "export", "{ckpt}", PROC_OUT + ".pt"],
    ["jscc", "eval", "--images", "{tmp}", "--out", PROC_OUT],
    ["semantic", "compare", "--model", "a=shipped", "--model", "b=shipped", "--reference", "a",
     "--video", "{tmp}/v.avi:0:1:1", "--out", PROC_OUT],
])
def test_out_under_proc_is_refused_before_the_work(tmp_path, argv):
    ckpt = tmp_path / "c.pt"
    ckpt.write_bytes(b"not read before the --out check")
    argv = [a.format(tmp=tmp_path, ckpt=ckpt) for a in argv]
    _error(runner.invoke(app, argv), "/proc", "cannot write")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write in a read-only folder")
def test_out_in_unwritable_folder_is_refused_before_training(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        r = runner.invoke(app, ["jscc", "train", "--data", str(tmp_path / "no-data"), "--out", str(ro / "m.pt")])
        _error(r, "--out", "cannot write")
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize("argv, what", [
    (["jscc", "fit-policy", "--checkpoint", "{ckpt}", "--data", "{tmp}", "--out", "{existing}"], "--out"),
    (["jscc", "train", "--data", "{tmp}/no-data", "--out", "{existing}"], "--out"),
    (["jscc", "export", "{ckpt}", "{existing}"], "DST"),
    (["jscc", "eval", "--images", "{tmp}", "--out", "{tmp}"], "--out"),
    (["semantic", "compare", "--model", "a=shipped", "--model", "b=shipped", "--reference", "a",
      "--video", "{tmp}/v.avi:0:1:1", "--out", "{tmp}"], "--out"),
    (["pipeline", "measure", "{tmp}", "--out", "{tmp}"], "--out"),
    (["library", "build", "{tmp}", "--out", "{tmp}"], "--out"),
    (["plot", "{tmp}", "--out", "{tmp}"], "--out"),
])
def test_existing_out_is_refused_without_force(tmp_path, argv, what):
    ckpt, existing = tmp_path / "c.pt", tmp_path / "old.pt"
    ckpt.write_bytes(b"x")
    existing.write_bytes(b"precious")
    argv = [a.format(tmp=tmp_path, ckpt=ckpt, existing=existing) for a in argv]
    _error(runner.invoke(app, argv), what, "already exists", "--force")
    assert existing.read_bytes() == b"precious"


def test_force_lets_run_replace_its_out(tmp_path):
    sc, out = _scenario(tmp_path), tmp_path / "r"
    assert runner.invoke(app, ["run", str(sc), "--out", str(out), "--quiet"]).exit_code == 0
    _error(runner.invoke(app, ["run", str(sc), "--out", str(out), "--quiet"]), "already exists", "--force")
    r = runner.invoke(app, ["run", str(sc), "--out", str(out), "--quiet", "--force", "--epochs", "3"])
    assert r.exit_code == 0, r.output
    assert (out / "summary.parquet").is_file() and (out / "summary.csv").is_file()


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_second_writer_on_the_same_out_gets_a_clear_error_before_work(tmp_path, command):
    sc, out = _scenario(tmp_path), tmp_path / "busy"
    argv = (["run", str(sc), "--quiet"] if command == "run"
            else ["sweep", str(sc), "--param", "p_max", "--values", "1,2"]) + ["--out", str(out)]
    with output_lock(out):  # what a first, still running, bssim run/sweep holds
        _error(runner.invoke(app, argv), "another bssim process", str(out))
    assert not out.exists()
    assert runner.invoke(app, argv).exit_code == 0  # the lock is gone with its holder
    assert not list(tmp_path.glob(".busy.lock"))
