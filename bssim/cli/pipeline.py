"""``bssim pipeline measure``, ``bssim pipeline experiments``, ``bssim library build|show``.

A thin layer over :mod:`bssim.pipeline`; bad input prints ``error: ...`` and exits with 2.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from fractions import Fraction
from pathlib import Path

import pandas as pd
import typer
from tqdm.auto import tqdm

from bssim.atomic import check_output_folder
from bssim.baselines.practical import practical_sequence
from bssim.cli._common import fail as _fail
from bssim.cli._common import json_safe, parse_float_list, set_compute_threads
from bssim.codecs import CodecConfig, make_codec
from bssim.content.media import load_media
from bssim.files import write_image
from bssim.metrics import QUALITY_METRICS
from bssim.options.catalog import DEFAULT_CODECS, measure_media
from bssim.options.links import make_link
from bssim.options.measure import MeasureSpec, check_codec, measure_codec, prepare_frame
from bssim.pipeline.transmitter import PipelineSettings
from bssim.plot import side_by_side
from bssim.results import write_table
from bssim.scenario import Media
from bssim.studies import codec_claims
from bssim.studies.docs import replace_section
from bssim.studies.seed_experiments import run_all, update_docs
from bssim.pipeline import library_from_folder, library_from_video
from bssim.files import is_video
from bssim.pipeline import BackgroundLibrary

pipeline_app = typer.Typer(help="Key-information pipeline: measure every option of real frames (seed 000 sections II-III).",
                           no_args_is_help=True)
library_app = typer.Typer(help="Background libraries (images + ORB descriptors).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(pipeline_app, name="pipeline")
    app.add_typer(library_app, name="library")


@pipeline_app.command("measure")
def measure_cmd(
    input: Path = typer.Argument(..., help="Video file, folder of images, or one image."),
    library: str = typer.Option("auto", "--library", help="'auto' (videos: built from the video), 'none' (direct only), or a library / image folder."),
    frames: str = typer.Option("0::50", "--frames", help="START:STOP:STEP of the video frames (or sorted image indices)."),
    link: str = typer.Option("shannon", "--link", help="shannon (real bitstreams) | analog (symbols through the channel at each --snr)."),
    codecs: str = typer.Option(None, "--codecs", help="Comma-separated codecs of the link's kind (default: avif for "
                               "shannon/nr, jscc for analog): avif, webp, jpeg2000, jscc_digital | jscc, linear."),
    schemes: str = typer.Option("direct,key", "--schemes", help="Comma-separated schemes: direct, key, seb, generative."),
    snr: str = typer.Option("0,5,10,15,20", "--snr", help="analog: comma-separated SNRs in dB."),
    scales: str = typer.Option("1,0.75,0.5", "--scales", help="Resolution levels (seed II.D), each in (0, 1]."),
    qualities: str = typer.Option("10,30,50", "--qualities", help="Standard codecs: encoder qualities 1..100."),
    k_over_n: str = typer.Option("1/24,1/12,1/6", "--k-over-n", help="linear codec: bandwidth ratios k/n (fractions or decimals)."),
    bits_per_value: int = typer.Option(6, "--bits-per-value", help="jscc_digital: quantisation of the latents."),
    extractor: str = typer.Option("bgdiff", "--extractor", help="bgdiff | rembg | hybrid | pose | pose+bgdiff."),
    alpha_mode: str = typer.Option("receiver_diff", "--alpha-mode", help="receiver_diff | sent | receiver_rembg | box."),
    channel: str = typer.Option("awgn", "--channel", help="analog: awgn | rayleigh."),
    metrics: str = typer.Option("ssim,psnr", "--metrics", help="Comma-separated quality metrics: ssim, psnr, ms_ssim, "
                                "person_iou, person_f1 (task metrics: seconds per option, docs/semantic.md)."),
    checkpoint: Path = typer.Option(None, "--checkpoint", help="JSCC checkpoint (default: shipped one)."),
    out: Path = typer.Option(None, "--out", help="Output folder (default results/pipeline/<input name>)."),
    png_frames: int = typer.Option(2, "--png-frames", help="Side-by-side PNGs (top rate level) for this many frames."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as a JSON list on stdout."),
    practical: bool = typer.Option(False, "--practical", help="analog: add rows of the practical separation "
                                   "baseline (codec + 5G LDPC + QAM via Sionna) at the jscc direct top level's symbols."),
    force: bool = typer.Option(False, "--force", help="Write into an existing --out folder."),
) -> None:
    """Measure every option (scheme x codec x rate level [x SNR]) of every frame; write Parquet + CSV + PNGs."""
    try:
        if practical and link != "analog":
            raise ValueError(f"--practical needs --link analog (an SNR per row); got --link {link}")
        set_compute_threads()
        out = out or Path("results") / "pipeline" / input.stem
        check_output_folder(out, "--out", must_not_exist=not force)
        setup = _measure_setup(input, library, frames, link, snr, scales, extractor, alpha_mode, channel,
                               parse_metrics(metrics), schemes)
        cfg = CodecConfig(qualities=tuple(int(q) for q in parse_float_list(qualities, "--qualities")),
                          k_over_n=parse_ratios(k_over_n, "--k-over-n"), bits_per_value=bits_per_value,
                          checkpoint=None if checkpoint is None else str(checkpoint))
        media, spec = setup
        names = [c.strip() for c in codecs.split(",") if c.strip()] if codecs else list(DEFAULT_CODECS[spec.mode])
        built = [_codec(n, cfg, spec.mode) for n in names]
        with tqdm(total=len(built) * len(media.frames), desc="measuring options", unit="item") as bar:
            df = pd.DataFrame(measure_media(media, built, spec, bar))
        if practical:
            df = pd.concat([df, _practical_rows(df, media, spec)], ignore_index=True)
        _write_measure_outputs(df, media, built, spec, out, png_frames)
    except (ValueError, FileNotFoundError, KeyError, RuntimeError) as exc:
        _fail(exc)
    cols = ["scheme", "codec", "rate_label"] + (["snr_db"] if link == "analog" else [])
    cost = "bits" if link != "analog" else "symbols"
    summary = df.groupby(cols, dropna=False).agg(level=("rate_level", "min"), items=("item", "count"),
                                                  matched=("matched", "mean"), **{cost: (cost, "mean")},
                                                  **{m: (m, "mean") for m in spec.metrics}).reset_index()
    summary = summary.sort_values(["scheme", "codec", "level"] + (["snr_db"] if link == "analog" else []))
    versions = ", ".join(f"{c.name} {c.version()}" for c in built)
    _print_table(summary, f"{input.name}: mean over items ({versions}) -> {out}")
    if as_json:
        sys.stdout.write(json.dumps(json_safe(df.to_dict("records")), indent=1) + "\n")


def parse_ratios(text: str, option: str) -> tuple[float, ...]:
    """'1/24,1/12,0.25' -> (0.041666…, 0.083333…, 0.25); errors name the option and the value."""
    try:
        values = tuple(float(Fraction(t.strip())) for t in text.split(",") if t.strip())
    except (ValueError, ZeroDivisionError):
        values = ()
    if not values:
        raise ValueError(f"{option} {text!r}: give comma-separated ratios such as 1/24,1/12,1/6")
    return values


def _codec(name: str, cfg: CodecConfig, mode: str):
    """A codec of the registry, checked against the link: errors name ``--codecs``."""
    try:
        codec = make_codec(name, cfg)
        check_codec(codec, mode)
    except ValueError as err:
        raise ValueError(f"--codecs: {err}") from None
    return codec


def _practical_rows(df, media, spec):
    """Rows of scheme ``practical_separation``: per SNR, the frames in order through
    :func:`bssim.baselines.practical.practical_sequence` at the symbols of the direct top level
    of the first codec measured."""
    direct = df[df["scheme"] == "direct"]
    direct = direct[direct["codec"] == direct["codec"].iloc[0]]
    top = direct.sort_values("rate_level")["rate_label"].iloc[-1]
    n_symbols = direct[direct["rate_label"] == top].groupby("frame")["symbols"].first().astype(int).to_dict()
    rows = []
    for snr in spec.snr_db:
        for r in practical_sequence(media.frames, n_symbols, snr, video=media.kind == "video"):
            r.update(scheme="practical_separation", codec="practical", rate_label=top, item=f"{media.name}#{r['frame']}",
                     content=media.name, symbols=r["n_symbols"], psnr_db=r["practical_baseline_psnr_db"],
                     ssim=r["practical_baseline_ssim"])
            rows.append(r)
    return pd.DataFrame(rows)


def parse_metrics(text: str) -> tuple[str, ...]:
    """'ssim,psnr,person_f1' -> ('ssim', 'psnr_db', 'person_f1'); 'psnr' is PSNR in dB."""
    names = [{"psnr": "psnr_db"}.get(t.strip(), t.strip()) for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in QUALITY_METRICS]
    if bad or not names or len(set(names)) != len(names):
        raise ValueError(f"--metrics {text!r}: give distinct names from ssim, psnr, ms_ssim, person_iou, person_f1"
                         + (f" (unknown: {', '.join(bad)})" if bad else ""))
    return tuple(names)


def _measure_setup(input, library, frames, link, snr, scales, extractor, alpha_mode, channel,
                   metrics=("ssim", "psnr_db"), schemes="direct,key"):
    """(the media, the measurement spec) of ``pipeline measure``'s options."""
    if library not in ("auto", "none") and not Path(library).is_dir():
        raise FileNotFoundError(f"--library {library}: not a folder (give 'auto', 'none' or a library folder)")
    mode = make_link(link).mode
    entry = Media(path=str(input), frames=frames, library=None if library in ("auto", "none") else library)
    media = load_media(entry, None, "input")
    if library == "none":
        media.library = None
    spec = MeasureSpec(scales=tuple(parse_float_list(scales, "--scales")), mode=mode,
                       schemes=tuple(s.strip() for s in schemes.split(",") if s.strip()),
                       pipeline=PipelineSettings(extractor=extractor, alpha_mode=alpha_mode), channel=channel,
                       metrics=metrics, snr_db=tuple(parse_float_list(snr, "--snr (dB)")) if mode == "analog" else ())
    return media, spec


