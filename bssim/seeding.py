"""Named, reproducible random streams derived from one master seed.

Every random draw in bssim comes from ``rng(seed, "name", *indices)``: a numpy Generator
seeded by ``SeedSequence([seed, crc32(name), *indices])``. Streams with different names are
independent, adding a new stream never changes the draws of the others, and the master seed
recorded in a run's manifest reproduces every draw.
"""

from __future__ import annotations

import zlib

import numpy as np


def rng(seed: int, name: str, *indices: int) -> np.random.Generator:
    """The generator for stream ``name`` (and optional integer sub-indices) under ``seed``."""
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    key = [int(seed), zlib.crc32(name.encode()), *(int(i) for i in indices)]
    return np.random.default_rng(np.random.SeedSequence(key))
