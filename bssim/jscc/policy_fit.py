"""Fitting the rate policy of a trained JSCC with the encoder and decoder frozen (``bssim jscc fit-policy``).

Yang & Kim's loss MSE + λ·E[k] with the networks frozen becomes cost-sensitive
classification, because the distortion of every choice can be measured:

1. Fit set: ``samples`` random crops of the training photographs (sides ``crops``, the
   training augmentations of :class:`~bssim.jscc.sampler.CropSampler`), each at an SNR
   s ~ U[snr_min, snr_max] of the model's config. For every crop i: the pooled X_s the policy
   sees, u_i, and the distortion D_ik (MSE on [0, 1] pixels) at every forced level k through
   the AWGN channel, averaged over ``noise_draws`` noise draws.
2. For a λ, the policy MLP (only it) minimises the exact expected cost::

       J(λ) = mean_i Σ_k softmax(P(u_i, s_i))_k · (D_ik + λ·k) / D̄

   (k = selectable groups switched on, D̄ = mean D, a constant that only scales J), by
   full-batch Adam on standardised inputs from a fresh, seeded MLP (uniform choices; the
   shipped parent's policy, always 8 channels, stayed there when used as the start:
   measured); the standardisation is then folded into the first layer and the weights
   rounded to float16, as the checkpoint stores them.
3. λ is bisected (geometrically, as μ = λ / D̄ in [``mu_lo``, ``mu_hi``]) until the arg-max
   policy's mean rate share over the fit set is within ``rate_tol`` of ``target_rate``
   (the closest one is kept). Since D_ik falls with the SNR, one λ makes the rate fall with
   the SNR.

Measured on the shipped model (8 → 16 channels add ≤ 0.3 dB, 6 → 8 about 0.5 dB): the
arg-max rate is a step function of λ with a wide plateau at "8 channels for every crop"
(μ from about 0.015 to 0.11 for ``mse``), so a target of exactly 0.5 is met by a policy that
does not adapt; an adaptive policy exists just below it (about 0.42: 6 or 8 channels).

The output checkpoint holds the parent's tensors unchanged, except the policy's, and the
parent's meta plus ``policy_fit`` (parent hash, settings, λ, fit-set rates, time, machine).
All draws come from ``seed``: the same settings, threads and precision give the same file
contents (up to the time stamps in the meta).
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from bssim.jscc.channels import awgn
from bssim.jscc.checkpoint import JSCCModel, atomic_torch_save, model_from_checkpoint, read_checkpoint
from bssim.jscc.data import load_training_images
from bssim.jscc.layers import snr_feature
from bssim.jscc.policy import RatePolicy, level_mask
from bssim.jscc.precision import resolve_precision
from bssim.jscc.sampler import CropSampler
from bssim.jscc.train import to_tensor
from bssim.files import file_hash

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class PolicyFitSettings:
    """Everything that defines a policy fit (stored in the output checkpoint's meta)."""

    checkpoint: str
    data: str
    out: str
    target_rate: float = 0.5
    samples: int = 1024
    crops: tuple[int, ...] = (128, 256)
    noise_draws: int = 2
    batch: int = 8
    min_scale: float = 0.5
    val_every: int = 10
    steps: int = 400
    lr: float = 3e-3
    bisect_iters: int = 24
    rate_tol: float = 0.005
    mu_lo: float = 1e-4
    mu_hi: float = 1.0
    seed: int = 0
    precision: str = "auto"
    distortion: str = "mse"

    def __post_init__(self) -> None:
        checks = [
            ("samples", self.samples >= len(self.crops), f">= the number of crop sizes ({len(self.crops)})"),
            ("crops", bool(self.crops) and all(c >= 8 and c % 4 == 0 for c in self.crops), "multiples of 4, >= 8"),
            ("noise_draws", self.noise_draws >= 1, ">= 1"),
            ("batch", self.batch >= 1, ">= 1"),
            ("min_scale", 0.0 < self.min_scale <= 1.0, "in (0, 1]"),
            ("steps", self.steps >= 1, ">= 1"),
            ("lr", self.lr > 0.0, "> 0"),
            ("bisect_iters", self.bisect_iters >= 1, ">= 1"),
            ("rate_tol", self.rate_tol >= 0.0, ">= 0"),
            ("mu_lo", 0.0 < self.mu_lo < self.mu_hi, "in (0, mu_hi)"),
            ("distortion", self.distortion in ("mse", "db"), "mse or db"),
        ]  # fmt: skip
        for name, ok, rule in checks:
            if not ok:
                raise ValueError(f"--{name.replace('_', '-')} must be {rule}, got {getattr(self, name)}")
        resolve_precision(self.precision, "cpu")

    def check_target(self, model: JSCCModel) -> None:
        """``target_rate`` must lie between the lowest and the highest level's share."""
        lo, hi = (model.rate_levels[i] / model.cfg.c_out for i in (0, -1))
        if not lo <= self.target_rate <= hi:
            raise ValueError(f"--target-rate must be in [{lo:g}, {hi:g}] (the model's lowest and highest "
                             f"rate share), got {self.target_rate}")  # fmt: skip


@dataclass(frozen=True)
class FitSet:
    """Per sample: pooled X_s u (N, C_s), SNR (N,) dB, distortion D (N, G + 1) at each level."""

    pooled: torch.Tensor
    snr_db: torch.Tensor
    dist: torch.Tensor


def level_distortions(model: JSCCModel, x: torch.Tensor, snr_db: torch.Tensor, draws: int,
                      gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """(pooled X_s (B, C_s), D (B, G + 1)): D_bk = mean over ``draws`` of MSE(x, x̂) at level k."""
    with torch.inference_mode():
        z, _, pooled = model.analyse_pooled(x, snr_db)
        dist = torch.zeros(x.shape[0], len(model.rate_levels))
        for k, n in enumerate(model.rate_levels):
            mask = level_mask(n, x.shape[0], model.cfg, x.device)
            zn, side = model.symbols(z, mask, snr_db)
            for _ in range(draws):
                xh = model.decode(awgn(zn, snr_db, gen), mask, snr_db, side)[..., : x.shape[2], : x.shape[3]].clamp(0.0, 1.0)
                dist[:, k] += ((xh - x) ** 2).mean(dim=(1, 2, 3)).cpu() / draws
    return pooled.cpu().clone(), dist.clone()  # clones outside inference mode: usable by autograd


def collect(model: JSCCModel, images: list[np.ndarray], s: PolicyFitSettings,
            progress: Progress | None = None) -> FitSet:  # fmt: skip
    """Draw the fit set: ``samples`` crops shared out over ``crops``, SNR ~ U[snr_min, snr_max]."""
    rng = np.random.default_rng([s.seed, 1])
    gen = torch.Generator().manual_seed(s.seed)
    counts = [s.samples // len(s.crops) + (i < s.samples % len(s.crops)) for i in range(len(s.crops))]
    pooled, snrs, dists, done = [], [], [], 0
    for crop, count in zip(s.crops, counts):
        sampler = CropSampler(images, crop, s.min_scale)
        for start in range(0, count, s.batch):
            n = min(s.batch, count - start)
            x = to_tensor(sampler.batch(n, rng), "cpu")
            snr = torch.from_numpy(rng.uniform(model.cfg.snr_min_db, model.cfg.snr_max_db, n)).float()
            u, d = level_distortions(model, x, snr, s.noise_draws, gen)
            pooled.append(u), snrs.append(snr), dists.append(d)
            done += n
            if progress is not None:
                progress(done, s.samples)
    return FitSet(torch.cat(pooled), torch.cat(snrs), torch.cat(dists))


def expected_cost(logits: torch.Tensor, cost: torch.Tensor) -> torch.Tensor:
    """mean_i Σ_k softmax(ℓ_i)_k · c_ik (the exact expectation over the policy's choice)."""
    return (torch.softmax(logits, dim=-1) * cost).sum(dim=-1).mean()


def cost_scale(fs: FitSet, distortion: str) -> float:
    """The unit of λ / μ: D̄ (mean MSE) for ``mse``, 1 dB for ``db``."""
    return float(fs.dist.mean()) if distortion == "mse" else 1.0


def choice_costs(fs: FitSet, lam: float, distortion: str = "mse") -> torch.Tensor:
    """c_ik = (D_ik + λ·k) / D̄ (``mse``) or 10·log10 D_ik + λ·k (``db``, λ in dB per group)."""
    k = torch.arange(fs.dist.shape[1], dtype=torch.float32)
    if distortion == "db":
        return 10.0 * torch.log10(fs.dist.clamp_min(1e-10)) + lam * k
    return (fs.dist + lam * k) / fs.dist.mean()


def input_stats(fs: FitSet) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean m and standard deviation σ of the policy's input v = [u, snr/20] over the fit set.
    A (nearly) constant input (σ < 1e-4) is centred but not scaled (σ := 1): dividing by a
    tiny σ made the folded first layer (W/σ) overflow float16 to inf (a dead channel of a
    small model; caught by the non-finite check at checkpoint load)."""
    v = torch.cat([fs.pooled, snr_feature(fs.snr_db)], dim=1)
    sd = v.std(dim=0)
    return v.mean(dim=0), torch.where(sd < 1e-4, torch.ones_like(sd), sd)


def fold_standardisation(policy: RatePolicy, m: torch.Tensor, sd: torch.Tensor) -> None:
    """W·(v − m)/σ + b = (W/σ)·v + (b − (W/σ)·m): the first layer then takes the raw input v."""
    first = policy.mlp[0]
    with torch.no_grad():
        first.weight.div_(sd)
        first.bias.sub_(first.weight @ m)


def fit_for_lambda(model: JSCCModel, init: dict[str, torch.Tensor], fs: FitSet, lam: float,
                   s: PolicyFitSettings) -> float:  # fmt: skip
    """Fit the policy MLP from ``init`` on standardised inputs to minimise J(λ), fold the
    standardisation into its first layer and round to float16; returns the final J."""
    policy = model.policy
    policy.load_state_dict(init)
    cost, (m, sd) = choice_costs(fs, lam, s.distortion), input_stats(fs)
    v = (torch.cat([fs.pooled, snr_feature(fs.snr_db)], dim=1) - m) / sd
    opt = torch.optim.Adam(policy.parameters(), lr=s.lr)
    with torch.enable_grad():
        for _ in range(s.steps):
            loss = expected_cost(policy.mlp(v), cost)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    fold_standardisation(policy, m, sd)
    with torch.no_grad():
        for p in policy.parameters():
            p.copy_(p.half().float())  # as stored in the checkpoint
        return float(expected_cost(policy.from_pooled(fs.pooled, snr_feature(fs.snr_db)), cost))


def policy_choices(model: JSCCModel, fs: FitSet) -> torch.Tensor:
    """Arg-max choice index per sample, computed as at inference (the model's autocast)."""
    with torch.inference_mode(), model._autocast(torch.device("cpu")):
        return model.policy.from_pooled(fs.pooled, snr_feature(fs.snr_db)).float().argmax(dim=-1)


def rate_share(model: JSCCModel, choices: torch.Tensor) -> float:
    """Mean share of the C'_c channels: mean_i rate_levels[k_i] / C'_c."""
    levels = torch.tensor(model.rate_levels, dtype=torch.float32)
    return float(levels[choices].mean() / model.cfg.c_out)


def bisect_lambda(model: JSCCModel, fs: FitSet, s: PolicyFitSettings,
                  progress: Progress | None = None) -> dict[str, Any]:  # fmt: skip
    """Geometric bisection of μ = λ / D̄; leaves the model's policy at the best λ found."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(s.seed)
        init = RatePolicy(model.cfg).state_dict()  # a fresh start: uniform choice probabilities
    d_mean = cost_scale(fs, s.distortion)
    lo, hi, best, tried = s.mu_lo, s.mu_hi, None, []
    for it in range(s.bisect_iters):
        mu = float(np.sqrt(lo * hi))
        cost = fit_for_lambda(model, init, fs, mu * d_mean, s)
        rate = rate_share(model, policy_choices(model, fs))
        tried.append({"lambda": mu * d_mean, "rate": rate, "cost": cost})
        if best is None or abs(rate - s.target_rate) < abs(best["rate"] - s.target_rate):
            best = tried[-1]
        if progress is not None:
            progress(it + 1, s.bisect_iters)
        if abs(rate - s.target_rate) <= s.rate_tol:
            break
        lo, hi = (mu, hi) if rate > s.target_rate else (lo, mu)
    fit_for_lambda(model, init, fs, best["lambda"], s)
    return {**best, "tried": tried}


def fit_summary(model: JSCCModel, fs: FitSet, lam: float, distortion: str = "mse") -> dict[str, Any]:
    """Fit-set diagnostics: policy rate per SNR third, levels used, and the oracle's rate and cost."""
    choices = policy_choices(model, fs)
    oracle = choice_costs(fs, lam, distortion).argmin(dim=1)
    edges = torch.linspace(model.cfg.snr_min_db, model.cfg.snr_max_db, 4)
    thirds = [(fs.snr_db >= a) & (fs.snr_db <= b) for a, b in zip(edges, edges[1:])]
    d_pick = fs.dist.gather(1, choices[:, None]).mean()
    return {
        "rate": rate_share(model, choices), "oracle_rate": rate_share(model, oracle),
        "rate_by_snr_third": [rate_share(model, choices[m]) for m in thirds],
        "levels_used": sorted({model.rate_levels[int(c)] for c in choices}),
        "mse": float(d_pick), "oracle_mse": float(fs.dist.gather(1, oracle[:, None]).mean()),
        "n_samples": int(fs.dist.shape[0]),
    }  # fmt: skip


def fitted_checkpoint(parent: dict[str, Any], model: JSCCModel, info: dict[str, Any]) -> dict[str, Any]:
    """The parent's checkpoint dict with the policy tensors replaced (same dtype) and ``policy_fit`` meta."""
    sd = dict(parent["state_dict"])
    for name, t in model.policy.state_dict().items():
        key = f"policy.{name}"
        sd[key] = t.detach().cpu().to(parent["state_dict"][key].dtype).clone()
    meta = dict(parent.get("meta", {}))
    meta["policy_fit"] = info
    return {**{k: v for k, v in parent.items() if k != "train_state"}, "state_dict": sd, "meta": meta}


def fit_policy(s: PolicyFitSettings, on_samples: Progress | None = None,
               on_bisect: Progress | None = None) -> tuple[Path, dict[str, Any]]:  # fmt: skip
    """Run the whole fit and write ``s.out`` atomically; returns (path, the ``policy_fit`` meta)."""

    t0 = time.time()
    parent = read_checkpoint(s.checkpoint)
    model = model_from_checkpoint(parent)
    model.precision = resolve_precision(s.precision, "cpu")
    s.check_target(model)
    train_imgs, _, val_names = load_training_images(s.data, s.val_every)
    fs = collect(model, train_imgs, s, on_samples)
    best = bisect_lambda(model, fs, s, on_bisect)
    info = {
        "parent": Path(s.checkpoint).name, "parent_hash": file_hash(Path(s.checkpoint), n_hex=12),
        "settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(s).items()},
        "lambda": best["lambda"], "bisection": best["tried"], "fit": fit_summary(model, fs, best["lambda"], s.distortion),
        "held_out_images": val_names, "n_fit_images": len(train_imgs), "precision": model.precision,
        "seconds": time.time() - t0, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "torch": str(torch.__version__),
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, torch threads {torch.get_num_threads()}",
    }  # fmt: skip
    atomic_torch_save(fitted_checkpoint(parent, model, info), s.out)
    return Path(s.out), info
