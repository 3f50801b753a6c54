"""Training of the adaptive-rate deep JSCC (seed 000 §V schedule, scaled to the epochs).

Loss per batch (MSE on [0, 1] pixels, SNR ~ U[snr_min, snr_max] dB per sample, AWGN)::

    L = MSE(X, X̂) + λ · max(0, E[mean(W)] − r*)

where W is the policy's binary mask (straight-through Gumbel-softmax) and E[mean(W)] the
mean of the policy's on-probabilities over the batch (the expected rate; penalising the
expectation rather than the sample pushes the policy towards decisive on/off choices, so
the arg-max mask used at inference keeps the trained rate), r* = ``target_rate``
(seed: C_c / C'_c = 0.5) and λ = ``rate_weight``. The hinge makes r* a budget on the
average rate: below it the policy is free to adapt per image and SNR, above it is pushed
back; raise r* for quality, lower it for fewer channel uses.

Schedule (seed: 150 epochs lr 5e-4, 150 epochs lr 5e-5, then E_s and policy frozen and
100 epochs fine-tuning; batch 128), scaled to ``epochs``: the first 3/8 of the epochs at
``lr``, the next 3/8 at ``lr2``, the last 1/4 at ``lr2`` with the source encoder and the
policy frozen (the mask then is the deterministic arg-max used at inference, so the
decoder adapts to it). An epoch is ``crops_per_epoch`` random crops.

Determinism: epoch e draws its crops from ``numpy.random.default_rng([seed, e])`` and its
SNRs, noise and Gumbel samples from ``torch.manual_seed(seed · 1_000_003 + e)``, so a run
resumed at an epoch boundary continues exactly as an uninterrupted one (same threads).
"""

from __future__ import annotations

import csv
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from bssim.atomic import atomic_path
from bssim.jscc.channels import awgn
from bssim.jscc.checkpoint import read_checkpoint, save_checkpoint
from bssim.jscc.data import CropSampler, center_crop, find_cifar_dir, load_training_images
from bssim.jscc.model import AdaptiveJSCC, JSCCConfig


@dataclass
class TrainSettings:
    """Everything that defines a training run (stored in the checkpoint's meta)."""

    data: str
    out: str = "jscc_train.pt"
    epochs: int = 8
    batch: int = 128
    crop: int = 0  # 0: auto, 64 for a folder of photographs, 32 for CIFAR-10
    crops_per_epoch: int = 4096
    lr: float = 5e-4
    lr2: float = 5e-5
    rate_weight: float = 0.05
    tau: float = 1.0
    seed: int = 0
    device: str = "cpu"
    threads: int = 0  # 0: leave torch's default
    val_every: int = 10
    val_crop: int = 256
    val_snrs_db: tuple[float, ...] = (0.0, 10.0, 20.0)
    model: dict[str, Any] = field(default_factory=dict)  # JSCCConfig overrides

    def __post_init__(self) -> None:
        for name in ("epochs", "batch", "crops_per_epoch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.crop != 0 and (self.crop < 8 or self.crop % 4):
            raise ValueError(f"crop must be 0 (auto) or a multiple of 4 and >= 8, got {self.crop}")
        if self.device not in ("cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ValueError(f"device must be cpu or cuda, got {self.device!r}")


def phase_of(epoch: int, epochs: int) -> int:
    """Phase (1, 2, 3) of 0-based ``epoch`` in a run of ``epochs`` (3/8, 3/8, 1/4)."""
    e1 = max(1, round(0.375 * epochs))
    e2 = max(e1, round(0.75 * epochs))
    return 1 if epoch < e1 else (2 if epoch < e2 else 3)


def psnr_from_mse(mse: float) -> float:
    return 10.0 * math.log10(1.0 / max(mse, 1e-12))


def to_tensor(batch_u8: np.ndarray, device: str) -> torch.Tensor:
    return torch.from_numpy(batch_u8).to(device).permute(0, 3, 1, 2).float().div_(255.0)


def train_step(
    model: AdaptiveJSCC, opt: torch.optim.Optimizer, x: torch.Tensor, s: TrainSettings
) -> dict[str, float]:
    """One optimisation step; returns loss, mse and rate of the batch."""
    cfg = model.cfg
    snr = torch.empty(x.shape[0]).uniform_(cfg.snr_min_db, cfg.snr_max_db).to(x.device)
    z, mask = model.encode(x, snr, tau=s.tau)
    y = awgn(z, snr)
    xh = model.decode(y, mask, snr)
    mse = torch.mean((xh - x) ** 2)
    rate = mask.mean()
    loss = mse + s.rate_weight * torch.relu(model.last_expected_rate - cfg.target_rate)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return {"loss": float(loss.detach()), "mse": float(mse.detach()), "rate": float(rate.detach())}


@torch.no_grad()
def validate(model: AdaptiveJSCC, images: list[np.ndarray], s: TrainSettings, seed: int = 1234) -> dict[str, float]:
    """Mean PSNR (dB) and rate on centre crops of the validation images at ``val_snrs_db``."""
    model.eval()
    out: dict[str, float] = {}
    gen = torch.Generator().manual_seed(seed)
    rates = []
    for snr_db in s.val_snrs_db:
        psnrs = []
        for img in images:
            x = to_tensor(center_crop(img, s.val_crop)[None].copy(), s.device)
            snr = torch.full((1,), float(snr_db), device=x.device)
            z, mask = model.encode(x, snr)
            xh = model.decode(awgn(z, snr, generator=gen), mask, snr)
            psnrs.append(psnr_from_mse(float(torch.mean((xh.clamp(0, 1) - x) ** 2))))
            rates.append(float(mask.mean()))
        out[f"val_psnr_{snr_db:g}db"] = float(np.mean(psnrs)) if psnrs else float("nan")
    out["val_rate"] = float(np.mean(rates)) if rates else float("nan")
    model.train()
    return out


def _set_phase(model: AdaptiveJSCC, opt: torch.optim.Optimizer, phase: int, s: TrainSettings) -> None:
    lr = s.lr if phase == 1 else s.lr2
    for g in opt.param_groups:
        g["lr"] = lr
    frozen = phase == 3
    for mod in (model.source_encoder, model.policy):
        for p in mod.parameters():
            p.requires_grad_(not frozen)
    model.stochastic_mask = not frozen


def _append_csv(path: Path, row: dict[str, Any]) -> None:
    """Append a row to the CSV log (rewritten atomically with the header)."""
    rows: list[dict[str, Any]] = []
    if path.is_file():
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    rows = [r for r in rows if int(r["epoch"]) < int(row["epoch"])] + [row]
    keys = list(row.keys())
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in keys})


