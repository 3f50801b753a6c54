"""End-to-end key-information pipeline and its measurement (DESIGN.md section 3).

Per frame X and operating point (SNR, channel):

- direct path: X (after resolution detection) through the JSCC -> D_bits, X_direct;
- key path: match B* (seed II.B) -> foreground mask -> boxes -> each crop (after resolution
  detection) through the JSCC -> receiver alpha -> composite on B* -> X_key;
  C_bits = sum of crop payloads + side information (+ mask bits when the mask is sent);
- Q = SSIM against X (PSNR, MS-SSIM also); alpha = Q_key / Q_direct.

If matching fails the key option does not exist: the row has matched = False,
C_bits = D_bits, q_key = q_direct, alpha = 1 (the same option as direct).

Results are cached on disk, one JSON per (content, settings, model version, SNR, channel),
under ``$BSSIM_CACHE`` or ``~/.cache/bssim`` (subfolder ``pipeline/``), written atomically.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from bssim.atomic import atomic_path, write_text
from bssim.pipeline.extract import EXTRACTORS, ExtractorSettings, bgdiff_mask, extract_foreground, rembg_mask, remove_small
from bssim.pipeline.io import check_rgb, content_id
from bssim.pipeline.keyinfo import MAX_BOXES, Box, box_area, boxes_from_mask, side_info_bits
from bssim.pipeline.library import BackgroundLibrary, require_nonempty
from bssim.pipeline.matching import MatchResult, match_background
from bssim.pipeline.orb import orb_features
from bssim.pipeline.resolution import downscale, upscale
from bssim.pipeline.synthesis import ALPHA_MODES, composite, mask_png_bits, receiver_alpha

MATCH_MASKS = ("auto", "rembg", "bgdiff2", "none")
CACHE_FORMAT = 1


@dataclass(frozen=True)
class PipelineSettings:
    """All settings that change a measurement (they form the cache key)."""

    extractor: str = "bgdiff"
    rembg_model: str = "u2netp"
    rembg_threshold: float = 0.5
    diff_threshold: float = 30.0
    open_px: int = 3
    close_px: int = 9
    min_area_px: int = 60
    margin_px: int = 8
    box_quantum_px: int = 4  # box sides snapped up to multiples of this (the JSCC pads to 4 anyway)
    single_box: bool = False  # the seed's one box around all foreground (default: one per component)
    orb_features: int = 1000
    hamming_max: int = 40  # T_h
    n_min: int = 60  # N_min
    match_mask: str = "auto"
    max_pixels: int | None = 768 * 576  # resolution-detection threshold (seed II.D)
    alpha_mode: str = "receiver_diff"  # no mask bits; within ~0.1-0.3 dB of "sent" (docs/pipeline.md)
    bits_per_value: int = 8
    channel: str = "awgn"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.extractor not in EXTRACTORS:
            raise ValueError(f"extractor {self.extractor!r} unknown; choose one of {', '.join(EXTRACTORS)}")
        if self.match_mask not in MATCH_MASKS:
            raise ValueError(f"match_mask {self.match_mask!r} unknown; choose one of {', '.join(MATCH_MASKS)}")
        if self.alpha_mode not in ALPHA_MODES:
            raise ValueError(f"alpha_mode {self.alpha_mode!r} unknown; choose one of {', '.join(ALPHA_MODES)}")
        if not 0 <= self.hamming_max <= 256:
            raise ValueError(f"hamming_max (T_h) must be in 0..256 bits, got {self.hamming_max}")
        if self.n_min < 1:
            raise ValueError(f"n_min (N_min) must be >= 1, got {self.n_min}")
        if self.orb_features < 10:
            raise ValueError(f"orb_features must be >= 10, got {self.orb_features}")
        if self.max_pixels is not None and self.max_pixels < 16 * 16:
            raise ValueError(f"max_pixels must be >= 256 or None, got {self.max_pixels}")
        if self.box_quantum_px < 1:
            raise ValueError(f"box_quantum_px must be >= 1, got {self.box_quantum_px}")
        if self.channel not in ("awgn", "rayleigh"):
            raise ValueError(f"channel must be 'awgn' or 'rayleigh', got {self.channel!r}")

    @property
    def extractor_settings(self) -> ExtractorSettings:
        # The extractor's settings are flat fields here (one flat cache key); copy them by name.
        shared = {f.name: getattr(self, f.name) for f in dataclasses.fields(ExtractorSettings) if f.name != "name"}
        return ExtractorSettings(name=self.extractor, **shared)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **kw) -> "PipelineSettings":
        return dataclasses.replace(self, **kw)


# ---- transmitter side (independent of SNR) ------------------------------------------------
@dataclass
class KeyInfo:
    match: MatchResult
    mask: np.ndarray | None  # bool (H, W) foreground, None when matching failed
    boxes: list[Box]
    background: np.ndarray | None  # B* at frame size
    times: dict[str, float] = field(default_factory=dict)


def _bg_at(lib: BackgroundLibrary, idx: int, shape) -> np.ndarray:
    import cv2

    img = lib.entries[idx].image
    if img.shape[:2] != shape[:2]:
        img = cv2.resize(img, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    return img


def extract_key_info(frame: np.ndarray, library: BackgroundLibrary, s: PipelineSettings) -> KeyInfo:
    """Matching (seed II.B) + foreground extraction (II.C) + per-component boxes."""
    require_nonempty(library)
    es = s.extractor_settings
    mm = s.match_mask if s.match_mask != "auto" else ("rembg" if s.extractor == "rembg" else "bgdiff2")
    t0 = time.perf_counter()
    person = None
    first_index = -1
    t_mask_only = 0.0
    mkw = dict(n_features=s.orb_features, hamming_max=s.hamming_max, n_min=s.n_min)
    if mm == "rembg":
        person = remove_small(rembg_mask(frame, s.rembg_model, s.rembg_threshold), s.min_area_px)
    elif mm == "bgdiff2":
        # pass 1 without a person mask picks a provisional B*; its difference mask is the
        # person mask of pass 2 (the seed's masked matching).
        fx = orb_features(frame, s.orb_features)
        mkw["frame_features"] = fx
        if len(library) == 1:
            first_index = 0
        else:
            first = match_background(frame, library, None, **{**mkw, "n_min": 1})
            first_index = first.index
            mkw["prune_with"] = first.counts
        tm = time.perf_counter()
        person = bgdiff_mask(frame, _bg_at(library, first_index, frame.shape), s.diff_threshold,
                             s.open_px, s.close_px, s.min_area_px)
        t_mask_only = time.perf_counter() - tm
    t_mask = time.perf_counter() - t0
    m = match_background(frame, library, person, **mkw)
    t1 = time.perf_counter()
    times = {"t_match_s": t1 - t0}
    if not m.matched:
        return KeyInfo(m, None, [], None, times)
    bg = _bg_at(library, m.index, frame.shape)
    if s.extractor == "bgdiff" and mm == "bgdiff2" and m.index == first_index:
        mask = person  # the difference mask against this same B*, computed for matching
        times["t_match_s"] -= t_mask_only
        times["t_extract_s"] = t_mask_only
    elif s.extractor == "rembg" and person is not None:
        mask = person
        times["t_match_s"] -= t_mask
        times["t_extract_s"] = t_mask
    else:
        mask = extract_foreground(frame, bg, es)
        times["t_extract_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    boxes = boxes_from_mask(mask, s.margin_px, quantum_px=s.box_quantum_px, max_boxes=1 if s.single_box else MAX_BOXES)
    times["t_boxes_s"] = time.perf_counter() - t2
    return KeyInfo(m, mask, boxes, bg, times)


# ---- JSCC --------------------------------------------------------------------------------
@lru_cache(maxsize=2)
def _load_model(path: str | None):
    from bssim.jscc import load_model

    return load_model(path)


def get_model(model=None, checkpoint: str | Path | None = None):
    """``model`` if given, else the JSCC checkpoint at ``checkpoint`` (None: shipped), cached."""
    if model is not None:
        return model
    return _load_model(None if checkpoint is None else str(checkpoint))


def jscc_send(model, image: np.ndarray, snr_db: float, s: PipelineSettings, seed: int):
    """Resolution detection (seed II.D) + JSCC transmission + scale back: (image, payload bits, result)."""
    from bssim.jscc import transmit

    h, w = image.shape[:2]
    small = downscale(image, s.max_pixels)
    res = transmit(model, np.ascontiguousarray(small), snr_db=float(snr_db), channel=s.channel, seed=int(seed),
                   bits_per_value=s.bits_per_value, side_info_bits=0)
    return upscale(res.image, h, w), int(res.payload_bits), res


def _quality(ref: np.ndarray, img: np.ndarray, with_msssim: bool = True) -> dict[str, float]:
    """SSIM, PSNR and (optionally: it takes seconds per 768x576 frame here) MS-SSIM."""
    from bssim.metrics import ms_ssim, psnr_db, ssim

    return {"ssim": ssim(ref, img), "psnr_db": psnr_db(ref, img),
            "ms_ssim": ms_ssim(ref, img) if with_msssim else float("nan")}


def masked_psnr_db(ref: np.ndarray, img: np.ndarray, mask: np.ndarray) -> float:
    """PSNR over the pixels where ``mask`` is True (NaN for an empty mask), capped at 100 dB."""
    if not mask.any():
        return float("nan")
    d = ref[mask].astype(np.float64) - img[mask].astype(np.float64)
    mse = float(np.mean(d * d))
    return 100.0 if mse <= 0 else float(min(100.0, 10 * np.log10(255.0**2 / mse)))


def reference_foreground(frame: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Extractor-independent foreground used to score the people themselves: bgdiff against
    B* with default settings, dilated by 5 px."""
    import cv2

    m = bgdiff_mask(frame, background)
    return cv2.dilate(m.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (11, 11))) > 0


