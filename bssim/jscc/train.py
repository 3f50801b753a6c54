"""Training of the adaptive-rate deep JSCC (``bssim jscc train``).

Loss per batch (Yang & Kim 2022, eq. 4; MSE on [0, 1] pixels, AWGN, SNR ~ U[snr_min, snr_max]
dB per crop)::

    L = MSE(X, X̂) + λ · E[k],   E[k] = Σ_k k · softmax(ℓ)_k   (selectable groups switched on)

- λ sets the mean rate. With ``target_rate`` r* > 0, λ is the Lagrange multiplier of the
  equality constraint E[rate] = r*, found by dual ascent: λ ← λ + ``lambda_step`` · (r̄ − r*)
  after each batch, r̄ the batch's expected share of active channels. λ may become negative
  (a reward per group): early in training extra channels do not yet lower the distortion,
  and a policy held only by λ ≥ 0 falls to the lowest level and stays there (measured:
  a first run with λ ≥ 0 sent every crop at 4 channels from epoch 2 on). ``target_rate = 0``
  keeps λ = ``rate_weight`` fixed.
- k is the number of selectable groups of the policy's straight-through Gumbel-softmax
  sample (forward: the sampled k; gradient: through the tempered soft sample, as in the
  authors' code), so the rate term keeps a gradient while τ is large.
- A share ``forced_share`` of every batch is sent at a rate level drawn uniformly (the
  nested mask forced), the rest at the policy's Gumbel-softmax choice, so that every level
  the scheduler may force is trained, not only those the policy picks. In the first
  ``policy_warmup`` share of the epochs every crop is forced (the policy waits).
- ``semantic`` (seed 002): the MSE becomes the importance-weighted
  mean_pixels w · (X − X̂)², w = (1 − β) + β · g / mean(g), β = ``semantic_weight``, g the
  pixel importance of :mod:`bssim.semantic.pixel_importance` (gradient of the person area
  U²-Net-p sees), computed once per training image and carried through the crops'
  augmentations as a fourth plane. ``videos`` adds training frames of videos
  (``PATH:START:STOP:STEP``); ``init`` starts from a checkpoint's weights (a fine-tune: new
  optimizer, epochs counted from 0), its hash recorded; ``coef_order``, if set, replaces the
  init checkpoint's coefficient order (:mod:`bssim.jscc.config`; it changes no weights).
- ``fixed_level`` > 0 trains a fixed-rate model (every crop at that level, no policy):
  the reference for "adaptive within 0.3 dB of fixed rate at the same mean rate".

Schedule (phases, learning rates, Gumbel temperature, 128 → 256 px crops):
:mod:`bssim.jscc.schedule`. In phase 3 the source and channel encoders and the policy are
frozen (BatchNorm statistics too) and the policy's arg-max is used, as at inference.

Determinism: epoch e draws its crops from ``numpy.random.default_rng([seed, e])`` and its
SNRs, levels, Gumbel noise and channel noise from ``torch.manual_seed(seed · 1_000_003 + e)``;
λ and the optimizer state are saved after every epoch, so a run resumed at an epoch boundary
continues exactly as an uninterrupted one (same device, threads and precision).
"""

from __future__ import annotations

import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from bssim.jscc.channels import awgn
from bssim.jscc.checkpoint import JSCCModel, build_model, model_from_checkpoint, read_checkpoint, save_checkpoint
from bssim.jscc.data import center_crop, find_cifar_dir, load_training_images, load_video_frames
from bssim.jscc.linear import default_linear_basis
from bssim.jscc.config import COEF_ORDERS
from bssim.jscc.model import JSCCConfig
from bssim.jscc.policy import argmax_choice, choice_to_mask, expected_groups, level_index, sample_choice
from bssim.jscc.precision import resolve_precision
from bssim.jscc.sampler import CropSampler
from bssim.jscc.schedule import Schedule
from bssim.jscc.trainlog import append_csv


def _opt(name: str) -> str:
    return f"{name} (--{name.replace('_', '-')})"


