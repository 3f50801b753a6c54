"""Measure every option of a content item by running the real pipeline (DESIGN.md section 3).

For one frame (or still image) and every scheme × codec × rate level (× SNR on the analog
link) this returns one row with the option's cost and its quality against the original frame.
The schemes (:mod:`bssim.schemes`: what is sent, how the receiver rebuilds the frame) and the
codecs (:mod:`bssim.codecs`: how pixels become bits or symbols) come from their registries.

* ``digital`` measurement (links ``shannon``, ``nr``; digital codecs): ``bits`` = the bits of
  the real bitstreams + side information; the quality does not depend on the SNR.
* ``analog`` measurement (link ``analog``; analog codecs): the symbols cross the channel
  (AWGN or Rayleigh) at each SNR of ``snr_db``; ``symbols`` = complex channel uses + the side
  information as QPSK symbols (⌈bits/2⌉); one row per SNR.

``spec.metrics`` lists the quality metrics (default SSIM and PSNR); the task metrics
``person_iou`` and ``person_f1`` (:mod:`bssim.semantic.task`) are slow and measured only when
listed. Every row also carries ``psnr_fg_db`` (PSNR inside the people: bgdiff against B*,
dilated, when the background matched) and the scheme's diagnostics.
:mod:`bssim.options.catalog` caches the rows on disk per item and codec.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bssim.codecs import CodeJob, Codec
from bssim.metrics import QUALITY_METRICS, masked_psnr_db, ms_ssim, psnr_db, ssim
from bssim.pipeline.extract import reference_foreground
from bssim.pipeline.library import BackgroundLibrary
from bssim.pipeline.transmitter import PipelineSettings, extract_key_info
from bssim.schemes import SCHEMES, Frame, SchemeOption, scheme_entry
from bssim.semantic.task import TASK_METRICS

MODES = ("digital", "analog")
METRICS = QUALITY_METRICS
METRIC_FUNCTIONS = {"ssim": ssim, "psnr_db": psnr_db, "ms_ssim": ms_ssim}


@dataclass(frozen=True)
class MeasureSpec:
    """Everything besides the codec that changes an option measurement; ``as_dict()`` is part
    of the cache key. ``scales``: the resolution scales of every rate level."""

    scales: tuple[float, ...] = (1.0,)
    mode: str = "digital"
    schemes: tuple[str, ...] = ("direct", "key")
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    snr_db: tuple[float, ...] = ()
    channel: str = "awgn"
    metrics: tuple[str, ...] = ("ssim", "psnr_db")
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"measurement mode {self.mode!r}: choose one of {', '.join(MODES)}")
        if not self.scales or any(not 0 < s <= 1 for s in self.scales):
            raise ValueError(f"scales {list(self.scales)}: give at least one, each in (0, 1]")
        if self.mode == "analog" and not self.snr_db:
            raise ValueError("analog measurement needs at least one SNR (link.snr_levels_db)")
        for name in self.schemes:
            scheme_entry(name)
        bad = [m for m in self.metrics if m not in METRICS]
        if bad:
            raise ValueError(f"quality metric(s) {bad} unknown; choose from {', '.join(METRICS)}")
        if not self.metrics or len(set(self.metrics)) != len(self.metrics):
            raise ValueError(f"quality metrics {list(self.metrics)}: give at least one, each once")

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        if self.mode == "digital":  # no channel noise: the seed does not matter
            d.pop("snr_db"), d.pop("channel"), d.pop("seed")
        return d


def check_codec(codec: Codec, mode: str) -> None:
    """A link carries the codecs of its kind: bits (``digital``) or symbols (``analog``)."""
    if codec.kind != mode:
        carries = "bits (digital codecs)" if mode == "digital" else "channel symbols (analog codecs)"
        raise ValueError(f"codec {codec.name!r} is {codec.kind}, but this link carries {carries}")


@dataclass
class ItemMeasurement:
    """Rows of one item (one per scheme × codec × rate level [× SNR]) and, on request, the
    receiver's images keyed by (scheme, codec, rate label, SNR in dB or None for digital)."""

    rows: list[dict]
    images: dict[tuple[str, str, str, float | None], np.ndarray] = field(default_factory=dict)


