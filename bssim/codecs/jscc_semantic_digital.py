"""The ``jscc_semantic_digital`` codec: the seed-002 semantic-importance fine-tune as a source
codec (weights: ``content.semantic_checkpoint``), as :mod:`bssim.codecs.jscc_digital`."""

from bssim.codecs.base import register_codec
from bssim.codecs.jscc_digital import digital_factory

register_codec("jscc_semantic_digital", "digital", "deep JSCC, semantic fine-tune, entropy-coded", "tab:brown")(
    digital_factory("jscc_semantic_digital", True))