@dataclass(frozen=True)
class TrainSettings:
    """Everything that defines a training run (stored in the checkpoint's meta)."""

    data: str
    out: str = "jscc_train.pt"
    epochs: int = 40
    batch: int = 16
    crop: int = 128
    crop_tail: int = 256
    tail_fraction: float = 0.2
    crops_per_epoch: int = 4096
    min_scale: float = 0.5
    lr: float = 5e-4
    lr2: float = 5e-5
    lr_fine: float = 1e-5
    phase_fractions: tuple[float, float, float] = (0.6, 0.25, 0.15)
    tau_start: float = 5.0
    tau_end: float = 0.1
    target_rate: float = 0.5
    rate_weight: float = 0.0
    lambda_step: float = 5e-6
    forced_share: float = 0.5
    policy_warmup: float = 0.15
    fixed_level: int = 0
    videos: tuple[str, ...] = ()
    semantic: bool = False
    semantic_weight: float = 0.5
    init: str = ""
    grad_clip: float = 1.0
    linear_lr_scale: float = 1.0
    coef_order: str = ""
    loss: str = "mse"
    seed: int = 0
    device: str = "cpu"
    precision: str = "auto"
    threads: int = 0
    max_seconds: float = 0.0
    stop_epoch: int = 0
    val_every: int = 10
    val_crop: int = 256
    val_snrs_db: tuple[float, ...] = (0.0, 10.0, 20.0)
    model: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("epochs", "batch", "crops_per_epoch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{_opt(name)} must be >= 1, got {getattr(self, name)}")
        for name in ("crop", "crop_tail"):
            v = getattr(self, name)
            if (v or name == "crop") and (v < 8 or v % 4):
                raise ValueError(f"{_opt(name)} must be a multiple of 4 and >= 8{' (or 0: none)' if name == 'crop_tail' else ''}, got {v}")
        checks = [("tail_fraction", 0.0 <= self.tail_fraction <= 1.0, "in [0, 1]"),
                  ("min_scale", 0.0 < self.min_scale <= 1.0, "in (0, 1]"),
                  ("target_rate", 0.0 <= self.target_rate <= 1.0, "in [0, 1] (0: fixed λ)"),
                  ("lambda_step", self.lambda_step >= 0.0, ">= 0"),
                  ("forced_share", 0.0 <= self.forced_share <= 1.0, "in [0, 1]"),
                  ("policy_warmup", 0.0 <= self.policy_warmup < 1.0, "in [0, 1)"),
                  ("tau_end", 0.0 < self.tau_end <= self.tau_start, "in (0, tau_start]"),
                  ("max_seconds", self.max_seconds >= 0.0, ">= 0 (0: no limit)"),
                  ("linear_lr_scale", self.linear_lr_scale > 0.0, "> 0"),
                  ("loss", self.loss in ("mse", "db"), "mse or db"),
                  ("coef_order", self.coef_order in ("", *COEF_ORDERS), f"one of {COEF_ORDERS} (or empty: the model's)"),
                  ("stop_epoch", 0 <= self.stop_epoch <= self.epochs, "in 0..epochs (0: none)"),
                  ("semantic_weight", 0.0 <= self.semantic_weight <= 1.0, "in [0, 1]"),
                  ("phase_fractions", len(self.phase_fractions) == 3 and min(self.phase_fractions) >= 0
                   and abs(sum(self.phase_fractions) - 1.0) < 1e-6, "three shares >= 0 summing to 1")]  # fmt: skip
        for name, ok, rule in checks:
            if not ok:
                raise ValueError(f"{_opt(name)} must be {rule}, got {getattr(self, name)}")
        if self.device not in ("cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ValueError(f"device (--device) must be cpu or cuda[:n], got {self.device!r}")
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device (--device) {self.device!r}: this torch has no CUDA device "
                             f"(torch {torch.__version__}, torch.cuda.is_available() is False); use --device cpu")
        resolve_precision(self.precision, self.device)

    def schedule(self) -> Schedule:
        return Schedule(
            epochs=self.epochs, phase_fractions=tuple(self.phase_fractions),
            lrs=(self.lr, self.lr2, self.lr_fine), tau_start=self.tau_start, tau_end=self.tau_end,
            crop=self.crop, crop_tail=self.crop_tail, tail_fraction=self.tail_fraction,
            batch=self.batch, crops_per_epoch=self.crops_per_epoch, policy_warmup=self.policy_warmup,
        )  # fmt: skip


@dataclass
class RunState:
    """What carries over between epochs (and is saved for --resume)."""

    model: JSCCModel
    opt: torch.optim.Optimizer
    lam: float
    epochs_done: int = 0
    seconds: float = 0.0
    log: list[dict[str, Any]] = field(default_factory=list)
    chunks: list[dict[str, Any]] = field(default_factory=list)


def psnr_from_mse(mse: float) -> float:
    """10 · log10(1 / MSE) for pixels in [0, 1]."""
    return 10.0 * math.log10(1.0 / max(mse, 1e-12))


