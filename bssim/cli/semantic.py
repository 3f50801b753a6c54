"""``bssim semantic compare``: the seed-002 comparison (:mod:`bssim.studies.semantic_compare`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from bssim.atomic import check_output_folder
from bssim.cli._common import fail, json_safe, parse_snr_list, set_compute_threads
from bssim.jscc import load_model
from bssim.studies.semantic_compare import CompareSettings, check_disjoint, compare_models, paired_summary, read_eval_frames, training_frames
from bssim.atomic import write_text
from bssim.semantic.plots import plot_comparison

semantic_app = typer.Typer(help="Task-aware (semantic) measurements: seed 002.", no_args_is_help=True)

LABELS = {"direct": "JSCC, MSE (shipped)", "direct_mse_ft": "JSCC, MSE fine-tune (control)",
          "direct_semantic": "JSCC, semantic-importance fine-tune (seed 002)"}  # fmt: skip


def _models(specs: list[str]) -> dict[str, Path | None]:
    out: dict[str, Path | None] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--model {spec!r}: expected NAME=CHECKPOINT (CHECKPOINT 'shipped' for the default)")
        if name in out:
            raise ValueError(f"--model {spec!r}: the name {name!r} is given twice")
        if path != "shipped" and not Path(path).is_file():
            raise FileNotFoundError(f"--model {spec!r}: no such checkpoint {path}")
        out[name] = None if path == "shipped" else Path(path)
    if len(out) < 2:
        raise ValueError("--model: give at least two models to compare")
    return out


@semantic_app.command("compare")
def compare_cmd(
    model: list[str] = typer.Option(..., "--model", help="NAME=CHECKPOINT (repeat; 'shipped' = the default)."),
    reference: str = typer.Option(..., "--reference", help="NAME of the model the others are paired against."),
    video: list[str] = typer.Option(..., "--video", help="PATH:START:STOP:STEP evaluation frames (repeat)."),
    snr: str = typer.Option("0,5,10,15,20", "--snr", help="Comma-separated channel SNRs (dB)."),
    n_active: int = typer.Option(8, "--n-active", help="Forced rate level (active channels) for every model."),
    channel: str = typer.Option("awgn", "--channel", help="awgn or rayleigh."),
    seed: int = typer.Option(0, "--seed", help="Channel-noise seed (the same draws for every model)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for rows.csv, summary.csv, table.md and the figure."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    force: bool = typer.Option(False, "--force", help="Write into an existing --out folder."),
) -> None:
    """Task metrics and PSNR of JSCC models at the same rate and SNR on evaluation frames."""

    set_compute_threads()
    try:
        if out is not None:
            check_output_folder(out, "--out", must_not_exist=not force)
        s = CompareSettings(snrs_db=tuple(parse_snr_list(snr)), n_active=n_active, channel=channel, seed=seed)
        paths = _models(model)
        if reference not in paths:
            raise ValueError(f"--reference {reference!r}: not one of the --model names {sorted(paths)}")
        frames = []
        for spec in video:
            frames += read_eval_frames(spec)
        models = {name: load_model(p) for name, p in paths.items()}
        for name, m in models.items():
            check_disjoint(frames, training_frames(paths[name]), name)
            if n_active not in m.rate_levels:
                raise ValueError(f"--n-active {n_active}: model {name!r} has rate levels {list(m.rate_levels)}")
    except (ValueError, FileNotFoundError) as exc:
        fail(exc)
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("transmit and analyse", total=len(frames) * len(models) * len(s.snrs_db))
        rows = compare_models(models, frames, s, progress=lambda done, total: bar.update(task, completed=done))
    summary = paired_summary(rows, reference)
    _write(rows, summary, s, paths, out)
    if as_json:
        typer.echo(json.dumps(json_safe(summary.to_dict(orient="records")), indent=1))
    else:
        cols = ["video", "model", "snr_db", "person_iou", "person_f1", "psnr_person_db", "psnr_db",
                "d_person_iou", "d_person_f1", "d_psnr_db"]  # fmt: skip
        typer.echo(summary[[c for c in cols if c in summary]].to_string(index=False, float_format=lambda v: f"{v:.3f}"))


def _write(rows, summary, s, paths: dict, out: Path | None) -> None:
    if out is None:
        return

    write_text(out / "rows.csv", rows.to_csv(index=False))
    write_text(out / "summary.csv", summary.to_csv(index=False))
    title = f"same rate ({s.n_active} of 16 channels, k/n = {s.n_active}/96), {s.channel.upper()}; " + \
        ", ".join(sorted({f"{v}: {n} frames" for v, n in rows.groupby('video').frame.nunique().items()}))
    plot_comparison(summary, LABELS, out / "semantic_compare.png", title)
    typer.echo(f"wrote {out}/ (rows.csv, summary.csv, semantic_compare.png/.pdf)", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(semantic_app, name="semantic")
