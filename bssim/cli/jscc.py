"""``bssim jscc train|fit-policy|eval|compare|export``: the adaptive-rate deep JSCC (:mod:`bssim.jscc`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from bssim.atomic import check_output_file, check_output_folder
from bssim.cli._common import fail as _fail
from bssim.cli._common import parse_float_list, parse_snr_list
from bssim.jscc.train import TrainSettings, train
from bssim.jscc import default_checkpoint_path
from bssim.jscc.policy_fit import PolicyFitSettings, fit_policy
from bssim.jscc.data import load_training_images
from bssim.jscc.linear import fit_linear_basis, save_linear_basis
from bssim.jscc.train import export_checkpoint
from bssim.jscc.evaluate import EvalSettings, evaluate
from bssim.jscc.report import format_tables, json_clean, write_outputs
from bssim.jscc.compare import compare, format_compare
from bssim.jscc.report import json_clean
from bssim.jscc.config import BLOCKS_PX, JSCCConfig

jscc_app = typer.Typer(help="Adaptive-rate deep JSCC: train, evaluate, compare, export.", no_args_is_help=True)


@jscc_app.command("train")
def train_cmd(
    data: Path = typer.Option(..., "--data", help="Folder of training images, or a cifar-10-batches-py folder."),
    out: Path = typer.Option(Path("jscc_train.pt"), "--out", help="Checkpoint written after every epoch (+ .csv log)."),
    resume: Optional[Path] = typer.Option(
        None, "--resume", help="Checkpoint to continue from (its architecture wins over the width options)."
    ),
    epochs: int = typer.Option(40, "--epochs", help="Epochs of the whole run (phases are fractions of it)."),
    crops_per_epoch: int = typer.Option(4096, "--crops-per-epoch", help="Crops per epoch at --crop (tail: scaled)."),
    batch: int = typer.Option(16, "--batch", help="Crops per step at --crop (tail: scaled)."),
    crop: int = typer.Option(128, "--crop", help="Crop side in px (multiple of 4)."),
    crop_tail: int = typer.Option(256, "--crop-tail", help="Crop side of the last --tail-fraction of epochs (0: none)."),
    tail_fraction: float = typer.Option(0.2, "--tail-fraction"),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda or cuda:N."),
    precision: str = typer.Option("auto", "--precision", help="auto, fp32 or bf16 (autocast)."),
    threads: int = typer.Option(0, "--threads", help="torch threads (0: torch's default)."),
    max_minutes: float = typer.Option(0.0, "--max-minutes", help="Stop at an epoch boundary before this (0: none)."),
    stop_epoch: int = typer.Option(0, "--stop-epoch", help="Stop after this epoch of the --epochs schedule (0: none)."),
    seed: int = typer.Option(0, "--seed"),
    c_s: int = typer.Option(128, "--c-s", help="Width C_s at H/4 (and of the residual blocks)."),
    c_half: int = typer.Option(64, "--c-half", help="Width at H/2."),
    c_full: int = typer.Option(32, "--c-full", help="Width of the 7x7 conv at full resolution."),
    n_res: int = typer.Option(2, "--n-res", help="Residual blocks per side."),
    arch: str = typer.Option("yang_kim", "--arch", help="yang_kim (Yang & Kim 2022) or anchored (starts as the linear code, issue 18)."),
    block: int = typer.Option(8, "--block", help=f"anchored: block side b in px {BLOCKS_PX} of the linear basis it starts from."),
    linear_lr_scale: float = typer.Option(1.0, "--linear-lr-scale", help="anchored: learning-rate factor of the linear transforms."),
    coef_order: str = typer.Option("", "--coef-order", help="anchored: index or variance (per image, SoftCast); with --init it replaces the checkpoint's (default: keep)."),
    loss: str = typer.Option("mse", "--loss", help="mse, or db: each crop's MSE weighted by 1/its MSE (the mean PSNR's gradient)."),
    target_rate: float = typer.Option(0.5, "--target-rate", help="Mean share of active channels (0: fixed λ)."),
    rate_weight: float = typer.Option(0.0, "--rate-weight", help="λ per active group (start value; fixed if --target-rate 0)."),
    lambda_step: float = typer.Option(5e-6, "--lambda-step", help="Dual-ascent step of λ per batch and unit rate error."),
    forced_share: float = typer.Option(0.5, "--forced-share", help="Share of each batch sent at a random forced level."),
    policy_warmup: float = typer.Option(0.15, "--policy-warmup", help="Share of the epochs with every crop forced (policy waits)."),
    fixed_level: int = typer.Option(0, "--fixed-level", help="Train a fixed-rate model at this many channels (0: adaptive)."),
    lr: float = typer.Option(5e-4, "--lr"),
    lr2: float = typer.Option(5e-5, "--lr2"),
    lr_fine: float = typer.Option(1e-5, "--lr-fine"),
    video: list[str] = typer.Option([], "--video", help="Also train on frames PATH:START:STOP:STEP of a video (its training part only)."),
    semantic: bool = typer.Option(False, "--semantic", help="Seed 002: weight the MSE by the pixels' semantic importance."),
    semantic_weight: float = typer.Option(0.5, "--semantic-weight", help="β of w = (1 − β) + β · importance / mean (with --semantic)."),
    init: Optional[Path] = typer.Option(None, "--init", help="Start from this checkpoint's weights (fine-tune; epochs count from 0)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --out checkpoint and its .csv log."),
) -> None:
    """Train on augmented crops, SNR ~ U[0, 20] dB (Yang & Kim's schedule scaled to --epochs)."""

    try:
        s = TrainSettings(
            data=str(data), out=str(out), epochs=epochs, batch=batch, crop=crop, crop_tail=crop_tail,
            tail_fraction=tail_fraction, crops_per_epoch=crops_per_epoch, lr=lr, lr2=lr2, lr_fine=lr_fine,
            target_rate=target_rate, rate_weight=rate_weight, lambda_step=lambda_step, forced_share=forced_share,
            policy_warmup=policy_warmup, videos=tuple(video), semantic=semantic, semantic_weight=semantic_weight,
            init=str(init) if init else "", fixed_level=fixed_level, seed=seed, device=device, precision=precision, threads=threads,
            max_seconds=60.0 * max_minutes, stop_epoch=stop_epoch,
            model={"c_s": c_s, "c_half": c_half, "c_full": c_full, "n_res": n_res, "arch": arch, "block_px": block},
            linear_lr_scale=linear_lr_scale, loss=loss, coef_order=coef_order,
        )  # fmt: skip
        if resume is not None and init is not None:
            raise ValueError("--init and --resume exclude each other: --init starts a fine-tune, --resume continues one")
        if init is not None and not init.is_file():
            raise FileNotFoundError(f"--init {init}: no such checkpoint")
        if resume is None:

            JSCCConfig(**s.model)  # bad widths: an error before any work
        continuing = resume is not None and resume.resolve() == out.resolve()  # --resume X --out X
        check_output_file(out, "--out", force=force or continuing)
        check_output_file(out.with_suffix(".csv"), "--out (its .csv log)", force=force or continuing)

        def report(row: dict) -> None:
            vals = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())
            typer.echo(vals)

        def importance(done: int, total: int) -> None:
            typer.echo(f"  semantic importance {done}/{total} images", err=True)

        _, log = train(s, resume=resume, on_epoch=report, on_image=importance)
    except (ValueError, FileNotFoundError) as exc:
        _fail(exc)
    done = log[-1]["epoch"] if log else 0
    more = f" (stopped by --max-minutes; continue with --resume {out})" if done < epochs else ""
    typer.echo(f"checkpoint: {out} after epoch {done} of {epochs}{more}  log: {out.with_suffix('.csv')}")


