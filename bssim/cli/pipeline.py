"""``bssim pipeline measure``, ``bssim pipeline experiments``, ``bssim library build|show``.

A thin layer over :mod:`bssim.pipeline`; bad input prints ``error: ...`` and exits with 2.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import typer

from bssim.cli._common import fail as _fail
from bssim.cli._common import parse_float_list

pipeline_app = typer.Typer(help="Key-information pipeline: measure D_n, C_n, alpha_n (seed 000 sections II-III).",
                           no_args_is_help=True)
library_app = typer.Typer(help="Background libraries (images + ORB descriptors).", no_args_is_help=True)


def parse_frames(text: str | None, n_total: int) -> range:
    """'START:STOP:STEP' (any part may be empty) -> range, STOP clipped to the frame count."""
    if text is None:
        return range(0, n_total)
    parts = text.split(":")
    if len(parts) > 3:
        raise ValueError(f"--frames: expected START:STOP:STEP, got {text!r}")
    try:
        nums = [int(p) if p.strip() else None for p in parts] + [None] * (3 - len(parts))
    except ValueError:
        raise ValueError(f"--frames: expected integers START:STOP:STEP, got {text!r}") from None
    if len(parts) == 1:
        nums = [nums[0], nums[0] + 1 if nums[0] is not None else None, 1]
    start, stop, step = nums[0] or 0, n_total if nums[1] is None else min(nums[1], n_total), nums[2] or 1
    if start < 0 or step < 1:
        raise ValueError(f"--frames: START must be >= 0 and STEP >= 1, got {text!r}")
    r = range(start, stop, step)
    if len(r) == 0:
        raise ValueError(f"--frames {text!r} selects no frame (input has {n_total} frames)")
    return r


def load_input(path: Path, frames_text: str | None):
    """{index: RGB frame} from a video, an image folder (sorted by name) or one image file."""
    from bssim.pipeline.io import is_video, list_images, read_frames, read_image, video_info

    if not path.exists():
        raise FileNotFoundError(f"input not found: {path}")
    if path.is_dir():
        files = list_images(path)
        if not files:
            raise ValueError(f"no image files in {path}")
        r = parse_frames(frames_text, len(files))
        return {i: read_image(files[i]) for i in r}, [files[i].name for i in r]
    if is_video(path):
        info = video_info(path)
        r = parse_frames(frames_text, info["frames"])
        fr = read_frames(path, r)
        return fr, [f"{path.name}#{i}" for i in fr]
    return {0: read_image(path)}, [path.name]


def resolve_library(spec: str, input_path: Path, frames: dict, orb_features: int):
    """A library directory, or ``auto``: built from the input video (cached on disk)."""
    from bssim.pipeline import BackgroundLibrary, library_from_video
    from bssim.pipeline.io import file_hash, is_video
    from bssim.pipeline.library import require_nonempty
    from bssim.pipeline.measure import cache_dir

    if spec != "auto":
        return require_nonempty(BackgroundLibrary.load(Path(spec)), str(spec))
    if input_path.is_file() and is_video(input_path):
        cdir = cache_dir() / "libraries" / f"{input_path.stem}_{file_hash(input_path)}_orb{orb_features}"
        if (cdir / "index.json").is_file():
            return BackgroundLibrary.load(cdir)
        lib = library_from_video(input_path, orb_features=orb_features)
        lib.save(cdir)
        return lib
    from bssim.pipeline import temporal_background

    shapes = {f.shape for f in frames.values()}
    if len(shapes) != 1 or len(frames) < 3:
        raise ValueError("--library auto needs a video, or a folder of >= 3 images of one size "
                         f"(got {len(frames)} images of sizes {sorted(shapes)})")
    lib = BackgroundLibrary(orb_features=orb_features)
    lib.add(f"{input_path.stem}_bg", temporal_background(frames).image, source=f"temporal median of {input_path}")
    return lib


def side_by_side(original, direct, key, label: str):
    """original | direct JSCC | key path, with captions, as one RGB image."""
    import cv2
    import numpy as np

    pad = 24
    h, w = original.shape[:2]
    canvas = np.full((h + pad, 3 * w + 8, 3), 255, np.uint8)
    for i, (img, cap) in enumerate(((original, "original"), (direct, "direct JSCC"), (key, "key information"))):
        x = i * (w + 4)
        canvas[pad:, x:x + w] = img
        cv2.putText(canvas, f"{cap} {label if i else ''}", (x + 4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return canvas


def register(app: typer.Typer) -> None:
    app.add_typer(pipeline_app, name="pipeline")
    app.add_typer(library_app, name="library")


@pipeline_app.command("measure")
def measure_cmd(
    input: Path = typer.Argument(..., help="Video file, folder of images, or one image."),
    library: str = typer.Option("auto", "--library", help="Library folder, or 'auto' (built from the video)."),
    snr: str = typer.Option("0,5,10,15,20", "--snr", help="Comma-separated SNRs in dB."),
    frames: str = typer.Option(None, "--frames", help="START:STOP:STEP (video frames or sorted image indices)."),
    extractor: str = typer.Option("bgdiff", "--extractor", help="rembg | bgdiff | hybrid."),
    alpha_mode: str = typer.Option("receiver_diff", "--alpha-mode", help="receiver_diff | sent | receiver_rembg | box."),
    channel: str = typer.Option("awgn", "--channel", help="awgn | rayleigh."),
    max_pixels: int = typer.Option(768 * 576, "--max-pixels", help="Resolution-detection threshold (pixels)."),
    checkpoint: Path = typer.Option(None, "--checkpoint", help="JSCC checkpoint (default: shipped one)."),
    out: Path = typer.Option(None, "--out", help="Output folder (default results/pipeline/<input name>)."),
    png_frames: int = typer.Option(3, "--png-frames", help="Side-by-side PNGs for this many frames."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as a JSON list on stdout."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Recompute, do not read or write the cache."),
    no_msssim: bool = typer.Option(False, "--no-msssim", help="Skip MS-SSIM (seconds per frame on a CPU)."),
    threads: int = typer.Option(1, "--threads", help="CPU threads for torch and rembg (0: the libraries' defaults, "
                                "better on an idle many-core machine; 1 was 10-40x faster on the shared 2-core CPU)."),
) -> None:
    """Measure D_bits, C_bits, q_direct, q_key, alpha per frame and SNR; write Parquet + CSV + PNGs."""
    try:
        from bssim.pipeline import PipelineSettings, measure_frames
        from bssim.pipeline.io import write_image
        from bssim.pipeline.measure import get_model

        from bssim.pipeline.extract import set_threads

        set_threads(threads)
        settings = PipelineSettings(extractor=extractor, alpha_mode=alpha_mode, channel=channel, max_pixels=max_pixels)
        snrs = parse_float_list(snr, "--snr (dB)")
        fr, _names = load_input(input, frames)
        lib = resolve_library(library, input, fr, settings.orb_features)
        model = get_model(checkpoint=checkpoint)
        keep = sorted(fr)[:: max(1, math.ceil(len(fr) / max(1, png_frames)))][:png_frames] if png_frames > 0 else []
        images: dict = {}
        df = measure_frames(fr, lib, snrs, settings, model, use_cache=not no_cache, progress=True,
                            keep_images=keep, images_out=images, with_msssim=not no_msssim)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        _fail(exc)
    out = out or Path("results") / "pipeline" / input.stem
    out.mkdir(parents=True, exist_ok=True)
    from bssim.pipeline.measure import write_table

    write_table(df, out / "measurements")
    for (i, s), (o, d, k) in images.items():
        write_image(out / f"frame{i:05d}_snr{s:g}dB.png", side_by_side(o, d, k, f"{s:g} dB"))
    summary = df.groupby("snr_db").agg(
        frames=("frame", "count"), matched=("matched", "mean"), D_bits=("D_bits", "mean"), C_bits=("C_bits", "mean"),
        q_direct=("q_direct", "mean"), q_key=("q_key", "mean"), alpha=("alpha", "mean"),
        psnr_direct_db=("psnr_direct_db", "mean"), psnr_key_db=("psnr_key_db", "mean"),
        t_key_total_s=("t_key_total_s", "mean"),
    ).reset_index()
    _print_table(summary, f"{input.name}: mean over frames (model {df['model_version'].iloc[0]}) -> {out}")
    if as_json:
        cols = [c for c in df.columns if c != "cached"]
        sys.stdout.write(json.dumps(json.loads(df[cols].to_json(orient="records")), indent=1) + "\n")


def _print_table(df, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    for c in df.columns:
        t.add_column(str(c), justify="right")
    for _, r in df.iterrows():
        t.add_row(*[f"{v:.4g}" if isinstance(v, float) else str(v) for v in r.tolist()])
    Console(stderr=True, width=220).print(t)


@pipeline_app.command("experiments")
def experiments_cmd(
    out: Path = typer.Option(Path("docs/figures"), "--out", help="Folder for figures and the numbers (JSON/CSV)."),
    snr: str = typer.Option("0,5,10,15,20", "--snr", help="Comma-separated SNRs in dB."),
    n_video_frames: int = typer.Option(6, "--video-frames", help="vtest frames for the video experiment."),
    checkpoint: Path = typer.Option(None, "--checkpoint", help="JSCC checkpoint (default: shipped one)."),
    threads: int = typer.Option(1, "--threads", help="CPU threads for torch and rembg (0: their defaults)."),
    docs: Path = typer.Option(None, "--docs", help="Also paste the numbers into this Markdown file between "
                              "<!-- results:begin --> and <!-- results:end -->."),
) -> None:
    """Reproduce the seed's section V experiments (figures + numbers for docs/pipeline.md)."""
    try:
        from bssim.pipeline.experiments import run_all
        from bssim.pipeline.extract import set_threads

        set_threads(threads)

        res = run_all(out, parse_float_list(snr, "--snr (dB)"), n_video_frames=n_video_frames, checkpoint=checkpoint)
        if docs is not None:
            from bssim.pipeline.experiments import update_docs

            update_docs(docs, json.loads(json.dumps(res, default=float)))
    except (ValueError, FileNotFoundError) as exc:
        _fail(exc)
    typer.echo(json.dumps(res, indent=1, default=float))