def to_tensor(batch_u8: np.ndarray, device: str) -> torch.Tensor:
    """(B, H, W, 3) uint8 → (B, 3, H, W) float in [0, 1], channels-last memory."""
    x = torch.from_numpy(np.ascontiguousarray(batch_u8)).to(device).permute(0, 3, 1, 2).float().div_(255.0)
    return x.contiguous(memory_format=torch.channels_last)


@dataclass(frozen=True)
class StepPlan:
    """Per-step settings from the schedule: Gumbel τ, λ, phase, and whether the policy waits."""

    tau: float
    lam: float
    phase: int
    warmup: bool = False


def split_importance(x: torch.Tensor, s: TrainSettings) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(RGB batch, loss weight (B, 1, H, W) or None): with ``semantic`` the fourth plane holds
    g / mean(g) · IMPORTANCE_SCALE / 255 (:func:`bssim.semantic.pixel_importance.importance_channel`), and
    w = (1 − β) + β · g / mean(g)."""
    if not s.semantic:
        return x, None
    from bssim.semantic.pixel_importance import IMPORTANCE_SCALE

    g = x[:, 3:4] * (255.0 / IMPORTANCE_SCALE)
    return x[:, :3], (1.0 - s.semantic_weight) + s.semantic_weight * g


def batch_choices(model: JSCCModel, logits: torch.Tensor, s: TrainSettings, plan: StepPlan) -> tuple[torch.Tensor, int]:
    """One-hot choices (B, G+1) of a batch and the number of forced ones (they come first)."""
    cfg, b = model.cfg, logits.shape[0]
    if s.fixed_level:
        k = torch.full((b,), level_index(s.fixed_level, cfg), dtype=torch.long)
        return F.one_hot(k, cfg.n_choices).float().to(logits.device), b
    n_forced = b if plan.warmup else int(round(s.forced_share * b))
    forced = F.one_hot(torch.randint(0, cfg.n_choices, (n_forced,)), cfg.n_choices).float().to(logits.device)
    rest = logits[n_forced:]
    own = sample_choice(rest, plan.tau) if plan.phase < 3 else argmax_choice(rest.detach())
    return torch.cat([forced, own]), n_forced


def distortion_loss(xh: torch.Tensor, x: torch.Tensor, weight: torch.Tensor | None, kind: str) -> torch.Tensor:
    """``mse``: mean (weighted) squared error. ``db``: each crop's MSE m_i weighted by m̄ / m_i
    (no gradient through the weight): the gradient of mean_i log m_i, i.e. of the mean PSNR,
    at the scale of the MSE (so λ keeps its meaning); every SNR counts alike in dB instead of
    the noisy crops dominating."""
    err = (xh - x) ** 2 if weight is None else weight * (xh - x) ** 2
    if kind == "mse":
        return torch.mean(err)
    per = err.mean(dim=(1, 2, 3))
    return torch.mean(per * (per.mean() / per.clamp_min(1e-10)).detach())


def train_step(model: JSCCModel, opt: torch.optim.Optimizer, x: torch.Tensor, s: TrainSettings,
               plan: StepPlan) -> dict[str, float]:  # fmt: skip
    """One optimisation step → loss, mse, realised policy rate and expected rate r̄ (nan if none)."""
    cfg = model.cfg
    snr = torch.empty(x.shape[0]).uniform_(cfg.snr_min_db, cfg.snr_max_db).to(x.device)
    x, weight = split_importance(x, s)
    z, logits = model.analyse(x, snr)
    choices, n_forced = batch_choices(model, logits, s, plan)
    mask = choice_to_mask(choices, cfg)
    sym, side = model.symbols(z, mask, snr)
    xh = model.decode(awgn(sym, snr), mask, snr, side)[..., : x.shape[2], : x.shape[3]]
    mse = torch.mean((xh - x) ** 2)
    loss = distortion_loss(xh, x, weight, s.loss)
    own = logits[n_forced:]
    exp_rate = float("nan")
    if own.shape[0] and not s.fixed_level:
        eg = expected_groups(own)
        exp_rate = float(((cfg.n_fixed_groups + eg.detach()) * cfg.group_size / cfg.c_out).mean())
        if plan.phase < 3:
            k = torch.arange(cfg.n_choices, device=own.device, dtype=choices.dtype)
            loss = loss + plan.lam * (choices[n_forced:] * k).sum(dim=1).mean()
    opt.zero_grad(set_to_none=True)
    if not torch.isfinite(loss):
        return {"loss": float("nan"), "mse": float("nan"), "rate": float("nan"), "exp_rate": exp_rate, "skipped": 1.0}
    loss.backward()
    if s.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.grad is not None], s.grad_clip)
    opt.step()
    rate = float(mask[n_forced:].detach().mean()) if own.shape[0] else float(mask.detach().mean())
    return {"loss": float(loss.detach()), "mse": float(mse.detach()), "rate": rate, "exp_rate": exp_rate, "skipped": 0.0}


def update_lambda(lam: float, exp_rate: float, s: TrainSettings) -> float:
    """Dual ascent on the rate constraint E[rate] = r*: λ + lambda_step · (r̄ − r*)."""
    if s.target_rate <= 0 or s.fixed_level or not math.isfinite(exp_rate):
        return lam
    return float(lam + s.lambda_step * (exp_rate - s.target_rate))


@torch.no_grad()
def validate(model: JSCCModel, images: list[np.ndarray], s: TrainSettings, seed: int = 1234) -> dict[str, float]:
    """Held-out centre crops: PSNR (dB) and rate of the policy at ``val_snrs_db``; PSNR of each level at 10 dB."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    xs = [to_tensor(center_crop(img, s.val_crop)[None], s.device) for img in images]
    out: dict[str, float] = {}
    runs = [(f"{snr:g}db", snr, None) for snr in s.val_snrs_db]
    runs += [(f"L{n}_10db", 10.0, n) for n in model.rate_levels]
    for name, snr_db, level in runs:
        psnrs, rates = [], []
        for x in xs:
            snr = torch.full((1,), float(snr_db), device=x.device)
            z, mask, side = model.encode_side(x, snr, n_active=level)
            xh = model.decode(awgn(z, snr, generator=gen), mask, snr, side)[..., : x.shape[2], : x.shape[3]]
            xh = xh.clamp(0.0, 1.0)
            psnrs.append(psnr_from_mse(float(torch.mean((xh - x) ** 2))))
            rates.append(float(mask.mean()))
        out[f"val_psnr_{name}"] = float(np.mean(psnrs)) if psnrs else float("nan")
        if level is None:
            out[f"val_rate_{name}"] = float(np.mean(rates)) if rates else float("nan")
    return out


