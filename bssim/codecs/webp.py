"""The ``webp`` codec: WebP through :mod:`bssim.codecs.standard`."""

from bssim.codecs.base import register_codec
from bssim.codecs.standard import standard_codec

register_codec("webp", "digital", "WebP", "tab:cyan")(standard_codec("webp"))