@library_app.command("build")
def library_build(
    source: Path = typer.Argument(..., help="Folder of background images, or a video (temporal median)."),
    out: Path = typer.Option(..., "--out", help="Library folder to write."),
    orb_features: int = typer.Option(1000, "--orb-features", help="ORB key points per background."),
    max_frames: int = typer.Option(60, "--max-frames", help="Video: frames sampled for the median."),
    fill: str = typer.Option("inpaint", "--fill", help="Video: hole filling, inpaint | median | none."),
    segment_threshold: float = typer.Option(None, "--segment-threshold",
                                            help="Video: split by ORB similarity below this (0..1), one background per segment."),
) -> None:
    """Build a background library from images or a video."""
    try:
        from bssim.pipeline import library_from_folder, library_from_video
        from bssim.pipeline.io import is_video

        if source.is_dir():
            lib = library_from_folder(source, orb_features)
        elif source.is_file() and is_video(source):
            lib = library_from_video(source, max_frames, orb_features, fill, segment_threshold=segment_threshold)
        elif not source.exists():
            raise FileNotFoundError(f"source not found: {source}")
        else:
            raise ValueError(f"source must be a folder of images or a video file, got {source}")
        lib.save(out)
    except (ValueError, FileNotFoundError) as exc:
        _fail(exc)
    typer.echo(f"wrote {len(lib)} backgrounds to {out}")


@library_app.command("show")
def library_show(directory: Path = typer.Argument(..., help="Library folder.")) -> None:
    """List a library's backgrounds."""
    try:
        from bssim.pipeline import BackgroundLibrary

        lib = BackgroundLibrary.load(directory)
    except (ValueError, FileNotFoundError) as exc:
        _fail(exc)
    import pandas as pd

    df = pd.DataFrame(lib.summary())
    if df.empty:
        typer.echo(f"{directory}: empty library (orb_features={lib.orb_features})")
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"{directory}: {len(lib)} backgrounds, {lib.orb_features} ORB features each")
    for c in df.columns:
        t.add_column(c)
    for _, r in df.iterrows():
        t.add_row(*[str(v) for v in r.tolist()])
    Console().print(t)