def set_phase(model: JSCCModel, opt: torch.optim.Optimizer, phase: int, lr: float) -> None:
    """Learning rate of the phase (× each group's ``lr_scale``); in phase 3 freeze the transmitter
    (``model.encoder_modules()``: encoders, policy; BatchNorm statistics too)."""
    for g in opt.param_groups:
        g["lr"] = lr * g.get("lr_scale", 1.0)
    model.train()
    frozen = phase == 3
    for mod in model.encoder_modules():
        for p in mod.parameters():
            p.requires_grad_(not frozen)
        if frozen:
            mod.eval()


def run_epoch(st: RunState, samplers: dict[int, CropSampler], s: TrainSettings, epoch: int) -> dict[str, Any]:
    """Train one epoch; returns its log row (training part)."""
    sch = s.schedule()
    phase, (crop, batch, n_crops) = sch.phase(epoch), sch.crops(epoch)
    set_phase(st.model, st.opt, phase, sch.lr(epoch))
    rng = np.random.default_rng([s.seed, epoch])
    torch.manual_seed(s.seed * 1_000_003 + epoch)
    sums = {"loss": 0.0, "mse": 0.0, "rate": 0.0, "exp_rate": 0.0, "skipped": 0.0}
    n_seen, n_steps, t0 = 0, math.ceil(n_crops / batch), time.time()
    for i in range(n_steps):
        n = min(batch, n_crops - n_seen)
        x = to_tensor(samplers[crop].batch(n, rng), s.device)
        plan = StepPlan(sch.tau(epoch + i / n_steps), st.lam, phase, sch.is_warmup(epoch))
        r = train_step(st.model, st.opt, x, s, plan)
        st.lam = update_lambda(st.lam, r["exp_rate"], s) if phase < 3 else st.lam
        for k in sums:
            sums[k] += (r[k] if math.isfinite(r[k]) else 0.0) * (n if k != "skipped" else 1)
        n_seen += n
    dt = time.time() - t0
    good = max(1, n_seen - int(sums["skipped"]) * batch)
    return {"epoch": epoch + 1, "phase": phase, "warmup": int(sch.is_warmup(epoch)), "lr": sch.lr(epoch),
            "tau": sch.tau(epoch + 1), "lambda": st.lam,
            "crop": crop, "loss": sums["loss"] / good, "mse": sums["mse"] / good,
            "psnr_db": psnr_from_mse(sums["mse"] / good), "rate": sums["rate"] / good,
            "exp_rate": sums["exp_rate"] / good, "skipped_steps": int(sums["skipped"]),
            "images_per_s": n_seen / dt, "epoch_s": dt}  # fmt: skip


