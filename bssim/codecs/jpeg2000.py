"""The ``jpeg2000`` codec: JPEG 2000 through :mod:`bssim.codecs.standard`."""

from bssim.codecs.base import register_codec
from bssim.codecs.standard import standard_codec

register_codec("jpeg2000", "digital", "JPEG 2000", "tab:olive")(standard_codec("jpeg2000"))
