"""``bssim seeds ...``: the shared knowledge and the claim checks of seeds 001 and 003 (docs/seeds.md)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Optional

import typer

from bssim.cli._common import fail, json_safe, set_compute_threads
from bssim.paths import shared_data
from bssim.jscc.data import load_training_images, load_video_frames
from bssim.schemes.seb_codebook import fit_codebook, save_codebook
from bssim.studies.seed_claims import render_seb, seb_claim
from bssim.studies.seed_claims import generative_claim, render_generative
from bssim.codecs import codec_entry

seeds_app = typer.Typer(help="Seeds 001 (Seb) and 003 (generative): fit shared knowledge, check claims.",
                        no_args_is_help=True)

DEFAULT_VIDEOS = ("vtest.avi:0:400:40", "Megamind.avi:0:135:15")  # training parts only (evaluation: 400+, 135+)


def _granularities(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        p, sep, k = part.strip().partition("x")
        if not sep or not p.isdigit() or not k.isdigit() or not 2 <= int(p) <= 32 or int(k) < 2:
            raise ValueError(f"--granularity {text!r}: expected PxK pairs, e.g. 32x64,16x256 (2 <= P <= 32, K >= 2)")
        out.append((int(p), int(k)))
    return out


def _in_shared(spec: str) -> str:
    """``vtest.avi:0:400:40`` → the shared data folder's vtest.avi when no such file is here."""

    path, sep, rest = spec.partition(":")
    return f"{shared_data(path)}{sep}{rest}" if not Path(path).exists() and shared_data(path).is_file() else spec


@seeds_app.command("fit-seb")
def fit_seb_cmd(
    data: Path = typer.Option(..., "--data", help="Folder of training photographs (every 10th held out, as in training)."),
    video: list[str] = typer.Option(list(DEFAULT_VIDEOS), "--video",
                                    help="PATH:START:STOP:STEP training frames of a video (repeat; never evaluation "
                                         "frames); a bare file name is looked up in the shared data folder."),
    granularity: str = typer.Option("32x64,16x256", "--granularity", help="Comma-separated PATCHxSEBS pairs."),
    features: int = typer.Option(16, "--features", help="Learned (PCA) features per patch clustered by k-means."),
    seed: int = typer.Option(0, "--seed", help="k-means++ seed."),
    out: Path = typer.Option(..., "--out", help="Output folder: seb_p{P}_k{K}.pt per granularity."),
) -> None:
    """Fit the Seb codebooks of seed 001 (k-means over learned patch features) on training data."""
    from tqdm.auto import tqdm


    try:
        grains = _granularities(granularity)
        if not data.is_dir():
            raise FileNotFoundError(f"--data {data}: no such folder")
        images, _, _ = load_training_images(data)
        for spec in video:
            images += load_video_frames(_in_shared(spec))[0]
    except (ValueError, FileNotFoundError) as exc:
        fail(exc)
    vids = " ".join(f"--video {shlex.quote(v)}" for v in video)
    cmd = (f"bssim seeds fit-seb --data {shlex.quote(str(data))} {vids} --granularity {granularity} "
           f"--features {features} --seed {seed} --out {shlex.quote(str(out))}")
    for p, k in tqdm(grains, desc="granularities"):
        cb = fit_codebook(images, p, k, features, seed, fitted_on=f"{len(images)} training images and frames; {cmd}")
        path = out / f"seb_p{p}_k{k}.pt"
        save_codebook(cb, path)
        typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB): {p}x{p} patches, {k} Sebs, {features} features")


@seeds_app.command("seb-claim")
def seb_claim_cmd(
    codec: str = typer.Option("avif,jscc_digital", "--codecs", help="Comma-separated digital codecs."),
    kodak: int = typer.Option(8, "--kodak", help="Kodak images measured (the first N)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for rows, pairs and summary (Parquet + CSV)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Seed 001's claim: Seb + codec against the same codec alone at equal bits (Kodak, video evaluation frames)."""

    _claim(seb_claim, render_seb, codec, kodak, out, as_json)


@seeds_app.command("generative-claim")
def generative_claim_cmd(
    codec: str = typer.Option("avif", "--codecs", help="Comma-separated digital codecs."),
    kodak: int = typer.Option(4, "--kodak", help="Kodak images measured (the first N)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for rows, pairs and summary (Parquet + CSV)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Seed 003's claim: generative against direct and key at equal bits (PSNR, SSIM, PSNR in people, person F1)."""

    _claim(generative_claim, render_generative, codec, kodak, out, as_json)


def _claim(study, render, codec: str, kodak: int, out: Path | None, as_json: bool) -> None:
    """Check the options, run ``study(codecs, kodak, out)``, print its table (or JSON)."""
    set_compute_threads()
    names = _digital(codec)
    if kodak < 1:
        fail(ValueError(f"--kodak {kodak}: give at least 1"))
    res = study(names, kodak, out)
    typer.echo(json.dumps(json_safe(res), indent=1) if as_json else render(res))


def _digital(text: str) -> tuple[str, ...]:
    """``--codecs`` as registered digital codec names (an error line otherwise)."""

    try:
        names = tuple(c.strip() for c in text.split(",") if c.strip())
        if not names:
            raise ValueError(f"--codecs {text!r}: give at least one codec")
        for n in names:
            if codec_entry(n).kind != "digital":
                raise ValueError(f"--codecs {n}: the claims compare bits; give digital codecs")
    except ValueError as exc:
        fail(exc)
    return names


def register(app: typer.Typer) -> None:
    app.add_typer(seeds_app, name="seeds")
