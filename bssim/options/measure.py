"""Measure every option of a content item by running the real pipeline (DESIGN.md section 3).

For one frame (or still image) and every scheme × rate level this returns one row with the
option's cost and its quality against the original frame:

* ``direct``: the whole frame at resolution scale s through the JSCC at n active channels;
* ``key`` (only when background matching succeeds, seed II.B): each person box (II.C) at
  scale s through the JSCC, pasted at the receiver onto the matched background B* (II.F).

Two measurement modes, one per link abstraction family (docs/model.md section 1):

* ``digital`` (links ``shannon``, ``nr``): the JSCC is a source codec
  (:mod:`bssim.jscc.digital`); ``bits`` = bytes of the real bitstreams × 8 + side information
  (direct: the frame's size, 32 bits; key: background index, box count, box positions and
  sizes, :func:`bssim.pipeline.keyinfo.side_info_bits`, plus mask bits when the mask is sent).
  The quality is that of the decoded bitstreams and does not depend on the SNR.
* ``analog`` (link ``analog``): the JSCC symbols cross the channel (AWGN or Rayleigh) at each
  SNR of ``snr_db``; ``symbols`` = complex channel uses k = ⌈active real values / 2⌉ (+ pilots)
  per image, plus the side information as QPSK symbols (⌈bits/2⌉, assumed error-free on a
  control channel); one row per SNR.

``spec.metrics`` lists the quality metrics measured (default SSIM and PSNR); the task
metrics ``person_iou`` and ``person_f1`` (:mod:`bssim.semantic.task`) are slow and measured
only when listed; the original frame's people are found once per frame.

Each row also carries diagnostics: ``psnr_fg_db`` (PSNR inside the people: bgdiff against
B*, dilated, when the background matched), and for key rows ``fg_fraction``, ``box_fraction``
and ``fg_missed_fraction`` (share of that reference foreground outside every box).
:mod:`bssim.content.measured` caches the rows on disk per item.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch

from bssim.jscc.digital import DEFAULT_BITS_PER_VALUE, code_levels, stream_channels
from bssim.metrics import QUALITY_METRICS, masked_psnr_db, ms_ssim, psnr_db, ssim
from bssim.options.levels import RateLevel
from bssim.pipeline.extract import reference_foreground
from bssim.pipeline.keyinfo import box_area, side_info_bits
from bssim.pipeline.library import BackgroundLibrary
from bssim.pipeline.resolution import downscale, upscale
from bssim.pipeline.synthesis import composite, mask_png_bits, receiver_alpha
from bssim.pipeline.transmitter import KeyInfo, PipelineSettings, extract_key_info

MODES = ("digital", "analog")
METRICS = QUALITY_METRICS
DIRECT_SIDE_BITS = 32  # the frame's height and width (u16 each): the receiver scales back to them
METRIC_FUNCTIONS = {"ssim": ssim, "psnr_db": psnr_db, "ms_ssim": ms_ssim}


@dataclass(frozen=True)
class MeasureSpec:
    """Everything that changes an option measurement; ``as_dict()`` is part of the cache key."""

    levels: tuple[RateLevel, ...]
    mode: str = "digital"
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    bits_per_value: int = DEFAULT_BITS_PER_VALUE
    snr_db: tuple[float, ...] = ()
    channel: str = "awgn"
    metrics: tuple[str, ...] = ("ssim", "psnr_db")
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"measurement mode {self.mode!r}: choose one of {', '.join(MODES)}")
        if not self.levels:
            raise ValueError("measurement needs at least one rate level")
        if self.mode == "analog" and not self.snr_db:
            raise ValueError("analog measurement needs at least one SNR (link.snr_levels_db)")
        bad = [m for m in self.metrics if m not in METRICS]
        if bad:
            raise ValueError(f"quality metric(s) {bad} unknown; choose from {', '.join(METRICS)}")
        if not self.metrics or len(set(self.metrics)) != len(self.metrics):
            raise ValueError(f"quality metrics {list(self.metrics)}: give at least one, each once")

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["levels"] = [lv.label for lv in self.levels]
        if self.mode == "digital":  # no channel noise: the seed does not matter
            d.pop("snr_db"), d.pop("channel"), d.pop("seed")
        else:
            d.pop("bits_per_value")
        return d


def _scaled(image: np.ndarray, scale: float, max_pixels: int | None) -> np.ndarray:
    """Resolution control: at most ``max_pixels`` (seed II.D) and at most s² of the pixels."""
    h, w = image.shape[:2]
    budget = int(h * w * scale * scale) if scale < 1.0 else h * w
    if max_pixels is not None:
        budget = min(budget, max_pixels)
    return np.ascontiguousarray(downscale(image, max(16, budget)))


def _generator(*parts: object) -> torch.Generator:
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") & (2**63 - 1))


def _analog_levels(model, image: np.ndarray, channels: Sequence[int | None], snr_db: float, channel: str,
                   gen: torch.Generator) -> list[tuple[int, np.ndarray, int]]:
    """(complex channel uses, received image, active channels) per channel count at one SNR."""
    from bssim.jscc.channels import ChannelSpec, apply_channel, pilot_symbols
    from bssim.jscc.digital import image_tensor, renormalise

    spec = ChannelSpec(kind=channel)
    cfg = model.cfg
    h, w = image.shape[:2]
    x = image_tensor(image)
    snr = torch.tensor([float(snr_db)])
    cond = snr.clamp(cfg.snr_min_db, cfg.snr_max_db)
    out = []
    with torch.inference_mode():
        forced = [n for n in channels if n is not None]
        z_all = model.encode(x, cond, n_active=max(forced))[0] if forced else None
        for n in channels:
            if n is None:
                z, mask = model.encode(x, cond)
            else:
                mask = torch.zeros(1, cfg.c_out)
                mask[0, :n] = 1.0
                z = torch.zeros_like(z_all)
                z[:, :n] = renormalise(z_all[:, :n])
            y, snr_dec = apply_channel(z, snr, spec, gen)
            rec = model.decode(y, mask, snr_dec.clamp(cfg.snr_min_db, cfg.snr_max_db))
            n_act = int(round(float(mask.sum())))
            k = math.ceil(n_act * z.shape[2] * z.shape[3] / 2) + pilot_symbols(spec)
            img = (rec[0].clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
            out.append((k, np.ascontiguousarray(img[:h, :w]), n_act))
    return out


def _code(model, image: np.ndarray, channels: Sequence[int | None], spec: MeasureSpec, snr_db: float,
          gen_parts: tuple) -> list[tuple[int, np.ndarray, int]]:
    """(cost, decoded image, active channels) per channel count; cost = bits or symbols."""
    if spec.mode == "analog":
        return _analog_levels(model, image, channels, snr_db, spec.channel, _generator(spec.seed, *gen_parts, snr_db))
    out = []
    for n, (data, dec) in zip(channels, code_levels(model, image, list(channels), spec.bits_per_value)):
        out.append((8 * len(data), dec, stream_channels(model, data)))
    return out


@dataclass
class ItemMeasurement:
    """Rows of one item (one per scheme × rate level [× SNR]) and, on request, the receiver's
    images keyed by (scheme, rate label, SNR in dB or None for digital measurements)."""

    rows: list[dict]
    images: dict[tuple[str, str, float | None], np.ndarray] = field(default_factory=dict)


@dataclass
class _Context:
    """What every option of one frame shares: the frame, the reference foreground, the outputs."""

    frame: np.ndarray
    spec: MeasureSpec
    content_key: str
    fg: np.ndarray | None
    keep_images: bool
    out: ItemMeasurement
    originals: dict = field(default_factory=dict)  # task metric -> the original frame's analysis

    def quality(self, rec: np.ndarray) -> dict[str, float]:
        """Every requested metric of ``rec`` against the frame (task metrics: the frame analysed once)."""
        from bssim.semantic.task import TASK_METRICS

        out = {}
        for m in self.spec.metrics:
            if m in TASK_METRICS:
                analyse, compare = TASK_METRICS[m]
                if m not in self.originals:
                    self.originals[m] = analyse(self.frame)
                out[m] = compare(self.originals[m], analyse(rec))
            else:
                out[m] = METRIC_FUNCTIONS[m](self.frame, rec)
        return out

    def add(self, scheme: str, index: int, lv: RateLevel, snr_db: float, cost: int, n_act: float,
            rec: np.ndarray, extra: dict | None = None) -> None:
        quality = self.quality(rec)
        quality["psnr_fg_db"] = masked_psnr_db(self.frame, rec, self.fg) if self.fg is not None else float("nan")
        self.out.rows.append({**_row(scheme, index, lv, snr_db, cost, n_act, quality, self.spec), **(extra or {})})
        if self.keep_images:
            self.out.images[(scheme, lv.label, None if np.isnan(snr_db) else snr_db)] = rec


def default_model(checkpoint: str | None = None):
    """The JSCC checkpoint at ``checkpoint`` (None: the shipped one), loaded once per process."""
    return _load_model(None if checkpoint is None else str(checkpoint))


@lru_cache(maxsize=2)
def _load_model(path: str | None):
    from bssim.jscc import load_model

    return load_model(path)


def _by_scale(levels: Sequence[RateLevel]) -> dict[float, list[tuple[int, RateLevel]]]:
    groups: dict[float, list[tuple[int, RateLevel]]] = {}
    for i, lv in enumerate(levels):
        groups.setdefault(lv.scale, []).append((i, lv))
    return groups


def _side_cost(bits: int, spec: MeasureSpec) -> int:
    return bits if spec.mode == "digital" else math.ceil(bits / 2)


def _row(scheme: str, index: int, lv: RateLevel, snr_db: float, cost: int, n_act: float, quality: dict,
         spec: MeasureSpec) -> dict:
    row = {"scheme": scheme, "rate_level": index, "rate_label": lv.label, "scale": lv.scale,
           "n_active": n_act, "snr_db": snr_db,
           "bits": float(cost) if spec.mode == "digital" else np.nan,
           "symbols": float(cost) if spec.mode == "analog" else np.nan}
    row.update(quality)
    return row


def _direct_rows(ctx: _Context, model, snr_db: float) -> None:
    frame, spec = ctx.frame, ctx.spec
    h, w = frame.shape[:2]
    for scale, group in _by_scale(spec.levels).items():
        small = _scaled(frame, scale, spec.pipeline.max_pixels)
        coded = _code(model, small, [lv.n_active for _, lv in group], spec, snr_db, (ctx.content_key, "direct", scale))
        for (i, lv), (cost, dec, n_act) in zip(group, coded):
            ctx.add("direct", i, lv, snr_db, cost + _side_cost(DIRECT_SIDE_BITS, spec), n_act, upscale(dec, h, w))


def _key_side_bits(ki: KeyInfo, frame: np.ndarray, n_backgrounds: int, s: PipelineSettings) -> int:
    h, w = frame.shape[:2]
    side = side_info_bits(len(ki.boxes), w, h, n_backgrounds)
    if s.alpha_mode == "sent":
        side += sum(mask_png_bits(ki.mask[y1:y2, x1:x2]) for (x1, y1, x2, y2) in ki.boxes)
    return side


def _key_geometry(ki: KeyInfo, fg: np.ndarray) -> dict:
    h, w = ki.mask.shape
    inbox = np.zeros((h, w), bool)
    for (x1, y1, x2, y2) in ki.boxes:
        inbox[y1:y2, x1:x2] = True
    missed = float((fg & ~inbox).sum() / fg.sum()) if fg.any() else 0.0
    return {"fg_fraction": float(ki.mask.mean()), "box_fraction": box_area(ki.boxes) / (h * w),
            "fg_missed_fraction": missed}


def _key_rows(ctx: _Context, ki: KeyInfo, n_backgrounds: int, model, snr_db: float) -> None:
    frame, spec, s = ctx.frame, ctx.spec, ctx.spec.pipeline
    side = _side_cost(_key_side_bits(ki, frame, n_backgrounds, s), spec)
    geometry = _key_geometry(ki, ctx.fg)
    for scale, group in _by_scale(spec.levels).items():
        channels = [lv.n_active for _, lv in group]
        per_box = [_code(model, _scaled(np.ascontiguousarray(frame[y1:y2, x1:x2]), scale, s.max_pixels), channels, spec,
                         snr_db, (ctx.content_key, "key", scale, b)) for b, (x1, y1, x2, y2) in enumerate(ki.boxes)]
        for j, (i, lv) in enumerate(group):
            crops, cost, n_act = [], side, []
            for (x1, y1, x2, y2), coded in zip(ki.boxes, per_box):
                c, dec, n = coded[j]
                dec = upscale(dec, y2 - y1, x2 - x1)
                sent = ki.mask[y1:y2, x1:x2] if s.alpha_mode == "sent" else None
                crops.append(((x1, y1, x2, y2), dec,
                              receiver_alpha(s.alpha_mode, dec, ki.background[y1:y2, x1:x2], sent, s.rembg_model)))
                cost += c
                n_act.append(n)
            ctx.add("key", i, lv, snr_db, cost, float(np.mean(n_act)) if n_act else 0.0,
                    composite(ki.background, crops), geometry)


def measure_item(frame: np.ndarray, library: BackgroundLibrary | None, model, spec: MeasureSpec,
                 content_key: str = "", keep_images: bool = False) -> ItemMeasurement:
    """Rows (one per scheme × rate level [× SNR]) for one frame; see the module docstring.

    ``library`` None or empty: no key option (a still photograph without a shared background).
    Every row carries ``matched`` (background match found), ``n_boxes``, ``background`` and
    ``t_s`` (seconds this frame took, shared by its rows). ``keep_images``: also return the
    receiver's image of every option."""
    t0 = time.perf_counter()
    ki = extract_key_info(frame, library, spec.pipeline) if library is not None and len(library) else None
    matched = bool(ki is not None and ki.match.matched)
    fg = reference_foreground(frame, ki.background) if matched else None
    ctx = _Context(frame, spec, content_key, fg, keep_images, ItemMeasurement([]))
    for snr in spec.snr_db if spec.mode == "analog" else (float("nan"),):
        _direct_rows(ctx, model, snr)
        if matched:
            _key_rows(ctx, ki, len(library), model, snr)
    dt = time.perf_counter() - t0
    stage_times = {k: ki.times.get(k, float("nan")) for k in ("t_match_s", "t_extract_s")} if ki is not None else {}
    for r in ctx.out.rows:
        r.update(matched=matched, n_boxes=len(ki.boxes) if matched else 0, background=ki.match.name if matched else None,
                 height=frame.shape[0], width=frame.shape[1], t_s=dt, **stage_times)
    return ctx.out