@dataclass
class FrameResult:
    row: dict
    direct: np.ndarray
    key: np.ndarray


def run_frame(
    frame: np.ndarray,
    library: BackgroundLibrary,
    snr_db: float,
    s: PipelineSettings = PipelineSettings(),
    model=None,
    key_info: KeyInfo | None = None,
    with_msssim: bool = True,
    direct_memo: dict | None = None,
) -> FrameResult:
    """Both paths for one frame at one SNR; returns the measurement row and both images.

    ``direct_memo``: a dict reused across calls so that the direct path (which does not
    depend on the key-path settings) is computed once per frame, SNR and link settings."""
    frame = check_rgb(frame, "frame")
    model = get_model(model)
    h, w = frame.shape[:2]
    ki = key_info if key_info is not None else extract_key_info(frame, library, s)
    times = dict(ki.times)
    dkey = (content_id(frame), float(snr_db), s.channel, s.seed, s.bits_per_value, s.max_pixels,
            getattr(model, "model_version", id(model)), with_msssim)
    if direct_memo is not None and dkey in direct_memo:
        direct, d_bits, dres, qd, t_direct = direct_memo[dkey]
    else:
        t0 = time.perf_counter()
        direct, d_bits, dres = jscc_send(model, frame, snr_db, s, s.seed)
        t_direct = time.perf_counter() - t0
        qd = _quality(frame, direct, with_msssim)
        if direct_memo is not None:
            direct_memo[dkey] = (direct, d_bits, dres, qd, t_direct)
    times["t_direct_jscc_s"] = t_direct
    row: dict = {"height": h, "width": w, "snr_db": float(snr_db), "channel": s.channel,
                 "D_bits": d_bits, "raw_bits": h * w * 24, "model_version": dres.model_version,
                 "matched": bool(ki.match.matched), "background": ki.match.name,
                 "n_match": ki.match.best_count, "n_boxes": len(ki.boxes)}
    if not ki.match.matched:
        key, c_bits, side, mask_bits, crop_bits = direct, d_bits, 0, 0, 0
        times.update(t_key_jscc_s=0.0, t_synth_s=0.0)
        for c in ("fg_fraction", "box_fraction", "fg_missed_fraction", "psnr_fg_direct_db", "psnr_fg_key_db"):
            row[c] = float("nan")
    else:
        side = side_info_bits(len(ki.boxes), w, h, len(library))
        mask_bits = 0
        crop_bits = 0
        crops = []
        t_jscc = t_alpha = 0.0
        for i, (x1, y1, x2, y2) in enumerate(ki.boxes):
            crop = np.ascontiguousarray(frame[y1:y2, x1:x2])
            t1 = time.perf_counter()
            dec, bits, _ = jscc_send(model, crop, snr_db, s, s.seed + 1 + i)
            t2 = time.perf_counter()
            crop_bits += bits
            sent = ki.mask[y1:y2, x1:x2] if s.alpha_mode == "sent" else None
            if sent is not None:
                mask_bits += mask_png_bits(sent)
            alpha = receiver_alpha(s.alpha_mode, dec, ki.background[y1:y2, x1:x2], sent, s.rembg_model)
            t_alpha += time.perf_counter() - t2
            t_jscc += t2 - t1
            crops.append(((x1, y1, x2, y2), dec, alpha))
        t3 = time.perf_counter()
        key = composite(ki.background, crops)
        times["t_key_jscc_s"] = t_jscc
        times["t_synth_s"] = t_alpha + time.perf_counter() - t3
        c_bits = side + crop_bits + mask_bits
        row["fg_fraction"] = float(ki.mask.mean())
        row["box_fraction"] = box_area(ki.boxes) / (h * w)
        ref_fg = reference_foreground(frame, ki.background)
        inbox = np.zeros((h, w), bool)
        for (x1, y1, x2, y2) in ki.boxes:
            inbox[y1:y2, x1:x2] = True
        row["fg_missed_fraction"] = float((ref_fg & ~inbox).sum() / ref_fg.sum()) if ref_fg.any() else 0.0
        row["psnr_fg_direct_db"] = masked_psnr_db(frame, direct, ref_fg)
        row["psnr_fg_key_db"] = masked_psnr_db(frame, key, ref_fg)
    qk = _quality(frame, key, with_msssim)
    times["t_key_total_s"] = sum(times.get(k, 0.0) for k in ("t_match_s", "t_extract_s", "t_boxes_s", "t_key_jscc_s", "t_synth_s"))
    row.update({
        "C_bits": int(c_bits), "crop_bits": int(crop_bits), "side_bits": int(side), "mask_bits": int(mask_bits),
        "q_direct": qd["ssim"], "q_key": qk["ssim"],
        "alpha": qk["ssim"] / qd["ssim"] if qd["ssim"] > 0 else float("nan"),
        "psnr_direct_db": qd["psnr_db"], "psnr_key_db": qk["psnr_db"],
        "msssim_direct": qd["ms_ssim"], "msssim_key": qk["ms_ssim"],
        "reduction_vs_direct": d_bits / c_bits if c_bits else float("inf"),
        "reduction_vs_raw": h * w * 24 / c_bits if c_bits else float("inf"),
    })
    row.update(times)
    return FrameResult(row, direct, key)


