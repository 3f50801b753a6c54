"""Measured content: run (or read from the cache) the pipeline on the scenario's media.

For each media entry of ``[content] source = "measured"``:

* a video (``.avi``, ``.mp4``, ...): the background library is built from the video itself
  (temporal median of ``library_frames`` frames, seed section III.B) and the frames
  ``frames = "START:STOP:STEP"`` are measured;
* a folder of images: every image is one content frame; the background library is the
  folder given by ``library`` (required for image folders).

Each (frame, SNR of ``snr_db``) is measured by :func:`bssim.pipeline.measure_frames`, which
caches every row on disk (keyed by the frame's pixels, library, settings and the JSCC
checkpoint hash), so only missing measurements are computed — with a progress bar — and a
second run or every sweep point reuses them. Paths: ``@shared/...`` is under the shared
folder (:func:`bssim.paths.shared_dir`), a relative path is relative to the scenario file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from bssim.paths import shared_dir
from bssim.scenario import MeasuredContent, Scenario
from bssim.sim.content import MeasuredSource

QUALITY_COLUMNS = {"ssim": ("q_direct", "q_key"), "psnr": ("psnr_direct_db", "psnr_key_db"),
                   "ms_ssim": ("msssim_direct", "msssim_key")}


def resolve_media(entry: str, scenario_path: Path | None) -> Path:
    """``@shared/x`` → <shared>/x; relative → next to the scenario file; checks it exists."""
    if entry.startswith("@shared/"):
        p = shared_dir() / entry[len("@shared/"):]
    else:
        p = Path(entry).expanduser()
        if not p.is_absolute() and scenario_path is not None:
            p = Path(scenario_path).resolve().parent / p
    if not p.exists():
        raise FileNotFoundError(f"content.media: {entry!r} -> {p} does not exist")
    return p


def parse_frames(spec: str, n_frames: int) -> range:
    """'START:STOP:STEP' (STOP clamped to the video length) → range, with a clear error."""
    try:
        parts = [int(v) for v in spec.split(":")]
        start, stop, step = (parts + [1])[:3] if len(parts) == 2 else parts
    except ValueError:
        raise ValueError(f"content.frames = {spec!r}: expected START:STOP:STEP integers, e.g. '0:795:50'") from None
    if start < 0 or step < 1 or stop <= start:
        raise ValueError(f"content.frames = {spec!r}: need 0 <= START < STOP and STEP >= 1")
    r = range(start, min(stop, n_frames), step)
    if len(r) == 0:
        raise ValueError(f"content.frames = {spec!r}: no frame below the video's {n_frames} frames")
    return r


def measure_content(mc: MeasuredContent, scenario_path: Path | None = None, progress: bool = False) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The measurement table (one row per media, frame, SNR; ``content`` = media name) and provenance."""
    from bssim.pipeline import PipelineSettings, library_from_folder, library_from_video, measure_frames, read_frames
    from bssim.pipeline.io import file_hash, is_video, list_images, read_image
    from bssim.pipeline.measure import get_model

    from bssim.pipeline import set_threads

    # One torch/onnxruntime thread (override: BSSIM_THREADS): on 2 shared cores, 2 threads made
    # the crops' JSCC ~40x slower (OpenMP spin-waiting; measured, see docs/pipeline.md).
    set_threads(int(os.environ.get("BSSIM_THREADS", "1")))
    settings = PipelineSettings(extractor=mc.extractor, channel=mc.channel)
    model = get_model()
    tables, media_info = [], []
    for entry in mc.media:
        path = resolve_media(entry, scenario_path)
        if path.is_file() and is_video(path):
            from bssim.pipeline import video_info

            n = video_info(path)["frames"]
            lib = library_from_video(path, max_frames=mc.library_frames)
            frames = read_frames(path, parse_frames(mc.frames, n))
            info = {"media": entry, "path": str(path), "sha256_16": file_hash(path), "kind": "video"}
        elif path.is_dir():
            if mc.library is None:
                raise ValueError(f"content.media {entry!r} is an image folder: set content.library to a folder of background images")
            lib = library_from_folder(resolve_media(mc.library, scenario_path))
            files = list_images(path)
            if not files:
                raise ValueError(f"content.media {entry!r}: no images in {path}")
            frames = {i: read_image(f) for i, f in enumerate(files)}
            info = {"media": entry, "path": str(path), "kind": "images", "files": [f.name for f in files]}
        else:
            raise ValueError(f"content.media {entry!r}: {path} is neither a video file nor a folder of images")
        df = measure_frames(frames, lib, mc.snr_db, settings, model, progress=progress)
        df = df.rename(columns={"content": "frame_content_id"})
        df.insert(0, "content", Path(entry).stem if not entry.endswith("/") else Path(entry.rstrip("/")).name)
        qd, qk = QUALITY_COLUMNS[mc.quality_metric]
        if mc.quality_metric != "ssim":
            df["alpha"] = df[qk] / df[qd]
        info.update(frames_measured=int(df["frame"].nunique()), rows=int(len(df)),
                    rows_from_cache=int(df.get("cached", pd.Series(dtype=bool)).sum()))
        media_info.append(info)
        tables.append(df)
    table = pd.concat(tables, ignore_index=True)
    provenance = {
        "checkpoint_hash": getattr(model, "model_version", None),
        "pipeline_settings": settings.as_dict(),
        "quality_metric": mc.quality_metric,
        "media": media_info,
    }
    return table, provenance


def measured_source(scenario: Scenario, scenario_path: Path | None = None, progress: bool = False) -> MeasuredSource:
    """A :class:`~bssim.sim.content.MeasuredSource` for the scenario (measuring what the cache lacks)."""
    mc = scenario.content
    if not isinstance(mc, MeasuredContent):
        raise ValueError("measured_source needs content.source = 'measured'")
    table, prov = measure_content(mc, scenario_path, progress=progress)
    src = MeasuredSource(table)
    src.provenance = {"measurement": prov, "checkpoint_hash": prov["checkpoint_hash"]}  # type: ignore[attr-defined]
    return src