def _meta(st: RunState, s: TrainSettings, precision: str, val_names: list[str], n_train: int,
          facts: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    return {**facts,
        "settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(s).items()},
        "epochs_done": st.epochs_done, "train_seconds": st.seconds, "lambda": st.lam,
        "log": st.log, "chunks": st.chunks, "val_images": val_names, "n_train_images": n_train,
        "precision": precision, "torch": str(torch.__version__),
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, torch threads {torch.get_num_threads()}, device {s.device}",
    }  # fmt: skip


def fresh_model(cfg: JSCCConfig) -> JSCCModel:
    """A seeded new model; the anchored one starts as the linear code of the shipped basis (``linear_b{b}.pt``)."""
    model = build_model(cfg)
    if cfg.arch == "anchored":
        basis = default_linear_basis(cfg.block_px)
        model.init_from_basis(basis.components, basis.mean)
    return model


def make_optimizer(model: JSCCModel, s: TrainSettings) -> torch.optim.Optimizer:
    """Adam; the anchored model's linear transforms (analysis, synthesis, block mean) learn at ``linear_lr_scale`` × the rate."""
    if s.linear_lr_scale == 1.0 or not hasattr(model, "analysis"):
        return torch.optim.Adam(model.parameters(), lr=s.lr)
    linear = [model.analysis.weight, model.analysis.bias, model.synthesis.weight, model.block_mean]
    ids = {id(p) for p in linear}
    rest = [p for p in model.parameters() if id(p) not in ids]
    return torch.optim.Adam([{"params": linear, "lr_scale": s.linear_lr_scale}, {"params": rest, "lr_scale": 1.0}], lr=s.lr)


def init_state(s: TrainSettings, resume: str | Path | None) -> RunState:
    """A fresh model (seeded) or the one in ``resume`` with its optimizer state and λ."""
    if resume is None:
        torch.manual_seed(s.seed)
        if s.init:
            model = model_from_checkpoint(with_coef_order(read_checkpoint(s.init), s.coef_order), device=s.device)
        else:
            cfg = JSCCConfig(**s.model)
            model = fresh_model(replace(cfg, coef_order=s.coef_order) if s.coef_order else cfg).to(s.device)
        return RunState(model, make_optimizer(model, s), s.rate_weight)
    obj = read_checkpoint(resume)
    model = model_from_checkpoint(obj, device=s.device)
    meta, ts = obj.get("meta", {}), obj.get("train_state") or {}
    opt = make_optimizer(model, s)
    if "optimizer" in ts:
        opt.load_state_dict(ts["optimizer"])
    lam = float(ts.get("lambda", meta.get("lambda", s.rate_weight)))
    return RunState(model, opt, lam, int(meta.get("epochs_done", 0)), float(meta.get("train_seconds", 0.0)),
                    list(meta.get("log", [])), list(meta.get("chunks", [])))  # fmt: skip


def with_importance(images: list[np.ndarray], on_image: Callable[[int, int], None] | None = None) -> tuple[list[np.ndarray], dict]:
    """RGB images → RGB + importance plane (H, W, 4) uint8, and statistics for the meta."""
    from bssim.content.cache import cache_dir
    from bssim.semantic.pixel_importance import cached_importance, importance_channel
    from bssim.semantic.u2netp import load_u2netp

    segmenter, maps = load_u2netp(), []
    for i, img in enumerate(images):
        maps.append(cached_importance(img, cache_dir() / "importance", segmenter=segmenter))
        if on_image is not None:
            on_image(i + 1, len(images))
    planes, clipped = importance_channel(maps)
    stacked = [np.concatenate([img, p[..., None]], axis=2) for img, p in zip(images, planes)]
    return stacked, {"importance_clipped_share": clipped, "importance_images": len(images)}


def load_data(s: TrainSettings, on_image: Callable[[int, int], None] | None = None) -> tuple[dict[int, CropSampler], list[np.ndarray], list[str], dict]:
    """Crop samplers (one per crop size of the schedule), validation images and names, and
    data facts for the meta (video frames used; importance statistics with ``semantic``)."""
    train_imgs, val_imgs, val_names = load_training_images(s.data, s.val_every)
    if find_cifar_dir(s.data) is not None and (s.crop > 32 or s.crop_tail > 32):
        raise ValueError("CIFAR-10 images are 32 px: use --crop 32 --crop-tail 0")
    facts: dict[str, Any] = {"video_frames": []}
    for spec in s.videos:
        frames, names = load_video_frames(spec)
        train_imgs, facts["video_frames"] = train_imgs + frames, facts["video_frames"] + names
    if s.semantic:
        train_imgs, stats = with_importance(train_imgs, on_image)
        facts.update(stats)
    sizes = {s.crop} | ({s.crop_tail} if s.crop_tail and s.tail_fraction > 0 else set())
    return {c: CropSampler(train_imgs, c, s.min_scale) for c in sizes}, val_imgs, val_names, facts


def train(s: TrainSettings, resume: str | Path | None = None,
          on_epoch: Callable[[dict[str, Any]], None] | None = None,
          on_image: Callable[[int, int], None] | None = None) -> tuple[JSCCModel, list[dict[str, Any]]]:  # fmt: skip
    """Train (or resume) and write the checkpoint ``s.out`` (+ ``.csv`` log) after every epoch.

    Stops after ``s.epochs`` epochs, or earlier when ``s.max_seconds`` > 0 and the next epoch
    would end past that many seconds of this call (continue with ``resume=s.out``).
    """
    if s.threads > 0:
        torch.set_num_threads(s.threads)
    precision = resolve_precision(s.precision, s.device)
    from bssim.files import file_hash

    samplers, val_imgs, val_names, facts = load_data(s, on_image)
    facts["init_checkpoint"] = file_hash(s.init) if s.init else None  # hashed now: the file may change during the run
    st = init_state(s, resume)
    st.model.precision = precision
    out, t_call, start = Path(s.out), time.time(), st.epochs_done
    for epoch in range(st.epochs_done, s.epochs):
        last = st.log[-1]["epoch_s"] if st.log and epoch > start else 0.0
        if s.max_seconds > 0 and epoch > start and time.time() - t_call + 1.2 * last > s.max_seconds:
            break
        if 0 < s.stop_epoch <= epoch:
            break
        t0 = time.time()
        row = run_epoch(st, samplers, s, epoch)
        row.update(validate(st.model, val_imgs, s))
        st.seconds += time.time() - t0
        row["elapsed_s"] = st.seconds
        st.epochs_done, st.log = epoch + 1, st.log + [row]
        chunk = {"first_epoch": start + 1, "last_epoch": epoch + 1, "settings_epochs": s.epochs, "precision": precision}
        st.chunks = [c for c in st.chunks if c["first_epoch"] != start + 1] + [chunk]
        append_csv(out.with_suffix(".csv"), row)
        save_checkpoint(out, st.model, _meta(st, s, precision, val_names, len(samplers[s.crop].images), facts),
                        train_state={"optimizer": st.opt.state_dict(), "lambda": st.lam})  # fmt: skip
        if on_epoch is not None:
            on_epoch(row)
    st.model.eval()
    return st.model, st.log


def with_coef_order(obj: dict, coef_order: str) -> dict:
    """A checkpoint dict whose config has ``coef_order`` (empty: unchanged); no weight changes."""
    if not coef_order:
        return obj
    if coef_order not in COEF_ORDERS:
        raise ValueError(f"--coef-order must be one of {COEF_ORDERS}, got {coef_order!r}")
    return {**obj, "config": {**obj["config"], "coef_order": coef_order}}


def export_checkpoint(src: str | Path, dst: str | Path, half: bool = True, coef_order: str = "") -> Path:
    """Copy a training checkpoint without optimizer state (float16 weights if ``half``), its coefficient order replaced if given."""
    obj = with_coef_order(read_checkpoint(src), coef_order)
    model = model_from_checkpoint(obj)
    meta = dict(obj.get("meta", {}))
    meta["exported_from"] = Path(src).name
    if coef_order:
        meta["coef_order_set_on_export"] = coef_order
    meta["weights_dtype"] = "float16" if half else "float32"
    return save_checkpoint(dst, model, meta, half=half)


def with_overrides(s: TrainSettings, **kw: Any) -> TrainSettings:
    """A copy of ``s`` with fields replaced (settings are immutable)."""
    return replace(s, **kw)
