"""Media a scenario's users watch: videos and image folders, resolved, probed and loaded.

* A video: the frames ``frames = "START:STOP:STEP"`` (STOP clamped to the container's frame
  count) and a background library built from the video itself
  (temporal median of ``library_frames`` frames, seed III.B; or one background per
  ORB-similarity segment, seed III.C, with ``segment_threshold``).
* An image folder (or one image file): its first ``files`` images by name; the library is
  the folder ``library`` (none: no key option, the photographs go direct only).

Videos are probed: the frames that decode in sequence are counted (a container's frame
count can be wrong, e.g. ``tree.avi`` reports 444 and decodes 68), and asking for frames
beyond them is an error that says how many decode. Probes and libraries are cached on
disk (:mod:`bssim.content.cache`), keyed by the file's hash and the settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bssim.content.cache import cached_json, cached_library
from bssim.paths import shared_dir
from bssim.scenario import Media
from bssim.files import video_info
from bssim.files import file_hash, iter_video, video_info
from bssim.files import file_hash
from bssim.pipeline.video import library_from_video
from bssim.files import file_hash, iter_video
from bssim.files import list_images, read_image
from bssim.pipeline.library import load_library
from bssim.files import IMAGE_SUFFIXES, is_video
from bssim.pipeline.extract import require_mediapipe
from bssim.pipeline.extract import rembg_model_path


@dataclass
class MediaItems:
    """The loaded content of one media entry: frames (name → RGB) and its background library."""

    name: str
    entry: Media
    path: Path
    kind: str  # "video" | "images"
    frames: dict[int, np.ndarray]
    library: object | None  # BackgroundLibrary, or None (no key option)
    info: dict = field(default_factory=dict)


def resolve_path(entry: str, scenario_path: Path | None, field_name: str = "content.media") -> Path:
    """``@shared/x`` → <shared>/x; relative → next to the scenario file; must exist."""
    if entry.startswith("@shared/"):
        p = shared_dir() / entry[len("@shared/"):]
    else:
        p = Path(entry).expanduser()
        if not p.is_absolute() and scenario_path is not None:
            p = Path(scenario_path).resolve().parent / p
    if not p.exists():
        raise FileNotFoundError(f"{field_name}: {entry!r} -> {p} does not exist")
    return p


def parse_frames(spec: str, n_frames: int, where: str) -> range:
    """'START:STOP:STEP' → range; any part may be empty (START 0, STOP the end, STEP 1), a single
    integer is that frame; STOP is clamped to ``n_frames``. Errors name ``where`` and the rule."""
    parts = str(spec).split(":")
    try:
        nums = [int(p) if p.strip() else None for p in parts]
    except ValueError:
        nums = None
    if nums is None or len(parts) > 3:
        raise ValueError(f"{where} = {spec!r}: expected START:STOP:STEP integers, e.g. '0:795:50' or '100'")
    if len(nums) == 1:
        if nums[0] is None:
            raise ValueError(f"{where} = {spec!r}: expected START:STOP:STEP integers, e.g. '0:795:50' or '100'")
        nums = [nums[0], nums[0] + 1, 1]
    start, stop, step = (nums + [None, None])[:3]
    start, stop, step = start or 0, n_frames if stop is None else stop, 1 if step is None else step
    if start < 0 or step < 1 or stop <= start:
        raise ValueError(f"{where} = {spec!r}: need 0 <= START < STOP and STEP >= 1")
    r = range(start, min(stop, n_frames), step)
    if len(r) == 0:
        raise ValueError(f"{where} = {spec!r}: no frame below the video's {n_frames} frames")
    return r


def video_frame_range(spec: str, option: str = "--video") -> tuple[Path, range]:
    """``PATH:START:STOP:STEP`` → (path, frame indices below the video's frame count); errors
    name ``option``, the value and the rule."""

    path, sep, frames = str(spec).partition(":")
    if not sep or not frames:
        raise ValueError(f"{option} {spec!r}: expected PATH:START:STOP:STEP, e.g. vtest.avi:0:400:10")
    if not Path(path).is_file():
        raise FileNotFoundError(f"{option} {spec!r}: no such file {path}")
    return Path(path), parse_frames(frames, int(video_info(path)["frames"]), f"{option} {path}")


def probe_video(path: Path) -> dict:
    """Frames that decode in sequence, the container's count, size and fps (cached by file hash)."""

    def compute() -> dict:
        info = video_info(path)
        n = sum(1 for _ in iter_video(path))
        return {**info, "container_frames": info["frames"], "decodable_frames": n}

    return cached_json("probe", {"file": file_hash(path)}, compute, valid=_probe_valid)


def _probe_valid(value) -> bool:
    """A cached probe has the frame counts as integers >= 0 (else it is recomputed)."""
    return isinstance(value, dict) and all(
        isinstance(value.get(k), int) and value[k] >= 0 for k in ("frames", "container_frames", "decodable_frames"))


def _video_library(path: Path, entry: Media, n_frames: int, orb_features: int):

    def build():
        return library_from_video(path, entry.library_frames, orb_features, segment_threshold=entry.segment_threshold,
                                  n_frames=n_frames)

    key = {"file": file_hash(path), "frames": n_frames, "library_frames": entry.library_frames,
           "segment_threshold": entry.segment_threshold, "orb_features": orb_features}
    return cached_library(key, build)


def _load_video(path: Path, entry: Media, where: str, orb_features: int, scenario_path: Path | None) -> MediaItems:

    probe = probe_video(path)
    n = int(probe["decodable_frames"])
    if n == 0:
        raise ValueError(f"{where}: {path} has no decodable frames")
    wanted = parse_frames(entry.frames, max(n, int(probe["container_frames"])), f"{where}.frames")
    if wanted[-1] >= n:
        raise ValueError(f"{where}.frames = {entry.frames!r} asks for frame {wanted[-1]}, but only the first {n} frames "
                         f"of {path} decode (the container reports {probe['container_frames']}); use STOP <= {n}")
    frames = dict(iter_video(path, wanted))
    if len(frames) < len(wanted):  # cannot happen after the probe unless the file changed
        raise ValueError(f"{where}.frames = {entry.frames!r}: {path} decodes only {len(frames)} of the requested frames")
    info = {"kind": "video", "sha256_16": file_hash(path), "decodable_frames": n,
            "container_frames": int(probe["container_frames"]), "frames_measured": len(frames)}
    if entry.library is not None:  # a given library (e.g. with distractors) instead of one from the video

        lib = load_library(resolve_path(entry.library, scenario_path, f"{where}.library"))
    else:
        lib = _video_library(path, entry, n, orb_features)
    return MediaItems(path.stem, entry, path, "video", frames, lib, info)


def _load_images(path: Path, entry: Media, where: str, scenario_path: Path | None) -> MediaItems:

    files = list_images(path) if path.is_dir() else [path]
    if not files:
        raise ValueError(f"{where}: no images in {path}")
    files = files[: entry.files] if entry.files else files
    frames = {i: read_image(f) for i, f in enumerate(files)}
    lib = load_library(resolve_path(entry.library, scenario_path, f"{where}.library")) if entry.library else None
    info = {"kind": "images", "files": [f.name for f in files], "library": entry.library}
    return MediaItems(path.stem if path.is_file() else path.name, entry, path, "images", frames, lib, info)


def check_media(entries: list[Media], scenario_path: Path | None, extractor: str) -> None:
    """Cheap checks of every media entry before any long work: paths exist, ``frames`` parses,
    the extractor's model file is present. Errors name the field and the value."""
    for i, entry in enumerate(entries):
        where = f"content.media[{i}]"
        path = resolve_path(entry.path, scenario_path, where)
        parse_frames(entry.frames, 10**9, f"{where}.frames")
        if entry.library is not None:
            resolve_path(entry.library, scenario_path, f"{where}.library")
        if path.is_dir() and entry.segment_threshold is not None:
            raise ValueError(f"{where}.segment_threshold: only videos are split into segments; {path} is a folder")
    if extractor.startswith("pose"):

        require_mediapipe()
    if extractor in ("rembg", "hybrid"):

        model = rembg_model_path("u2netp")
        if not model.is_file():
            raise FileNotFoundError(f"content.extractor = {extractor!r} needs rembg's model u2netp.onnx, not found at "
                                    f"{model}; put it there or set U2NET_HOME (or BSSIM_SHARED to the shared folder)")


def load_media(entry: Media, scenario_path: Path | None, where: str, orb_features: int = 1000) -> MediaItems:
    """Resolve, probe and load one media entry (module docstring)."""

    path = resolve_path(entry.path, scenario_path, where)
    if path.is_file() and is_video(path):
        return _load_video(path, entry, where, orb_features, scenario_path)
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        return _load_images(path, entry, where, scenario_path)
    raise ValueError(f"{where}: {path} is neither a video file, an image nor a folder of images")
