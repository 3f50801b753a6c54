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
    (["jscc", "fit-linear", "--data", "{tmp}", "--out", "{existing}"], "--out"),
    (["pipeline", "codecs", "--out", "{tmp}"], "--out"),
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


# ---------------------------------------------------------------- 3. silent wrong answers

MENU_HEAD = "user,scheme,rate_level,bits,quality,gain,noise_w,loss_w\n"


def _menu(tmp_path: Path, rows: str, head: str = MENU_HEAD) -> Path:
    p = tmp_path / "menu.csv"
    p.write_text(head + rows)
    return p


def _solve_csv(path: Path, *extra: str):
    return runner.invoke(app, ["solve", "--users", str(path), "--p-max-w", "1", "--T-s", "0.1",
                               "--bandwidth-hz", "1e6", *extra])


@pytest.mark.parametrize("metric, quality, rule", [("ssim", "1.7", "[-1, 1]"), ("ms_ssim", "-0.2", "[0, 1]"),
                                                    ("psnr", "140", "[0, 100]"), ("person_f1", "1.01", "[0, 1]")])
def test_csv_quality_outside_its_metric_range_is_an_error(tmp_path, metric, quality, rule):
    p = _menu(tmp_path, f"0,direct,0,1000,0.5,1e-9,1e-13,0\n1,key,0,1000,{quality},1e-9,1e-13,0\n")
    _error(_solve_csv(p, "--metric", metric), str(p), "'quality'", "line 3", quality, rule)


def test_min_quality_outside_the_metric_range_is_an_error(tmp_path):
    sc = _scenario(tmp_path, TINY + '[objective]\nmetric = "ssim"\nmin_quality = 1.5\n')
    _error(runner.invoke(app, ["solve", str(sc)]), "min_quality = 1.5", "[-1, 1]", "'ssim'")


def test_nr_bandwidth_of_zero_prbs_is_an_error(tmp_path):
    sc = _scenario(tmp_path, TINY.replace("bandwidth_hz = 1e6", "bandwidth_hz = 1e5") + '[link]\nmodel = "nr"\n')
    _error(runner.invoke(app, ["solve", str(sc)]), "cell.bandwidth_hz = 100000", "0 PRBs", "360 kHz")
    from bssim.nr.phy import Carrier

    with pytest.raises(ValueError, match="0 PRBs"):
        Carrier().prbs([1e5])


def test_unknown_csv_scheme_is_an_error_and_the_tally_counts_every_scheme(tmp_path):
    from bssim.options.table import known_schemes

    p = _menu(tmp_path, "0,direct,0,1000,0.5,1e-9,1e-13,0\n0,magic,0,900,0.6,1e-9,1e-13,0\n")
    _error(_solve_csv(p), str(p), "'scheme'", "line 3", "'magic'", ", ".join(known_schemes()))
    ok = _menu(tmp_path, "".join(f"{i},{s},0,1000,0.5,1e-9,1e-13,0\n" for i, s in enumerate(known_schemes())))
    r = _solve_csv(ok)
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.split())
    assert all(f"{s} 1" in flat for s in known_schemes()), flat


def test_seed_objective_needs_a_direct_option_for_every_user(tmp_path):
    p = _menu(tmp_path, "0,direct,0,1000,0.5,1e-9,1e-13,0\n0,key,0,500,0.4,1e-9,1e-13,0\n1,key,0,500,0.4,1e-9,1e-13,0\n")
    _error(_solve_csv(p, "--objective", "seed"), str(p), "user 1", "'direct'")
    assert _solve_csv(p, "--objective", "sum").exit_code == 0


def test_checkpoint_with_non_finite_weights_is_refused_at_load(tmp_path):
    import torch

    from bssim.jscc import load_model
    from bssim.jscc.checkpoint import read_checkpoint, save_checkpoint
    from bssim.jscc.model import AdaptiveJSCC, JSCCConfig

    m = AdaptiveJSCC(JSCCConfig(c_full=4, c_half=8, c_s=8, n_res=1, c_out=8, group_size=2, n_fixed_groups=1,
                                policy_hidden=8))
    name = next(k for k, v in m.state_dict().items() if v.is_floating_point())
    t = m.state_dict()[name]
    with torch.no_grad():
        t[(0,) * t.dim()] = float("nan")
    p = save_checkpoint(tmp_path / "nan.pt", m)
    with pytest.raises(ValueError, match=f"weight '{name}' has 1 non-finite"):
        read_checkpoint(p)
    with pytest.raises(ValueError, match="non-finite"):
        load_model(p)
    import numpy as np
    from PIL import Image

    (tmp_path / "imgs").mkdir()
    Image.fromarray(np.full((32, 32, 3), 128, np.uint8)).save(tmp_path / "imgs" / "a.png")
    r = runner.invoke(app, ["jscc", "eval", "--images", str(tmp_path / "imgs"), "--checkpoint", str(p), "--snr", "5"])
    _error(r, "non-finite", str(p))