def _write_measure_outputs(df, media, codecs, spec, out: Path, png_frames: int) -> None:
    """The rows as Parquet + CSV, and original | direct | key PNGs at the first codec's top rate level."""
    write_table(df, out / "measurements")
    images_spec = dataclasses.replace(spec, metrics=("ssim",))  # the PNGs need the images, not slow task metrics
    codec = codecs[0]
    for frame_id in list(media.frames)[: max(0, png_frames)]:
        frame = prepare_frame(media.frames[frame_id], media.library, spec.pipeline)
        res = measure_codec(frame, codec, images_spec, keep_images=True)
        top = max(res.rows, key=lambda r: (r["scheme"] == "direct", r["rate_level"]))["rate_label"]
        for snr in spec.snr_db or (None,):
            direct = res.images.get(("direct", codec.name, top, snr))
            key = res.images.get(("key", codec.name, top, snr))
            label = f"{codec.name} {top}" + ("" if snr is None else f" {snr:g} dB")
            name = f"frame{frame_id:05d}" + ("" if snr is None else f"_snr{snr:g}dB")
            write_image(out / f"{name}.png", side_by_side(media.frames[frame_id], direct, key, label))


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
    docs: Path = typer.Option(None, "--docs", help="Also paste the numbers into this Markdown file between "
                              "<!-- results:begin --> and <!-- results:end -->."),
    force: bool = typer.Option(False, "--force", help="Write into an existing --out folder (e.g. docs/figures)."),
) -> None:
    """Reproduce the seed's section V experiments (figures + numbers for docs/pipeline.md)."""
    try:
        set_compute_threads()
        check_output_folder(out, "--out", must_not_exist=not force)

        res = run_all(out, parse_float_list(snr, "--snr (dB)"), n_video_frames=n_video_frames, checkpoint=checkpoint)
        if docs is not None:
            update_docs(docs, json.loads(json.dumps(res, default=float)))
    except (ValueError, FileNotFoundError) as exc:
        _fail(exc)
    typer.echo(json.dumps(json_safe(res), indent=1))


