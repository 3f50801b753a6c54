"""Measured content: a scenario's media → items → cached option measurements → an OptionTable.

For every media entry of ``[content] source = "measured"`` (:mod:`bssim.content.media`)
every frame (or image) is one content item; each item's options (schemes × rate levels
[× SNR levels]) are measured by :func:`bssim.options.measure.measure_item` in the mode the
scenario's link model needs, cached per item on disk (keyed by the item's pixels, its
library, the measurement settings and the JSCC checkpoint hash), so a second run or every
sweep point reuses them. Only what the cache lacks is computed, with a progress bar.

With ``content.semantic_checkpoint`` every item is measured a second time with that JSCC (the
seed-002 fine-tune, ``bssim jscc train --semantic``); its rows become the schemes
``direct_semantic`` and ``key_semantic`` at the same rate levels, so one menu offers both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bssim.content.cache import read_json, rows_valid, write_json
from bssim.content.media import MediaItems, check_media, load_media, semantic_checkpoint
from bssim.options.table import OptionTable
from bssim.scenario import MeasuredContent, Scenario


@dataclass
class MeasuredCatalog:
    """All measured items: the option table, which items belong to which media, the shares."""

    table: OptionTable
    media_names: list[str]
    media_items: list[np.ndarray]  # per media: indices into the table's items, in frame order
    shares: np.ndarray  # per media: probability that a user watches it
    rows: pd.DataFrame  # the long measurement rows (one per item × option [× SNR])
    provenance: dict[str, Any] = field(default_factory=dict)


def measure_spec(scenario: Scenario, model):
    """The :class:`~bssim.options.measure.MeasureSpec` a scenario implies (link mode, levels, metrics)."""
    from bssim.options.levels import model_channel_levels, rate_levels
    from bssim.options.links import make_link
    from bssim.options.measure import MeasureSpec
    from bssim.pipeline.transmitter import PipelineSettings

    mc = scenario.content
    link = scenario.link
    channels = model_channel_levels(model, mc.channel_levels)
    c_policy = model.cfg.c_out * getattr(model.cfg, "target_rate", 0.5)
    metric = scenario.objective.metric_column
    metrics = ("ssim", "psnr_db") + ((metric,) if metric not in ("ssim", "psnr_db") else ())
    mode = make_link(link.model).mode
    return MeasureSpec(
        levels=rate_levels(mc.scales, channels, c_policy), mode=mode,
        pipeline=PipelineSettings(extractor=mc.extractor), bits_per_value=link.bits_per_value,
        snr_db=tuple(float(s) for s in sorted(link.snr_levels_db)) if mode == "analog" else (),
        channel=link.channel, metrics=metrics, seed=scenario.seed,
    )


def _measure_items(m: MediaItems, model, spec, bar, scheme_suffix: str = "") -> list[dict]:
    from bssim.options.measure import measure_item
    from bssim.files import content_id
    from bssim.pipeline.library import library_fingerprint

    lib_fp = library_fingerprint(m.library) if m.library is not None else None
    version = model.model_version
    rows = []
    for frame_id, frame in m.frames.items():
        key = {"content": content_id(frame), "library": lib_fp, "spec": spec.as_dict(), "model": version}
        item_rows = read_json("options", key, lambda v: rows_valid(v, ("scheme", "rate_level", "bits", *spec.metrics)))
        if item_rows is None:
            item_rows = measure_item(frame, m.library, model, spec, content_key=key["content"]).rows
            write_json("options", key, item_rows)
        for r in item_rows:
            r.update(item=f"{m.name}#{frame_id}", content=m.name, frame=frame_id, scheme=r["scheme"] + scheme_suffix)
        rows += item_rows
        if bar is not None:
            bar.update(1)
    return rows


def _bar(total: int, progress: bool):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="measuring options", unit="item")


def measure_media(m: MediaItems, model, spec, progress: bool = False) -> pd.DataFrame:
    """Every option of every item of one media entry (read from the cache or measured), long rows."""
    bar = _bar(len(m.frames), progress)
    try:
        return pd.DataFrame(_measure_items(m, model, spec, bar))
    finally:
        if bar is not None:
            bar.close()


def measure_content(scenario: Scenario, scenario_path: Path | None = None, progress: bool = False,
                    model=None) -> MeasuredCatalog:
    """Load every media entry, measure (or read from the cache) every item's options."""
    from bssim.options.measure import default_model

    mc = scenario.content
    if not isinstance(mc, MeasuredContent):
        raise ValueError("measure_content needs content.source = 'measured'")
    check_media(mc.media_entries(), scenario_path, mc.extractor)
    semantic_path = semantic_checkpoint(mc.semantic_checkpoint, scenario_path)
    model = model if model is not None else default_model()
    models = [(model, "")] + ([(default_model(str(semantic_path)), "_semantic")] if semantic_path else [])
    spec = measure_spec(scenario, model)
    media = [load_media(e, scenario_path, f"content.media[{i}]") for i, e in enumerate(mc.media_entries())]
    bar = _bar(len(models) * sum(len(m.frames) for m in media), progress)
    try:
        rows = [r for mdl, suffix in models for m in media
                for r in _measure_items(m, mdl, measure_spec(scenario, mdl), bar, suffix)]  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
    df = pd.DataFrame(rows)
    table = OptionTable.from_rows(df)
    index = {n: i for i, n in enumerate(table.item_names)}
    media_items = [np.array([index[f"{m.name}#{f}"] for f in m.frames], np.int64) for m in media]
    shares = np.array([m.entry.share for m in media], float)
    provenance = {"checkpoint_hash": model.model_version, "measurement": spec.as_dict(),
                  "semantic_checkpoint_hash": models[1][0].model_version if len(models) > 1 else None,
                  "media": [{"media": m.entry.path, "share": m.entry.share, **m.info} for m in media]}
    return MeasuredCatalog(table, [m.name for m in media], media_items, shares / shares.sum(), df, provenance)
