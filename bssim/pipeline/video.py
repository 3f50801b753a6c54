"""Backgrounds from video (seed section III).

- :func:`temporal_background`: per pixel, the median of the frames in which it is not
  foreground (seed III.B combines the uncovered background of all frames; the median makes
  it robust to mask misses). Pixels never uncovered are *holes*: reported, and filled on
  request by ``cv2.inpaint`` (Telea) or by the plain temporal median.
- :func:`segment_by_orb`: split a video whose background changes into segments (III.C):
  a frame starts a new segment when its ORB match ratio to the segment's first frame,
  N / min(n_a, n_b), falls below a threshold.
- :class:`LiveBackground`: the live mode (III.D): starts from the first frames and, as more
  background is uncovered, sends updates of the changed region; their bits are counted.
- :func:`interpolate_frame`: frame skipping (III.E) with OpenCV DIS optical flow at the
  receiver (the seed used RIFE, not available here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from bssim.pipeline.extract import bgdiff_mask, rembg_mask, remove_small
from bssim.files import check_rgb, read_frames, video_info
from bssim.pipeline.orb import match_count, orb_features
from bssim.pipeline.library import BackgroundLibrary
from bssim.pipeline.keyinfo import boxes_from_mask

FILL_MODES = ("inpaint", "median", "none")
MASK_METHODS = ("bgdiff", "rembg")


def masked_median(frames: np.ndarray, fg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel median over frames where ``fg`` is False. ``frames`` (T, H, W, 3) uint8,
    ``fg`` (T, H, W) bool. Returns (median uint8 (H, W, 3), count of uncovered frames (H, W)).
    Sort-based: masked samples get a sentinel above 255, the lower median of the n valid
    ones is element (n - 1) // 2 of the sorted stack."""
    t, h, w, _ = frames.shape
    count = (~fg).sum(axis=0)
    out = np.zeros((h, w, 3), np.uint8)
    step = max(1, (1 << 24) // (t * w * 3))
    for r0 in range(0, h, step):
        r1 = min(h, r0 + step)
        v = frames[:, r0:r1].astype(np.uint16)
        v[fg[:, r0:r1]] = 1000
        v.sort(axis=0)
        k = np.maximum(count[r0:r1] - 1, 0) // 2
        med = np.take_along_axis(v, k[None, :, :, None].repeat(3, axis=3), axis=0)[0]
        out[r0:r1] = np.where(med > 255, 0, med).astype(np.uint8)
    return out, count


@dataclass
class VideoBackground:
    image: np.ndarray  # RGB uint8, holes filled as requested
    holes: np.ndarray  # bool (H, W): never uncovered in the sampled frames
    frames_used: list[int]
    fill: str

    @property
    def hole_fraction(self) -> float:
        return float(self.holes.mean())


def temporal_background(
    frames: dict[int, np.ndarray] | list[np.ndarray],
    mask_method: str = "bgdiff",
    fill: str = "inpaint",
    diff_threshold: float = 30.0,
    dilate_px: int = 5,
    rembg_model: str = "u2netp",
) -> VideoBackground:
    """Background of a static-camera video from its frames (seed III.B).

    Foreground masks: ``bgdiff`` (difference to the plain temporal median, dilated by
    ``dilate_px`` to cover shadows and edges) or ``rembg`` (the seed's). Then the masked
    median; holes filled by ``fill`` (``inpaint``: cv2.inpaint Telea r=5; ``median``: plain
    temporal median; ``none``: black)."""
    if mask_method not in MASK_METHODS:
        raise ValueError(f"mask_method {mask_method!r} unknown; choose one of {', '.join(MASK_METHODS)}")
    if fill not in FILL_MODES:
        raise ValueError(f"fill {fill!r} unknown; choose one of {', '.join(FILL_MODES)}")
    items = list(frames.items()) if isinstance(frames, dict) else list(enumerate(frames))
    if not items:
        raise ValueError("temporal_background: no frames given")
    shape = items[0][1].shape
    for i, f in items:
        check_rgb(f, f"frame {i}")
        if f.shape != shape:
            raise ValueError(f"frame {i} has shape {f.shape}, frame {items[0][0]} has {shape}: one size per video")
    stack = np.stack([f for _, f in items])
    plain, _ = masked_median(stack, np.zeros(stack.shape[:3], bool))
    if mask_method == "bgdiff":
        fg = np.stack([bgdiff_mask(f, plain, diff_threshold) for f in stack])
    else:
        fg = np.stack([remove_small(rembg_mask(f, rembg_model), 60) for f in stack])
    if dilate_px > 0:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate_px + 1,) * 2)
        fg = np.stack([cv2.dilate(m.astype(np.uint8), k) > 0 for m in fg])
    med, count = masked_median(stack, fg)
    holes = count == 0
    if holes.any():
        if fill == "inpaint":
            med = cv2.inpaint(med, holes.astype(np.uint8), 5, cv2.INPAINT_TELEA)
        elif fill == "median":
            med[holes] = plain[holes]
    return VideoBackground(med, holes, [int(i) for i, _ in items], fill)


