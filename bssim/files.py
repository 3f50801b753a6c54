"""Files in and out: images and video frames as RGB uint8 (clear errors for bad input),
image folders, and content hashes of files and arrays (cache keys, model versions)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
from bssim.atomic import write_bytes

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm")
VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov", ".m4v", ".webm", ".mpg", ".mpeg")
MIN_SIDE_PX = 16  # smaller images cannot hold ORB patches, SSIM windows or JSCC down-sampling


def check_rgb(image: np.ndarray, name: str = "image") -> np.ndarray:
    """Validate an RGB uint8 (H, W, 3) array of at least 16x16 pixels; return it contiguous."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"{name}: expected a numpy array, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            f"{name}: expected an RGB image of shape (H, W, 3), got shape {image.shape} "
            "(grey-scale and RGBA images must be converted to RGB first)"
        )
    if image.dtype != np.uint8:
        raise ValueError(f"{name}: expected dtype uint8, got {image.dtype}")
    h, w = image.shape[:2]
    if min(h, w) < MIN_SIDE_PX:
        raise ValueError(
            f"{name}: image of {w}x{h} pixels is too small; both sides must be >= {MIN_SIDE_PX} px"
        )
    return np.ascontiguousarray(image)


def read_image(path: str | Path, allow_grey: bool = False) -> np.ndarray:
    """Read an image file as RGB uint8. Grey-scale files are an error unless ``allow_grey``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise ValueError(f"cannot decode image file: {path}")
    if raw.dtype != np.uint8:
        raw = cv2.convertScaleAbs(raw, alpha=255.0 / max(1, int(raw.max())))
    if raw.ndim == 2 or raw.shape[2] == 1:
        if not allow_grey:
            raise ValueError(
                f"{path}: grey-scale image (1 channel); the pipeline needs RGB colour images"
            )
        raw = cv2.cvtColor(raw.reshape(raw.shape[:2]), cv2.COLOR_GRAY2BGR)
    elif raw.shape[2] == 4:
        raw = cv2.cvtColor(raw, cv2.COLOR_BGRA2BGR)
    rgb = cv2.cvtColor(raw, cv2.COLOR_BGR2RGB)
    return check_rgb(rgb, str(path))


def write_image(path: str | Path, image: np.ndarray) -> None:
    """Write an RGB uint8 image (PNG/JPEG by suffix) atomically."""

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(path.suffix or ".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"cannot encode image for {path}")
    write_bytes(path, buf.tobytes())


def _open_video(path: Path) -> cv2.VideoCapture:
    if not path.is_file():
        raise FileNotFoundError(f"video file not found: {path}")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"cannot open video file (unreadable or unsupported codec): {path}")
    ok, frame = cap.read()
    if not ok or frame is None:
        cap.release()
        raise ValueError(f"video file has no decodable frames: {path}")
    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
    return cap


def video_info(path: str | Path) -> dict:
    """Frame count, size and fps of a video (frame count as reported by the container)."""
    path = Path(path)
    cap = _open_video(path)
    try:
        return {
            "frames": int(cap.get(cv2.CAP_PROP_FRAME_COUNT)),
            "width": int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            "height": int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            "fps": float(cap.get(cv2.CAP_PROP_FPS)),
        }
    finally:
        cap.release()


def iter_video(
    path: str | Path, frames: Sequence[int] | range | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (index, RGB frame) for the requested frame indices (all when None), decoding
    sequentially (grab() for skipped frames: exact and faster than seeking in XVID)."""
    path = Path(path)
    cap = _open_video(path)
    try:
        wanted = None if frames is None else sorted(set(int(i) for i in frames))
        if wanted is not None and wanted and wanted[0] < 0:
            raise ValueError(f"frame indices must be >= 0, got {wanted[0]}")
        last = None if wanted is None else (wanted[-1] if wanted else -1)
        wanted_set = None if wanted is None else set(wanted)
        idx = 0
        while last is None or idx <= last:
            if wanted_set is None or idx in wanted_set:
                ok, frame = cap.read()
                if not ok:
                    break
                yield idx, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            else:
                if not cap.grab():
                    break
            idx += 1
    finally:
        cap.release()


def read_frames(path: str | Path, frames: Sequence[int] | range | None = None) -> dict[int, np.ndarray]:
    """All requested frames as {index: RGB frame}; an error if none could be read."""
    out = dict(iter_video(path, frames))
    if not out:
        raise ValueError(f"no frames read from {path} for the requested indices")
    return out


def list_images(folder: str | Path) -> list[Path]:
    """Image files (by suffix) directly in ``folder``, sorted by name; none is an error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder not found: {folder}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    return files


def is_video(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def content_id(image: np.ndarray) -> str:
    """Stable id of an image's pixels: first 16 hex digits of SHA-256 over shape and bytes."""
    h = hashlib.sha256()
    h.update(repr(image.shape).encode())
    h.update(np.ascontiguousarray(image).tobytes())
    return h.hexdigest()[:16]


def file_hash(path: str | Path, n_hex: int = 16, chunk: int = 1 << 20) -> str:
    """SHA-256 (first ``n_hex`` hex digits) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()[:n_hex]
