"""What the deep-JSCC codecs share: the model (loaded once per process) and its rate settings.

A JSCC rate setting is a number n of active channels of the nested groups
(``model.rate_levels``, Yang & Kim 2022) or None, the policy's own choice; its nominal size
is n (the policy: ``c_out`` × its target rate).
"""

from __future__ import annotations

from functools import lru_cache

from bssim.codecs.base import CodecConfig, RateSetting
from bssim.jscc import load_model


@lru_cache(maxsize=4)
def _load(path: str | None):
    return load_model(path)


def jscc_model(checkpoint: str | None):
    """The JSCC at ``checkpoint`` (None: the shipped one), loaded once per process."""
    return _load(None if checkpoint is None else str(checkpoint))


def channel_settings(model, requested: str | tuple[int, ...]) -> tuple[RateSetting, ...]:
    """``"model"`` = every nested level of the model (the policy for a model without them), or a
    subset of them."""
    available = tuple(getattr(model, "rate_levels", None) or ())
    if isinstance(requested, str):
        if requested != "model":
            raise ValueError(f"content.channel_levels = {requested!r}: use \"model\" or a list of channel counts")
        chosen: tuple[int | None, ...] = available or (None,)
    else:
        bad = [n for n in requested if n not in available]
        if bad:
            allowed = list(available) if available else "none (this JSCC has no nested channel groups; use \"model\")"
            raise ValueError(f"content.channel_levels {bad}: not rate levels of the JSCC model; allowed: {allowed}")
        chosen = tuple(sorted(set(int(n) for n in requested)))
    c_policy = model.cfg.c_out * getattr(model.cfg, "target_rate", 0.5)
    return tuple(RateSetting(n, "policy" if n is None else f"c{n}", float(c_policy if n is None else n)) for n in chosen)


def checkpoint_of(cfg: CodecConfig, semantic: bool) -> str | None:
    """The weights a JSCC codec uses: the semantic fine-tune's or the plain JSCC's."""
    if semantic:
        if cfg.semantic_checkpoint is None:
            raise ValueError("codec jscc_semantic / jscc_semantic_digital needs content.semantic_checkpoint "
                             "(\"shipped\" or a path)")
        return cfg.semantic_checkpoint
    return cfg.checkpoint
