"""Background library shared by transmitter and receiver (seed II.B, III.B).

On disk (no pickle)::

    <dir>/index.json          {"format": "bssim-background-library", "version": 1,
                                "orb_features": n, "entries": [{"name", "image", "points",
                                "descriptors", "width", "height", "source"}, ...]}
    <dir>/<name>.png          the background, RGB (lossless)
    <dir>/<name>.points.npy   ORB key point positions (N, 2) float32
    <dir>/<name>.desc.npy     ORB descriptors (N, 32) uint8

``np.load(..., allow_pickle=False)`` reads the arrays.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bssim.atomic import atomic_dir
from bssim.files import check_rgb, list_images, read_image, write_image
from bssim.pipeline.orb import OrbFeatures, orb_features
from bssim.files import content_id

FORMAT = "bssim-background-library"
VERSION = 1
DEFAULT_ORB_FEATURES = 1000


@dataclass
class Background:
    name: str
    image: np.ndarray  # RGB uint8
    features: OrbFeatures
    source: str = ""


@dataclass
class BackgroundLibrary:
    """Backgrounds with precomputed ORB features (``orb_features`` per image)."""

    orb_features: int = DEFAULT_ORB_FEATURES
    entries: list[Background] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def index_bits(self) -> int:
        """Side-information bits to name B* among K backgrounds: ceil(log2 K) (0 for K = 1)."""
        return int(np.ceil(np.log2(len(self)))) if len(self) > 1 else 0

    def add(self, name: str, image: np.ndarray, source: str = "") -> Background:
        """Add (or replace, by name) a background; computes its ORB features."""
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
            raise ValueError(f"background name {name!r}: use letters, digits, '_', '-', '.' only")
        image = check_rgb(image, f"background {name!r}")
        bg = Background(name, image, orb_features(image, self.orb_features), source)
        self.entries = [e for e in self.entries if e.name != name] + [bg]
        return bg

    def get(self, name: str) -> Background:
        for e in self.entries:
            if e.name == name:
                return e
        raise KeyError(f"no background named {name!r} in the library (has: {self.names})")

    # ---- disk -------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write the library to ``directory`` atomically (built in a temp dir, then renamed)."""
        directory = Path(directory)
        with atomic_dir(directory) as tmp:
            index = {"format": FORMAT, "version": VERSION, "orb_features": self.orb_features, "entries": []}
            for e in self.entries:
                write_image(tmp / f"{e.name}.png", e.image)
                np.save(tmp / f"{e.name}.points.npy", e.features.points, allow_pickle=False)
                np.save(tmp / f"{e.name}.desc.npy", e.features.descriptors, allow_pickle=False)
                index["entries"].append(
                    {
                        "name": e.name,
                        "image": f"{e.name}.png",
                        "points": f"{e.name}.points.npy",
                        "descriptors": f"{e.name}.desc.npy",
                        "width": int(e.image.shape[1]),
                        "height": int(e.image.shape[0]),
                        "n_keypoints": len(e.features),
                        "source": e.source,
                    }
                )
            (tmp / "index.json").write_text(json.dumps(index, indent=1))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "BackgroundLibrary":
        """Read a library written by :meth:`save`; errors name the missing/bad file."""
        directory = Path(directory)
        index_path = directory / "index.json"
        if not index_path.is_file():
            raise FileNotFoundError(f"not a background library (no index.json): {directory}")
        try:
            index = json.loads(index_path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{index_path}: invalid JSON ({exc})") from exc
        if index.get("format") != FORMAT:
            raise ValueError(f"{index_path}: field 'format' must be {FORMAT!r}, got {index.get('format')!r}")
        lib = cls(orb_features=int(index.get("orb_features", DEFAULT_ORB_FEATURES)))
        for i, ent in enumerate(index.get("entries", [])):
            for key in ("name", "image", "points", "descriptors"):
                if key not in ent:
                    raise ValueError(f"{index_path}: entries[{i}] lacks field {key!r}")
            image = read_image(directory / ent["image"])
            pts = np.load(directory / ent["points"], allow_pickle=False)
            desc = np.load(directory / ent["descriptors"], allow_pickle=False)
            if pts.shape[0] != desc.shape[0] or desc.dtype != np.uint8:
                raise ValueError(f"{directory / ent['descriptors']}: descriptors do not match points")
            feats = OrbFeatures(pts.astype(np.float32), desc, (image.shape[1], image.shape[0]))
            lib.entries.append(Background(ent["name"], image, feats, ent.get("source", "")))
        return lib

    def summary(self) -> list[dict]:
        return [
            {"name": e.name, "width": e.image.shape[1], "height": e.image.shape[0],
             "keypoints": len(e.features), "source": e.source}
            for e in self.entries
        ]


def _safe_name(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", stem) or "bg"


def library_from_folder(folder: str | Path, orb_features_n: int = DEFAULT_ORB_FEATURES) -> BackgroundLibrary:
    """One background per image file in ``folder``; an empty folder is an error."""
    files = list_images(folder)
    if not files:
        raise ValueError(f"no image files in {folder} (looked for .png, .jpg, ...)")
    lib = BackgroundLibrary(orb_features=orb_features_n)
    for p in files:
        lib.add(_safe_name(p.stem), read_image(p), source=str(p))
    return lib


def load_library(folder: str | Path) -> BackgroundLibrary:
    """A saved library (a folder with ``index.json``) or a folder of background images."""
    folder = Path(folder)
    lib = BackgroundLibrary.load(folder) if (folder / "index.json").is_file() else library_from_folder(folder)
    return require_nonempty(lib, str(folder))


def require_nonempty(lib: BackgroundLibrary, where: str = "library") -> BackgroundLibrary:
    if len(lib) == 0:
        raise ValueError(f"{where}: the background library is empty; add at least one background")
    return lib


def library_fingerprint(library: BackgroundLibrary) -> str:
    """First 16 hex digits of SHA-256 over the backgrounds' names and pixels (a cache key)."""
    import hashlib


    h = hashlib.sha256()
    for e in library.entries:
        h.update(e.name.encode())
        h.update(content_id(e.image).encode())
    return h.hexdigest()[:16]
