"""The ``direct`` scheme: the whole frame through the codec (seed 000's direct transmission).

Side information: the frame's height and width (u16 each, 32 bits), so the receiver scales
the decoded image back to them.
"""

from __future__ import annotations

from collections.abc import Sequence

from bssim.codecs.base import CodeJob, Codec
from bssim.pipeline.resolution import upscale
from bssim.schemes.base import Frame, Scheme, SchemeOption, job_for, register_scheme, scale_groups, side_cost

SIDE_BITS = 32


@register_scheme("direct", "direct", "Blues")
class Direct(Scheme):
    """The whole frame (module docstring)."""

    def measure(self, frame: Frame, codec: Codec, scales: Sequence[float], job: CodeJob) -> list[SchemeOption]:
        h, w = frame.image.shape[:2]
        side = side_cost(SIDE_BITS, codec.kind)
        out = []
        for eff, (small,) in scale_groups([frame.image], scales, frame.settings.max_pixels):
            settings = codec.settings()
            coded = codec.code(small, settings, job_for(job, frame.content_key, "direct", eff))
            for s, c in zip(settings, coded):
                out.append(SchemeOption(s, eff, c.cost + side, upscale(c.image, h, w), c.n_active))
        return out