@pipeline_app.command("codecs")
def codecs_cmd(
    out: Path = typer.Option(Path("docs/figures/codecs"), "--out", help="Folder for the rows and tables (Parquet + CSV)."),
    codecs: str = typer.Option(",".join(codec_claims.CODECS), "--codecs", help="Comma-separated digital codecs."),
    docs: Path = typer.Option(None, "--docs", help="Also paste the tables into this Markdown file between "
                              "<!-- codecs:begin --> and <!-- codecs:end -->."),
    force: bool = typer.Option(False, "--force", help="Write into an existing --out folder (e.g. docs/figures/codecs)."),
) -> None:
    """Key information against direct per codec, at equal bits and equal quality (vtest, Megamind, Kodak)."""
    try:
        set_compute_threads()
        check_output_folder(out, "--out", must_not_exist=not force)
        names = tuple(c.strip() for c in codecs.split(",") if c.strip())
        for name in names:
            _codec(name, CodecConfig(), "digital")
        res = codec_claims.run(out, names)
        text = codec_claims.render_markdown(res)
        if docs is not None:
            replace_section(docs, "codecs", text)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        _fail(exc)
    typer.echo(text)


@library_app.command("build")
def library_build(
    source: Path = typer.Argument(..., help="Folder of background images, or a video (temporal median)."),
    out: Path = typer.Option(..., "--out", help="Library folder to write."),
    orb_features: int = typer.Option(1000, "--orb-features", help="ORB key points per background."),
    max_frames: int = typer.Option(60, "--max-frames", help="Video: frames sampled for the median."),
    fill: str = typer.Option("inpaint", "--fill", help="Video: hole filling, inpaint | median | none."),
    segment_threshold: float = typer.Option(None, "--segment-threshold",
                                            help="Video: split by ORB similarity below this (0..1), one background per segment."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --out library."),
) -> None:
    """Build a background library from images or a video."""
    try:
        check_output_folder(out, "--out", must_not_exist=not force)

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
