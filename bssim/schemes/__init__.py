"""Schemes: what is sent and how the receiver rebuilds the frame (:mod:`.base`).

The registry: one file per scheme below, each registering itself; adding a scheme is its
file and one name in the import line.

* ``direct``: the whole frame through the codec;
* ``key``: key information, the people's boxes through the codec, pasted at the receiver onto
  a background of the shared library (seed 000);
* ``seb``: seed 001's explicit semantic base, Seb indices + the residual through the codec;
* ``generative``: seed 003's key regions through the codec, the rest as a regenerated thumbnail.
"""

from bssim.schemes import direct, key, seb, generative  # noqa: F401, I001  (the registry, in menu order)
from bssim.schemes.base import SCHEMES, Frame, Scheme, SchemeEntry, SchemeOption, register_scheme, scheme_entry

__all__ = ["SCHEMES", "Frame", "Scheme", "SchemeEntry", "SchemeOption", "register_scheme", "scheme_entry", "scheme_names"]


def scheme_names() -> tuple[str, ...]:
    """Registered scheme names, in registry order (direct, key, …)."""
    return tuple(SCHEMES)
