"""Where bssim finds the shared data and models.

The shared folder holds real data nobody on the project made (``data/vtest.avi``, Kodak,
training photographs) and rembg's model files (``models/u2netp.onnx``). It is looked up as

1. the environment variable ``BSSIM_SHARED``, if set;
2. ``../shared`` next to the repository root (the layout of the development machines).

rembg finds its models through ``U2NET_HOME``; :func:`rembg_home` is that folder when the
user set it, else ``<shared>/models`` when it exists (so the same code works offline here),
else rembg's own default. Nothing here writes the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The shared folder (may not exist; callers check what they need)."""
    env = os.environ.get("BSSIM_SHARED")
    if env:
        return Path(env).expanduser().resolve()
    return (REPO_ROOT.parent / "shared").resolve()


def shared_data(*parts: str) -> Path:
    """Path under ``<shared>/data``."""
    return shared_dir().joinpath("data", *parts)


def shared_models_dir() -> Path:
    """``<shared>/models``, where rembg model files live on machines without internet."""
    return shared_dir() / "models"


def rembg_home() -> Path:
    """Folder holding rembg's model files: ``U2NET_HOME`` if set, else ``<shared>/models`` if it
    exists, else rembg's default ``~/.u2net`` (where rembg itself downloads)."""
    if os.environ.get("U2NET_HOME"):
        return Path(os.environ["U2NET_HOME"]).expanduser()
    if shared_models_dir().is_dir():
        return shared_models_dir()
    return Path.home() / ".u2net"
