"""Foreground extraction (seed II.C), pluggable.

- ``rembg``:  rembg's salient-object model on the whole frame (the seed's choice); the
  model name is a setting (default ``u2netp``), found the way rembg finds models
  (:func:`bssim.paths.rembg_home`). A missing model file is an
  error naming the file and folder *before* rembg could try to download it.
- ``bgdiff``: |X - B*| (Gaussian-blurred, max over RGB) > threshold, then morphological
  opening (removes noise) and closing (fills bodies), components below ``min_area_px`` dropped.
- ``hybrid``: ``bgdiff`` proposes regions; rembg runs on each region's crop at full
  resolution (so a 60x150 pedestrian fills rembg's 320x320 input instead of 1/50 of it);
  the refined mask is rembg's mask inside the dilated ``bgdiff`` region.
- ``pose``: seed 000's own person mask, MediaPipe pose (``mediapipe`` 0.10.21, the last
  release with ``mp.solutions``; its wheel bundles the complexity-1 models, so it runs offline)
  with segmentation, probability > 0.5; one person at most, and it misses small pedestrians.
- ``pose+bgdiff``: ``pose``, and ``bgdiff`` where pose finds nobody.

All return a boolean foreground mask (H, W).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from bssim.paths import rembg_home
from bssim.pipeline.keyinfo import boxes_from_mask

EXTRACTORS = ("rembg", "bgdiff", "hybrid", "pose", "pose+bgdiff")
MEDIAPIPE_VERSION = "0.10.21"


# ---- rembg -------------------------------------------------------------------------------
def rembg_model_path(model: str) -> Path:
    """Where ``model``'s file is (first existing candidate, else the flat-layout path) under
    :func:`bssim.paths.rembg_home`: rembg 2.x looks in ``<home>/models/<name>/<name>.onnx`` and
    in the flat legacy layout ``<home>/<name>.onnx``."""

    _rembg_session_class(model)  # an unknown model name is an error here
    home = rembg_home()
    for candidate in (home / "models" / model / f"{model}.onnx", home / f"{model}.onnx"):
        if candidate.is_file():
            return candidate
    return home / f"{model}.onnx"


@contextlib.contextmanager
def _u2net_home(folder: Path):
    """``U2NET_HOME`` set to ``folder`` only while rembg builds a session, then restored."""
    old = os.environ.get("U2NET_HOME")
    os.environ["U2NET_HOME"] = str(folder)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("U2NET_HOME", None)
        else:
            os.environ["U2NET_HOME"] = old


def _rembg_session_class(model: str):
    from rembg.sessions import sessions_class

    for sc in sessions_class:
        if sc.name() == model:
            return sc
    names = sorted(sc.name() for sc in sessions_class)
    raise ValueError(f"unknown rembg model {model!r}; rembg knows: {', '.join(names)}")


_THREADS = {"ort": 0}


def set_threads(n: int) -> None:
    """Threads for torch (JSCC) and for rembg sessions created from now on (0: libraries'
    defaults). On a shared, oversubscribed CPU, 1 avoids OpenMP spin-waiting and is often
    many times faster for small crops."""
    import torch

    if n < 0:
        raise ValueError(f"threads must be >= 0, got {n}")
    _THREADS["ort"] = int(n)
    rembg_session.cache_clear()
    if n:
        torch.set_num_threads(int(n))  # set again after each rembg session start (it resets it)


@lru_cache(maxsize=4)
def _rembg_session(model: str, threads: int):
    return _new_rembg_session(model, threads)


def rembg_session(model: str = "u2netp"):
    """A rembg session for ``model`` (cached); raises FileNotFoundError if its file is not on
    disk (we never let rembg download: tests and offline machines must not touch the network)."""
    return _rembg_session(model, _THREADS["ort"])


rembg_session.cache_clear = _rembg_session.cache_clear  # type: ignore[attr-defined]


def _new_rembg_session(model: str, threads: int):
    path = rembg_model_path(model)
    if not path.is_file():
        raise FileNotFoundError(
            f"rembg model file '{model}.onnx' not found: put it at {path} "
            f"(or set U2NET_HOME or BSSIM_SHARED; rembg's releases page has it, e.g. "
            f"https://github.com/danielgatis/rembg/releases/download/v0.0.0/{model}.onnx)"
        )
    import onnxruntime as ort
    from rembg import new_session

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    with _u2net_home(path.parent if path.parent.name != model else path.parent.parent.parent):
        sess = new_session(model, sess_opts=opts)
    if threads:  # onnxruntime's start-up resets OpenMP's thread count, which torch shares
        import torch

        torch.set_num_threads(threads)
    return sess


def rembg_probability(image: np.ndarray, model: str = "u2netp") -> np.ndarray:
    """rembg's foreground map in [0, 1], float32 (H, W). u2netp min-max normalises its output
    per image, so an image with nothing salient still gets a 'foreground'."""
    from PIL import Image

    sess = rembg_session(model)
    mask = sess.predict(Image.fromarray(image))[0]
    return np.asarray(mask, dtype=np.float32) / 255.0


def rembg_mask(image: np.ndarray, model: str = "u2netp", threshold: float = 0.5) -> np.ndarray:
    return rembg_probability(image, model) > threshold


# ---- bgdiff ------------------------------------------------------------------------------
def _fit(bg: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if bg.shape[:2] != shape[:2]:
        bg = cv2.resize(bg, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    return bg


def remove_small(mask: np.ndarray, min_area_px: int) -> np.ndarray:
    """Drop 8-connected components smaller than ``min_area_px``."""
    m = mask.astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    if n <= 1:
        return m.astype(bool)
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_area_px
    return keep[labels]


def bgdiff_mask(
    frame: np.ndarray,
    background: np.ndarray,
    threshold: float = 30.0,
    open_px: int = 3,
    close_px: int = 9,
    min_area_px: int = 60,
    blur_px: int = 5,
) -> np.ndarray:
    """Foreground = max_c |G*X - G*B*| > threshold, opened, closed, small parts removed."""
    bg = _fit(background, frame.shape)
    if blur_px > 1:
        a = cv2.GaussianBlur(frame, (blur_px, blur_px), 0)
        b = cv2.GaussianBlur(bg, (blur_px, blur_px), 0)
    else:
        a, b = frame, bg
    diff = cv2.absdiff(a, b).max(axis=2)
    m = (diff > threshold).astype(np.uint8)
    if open_px > 1:
        m = cv2.morphologyEx(m, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (open_px, open_px)))
    if close_px > 1:
        m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (close_px, close_px)))
    return remove_small(m, min_area_px)


# ---- hybrid ------------------------------------------------------------------------------
def hybrid_mask(
    frame: np.ndarray,
    background: np.ndarray,
    model: str = "u2netp",
    rembg_threshold: float = 0.5,
    margin_px: int = 8,
    **bgdiff_kw,
) -> np.ndarray:
    """bgdiff regions, each refined by rembg on its full-resolution crop (with margin)."""

    coarse = bgdiff_mask(frame, background, **bgdiff_kw)
    out = np.zeros(coarse.shape, bool)
    region = cv2.dilate(coarse.astype(np.uint8), np.ones((2 * margin_px + 1,) * 2, np.uint8)) > 0
    for (x1, y1, x2, y2) in boxes_from_mask(coarse, margin_px, min_area_px=1):
        crop = frame[y1:y2, x1:x2]
        if min(crop.shape[:2]) < 8:
            continue
        p = rembg_probability(np.ascontiguousarray(crop), model)
        out[y1:y2, x1:x2] |= (p > rembg_threshold) & region[y1:y2, x1:x2]
    return out


# ---- MediaPipe pose (seed 000) -------------------------------------------------------------
def require_mediapipe():
    """The ``mediapipe`` module with ``solutions.pose``, or a ValueError saying how to install it."""
    try:
        import mediapipe as mp

        mp.solutions.pose.Pose  # noqa: B018 - the API the extractor needs
    except (ImportError, AttributeError):
        raise ValueError(f"extractor 'pose' needs mediapipe {MEDIAPIPE_VERSION} (the last release with mp.solutions): "
                         f"pip install --no-deps mediapipe=={MEDIAPIPE_VERSION} absl-py attrs flatbuffers "
                         f"(make install does it)") from None
    return mp


@lru_cache(maxsize=1)
def _pose():
    mp = require_mediapipe()
    return mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=True)


def pose_mask(image: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """MediaPipe pose's segmentation of its (one) person > ``threshold``; all False when it finds nobody."""
    result = _pose().process(np.ascontiguousarray(image))
    if result.pose_landmarks is None or result.segmentation_mask is None:
        return np.zeros(image.shape[:2], bool)
    return np.asarray(result.segmentation_mask) > threshold