# ---------------------------------------------------------------- 4. caches and environment


@pytest.mark.parametrize("bad", [{}, [], [{"scheme": "direct"}], "text", 3, {"frames": "x"}])
def test_wrong_shaped_cache_entries_are_a_miss_and_rewritten(tmp_path, monkeypatch, bad):
    import json

    from bssim.content import cache

    monkeypatch.setenv("BSSIM_CACHE", str(tmp_path / "c"))
    key = {"file": "abc"}
    good = {"frames": 5, "container_frames": 5, "decodable_frames": 4}
    from bssim.content.media import _probe_valid

    cache.write_json("probe", key, bad)
    calls = []
    value = cache.cached_json("probe", key, lambda: calls.append(1) or good, valid=_probe_valid)
    assert value == good and calls == [1]
    assert json.loads(cache._entry("probe", key).read_text()) == good  # repaired on disk
    assert cache.cached_json("probe", key, lambda: calls.append(1) or good, valid=_probe_valid) == good
    assert calls == [1]  # now a hit
    rows_key = {"content": "x"}
    cache.write_json("options", rows_key, bad)
    assert cache.read_json("options", rows_key, lambda v: cache.rows_valid(v, ("scheme", "rate_level", "bits"))) is None


@pytest.mark.parametrize("where", ["file", "proc"])
def test_bssim_cache_that_cannot_hold_entries_is_a_clear_error(tmp_path, monkeypatch, where):
    from bssim.content import cache

    target = tmp_path / "afile" if where == "file" else Path("/proc/bssim-cache")
    if where == "file":
        target.write_text("x")
    monkeypatch.setenv("BSSIM_CACHE", str(target))
    with pytest.raises(ValueError, match="BSSIM_CACHE"):
        cache.cached_json("probe", {"file": "abc"}, lambda: pytest.fail("computed before the cache was checked"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write in a read-only folder")
def test_unwritable_bssim_cache_is_a_clear_error(tmp_path, monkeypatch):
    from bssim.content import cache

    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    monkeypatch.setenv("BSSIM_CACHE", str(ro / "cache"))
    try:
        with pytest.raises(ValueError, match="BSSIM_CACHE.*cannot write"):
            cache.cached_json("probe", {"file": "abc"}, lambda: 1)
    finally:
        ro.chmod(0o700)


# ---------------------------------------------------------------- 5. unclear errors

MEASURED = TINY.split("[content]")[0] + '[content]\nsource = "measured"\n[[content.media]]\npath = "v.avi"\n'


@pytest.mark.parametrize("line, needle", [("share = 0", "'content.media.0.share' = 0: Input should be greater than 0"),
                                          ("files = 0", "'content.media.0.files' = 0"),
                                          ('frame = "0:10:1"', "'content.media.0.frame'"),
                                          ("segment_threshold = 1.5", "'content.media.0.segment_threshold' = 1.5")])
def test_media_table_errors_name_field_value_and_rule(tmp_path, line, needle):
    sc = _scenario(tmp_path, MEASURED + line + "\n")
    out = _error(runner.invoke(app, ["solve", str(sc)]), needle)
    assert "valid string" not in out


def test_toml_with_bom_is_accepted_and_non_utf8_names_the_file(tmp_path):
    from bssim.scenario import load_scenario

    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + TINY.encode())
    assert load_scenario(bom).name == "tiny"
    latin = tmp_path / "latin.toml"
    latin.write_bytes(TINY.replace('"tiny"', '"caf\xe9"').encode("latin-1"))
    _error(runner.invoke(app, ["solve", str(latin)]), str(latin), "not UTF-8")


def test_non_utf8_csv_names_the_file_and_bom_csv_is_accepted(tmp_path):
    p = tmp_path / "menu.csv"
    p.write_bytes((MENU_HEAD + "0,direct,0,1000,0.5,1e-9,1e-13,0\n").encode() + b"1,k\xe9y,0,1,0.5,1e-9,1e-13,0\n")
    _error(_solve_csv(p), str(p), "not UTF-8")
    p.write_bytes(b"\xef\xbb\xbf" + (MENU_HEAD + "0,direct,0,1000,0.5,1e-9,1e-13,0\n").encode())
    assert _solve_csv(p).exit_code == 0


@pytest.mark.parametrize("rows, needles", [
    ("0,direct,0,1000,nan,1e-9,1e-13,0\n", ["'quality' line 2 = nan: must be a finite number"]),
    ("0,direct,0,1000,0.5,nan,1e-13,0\n", ["'gain' line 2 = nan: must be a finite number > 0"]),
    ("0,direct,0,1000,0.5,1e-9,1e-13,0\n0,direct,0,1000,0.5,1e-9,1e-13,0\n", ["(0, 'direct', "]),
])
def test_messages_carry_no_numpy_reprs(tmp_path, rows, needles):
    out = _error(_solve_csv(_menu(tmp_path, rows)), *needles)
    assert "np." not in out and "finite number finite" not in out


def test_no_doubled_error_prefix(tmp_path):
    sc = _scenario(tmp_path, TINY + '[link]\nmodel = "nr"\ndmrs_per_prb = 59\npdsch_symbols = 4\n')
    _error(runner.invoke(app, ["solve", str(sc)]), "dmrs_per_prb = 59")
    p = _menu(tmp_path, "0,direct,0,1000,0.5,1e-9,1e-13,0\n")
    _error(_solve_csv(p, "--link", "foo"), "link model 'foo'")
    _error(runner.invoke(app, ["solve", str(_scenario(tmp_path)), "--link", "analog"]), "--link", "only with --users")


def test_header_only_csv_says_so(tmp_path):
    p = _menu(tmp_path, "")
    _error(_solve_csv(p), str(p), "header but no rows")


def test_jscc_eval_huge_snr_and_cuda_without_cuda_are_clear_errors(tmp_path):
    import torch

    _error(runner.invoke(app, ["jscc", "eval", "--images", str(tmp_path), "--snr", "1e308"]),
           "--snr", "1e+308", "[-50, 100]")
    if not torch.cuda.is_available():
        r = runner.invoke(app, ["jscc", "train", "--data", str(tmp_path), "--out", str(tmp_path / "m.pt"),
                                "--device", "cuda"])
        _error(r, "--device", "'cuda'", "no CUDA")


@pytest.mark.parametrize("field, value", [("users]\ncount", '"4"'), ("link]\nnumerology", '"1"'),
                                          ("link]\nbits_per_value", '"6"'), ("users]\ncount", "4.0")])
def test_strict_types_no_silent_conversion(tmp_path, field, value):
    section, name = field.split("]\n")
    text = TINY.replace("[users]\ncount = 4\n", "") if section == "users" else TINY
    sc = _scenario(tmp_path, text + f"[{section}]\n{name} = {value}\n")
    _error(runner.invoke(app, ["solve", str(sc)]), f"'{section}.{name}' = ", "valid integer")


@pytest.mark.parametrize("extra, needle", [('[link]\nsnr_levels_db = [0.0, 10.0]\n', "link.snr_levels_db"),
                                           ('[objective]\nepsilon = 0.1\n', "objective.epsilon")])
def test_settings_ignored_by_the_link_or_objective_warn(tmp_path, extra, needle):
    from bssim.scenario import ScenarioWarning, load_scenario

    sc = _scenario(tmp_path, TINY + extra)
    with pytest.warns(ScenarioWarning, match=needle):
        load_scenario(sc)
    used = extra.replace("[link]\n", '[link]\nmodel = "analog"\n').replace("[objective]\n", '[objective]\nkind = "log"\n')
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", ScenarioWarning)
        from bssim.scenario import read_scenario_dict, parse_scenario

        data = read_scenario_dict(_scenario(tmp_path, TINY + used, "used.toml"))
        if "link" in data:  # analog needs measured content; validate the sections alone
            from bssim.scenario import Link

            Link.model_validate(data["link"])
        else:
            parse_scenario(data)


def test_run_folder_has_the_summary_parquet_the_readme_lists(tmp_path):
    import pandas as pd

    out = tmp_path / "r"
    assert runner.invoke(app, ["run", str(_scenario(tmp_path)), "--out", str(out), "--quiet"]).exit_code == 0
    s = pd.read_parquet(out / "summary.parquet")
    assert len(s) == 1 and s.equals(pd.read_parquet(out / "summary.parquet"))
    readme = Path(__file__).resolve().parents[2] / "README.md"
    if readme.is_file():
        assert "summary.parquet" in readme.read_text()