# ---- cache -------------------------------------------------------------------------------
def cache_dir() -> Path:
    """``$BSSIM_CACHE`` or ``~/.cache/bssim``."""
    return Path(os.environ.get("BSSIM_CACHE", Path.home() / ".cache" / "bssim")).expanduser()


def library_fingerprint(library: BackgroundLibrary) -> str:
    h = hashlib.sha256()
    for e in library.entries:
        h.update(e.name.encode())
        h.update(content_id(e.image).encode())
    return h.hexdigest()[:16]


def _cache_key(content: str, lib_fp: str, s: PipelineSettings, model_version: str, snr_db: float,
               with_msssim: bool = True) -> str:
    blob = json.dumps({"v": CACHE_FORMAT, "content": content, "library": lib_fp, "settings": s.as_dict(),
                       "model": model_version, "snr_db": round(float(snr_db), 6), "msssim": bool(with_msssim)},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _cache_read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _cache_write(path: Path, row: dict) -> None:
    write_text(path, json.dumps(row, default=float))


def _cache_write_images(path: Path, direct: np.ndarray, key: np.ndarray) -> None:
    from bssim.pipeline.io import write_image

    write_image(path.with_suffix(".direct.png"), direct)
    write_image(path.with_suffix(".key.png"), key)


def _cache_read_images(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    from bssim.pipeline.io import read_image

    d, k = path.with_suffix(".direct.png"), path.with_suffix(".key.png")
    if not (d.is_file() and k.is_file()):
        return None
    return read_image(d), read_image(k)


def measure(
    frame: np.ndarray,
    library: BackgroundLibrary,
    snr_db: float | Iterable[float] = 10.0,
    settings: PipelineSettings = PipelineSettings(),
    model=None,
    use_cache: bool = True,
    cache: Path | None = None,
    with_msssim: bool = True,
) -> list[dict]:
    """Measurement rows (one per SNR) for one frame/image; cached (see module docstring)."""
    rows = measure_frames({0: frame}, library, snr_db, settings, model, use_cache=use_cache, cache=cache,
                          progress=False, as_rows=True, with_msssim=with_msssim)
    return rows


def measure_frames(
    frames: Mapping[int, np.ndarray] | Iterable[tuple[int, np.ndarray]],
    library: BackgroundLibrary,
    snr_db: float | Iterable[float] = (0, 5, 10, 15, 20),
    settings: PipelineSettings = PipelineSettings(),
    model=None,
    *,
    use_cache: bool = True,
    cache: Path | None = None,
    progress: bool = False,
    keep_images: Iterable[int] = (),
    images_out: dict | None = None,
    as_rows: bool = False,
    with_msssim: bool = True,
):
    """One row per (frame, snr_db): columns ``content, frame, snr_db, channel, D_bits, C_bits,
    q_direct, q_key, alpha, matched`` plus PSNR/MS-SSIM of both paths, side/mask bits,
    reduction factors and per-stage times (seconds). ``frames``: {index: RGB frame} or pairs.

    For frames listed in ``keep_images`` the reconstructions are stored in ``images_out``
    as {(frame, snr_db): (original, direct, key)} (cached as PNG next to the row).
    ``with_msssim=False`` skips MS-SSIM (NaN columns), which dominates the time on a CPU."""
    require_nonempty(library)
    snrs = [float(snr_db)] if np.isscalar(snr_db) else [float(x) for x in snr_db]
    if not snrs:
        raise ValueError("snr_db: give at least one SNR value")
    items = list(frames.items()) if isinstance(frames, Mapping) else list(frames)
    keep = set(int(k) for k in keep_images)
    model = get_model(model)
    mv = getattr(model, "model_version", "untracked")
    lib_fp = library_fingerprint(library)
    cdir = (cache or cache_dir()) / "pipeline"
    rows: list[dict] = []
    it = items
    if progress:
        from tqdm import tqdm

        it = tqdm(items, desc="frames", unit="frame")
    for idx, frame in it:
        frame = check_rgb(frame, f"frame {idx}")
        cid = content_id(frame)
        ki = None
        for snr in snrs:
            key = _cache_key(cid, lib_fp, settings, mv, snr, with_msssim)
            path = cdir / key[:2] / f"{key}.json"
            want_img = int(idx) in keep and images_out is not None
            row = _cache_read(path) if use_cache else None
            imgs = None
            if row is not None and want_img:
                imgs = _cache_read_images(path)
                if imgs is None:
                    row = None  # images not cached: recompute this row
            if row is None:
                if ki is None:
                    ki = extract_key_info(frame, library, settings)
                fr = run_frame(frame, library, snr, settings, model, key_info=ki, with_msssim=with_msssim)
                row = fr.row
                row["content"] = cid
                if use_cache:
                    _cache_write(path, row)
                    if want_img:
                        _cache_write_images(path, fr.direct, fr.key)
                if want_img:
                    images_out[(int(idx), snr)] = (frame, fr.direct, fr.key)
                row["cached"] = False
            else:
                if want_img:
                    images_out[(int(idx), snr)] = (frame, *imgs)
                row["cached"] = True
            row = dict(row)
            row["frame"] = int(idx)
            rows.append(row)
    if as_rows:
        return rows
    df = pd.DataFrame(rows)
    first = ["content", "frame", "snr_db", "channel", "D_bits", "C_bits", "q_direct", "q_key", "alpha", "matched"]
    return df[first + [c for c in df.columns if c not in first]]


def write_table(df: pd.DataFrame, stem: Path) -> tuple[Path, Path]:
    """``<stem>.parquet`` and ``<stem>.csv``, each written atomically."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for suffix in (".parquet", ".csv"):
        final = stem.with_suffix(suffix)
        with atomic_path(final) as tmp:
            if suffix == ".parquet":
                df.to_parquet(tmp, index=False)
            else:
                df.to_csv(tmp, index=False)
        out.append(final)
    return out[0], out[1]
