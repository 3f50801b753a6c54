"""Where bssim finds the shared data and models.

The shared folder holds real data nobody on the project made (``data/vtest.avi``, Kodak,
training photographs) and rembg's model files (``models/u2netp.onnx``). It is looked up as

1. the environment variable ``BSSIM_SHARED``, if set;
2. ``../shared`` next to the repository root (the layout of the development machines).

rembg finds its models through ``U2NET_HOME``; :func:`configure_rembg_home` points it at
``<shared>/models`` when the user has not set it and that folder exists, so the same code
works offline here and with rembg's own download elsewhere.
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


def configure_rembg_home() -> Path:
    """Set ``U2NET_HOME`` to the shared models folder unless the user set it; return it.

    rembg's default is ``~/.u2net``, where it downloads missing models itself.
    """
    if "U2NET_HOME" not in os.environ and shared_models_dir().is_dir():
        os.environ["U2NET_HOME"] = str(shared_models_dir())
    return Path(os.environ.get("U2NET_HOME", Path.home() / ".u2net")).expanduser()