@dataclass(frozen=True)
class ExtractorSettings:
    name: str = "bgdiff"
    rembg_model: str = "u2netp"
    rembg_threshold: float = 0.5
    diff_threshold: float = 30.0
    open_px: int = 3
    close_px: int = 9
    min_area_px: int = 60
    margin_px: int = 8

    def __post_init__(self) -> None:
        if self.name not in EXTRACTORS:
            raise ValueError(f"extractor {self.name!r} unknown; choose one of {', '.join(EXTRACTORS)}")
        if self.name.startswith("pose"):
            require_mediapipe()


def extract_foreground(frame: np.ndarray, background: np.ndarray | None, s: ExtractorSettings) -> np.ndarray:
    """Boolean foreground mask of ``frame`` with extractor ``s.name``."""
    bkw = dict(threshold=s.diff_threshold, open_px=s.open_px, close_px=s.close_px, min_area_px=s.min_area_px)
    if s.name == "rembg":
        return remove_small(rembg_mask(frame, s.rembg_model, s.rembg_threshold), s.min_area_px)
    if s.name.startswith("pose"):
        mask = remove_small(pose_mask(frame), s.min_area_px)
        if mask.any() or s.name == "pose":
            return mask
    if background is None:
        raise ValueError(f"extractor {s.name!r} needs the matched background B*")
    if s.name in ("bgdiff", "pose+bgdiff"):
        return bgdiff_mask(frame, background, **bkw)
    return hybrid_mask(frame, background, s.rembg_model, s.rembg_threshold, s.margin_px, **bkw)


def reference_foreground(frame: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Extractor-independent foreground used to score the people themselves: bgdiff against
    B* with default settings, dilated by 5 px."""
    m = bgdiff_mask(frame, background)
    return cv2.dilate(m.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (11, 11))) > 0
