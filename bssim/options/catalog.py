"""Measured content: a scenario's media → items → cached option measurements → an OptionTable.

For every media entry of ``[content] source = "measured"`` (:mod:`bssim.content.media`)
every frame (or image) is one content item; its options (schemes × codecs × rate levels
[× SNR levels]) are measured by :func:`bssim.options.measure.measure_codec` in the mode the
scenario's link model needs. They are cached on disk per item and codec, keyed by the item's
pixels, its library, the measurement settings and the codec's version (e.g. the JSCC
checkpoint hash), so a second run, every sweep point, or a scenario adding a codec reuses
what was measured. Only what the cache lacks is computed, with a progress bar.

Codecs (``[content] codecs``) must be of the link's kind; the default is ``avif`` on the
digital links and ``jscc`` on the analog link. With ``content.semantic_checkpoint`` and no
semantic codec listed, the link's semantic JSCC codec joins the menu (seed 002).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from bssim.codecs import CodecConfig, Codec, codec_entry, make_codec
from bssim.content.cache import read_json, rows_valid, write_json
from bssim.content.media import MediaItems, check_media, load_media, resolve_path
from bssim.files import content_id
from bssim.jscc import semantic_checkpoint_path
from bssim.options.links import make_link
from bssim.options.measure import MeasureSpec, check_codec, measure_codec, prepare_frame
from bssim.options.table import OptionTable
from bssim.pipeline.library import library_fingerprint
from bssim.pipeline.transmitter import PipelineSettings
from bssim.scenario import MeasuredContent, Scenario
from bssim.schemes import scheme_entry

DEFAULT_CODECS = {"digital": ("avif",), "analog": ("jscc",)}
SEMANTIC_CODECS = {"digital": "jscc_semantic_digital", "analog": "jscc_semantic"}
ROWS_VERSION = 2  # the rows' layout and labels: cached rows of another version are measured again


@dataclass
class MeasuredCatalog:
    """All measured items: the option table, which items belong to which media, the shares."""

    table: OptionTable
    media_names: list[str]
    media_items: list[np.ndarray]  # per media: indices into the table's items, in frame order
    shares: np.ndarray  # per media: probability that a user watches it
    rows: pd.DataFrame  # the long measurement rows (one per item × option [× SNR])
    provenance: dict[str, Any] = field(default_factory=dict)


def semantic_checkpoint(entry: str | None, scenario_path: Path | None) -> str | None:
    """``content.semantic_checkpoint``: "shipped" → the package's seed-002 checkpoint, else a
    path as for media (``@shared/...`` or relative to the scenario); None when not set."""
    if entry is None:
        return None
    if entry == "shipped":
        path = semantic_checkpoint_path()
        if not path.is_file():
            raise FileNotFoundError(f"content.semantic_checkpoint: 'shipped' -> {path} does not exist")
        return str(path)
    return str(resolve_path(entry, scenario_path, "content.semantic_checkpoint"))


def codec_names_for(scenario: Scenario) -> tuple[str, ...]:
    """The scenario's codecs (defaults by the link's kind), checked against the registry and
    the link before any work: errors name ``content.codecs``, the value and the rule."""
    mc, mode = scenario.content, make_link(scenario.link.model).mode
    names = tuple(mc.codecs) if mc.codecs else DEFAULT_CODECS[mode]
    for name in names:
        try:
            kind = codec_entry(name).kind
        except ValueError as err:
            raise ValueError(f"content.codecs: {err}") from None
        if kind != mode:
            raise ValueError(f"content.codecs: {name!r} is {'an' if kind == 'analog' else 'a'} {kind} codec, but link.model = "
                             f"{scenario.link.model!r} carries {'bits' if mode == 'digital' else 'channel symbols'}")
    if mc.semantic_checkpoint is not None and not any(n.startswith("jscc_semantic") for n in names):
        names += (SEMANTIC_CODECS[mode],)
    return names


def codec_config(scenario: Scenario, scenario_path: Path | None) -> CodecConfig:
    """The codec settings a scenario implies (``[content]`` and ``[link]``)."""
    mc = scenario.content
    levels = mc.channel_levels if isinstance(mc.channel_levels, str) else tuple(mc.channel_levels)
    return CodecConfig(qualities=tuple(mc.qualities), channel_levels=levels, k_over_n=tuple(mc.k_over_n),
                       bits_per_value=scenario.link.bits_per_value,
                       semantic_checkpoint=semantic_checkpoint(mc.semantic_checkpoint, scenario_path))


def measure_spec(scenario: Scenario) -> MeasureSpec:
    """The :class:`~bssim.options.measure.MeasureSpec` a scenario implies (link mode, scales, metrics)."""
    mc, link = scenario.content, scenario.link
    metric = scenario.objective.metric_column
    metrics = ("ssim", "psnr_db") + ((metric,) if metric not in ("ssim", "psnr_db") else ())
    mode = make_link(link.model).mode
    for name in mc.schemes:
        try:
            scheme_entry(name)
        except ValueError as err:
            raise ValueError(f"content.schemes: {err}") from None
    return MeasureSpec(
        scales=tuple(float(s) for s in mc.scales), mode=mode, schemes=tuple(mc.schemes),
        pipeline=PipelineSettings(extractor=mc.extractor),
        snr_db=tuple(float(s) for s in sorted(link.snr_levels_db)) if mode == "analog" else (),
        channel=link.channel, metrics=metrics, seed=scenario.seed,
    )


def cache_key(frame_key: str, library_fp: str | None, codec: Codec, spec: MeasureSpec) -> dict:
    """What one (item, codec) measurement depends on."""
    return {"rows": ROWS_VERSION, "content": frame_key, "library": library_fp, "spec": spec.as_dict(), "codec": codec.name,
            "codec_version": codec.version(), "settings": [s.label for s in codec.settings()],
            "schemes": {name: scheme_entry(name).scheme.version() for name in spec.schemes}}


def measure_media(m: MediaItems, codecs: list[Codec], spec: MeasureSpec, bar=None) -> list[dict]:
    """Every option of every item of one media entry (from the cache or measured), long rows."""
    lib_fp = library_fingerprint(m.library) if m.library is not None else None
    rows = []
    for frame_id, image in m.frames.items():
        key0, frame = content_id(image), None
        for codec in codecs:
            key = cache_key(key0, lib_fp, codec, spec)
            item_rows = read_json("options", key, lambda v: rows_valid(v, ("scheme", "codec", "rate_level", "bits",
                                                                          *spec.metrics)))
            if item_rows is None:
                frame = frame or prepare_frame(image, m.library, spec.pipeline, key0)
                item_rows = measure_codec(frame, codec, spec).rows
                write_json("options", key, item_rows)
            for r in item_rows:
                r.update(item=f"{m.name}#{frame_id}", content=m.name, frame=frame_id)
            rows += item_rows
            if bar is not None:
                bar.update(1)
    return rows


def measure_content(scenario: Scenario, scenario_path: Path | None = None, progress: bool = False,
                    codecs: list[Codec] | None = None) -> MeasuredCatalog:
    """Load every media entry, measure (or read from the cache) every item's options."""
    mc = scenario.content
    if not isinstance(mc, MeasuredContent):
        raise ValueError("measure_content needs content.source = 'measured'")
    check_media(mc.media_entries(), scenario_path, mc.extractor)
    spec = measure_spec(scenario)
    if codecs is None:
        cfg = codec_config(scenario, scenario_path)
        codecs = [make_codec(n, cfg) for n in codec_names_for(scenario)]
    for c in codecs:
        check_codec(c, spec.mode)
    media = [load_media(e, scenario_path, f"content.media[{i}]") for i, e in enumerate(mc.media_entries())]
    total = len(codecs) * sum(len(m.frames) for m in media)
    with tqdm(total=total, desc="measuring options", unit="item", disable=not progress) as bar:
        rows = [r for m in media for r in measure_media(m, codecs, spec, bar)]
    df = pd.DataFrame(rows)
    table = OptionTable.from_rows(df)
    index = {n: i for i, n in enumerate(table.item_names)}
    media_items = [np.array([index[f"{m.name}#{f}"] for f in m.frames], np.int64) for m in media]
    shares = np.array([m.entry.share for m in media], float)
    provenance = {"codecs": {c.name: c.version() for c in codecs}, "measurement": spec.as_dict(),
                  "media": [{"media": m.entry.path, "share": m.entry.share, **m.info} for m in media]}
    return MeasuredCatalog(table, [m.name for m in media], media_items, shares / shares.sum(), df, provenance)