@jscc_app.command("fit-policy")
def fit_policy_cmd(
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="Parent checkpoint (default: the shipped one)."),
    data: Path = typer.Option(..., "--data", help="Folder of training photographs (every 10th held out, as in training)."),
    out: Path = typer.Option(..., "--out", help="Output checkpoint: the parent's networks, the fitted policy."),
    target_rate: float = typer.Option(0.5, "--target-rate", help="Mean share of active channels over the fit set."),
    samples: int = typer.Option(1024, "--samples", help="Crops in the fit set (shared out over --crops)."),
    crops: str = typer.Option("128,256", "--crops", help="Comma-separated crop sides in px (multiples of 4)."),
    noise_draws: int = typer.Option(2, "--noise-draws", help="AWGN draws averaged per crop and level."),
    distortion: str = typer.Option("mse", "--distortion", help="Cost of a choice: mse (Yang & Kim) or db (10 log10 MSE)."),
    seed: int = typer.Option(0, "--seed"),
    precision: str = typer.Option("auto", "--precision", help="auto, fp32 or bf16 (as at inference)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --out."),
) -> None:
    """Fit only the rate policy of a trained model (encoder, decoder frozen): min E[MSE + λ·k], λ by bisection."""
    from tqdm.auto import tqdm


    try:
        sides = [int(v) for v in parse_float_list(crops, "--crops (px)")]
        s = PolicyFitSettings(
            checkpoint=str(checkpoint or default_checkpoint_path()), data=str(data), out=str(out),
            target_rate=target_rate, samples=samples, crops=tuple(sides), noise_draws=noise_draws, seed=seed,
            precision=precision, distortion=distortion,
        )  # fmt: skip
        for name, p in (("--checkpoint", Path(s.checkpoint)), ("--data", data)):
            if not p.exists():
                raise FileNotFoundError(f"{name} {p}: not found")
        check_output_file(out, "--out", force=force)
        with tqdm(total=s.samples, desc="fit set", unit="crop") as bar:
            _, info = fit_policy(s, on_samples=lambda done, _: bar.update(done - bar.n))
    except (ValueError, FileNotFoundError) as exc:
        _fail(exc)
    fit = info["fit"]
    thirds = " / ".join(f"{r:.3f}" for r in fit["rate_by_snr_third"])
    typer.echo(f"λ = {info['lambda']:.3g}: fit-set rate {fit['rate']:.3f} (by SNR third: {thirds}), "
               f"levels used {fit['levels_used']}, {info['seconds']:.0f} s")  # fmt: skip
    typer.echo(f"wrote {out} (parent {info['parent_hash']})")