def video_background(path: str | Path, max_frames: int = 60, **kw) -> VideoBackground:
    """:func:`temporal_background` over ``max_frames`` frames evenly spread over the video."""
    info = video_info(path)
    n = max(1, info["frames"])
    idx = sorted(set(np.linspace(0, n - 1, min(n, max_frames)).round().astype(int).tolist()))
    return temporal_background(read_frames(path, idx), **kw)


# ---- segmentation by ORB similarity (seed III.C) ------------------------------------------
def segment_by_orb(
    frames: dict[int, np.ndarray] | list[np.ndarray],
    threshold: float = 0.3,
    n_features: int = 500,
    hamming_max: int = 40,
) -> list[list[int]]:
    """Split frames into segments of similar background: a frame whose ORB similarity to
    the current segment's first frame is below ``threshold`` starts a new segment."""
    items = list(frames.items()) if isinstance(frames, dict) else list(enumerate(frames))
    if not items:
        return []
    segments: list[list[int]] = []
    ref = None
    for i, f in items:
        feats = orb_features(f, n_features)
        if ref is not None:
            n = min(len(ref), len(feats))
            sim = match_count(ref, feats, hamming_max) / n if n else 0.0
        if ref is None or sim < threshold:
            segments.append([i])
            ref = feats
        else:
            segments[-1].append(i)
    return segments


# ---- live mode (seed III.D) ---------------------------------------------------------------
@dataclass
class LiveUpdate:
    frame: int
    box: tuple[int, int, int, int]
    bits: int


@dataclass
class LiveBackground:
    """Running background for live video (seed III.D).

    Starts from the masked median of the first ``warmup`` frames (holes where never seen),
    sent whole. Afterwards each frame's non-foreground pixels update a per-pixel running
    estimate (exponential average with ``rate``, the first observation of a hole pixel taken
    as is). When the estimate differs from what was last *sent* (the transmitter's copy
    before the channel; > ``delta`` levels in some channel) on more than ``min_pixels``
    pixels, one box per changed region (boxes as for the foreground, 4 px margin, regions
    under 50 px ignored) is sent as an update through ``send`` (a
    function image -> (decoded image, bits); e.g. the JSCC at the link's SNR) and the
    receiver's copy is replaced in that box by the decoded update. Comparing with the sent
    copy, not the receiver's decoded one, keeps channel losses (which a resend cannot
    remove) from triggering updates forever. Bits of all updates are counted, including
    2 (ceil(log2 W) + ceil(log2 H)) bits of box position and size.
    """

    warmup: int = 10
    rate: float = 0.1
    delta: float = 12.0
    min_pixels: int = 2000
    diff_threshold: float = 30.0
    estimate: np.ndarray | None = None  # float32 (H, W, 3) transmitter's estimate
    seen: np.ndarray | None = None  # bool (H, W)
    receiver: np.ndarray | None = None  # uint8, the receiver's library image
    sent: np.ndarray | None = None  # uint8, the transmitter's copy of what it sent
    updates: list[LiveUpdate] = field(default_factory=list)
    _buffer: list[np.ndarray] = field(default_factory=list)
    _n: int = 0

    @property
    def total_bits(self) -> int:
        return int(sum(u.bits for u in self.updates))

    def push(self, frame: np.ndarray, send) -> LiveUpdate | None:
        """Feed one frame; returns the (first) update sent for it, if any."""
        import math

        check_rgb(frame, "frame")
        idx = self._n
        self._n += 1
        h, w = frame.shape[:2]
        box_bits = 2 * (math.ceil(math.log2(w)) + math.ceil(math.log2(h)))
        if self.estimate is None:
            self._buffer.append(frame)
            if len(self._buffer) < self.warmup:
                return None
            vb = temporal_background(self._buffer, fill="none", diff_threshold=self.diff_threshold)
            self.seen = ~vb.holes
            self.estimate = vb.image.astype(np.float32)
            self._buffer = []
            dec, bits = send(vb.image)
            self.receiver = dec.copy()
            self.sent = vb.image.copy()
            up = LiveUpdate(idx, (0, 0, w, h), int(bits) + box_bits)
            self.updates.append(up)
            return up
        fg = bgdiff_mask(frame, np.clip(self.estimate, 0, 255).astype(np.uint8), self.diff_threshold)
        fg = cv2.dilate(fg.astype(np.uint8), np.ones((11, 11), np.uint8)) > 0
        bgpx = ~fg
        new = bgpx & ~self.seen
        old = bgpx & self.seen
        f = frame.astype(np.float32)
        self.estimate[new] = f[new]
        self.estimate[old] += self.rate * (f[old] - self.estimate[old])
        self.seen |= bgpx
        diff = np.abs(self.estimate - self.sent.astype(np.float32)).max(axis=2) > self.delta
        diff &= self.seen
        diff = remove_small(diff, 50)  # isolated specks are noise, never sent
        if int(diff.sum()) < self.min_pixels:
            return None

        sent_up = None
        for (x1, y1, x2, y2) in boxes_from_mask(diff, margin_px=4, min_area_px=50, quantum_px=4):
            region = np.clip(self.estimate[y1:y2, x1:x2] + 0.5, 0, 255).astype(np.uint8)
            dec, bits = send(np.ascontiguousarray(region))
            self.receiver[y1:y2, x1:x2] = dec
            self.sent[y1:y2, x1:x2] = region
            up = LiveUpdate(idx, (x1, y1, x2, y2), int(bits) + box_bits)
            self.updates.append(up)
            sent_up = sent_up or up
        return sent_up


