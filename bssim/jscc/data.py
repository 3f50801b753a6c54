"""Training images for the deep JSCC: a folder of photographs, or CIFAR-10's python batches.

- A folder: every ``*.png``, ``*.jpg``, ``*.jpeg``, ``*.bmp``, ``*.tif(f)``, ``*.webp`` file,
  read as RGB uint8 by :func:`bssim.files.read_image`. Training draws augmented crops from them
  (:class:`bssim.jscc.sampler.CropSampler`).
- ``cifar-10-batches-py``: the folder (or its parent) with ``data_batch_1`` … ``data_batch_5``.
  These files are Python pickles. They are read with :class:`_SafeUnpickler`, which only
  resolves the few globals a numpy array needs (``numpy…_reconstruct``, ``numpy.ndarray``,
  ``numpy.dtype``, ``_codecs.encode``) and refuses everything else, so a tampered file
  cannot run code.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np

from bssim.files import list_images, read_image

CIFAR_DIR = "cifar-10-batches-py"


class _SafeUnpickler(pickle.Unpickler):
    """Unpickler that resolves only what a pickled numpy array / dict needs."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle protocol
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name} from a CIFAR batch file")


def _load_cifar_batch(path: Path) -> np.ndarray:
    with open(path, "rb") as f:
        obj = _SafeUnpickler(io.BytesIO(f.read()), encoding="bytes").load()
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a dict in a CIFAR-10 batch, got {type(obj).__name__}")
    data = obj.get(b"data", obj.get("data"))
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"{path}: 'data' must be an (N, 3072) uint8 array")
    return data.astype(np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def find_cifar_dir(folder: str | Path) -> Path | None:
    """``folder`` itself or ``folder/cifar-10-batches-py`` if it holds ``data_batch_1``."""
    folder = Path(folder)
    for cand in (folder, folder / CIFAR_DIR):
        if (cand / "data_batch_1").is_file():
            return cand
    return None


def load_cifar10(folder: str | Path, split: str = "train") -> np.ndarray:
    """CIFAR-10 images (N, 32, 32, 3) uint8: ``train`` = data_batch_1..5, ``test`` = test_batch."""
    d = find_cifar_dir(folder)
    if d is None:
        raise FileNotFoundError(f"no {CIFAR_DIR} batches (data_batch_1 ...) in {folder}")
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    parts = [_load_cifar_batch(d / n) for n in names if (d / n).is_file()]
    if not parts:
        raise FileNotFoundError(f"no {split} batches in {d}")
    return np.concatenate(parts)


def load_training_images(folder: str | Path, val_every: int = 10) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """(train images, validation images, validation names).

    Folder of photos: sorted files, every ``val_every``-th (indices 0, val_every, …) is held
    out for validation. CIFAR-10: data_batch_* for training, the first 256 test images for
    validation.
    """
    if find_cifar_dir(folder) is not None:
        train = load_cifar10(folder, "train")
        try:
            val = load_cifar10(folder, "test")[:256]
        except FileNotFoundError:
            val = train[-256:]
            train = train[:-256]
        return list(train), list(val), [f"cifar_test_{i}" for i in range(len(val))]
    files = list_images(folder)
    if len(files) < 2:
        raise ValueError(f"need at least 2 images in {folder} (one for validation), found {len(files)}")
    val_idx = set(range(0, len(files), val_every)) if val_every > 0 else set()
    train, val, names = [], [], []
    for i, f in enumerate(files):
        img = read_image(f, allow_grey=True)
        if i in val_idx:
            val.append(img)
            names.append(f.name)
        else:
            train.append(img)
    return train, val, names


def center_crop(img: np.ndarray, size: int) -> np.ndarray:
    """Centre crop to at most size×size, sides floored to multiples of 4."""
    h, w = img.shape[:2]
    ch, cw = min(size, h) // 4 * 4, min(size, w) // 4 * 4
    y, x = (h - ch) // 2, (w - cw) // 2
    return img[y : y + ch, x : x + cw]


def load_video_frames(spec: str) -> tuple[list[np.ndarray], list[str]]:
    """Training frames of a video, ``spec`` = ``PATH:START:STOP:STEP`` (the frames of
    ``range(START, STOP, STEP)`` that decode) → (RGB frames, names ``file#index``).

    Use only the training part of a video; bssim evaluates on vtest.avi frames 400-794 and
    Megamind.avi frames 135-269 (docs/semantic.md)."""
    from bssim.content.media import video_frame_range
    from bssim.files import read_frames

    path, idx = video_frame_range(spec)
    got = read_frames(path, idx)
    return list(got.values()), [f"{path.name}#{i}" for i in got]