@jscc_app.command("fit-linear")
def fit_linear_cmd(
    data: Path = typer.Option(..., "--data", help="Folder of training photographs (every 10th held out, as in training)."),
    block: int = typer.Option(8, "--block", help="Block side b in px: b×b×3 blocks."),
    out: Path = typer.Option(..., "--out", help="Output basis file (torch.save of plain tensors)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --out."),
) -> None:
    """Fit the block-PCA basis of the linear analog code (SoftCast-style anchor) on training photographs."""
    import dataclasses
    import shlex


    try:
        if not 1 <= block <= 32:
            raise ValueError(f"--block must be in 1..32 px, got {block}")
        if not data.is_dir():
            raise FileNotFoundError(f"--data {data}: no such folder")
        check_output_file(out, "--out", force=force)
        train, _, _ = load_training_images(data)
        basis = fit_linear_basis(train, block)
        cmd = f"bssim jscc fit-linear --data {shlex.quote(str(data))} --block {block} --out {shlex.quote(str(out))}"
        basis = dataclasses.replace(basis, fitted_on=f"{basis.fitted_on} ({len(train)} training images of {data.name}/); {cmd}")
        save_linear_basis(basis, out)
    except (ValueError, FileNotFoundError) as exc:
        _fail(exc)
    top = basis.variances
    share = float(top[: max(1, len(top) // 6)].sum() / top.sum())
    typer.echo(f"wrote {out}: {block}x{block}x3 blocks, d = {len(top)}; top 1/6 of the components hold {share:.1%} of the variance")
    typer.echo(f"fitted on: {basis.fitted_on}")


@jscc_app.command("export")
def export_cmd(
    src: Path = typer.Argument(..., help="Training checkpoint."),
    dst: Path = typer.Argument(..., help="Output (float16 weights, no optimizer state)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing DST."),
    coef_order: str = typer.Option("", "--coef-order", help="anchored: set the coefficient order, index or variance (no weight changes; default: keep)."),
) -> None:
    """Export a training checkpoint for shipping (weights only, float16)."""

    try:
        if not src.is_file():
            raise FileNotFoundError(f"SRC {src}: no such checkpoint")
        check_output_file(dst, "DST", force=force)
        p = export_checkpoint(src, dst, coef_order=coef_order)
    except (ValueError, FileNotFoundError) as exc:
        _fail(exc)
    typer.echo(f"wrote {p} ({p.stat().st_size / 1e6:.2f} MB)")


@jscc_app.command("eval")
def eval_cmd(
    images: Path = typer.Option(..., "--images", help="Folder of evaluation images (e.g. Kodak)."),
    snr: str = typer.Option(
        "0,5,10,15,20", "--snr", help="Comma-separated SNRs in dB (negative values: --snr=-5,0,5)."
    ),
    channel: str = typer.Option("awgn", "--channel", help="Comma-separated: awgn, rayleigh."),
    csi: str = typer.Option("estimated", "--csi", help="Rayleigh equalisation: perfect or estimated (pilots)."),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="Default: the shipped checkpoint."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary rows as JSON on stdout (tables on stderr)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for CSV/JSON tables, text table and plots."),
    seed: int = typer.Option(0, "--seed"),
    bits_per_value: int = typer.Option(8, "--bits-per-value"),
    limit: int = typer.Option(0, "--limit", help="Use only the first N images (0: all)."),
    baseline: bool = typer.Option(True, "--baseline/--no-baseline", help="Ideal separation baseline (policy rows)."),
    levels: bool = typer.Option(True, "--levels/--no-levels", help="Rows for every forced rate level."),
    noiseless: bool = typer.Option(True, "--noiseless/--no-noiseless", help="Rows without channel noise (ceiling)."),
    linear_block: int = typer.Option(8, "--linear-block", help=f"Block side {BLOCKS_PX} of the linear anchor's shipped basis (linear_psnr_db; 0: none)."),
    metrics: bool = typer.Option(True, "--ssim/--no-ssim", help="SSIM and MS-SSIM on the policy rows."),
    precision: str = typer.Option("auto", "--precision", help="auto, fp32 or bf16."),
    force: bool = typer.Option(False, "--force", help="Write into an existing --out folder."),
) -> None:
    """Policy rows (with rate), per-rate-level rows, noiseless ceiling, both PSNR conventions."""

    try:
        s = EvalSettings(
            snrs_db=tuple(parse_snr_list(snr)),
            channels=tuple(c.strip() for c in channel.split(",") if c.strip()), csi=csi, seed=seed,
            bits_per_value=bits_per_value, limit=limit, baseline=baseline, levels=levels,
            noiseless=noiseless, quality_metrics=metrics, linear_block=linear_block,
        )  # fmt: skip
        if limit < 0:
            raise ValueError(f"--limit must be >= 0, got {limit}")
        if out is not None:
            check_output_folder(out, "--out", must_not_exist=not force)

        def progress(done: int, total: int) -> None:
            if not as_json:
                typer.echo(f"  {done}/{total} runs", err=True)

        summary, per_image = evaluate(images, s, checkpoint=checkpoint, precision=precision, progress=progress)
        if out is not None:
            write_outputs(summary, per_image, out)
    except (ValueError, FileNotFoundError) as exc:
        _fail(exc)
    if as_json:
        typer.echo(format_tables(summary), err=True)  # the human tables on stderr, JSON on stdout
        typer.echo(json.dumps(json_clean(summary), indent=1))
    else:
        typer.echo(format_tables(summary))
        if out is not None:
            typer.echo(f"wrote {out}/")


@jscc_app.command("compare")
def compare_cmd(
    images: Path = typer.Option(..., "--images", help="Folder of evaluation images."),
    adaptive: Path = typer.Option(..., "--adaptive", help="Checkpoint of the adaptive model."),
    fixed: str = typer.Option(..., "--fixed", help="Comma-separated checkpoints trained with --fixed-level."),
    snr: str = typer.Option("0,5,10,15,20", "--snr", help="Comma-separated SNRs in dB."),
    seed: int = typer.Option(0, "--seed"),
    limit: int = typer.Option(0, "--limit", help="Use only the first N images (0: all)."),
    precision: str = typer.Option("auto", "--precision", help="auto, fp32 or bf16."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON on stdout (table on stderr)."),
) -> None:
    """Adaptive vs fixed-rate models at equal mean rate, per SNR on AWGN (Δ in dB)."""

    try:
        snrs = parse_snr_list(snr)
        paths = [Path(p.strip()) for p in fixed.split(",") if p.strip()]
        if not paths:
            raise ValueError("--fixed: expected at least one checkpoint")
        rows = compare(images, adaptive, paths, snrs, seed=seed, limit=limit, precision=precision)
    except (ValueError, FileNotFoundError) as exc:
        _fail(exc)
    typer.echo(format_compare(rows), err=as_json)
    if as_json:
        typer.echo(json.dumps(json_clean(rows), indent=1))


def register(app: typer.Typer) -> None:
    app.add_typer(jscc_app, name="jscc")
