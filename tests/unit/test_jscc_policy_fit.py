"""The policy fit of a trained JSCC (bssim.jscc.policy_fit) on a tiny random model: only the
policy changes, λ's bisection meets the target rate, the fit is deterministic, bad options fail."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bssim.jscc import AdaptiveJSCC, JSCCConfig, load_model
from bssim.jscc.checkpoint import save_checkpoint
from bssim.jscc.policy_fit import FitSet, PolicyFitSettings, bisect_lambda, fit_policy

# 8 channels in 4 groups of 2, one always on: levels (2, 4, 6, 8), one level = 0.25 of the channels
TINY = JSCCConfig(c_full=4, c_half=8, c_s=8, n_res=1, c_out=8, group_size=2, n_fixed_groups=1, policy_hidden=8)
LEVEL_SHARE = TINY.group_size / TINY.c_out


@pytest.fixture
def parent(tmp_path: Path) -> tuple[Path, Path]:
    """(a float16 checkpoint of a tiny random model, a folder of 5 small photographs)."""
    import cv2

    torch.manual_seed(0)
    ckpt = save_checkpoint(tmp_path / "parent.pt", AdaptiveJSCC(TINY).eval(), {"epochs_done": 1}, half=True)
    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(5):
        cv2.imwrite(str(folder / f"img{i}.png"), rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))
    return ckpt, folder


def _settings(ckpt: Path, data: Path, out: Path, **kw) -> PolicyFitSettings:
    base = dict(checkpoint=str(ckpt), data=str(data), out=str(out), samples=16, crops=(16, 24), batch=4,
                steps=60, bisect_iters=10, precision="fp32", val_every=5)  # fmt: skip
    return PolicyFitSettings(**{**base, **kw})


def test_fit_changes_only_the_policy(parent, tmp_path: Path) -> None:
    ckpt, data = parent
    out, info = fit_policy(_settings(ckpt, data, tmp_path / "fit.pt"))
    before = torch.load(ckpt, weights_only=True)
    after = torch.load(out, weights_only=True)
    assert set(before["state_dict"]) == set(after["state_dict"])
    changed = []
    for name, t in before["state_dict"].items():
        u = after["state_dict"][name]
        assert u.dtype == t.dtype, name
        if name.startswith("policy."):
            changed.append(not torch.equal(t, u))
        else:
            assert torch.equal(t, u), f"{name} changed"  # encoder, decoder, BatchNorm statistics: bit for bit
    assert any(changed)
    meta = load_model(out).meta
    assert meta["epochs_done"] == 1  # the parent's meta is kept
    fit = meta["policy_fit"]
    assert fit["parent_hash"] == info["parent_hash"] and len(fit["parent_hash"]) == 12
    assert fit["settings"]["seed"] == 0 and fit["lambda"] == info["lambda"] > 0
    assert fit["fit"]["n_samples"] == 16 and fit["machine"] and fit["time"]


def test_fit_is_deterministic_for_a_seed(parent, tmp_path: Path) -> None:
    ckpt, data = parent
    runs = [fit_policy(_settings(ckpt, data, tmp_path / f"fit{i}.pt", seed=s)) for i, s in enumerate((3, 3, 4))]
    sds = [torch.load(p, weights_only=True)["state_dict"] for p, _ in runs]
    assert runs[0][1]["lambda"] == runs[1][1]["lambda"]
    assert all(torch.equal(sds[0][k], sds[1][k]) for k in sds[0])
    assert runs[0][1]["fit"] != runs[2][1]["fit"]  # another seed draws another fit set


def _synthetic_fit_set(n: int = 400, seed: int = 0) -> FitSet:
    """Distortions that fall with the level, by an amount that depends on the pooled features and the SNR."""
    g = torch.Generator().manual_seed(seed)
    pooled = torch.randn(n, TINY.c_s, generator=g)
    snr = torch.rand(n, generator=g) * 20.0
    a = torch.exp(0.7 * pooled[:, 0]) * torch.pow(10.0, -snr / 20.0) * 1e-2
    k = torch.arange(TINY.n_choices, dtype=torch.float32)
    dist = a[:, None] / (1.0 + k) + 1e-3
    return FitSet(pooled, snr, dist)


@pytest.mark.parametrize("target", [0.5, 0.75])
def test_bisection_meets_the_target_rate(target: float) -> None:
    torch.manual_seed(0)
    model = AdaptiveJSCC(TINY).eval()
    s = PolicyFitSettings(checkpoint="-", data="-", out="-", target_rate=target, steps=300, lr=1e-2, precision="fp32")
    fs = _synthetic_fit_set()
    best = bisect_lambda(model, fs, s)
    assert abs(best["rate"] - target) <= LEVEL_SHARE
    assert abs(best["rate"] - target) <= abs(best["tried"][0]["rate"] - target)
    lams = [t["lambda"] for t in best["tried"]]
    assert len(set(lams)) == len(lams)  # every step tried a new λ


def test_fitted_rate_falls_with_snr_and_varies_with_content() -> None:
    from bssim.jscc.policy_fit import fit_summary

    torch.manual_seed(0)
    model = AdaptiveJSCC(TINY).eval()
    s = PolicyFitSettings(checkpoint="-", data="-", out="-", target_rate=0.5, steps=300, lr=1e-2, precision="fp32")
    fs = _synthetic_fit_set()
    best = bisect_lambda(model, fs, s)
    summary = fit_summary(model, fs, best["lambda"])
    low, mid, high = summary["rate_by_snr_third"]
    assert low > high and low >= mid >= high
    assert len(summary["levels_used"]) >= 2


@pytest.mark.parametrize(
    ("kw", "message"),
    [({"samples": 0}, "--samples must be >= the number of crop sizes (2), got 0"),
     ({"crops": (18,)}, "--crops must be multiples of 4, >= 8, got (18,)"),
     ({"noise_draws": 0}, "--noise-draws must be >= 1, got 0"),
     ({"distortion": "psnr"}, "--distortion must be mse or db, got psnr"),
     ({"precision": "fp8"}, "precision must be auto, fp32 or bf16, got 'fp8'")],
)  # fmt: skip
def test_bad_settings_name_option_value_and_rule(kw: dict, message: str) -> None:
    with pytest.raises(ValueError) as err:
        PolicyFitSettings(checkpoint="-", data="-", out="-", **kw)
    assert message in str(err.value)


def test_cli_errors_before_work(parent, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bssim.cli import app

    ckpt, data = parent
    base = ["jscc", "fit-policy", "--checkpoint", str(ckpt), "--out", str(tmp_path / "o.pt")]
    cases = [
        (["--data", str(tmp_path / "missing")], "--data"),
        (["--data", str(data), "--target-rate", "0.1"], "--target-rate must be in [0.25, 1] (the model's lowest and highest rate share), got 0.1"),
        (["--data", str(data), "--crops", "16,x"], "--crops (px): expected comma-separated numbers"),
        (["--data", str(data), "--samples", "1"], "--samples must be >= the number of crop sizes (2), got 1"),
    ]  # fmt: skip
    for args, message in cases:
        r = CliRunner().invoke(app, base + args)
        assert r.exit_code == 2 and "error:" in r.output and message in r.output, r.output
        assert not (tmp_path / "o.pt").exists()


def test_policy_vs_levels_interpolates_the_forced_levels() -> None:
    from bssim.jscc.compare import format_policy_vs_levels, policy_vs_levels

    def row(kind, snr, rate, psnr, level=None):
        return {"kind": kind, "channel": "awgn", "snr_db": snr, "rate": rate, "psnr_db": psnr, "level": level}

    summary = [row("policy", 0.0, 0.4375, 24.8), row("level", 0.0, 0.375, 24.0, 6), row("level", 0.0, 0.5, 25.0, 8),
               row("policy", 10.0, 0.5, 26.0), row("level", 10.0, 0.5, 26.0, 8), row("level", 10.0, 0.25, 25.0, 4)]  # fmt: skip
    rows = policy_vs_levels(summary)
    assert [r["snr_db"] for r in rows] == [0.0, 10.0]
    assert rows[0]["forced_psnr_at_rate_db"] == pytest.approx(24.5) and rows[0]["delta_db"] == pytest.approx(0.3)
    assert rows[1]["delta_db"] == pytest.approx(0.0)
    assert "+0.30" in format_policy_vs_levels(rows)
    assert policy_vs_levels([row("policy", 0.0, 0.5, 25.0)]) == []  # no level rows: nothing to compare