class _Quality:
    """Every requested metric of a received frame against the original (task metrics: the
    original analysed once per frame)."""

    def __init__(self, frame: Frame, metrics: Sequence[str]) -> None:
        self.frame, self.metrics, self.originals = frame, tuple(metrics), {}

    def __call__(self, rec: np.ndarray) -> dict[str, float]:
        out = {}
        for m in self.metrics:
            if m in TASK_METRICS:
                analyse, compare = TASK_METRICS[m]
                if m not in self.originals:
                    self.originals[m] = analyse(self.frame.image)
                out[m] = compare(self.originals[m], analyse(rec))
            else:
                out[m] = METRIC_FUNCTIONS[m](self.frame.image, rec)
        fg = self.frame.foreground
        out["psnr_fg_db"] = masked_psnr_db(self.frame.image, rec, fg) if fg is not None else float("nan")
        return out


def prepare_frame(image: np.ndarray, library: BackgroundLibrary | None, settings: PipelineSettings,
                  content_key: str = "") -> Frame:
    """Key information (background match, extraction, boxes) and the reference foreground, once
    per frame; ``library`` None or empty: no key option (a photograph without a library)."""
    ki = extract_key_info(image, library, settings) if library is not None and len(library) else None
    frame = Frame(image, ki, len(library) if library is not None else 0, settings, content_key)
    if frame.matched:
        frame = dataclasses.replace(frame, foreground=reference_foreground(image, ki.background))
    return frame


def _rows(options: list[SchemeOption], scheme: str, codec: Codec, snr_db: float, quality: _Quality) -> list[dict]:
    order = {o.label: (o.nominal, -o.scale) for o in options}  # ties: the larger scale first
    ranks = {lab: i for i, lab in enumerate(sorted(order, key=order.get))}
    rows = []
    for o in options:
        rows.append({"scheme": scheme, "codec": codec.name, "rate_level": ranks[o.label], "rate_label": o.label,
                     "scale": o.scale, "setting": o.setting.label, "nominal": o.nominal, "n_active": o.n_active, "snr_db": snr_db,
                     "bits": float(o.cost) if codec.kind == "digital" else np.nan,
                     "symbols": float(o.cost) if codec.kind == "analog" else np.nan,
                     **quality(o.image), **o.extra})
    return rows


def measure_codec(frame: Frame, codec: Codec, spec: MeasureSpec, keep_images: bool = False) -> ItemMeasurement:
    """Rows of one frame through one codec: every scheme × rate level (× SNR); module docstring."""
    check_codec(codec, spec.mode)
    t0 = time.perf_counter()
    out, quality = ItemMeasurement([]), _Quality(frame, spec.metrics)
    for snr in spec.snr_db if spec.mode == "analog" else (float("nan"),):
        job = CodeJob(None if np.isnan(snr) else float(snr), spec.channel, spec.seed)
        for name in spec.schemes:
            options = SCHEMES[name].scheme.measure(frame, codec, spec.scales, job)
            out.rows += _rows(options, name, codec, snr, quality)
            if keep_images:
                out.images.update({(name, codec.name, o.label, None if np.isnan(snr) else snr): o.image for o in options})
    ki, dt = frame.key_info, time.perf_counter() - t0
    stage_times = {k: ki.times.get(k, float("nan")) for k in ("t_match_s", "t_extract_s")} if ki is not None else {}
    for r in out.rows:
        r.update(matched=frame.matched, n_boxes=len(ki.boxes) if frame.matched else 0,
                 background=ki.match.name if frame.matched else None, height=frame.image.shape[0],
                 width=frame.image.shape[1], t_s=dt, **stage_times)
    return out


def measure_item(image: np.ndarray, library: BackgroundLibrary | None, codecs: Sequence[Codec], spec: MeasureSpec,
                 content_key: str = "", keep_images: bool = False) -> ItemMeasurement:
    """Rows (one per scheme × codec × rate level [× SNR]) for one frame; see the module docstring.

    Every row carries ``matched`` (background match found), ``n_boxes``, ``background`` and
    ``t_s`` (seconds this codec's options of the frame took). ``keep_images``: also return the
    receiver's image of every option."""
    frame = prepare_frame(image, library, spec.pipeline, content_key)
    out = ItemMeasurement([])
    for codec in codecs:
        m = measure_codec(frame, codec, spec, keep_images)
        out.rows += m.rows
        out.images.update(m.images)
    return out