def train(
    s: TrainSettings,
    resume: str | Path | None = None,
    progress: bool = True,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[AdaptiveJSCC, list[dict[str, Any]]]:
    """Train (or resume) and write the checkpoint ``s.out`` after every epoch.

    The checkpoint holds the model, the settings, the log and ``train_state`` (optimizer
    state, next epoch) so that ``resume`` continues it. Resuming from a checkpoint without
    ``train_state`` (e.g. the shipped one) starts from its weights with a fresh optimizer at
    the epoch recorded in its meta. The CSV log is ``s.out`` with suffix ``.csv``.
    Returns the model and the per-epoch log rows.
    """
    if s.threads > 0:
        torch.set_num_threads(s.threads)
    train_imgs, val_imgs, val_names = load_training_images(s.data, s.val_every)
    if s.crop == 0:
        s.crop = 32 if find_cifar_dir(s.data) is not None else 64
    sampler = CropSampler(train_imgs, s.crop)
    start_epoch = 0
    log: list[dict[str, Any]] = []
    elapsed0 = 0.0
    opt_state = None
    if resume is not None:
        obj = read_checkpoint(resume)
        cfg = JSCCConfig.from_dict(obj["config"])
        model = AdaptiveJSCC(cfg)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in obj["state_dict"].items()})
        meta = obj.get("meta", {})
        start_epoch = int(meta.get("epochs_done", 0))
        log = list(meta.get("log", []))
        elapsed0 = float(meta.get("train_seconds", 0.0))
        ts = obj.get("train_state")
        if ts is not None:
            opt_state = ts.get("optimizer")
    else:
        cfg = JSCCConfig(**s.model)
        torch.manual_seed(s.seed)
        model = AdaptiveJSCC(cfg)
    model.to(s.device).train()
    opt = torch.optim.Adam(model.parameters(), lr=s.lr)
    if opt_state is not None:
        opt.load_state_dict(opt_state)
    out = Path(s.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    csv_path = out.with_suffix(".csv")
    steps = math.ceil(s.crops_per_epoch / s.batch)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=(s.epochs - start_epoch) * steps, desc="jscc train", unit="batch", dynamic_ncols=True)
    t_run = time.time()
    for epoch in range(start_epoch, s.epochs):
        phase = phase_of(epoch, s.epochs)
        _set_phase(model, opt, phase, s)
        rng = np.random.default_rng([s.seed, epoch])
        torch.manual_seed(s.seed * 1_000_003 + epoch)
        sums = {"loss": 0.0, "mse": 0.0, "rate": 0.0}
        n_seen = 0
        t0 = time.time()
        for _ in range(steps):
            n = min(s.batch, s.crops_per_epoch - n_seen)
            x = to_tensor(sampler.batch(n, rng), s.device)
            r = train_step(model, opt, x, s)
            for k in sums:
                sums[k] += r[k] * n
            n_seen += n
            if bar is not None:
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, phase=phase, loss=f"{r['loss']:.4f}", rate=f"{r['rate']:.2f}")
        dt = time.time() - t0
        row: dict[str, Any] = {
            "epoch": epoch + 1,
            "phase": phase,
            "lr": opt.param_groups[0]["lr"],
            "loss": sums["loss"] / n_seen,
            "mse": sums["mse"] / n_seen,
            "psnr_db": psnr_from_mse(sums["mse"] / n_seen),
            "rate": sums["rate"] / n_seen,
            "images_per_s": n_seen / dt,
        }
        row.update(validate(model, val_imgs, s))
        row["elapsed_s"] = elapsed0 + (time.time() - t_run)
        log.append(row)
        _append_csv(csv_path, row)
        meta = {
            "settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(s).items()},
            "epochs_done": epoch + 1,
            "train_seconds": row["elapsed_s"],
            "log": log,
            "val_images": val_names,
            "n_train_images": len(train_imgs),
            "torch": str(torch.__version__),
            "machine": f"{platform.machine()} {os.cpu_count()} cpu, torch threads {torch.get_num_threads()}, device {s.device}",
        }
        save_checkpoint(out, model, meta, train_state={"optimizer": opt.state_dict()})
        if on_epoch is not None:
            on_epoch(row)
    if bar is not None:
        bar.close()
    model.eval()
    return model, log


def export_checkpoint(src: str | Path, dst: str | Path, half: bool = True) -> Path:
    """Copy a training checkpoint without optimizer state (float16 weights if ``half``)."""
    obj = read_checkpoint(src)
    from bssim.jscc.checkpoint import model_from_checkpoint

    model = model_from_checkpoint(obj)
    meta = dict(obj.get("meta", {}))
    meta["exported_from"] = Path(src).name
    meta["weights_dtype"] = "float16" if half else "float32"
    return save_checkpoint(dst, model, meta, half=half)
