"""The ``avif`` codec: AVIF through :mod:`bssim.codecs.standard`."""

from bssim.codecs.base import register_codec
from bssim.codecs.standard import standard_codec

register_codec("avif", "digital", "AVIF", "tab:blue")(standard_codec("avif"))
