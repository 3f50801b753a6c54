"""The ``jscc_semantic`` codec: the seed-002 semantic-importance fine-tune over the analog link
(weights: ``content.semantic_checkpoint``), as :mod:`bssim.codecs.jscc`."""

from bssim.codecs.base import register_codec
from bssim.codecs.jscc import analog_factory

register_codec("jscc_semantic", "analog", "deep JSCC, semantic fine-tune", "tab:purple")(
    analog_factory("jscc_semantic", True))