# ---- frame skipping (seed III.E) ----------------------------------------------------------
def interpolate_frame(a: np.ndarray, b: np.ndarray, t: float = 0.5) -> np.ndarray:
    """Frame at time t in (0, 1) between RGB frames ``a`` (t=0) and ``b`` (t=1), by OpenCV
    DIS optical flow (preset MEDIUM) both ways: each frame is backward-warped along t times
    its flow and the two warps are blended with weights (1 - t, t)."""
    if a.shape != b.shape:
        raise ValueError(f"frames differ in shape: {a.shape} vs {b.shape}")
    ga, gb = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    f_ab = dis.calc(ga, gb, None)  # a(p) ~ b(p + f_ab(p))
    f_ba = dis.calc(gb, ga, None)
    h, w = ga.shape
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    # pixel p of the middle frame came from a at p - t f_ab(p) and from b at p - (1-t) f_ba(p)
    # (flow evaluated at p: the usual linear-motion approximation)
    wa = cv2.remap(a, gx - t * f_ab[..., 0], gy - t * f_ab[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    wb = cv2.remap(b, gx - (1 - t) * f_ba[..., 0], gy - (1 - t) * f_ba[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.clip((1 - t) * wa.astype(np.float32) + t * wb.astype(np.float32) + 0.5, 0, 255).astype(np.uint8)


def library_from_video(path: str | Path, max_frames: int = 60, orb_features: int = 1000, fill: str = "inpaint",
                       mask_method: str = "bgdiff", segment_threshold: float | None = None,
                       n_frames: int | None = None):
    """A background library built from a video: one temporal-median background (seed III.B)
    over ``max_frames`` frames evenly spread over its ``n_frames`` first frames (default: the
    container's count), or, with ``segment_threshold``, one per ORB-similarity segment
    (seed III.C)."""

    path = Path(path)
    n = max(1, n_frames if n_frames is not None else video_info(path)["frames"])
    idx = sorted(set(np.linspace(0, n - 1, min(n, max_frames)).round().astype(int).tolist()))
    frames = read_frames(path, idx)
    segments = segment_by_orb(frames, segment_threshold) if segment_threshold else [sorted(frames)]
    lib = BackgroundLibrary(orb_features=orb_features)
    for k, seg in enumerate(segments):
        vb = temporal_background({i: frames[i] for i in seg}, mask_method=mask_method, fill=fill)
        name = f"{path.stem}_bg" if len(segments) == 1 else f"{path.stem}_seg{k}"
        lib.add(name, vb.image, source=f"{path.name} frames {seg[0]}..{seg[-1]} ({len(seg)} sampled), temporal "
                f"median, holes {100 * vb.hole_fraction:.2f} %, fill {fill}")
    return lib
