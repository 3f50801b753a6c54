"""``bssim jscc train|eval|export``: the adaptive-rate deep JSCC (:mod:`bssim.jscc`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from bssim.cli._common import fail as _fail
from bssim.cli._common import parse_float_list

jscc_app = typer.Typer(help="Adaptive-rate deep JSCC: train, evaluate, export.", no_args_is_help=True)


@jscc_app.command("train")
def train_cmd(
    data: Path = typer.Option(..., "--data", help="Folder of training images, or a cifar-10-batches-py folder."),
    epochs: int = typer.Option(8, "--epochs", help="Epochs (each --crops-per-epoch random crops)."),
    batch: int = typer.Option(128, "--batch"),
    out: Path = typer.Option(Path("jscc_train.pt"), "--out", help="Checkpoint written after every epoch (+ .csv log)."),
    resume: Optional[Path] = typer.Option(
        None, "--resume", help="Checkpoint to continue from (its architecture wins over --c-s/--c-out/--target-rate)."
    ),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    seed: int = typer.Option(0, "--seed"),
    crop: int = typer.Option(0, "--crop", help="Crop side in pixels (multiple of 4); 0: 64, or 32 for CIFAR-10."),
    crops_per_epoch: int = typer.Option(4096, "--crops-per-epoch"),
    c_s: int = typer.Option(256, "--c-s", help="Source-encoder width C_s (seed: 256)."),
    c_out: int = typer.Option(16, "--c-out", help="Feature channels C'_c (seed: 16)."),
    target_rate: float = typer.Option(0.5, "--target-rate", help="Average share of active channels (seed 8/16)."),
    rate_weight: float = typer.Option(0.05, "--rate-weight", help="λ of the rate hinge in the loss."),
    lr: float = typer.Option(5e-4, "--lr"),
    lr2: float = typer.Option(5e-5, "--lr2"),
    threads: int = typer.Option(0, "--threads", help="torch threads (0: default)."),
) -> None:
    """Train on random crops, SNR ~ U[0, 20] dB, seed 000's schedule scaled to --epochs."""
    from bssim.jscc.train import TrainSettings, train

    try:
        s = TrainSettings(
            data=str(data), out=str(out), epochs=epochs, batch=batch, crop=crop,
            crops_per_epoch=crops_per_epoch, lr=lr, lr2=lr2, rate_weight=rate_weight, seed=seed,
            device=device, threads=threads,
            model={"c_s": c_s, "c_out": c_out, "target_rate": target_rate},
        )  # fmt: skip

        def report(row: dict) -> None:
            vals = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())
            typer.echo(vals)

        train(s, resume=resume, on_epoch=report)
    except (ValueError, FileNotFoundError) as exc:
        _fail(exc)
    typer.echo(f"checkpoint: {out}  log: {out.with_suffix('.csv')}")


@jscc_app.command("export")
def export_cmd(
    src: Path = typer.Argument(..., help="Training checkpoint."),
    dst: Path = typer.Argument(..., help="Output (float16 weights, no optimizer state)."),
) -> None:
    """Export a training checkpoint for shipping (weights only, float16)."""
    from bssim.jscc.train import export_checkpoint

    try:
        p = export_checkpoint(src, dst)
    except (ValueError, FileNotFoundError) as exc:
        _fail(exc)
    typer.echo(f"wrote {p} ({p.stat().st_size / 1e6:.2f} MB)")


@jscc_app.command("eval")
def eval_cmd(
    images: Path = typer.Option(..., "--images", help="Folder of evaluation images (e.g. Kodak)."),
    snr: str = typer.Option(
        "0,5,10,15,20", "--snr", help="Comma-separated SNRs in dB (negative values: --snr=-5,0,5)."
    ),
    channel: str = typer.Option("awgn", "--channel", help="awgn or rayleigh."),
    csi: str = typer.Option("estimated", "--csi", help="Rayleigh equalisation: perfect or estimated (pilots)."),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="Default: the shipped checkpoint."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list (one object per SNR)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for table CSV/Parquet, per-image CSV and plot."),
    seed: int = typer.Option(0, "--seed"),
    bits_per_value: int = typer.Option(8, "--bits-per-value"),
    limit: int = typer.Option(0, "--limit", help="Use only the first N images (0: all)."),
    baseline: bool = typer.Option(True, "--baseline/--no-baseline", help="Compute the separation baseline."),
) -> None:
    """PSNR/SSIM/MS-SSIM, rate and k/n per SNR, against the separation baseline at the same k/n."""
    from bssim.jscc.evaluate import evaluate, format_table, write_outputs

    try:
        snrs = parse_float_list(snr, "--snr (dB)")
        summary, per_image = evaluate(
            images, snrs, channel=channel, csi=csi, checkpoint=checkpoint, seed=seed,
            bits_per_value=bits_per_value, limit=limit, baseline=baseline, progress=not as_json,
        )  # fmt: skip
        if out is not None:
            write_outputs(summary, per_image, out)
    except (ValueError, FileNotFoundError) as exc:
        _fail(exc)
    if as_json:
        typer.echo(format_table(summary), err=True)  # the human table on stderr, JSON on stdout
        clean = [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()} for row in summary]
        typer.echo(json.dumps(clean, indent=1))  # nan (e.g. no codec file fits) -> null
    else:
        typer.echo(format_table(summary))
        if out is not None:
            typer.echo(f"wrote {out}/")


def register(app: typer.Typer) -> None:
    app.add_typer(jscc_app, name="jscc")
