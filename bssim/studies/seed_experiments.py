"""The seed's section V experiments, and the comparisons that set the pipeline's defaults.

``run_all(out)`` (CLI: ``bssim pipeline experiments --out docs/figures``) writes figures
``pipeline_*.png`` and the numbers ``pipeline_results.json`` / ``pipeline_*.csv``. Every
option is measured by :func:`bssim.options.measure.measure_item` at the JSCC's full rate
(scale 1, its top channel level): quality over the channel at each SNR (``analog``
measurement, the seed's figures) and the payload as real bitstreams (``digital``: D_n, C_n):

1. video (seed V.B, Fig. 9): vtest.avi, library built from the video itself (temporal
   median), evenly spaced frames, PSNR vs SNR for direct JSCC and the key method;
2. images with an existing library (seed V.A, Figs. 6-7): a library of 61 backgrounds
   (vtest's background built from frames 0-399 only, 21 Kodak images, 38 training
   photographs, the mirrored vtest background); images: vtest frames 450-750 (people on the
   known background, not used to build it) and 3 other Kodak photographs (no background in
   the library: matching must fail and they go the direct way);
3. data reduction: raw 24 bit/pixel and D_n against C_n;
4. extractor x alpha-mode comparison on the reconstructed frame (sets the defaults);
5. matching accuracy with distractors.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bssim.jscc.digital import code_levels
from bssim.codecs.jscc import JsccAnalog
from bssim.codecs.jscc_common import jscc_model
from bssim.codecs.jscc_digital import JsccDigital
from bssim.options.measure import MeasureSpec, measure_item
from bssim.paths import shared_data
from bssim.files import list_images, read_frames, read_image, write_image
from bssim.pipeline.library import BackgroundLibrary
from bssim.pipeline.matching import match_background
from bssim.pipeline.transmitter import PipelineSettings
from bssim.pipeline.video import temporal_background, video_background
from bssim.results import write_table
from bssim.studies.docs import replace_section
from bssim.metrics import psnr_db
from bssim.pipeline.video import LiveBackground
from bssim.pipeline.video import interpolate_frame
from bssim.pipeline.extract import ExtractorSettings, extract_foreground
from bssim.pipeline.keyinfo import boxes_from_mask
from bssim.plot import _subplots
from bssim.plot import side_by_side

KODAK_TEST = ("kodim05", "kodim15", "kodim21")  # people (05, 15) and a scene (21)


def distractor_library(true_bg: np.ndarray, orb_features: int = 1000, exclude=KODAK_TEST) -> BackgroundLibrary:
    """vtest's background among Kodak (less the test images ``exclude``), the training
    photographs and the mirrored background."""
    lib = BackgroundLibrary(orb_features=orb_features)
    lib.add("vtest_bg", true_bg)
    for p in list_images(shared_data("kodak")):
        if p.stem in exclude:
            continue
        lib.add("kodak_" + p.stem, read_image(p))
    for p in list_images(shared_data("train_images")):
        lib.add("train_" + p.stem, read_image(p, allow_grey=True))
    lib.add("vtest_mirrored", np.ascontiguousarray(true_bg[:, ::-1]))
    return lib


def matching_accuracy(frames: dict[int, np.ndarray], lib: BackgroundLibrary, truth: str, s: PipelineSettings) -> dict:
    ok = 0
    margins = []
    for f in frames.values():
        r = match_background(f, lib, None, n_features=s.orb_features, hamming_max=s.hamming_max, n_min=s.n_min)
        ok += int(r.matched and r.name == truth)
        c = dict(zip(lib.names, r.counts))
        margins.append((c[truth], max(v for k, v in c.items() if k != truth)))
    return {"frames": len(frames), "correct": ok, "accuracy": ok / len(frames),
            "n_true_min": int(min(m[0] for m in margins)), "n_distractor_max": int(max(m[1] for m in margins))}


def full_rate_specs(model, snrs, s: PipelineSettings = PipelineSettings()) -> tuple[MeasureSpec, MeasureSpec]:
    """(analog spec at ``snrs``, digital spec) at scale 1."""
    return (MeasureSpec(scales=(1.0,), mode="analog", pipeline=s, snr_db=tuple(float(x) for x in snrs)),
            MeasureSpec(scales=(1.0,), mode="digital", pipeline=s))


def full_rate_codecs(model) -> tuple[JsccAnalog, JsccDigital]:
    """(the JSCC over the analog link, its bitstream) at its top channel level (the seed's full rate)."""
    top = (max(model.rate_levels),) if getattr(model, "rate_levels", None) else "model"
    return JsccAnalog(model, top), JsccDigital(model, 6, top)


def paired(frame_id, rows: list[dict], bit_rows: list[dict]) -> list[dict]:
    """One row per SNR with direct and key side by side; a frame without a match keeps key = direct
    (seed II.B: the frame goes the direct way). D_bits, C_bits from the digital measurement."""
    bits = {r["scheme"]: r["bits"] for r in bit_rows}
    out = []
    for snr in sorted({r["snr_db"] for r in rows}):
        by = {r["scheme"]: r for r in rows if r["snr_db"] == snr}
        d, k = by["direct"], by.get("key", by["direct"])
        c_bits = bits.get("key", bits["direct"])
        out.append({"frame": frame_id, "snr_db": snr, "matched": d["matched"], "n_boxes": d["n_boxes"],
                    "psnr_direct_db": d["psnr_db"], "psnr_key_db": k["psnr_db"], "psnr_fg_direct_db": d["psnr_fg_db"],
                    "psnr_fg_key_db": k["psnr_fg_db"], "q_direct": d["ssim"], "q_key": k["ssim"],
                    "alpha": k["ssim"] / d["ssim"], "D_bits": bits["direct"], "C_bits": c_bits,
                    "reduction_vs_direct": bits["direct"] / c_bits, "reduction_vs_raw": 24 * d["height"] * d["width"] / c_bits,
                    **{f: k.get(f, float("nan")) for f in ("fg_fraction", "box_fraction", "fg_missed_fraction",
                                                           "t_extract_s")}})
    return out


def measure_pairs(frames: dict, lib, model, snrs, s: PipelineSettings = PipelineSettings(), keep: int | None = None,
                  images: dict | None = None) -> pd.DataFrame:
    """:func:`paired` rows for every frame; ``keep``: also store that frame's images in ``images``."""
    analog, digital = full_rate_specs(model, snrs, s)
    c_analog, c_digital = full_rate_codecs(model)
    rows = []
    for i, f in frames.items():
        res = measure_item(f, lib, [c_analog], analog, content_key=f"study{i}", keep_images=(i == keep))
        rows += paired(i, res.rows, measure_item(f, lib, [c_digital], digital).rows)
        if i == keep and images is not None:
            images.update({(scheme, label, snr): im for (scheme, _c, label, snr), im in res.images.items()})
    return pd.DataFrame(rows)


def compare_extractors(frames: dict[int, np.ndarray], lib: BackgroundLibrary, snrs, model,
                       extractors=("bgdiff", "hybrid", "rembg"),
                       alpha_modes=("receiver_diff", "receiver_rembg", "sent", "box")) -> pd.DataFrame:
    rows = []
    for ex in extractors:
        for am in alpha_modes:
            df = measure_pairs(frames, lib, model, snrs, PipelineSettings(extractor=ex, alpha_mode=am))
            rows.append(df.assign(extractor=ex, alpha_mode=am))
    return pd.concat(rows, ignore_index=True)


def live_mode_experiment(video: Path, model, step: int = 5, warmup: int = 10) -> dict:
    """Seed III.D live mode over the whole video (every ``step``-th frame): the library starts
    from the first ``warmup`` sampled frames and is updated through the JSCC as a digital
    codec (real bitstreams, error-free); reports the update bits and how the receiver's
    library compares with the offline one."""

    def send(img):
        [(data, dec)] = code_levels(model, img)
        return dec, 8 * len(data)

    live = LiveBackground(warmup=warmup)
    frames = read_frames(video, range(0, 795, step))
    for f in frames.values():
        live.push(f, send)
    offline = video_background(video, 60).image
    return {"frames_fed": len(frames), "updates": len(live.updates),
            "update_frames": [u.frame * step for u in live.updates][:50],
            "total_update_bits": live.total_bits, "first_update_bits": live.updates[0].bits,
            "later_update_bits": live.total_bits - live.updates[0].bits,
            "seen_fraction": float(live.seen.mean()),
            "psnr_receiver_vs_offline_db": psnr_db(offline, live.receiver),
            "psnr_sent_vs_offline_db": psnr_db(offline, live.sent)}


def interpolation_experiment(video: Path, frames=(100, 300, 500, 700), gap: int = 2) -> dict:
    """Seed III.E frame skipping: frame t is not sent and is interpolated at the receiver
    from t - gap/2 and t + gap/2 (OpenCV DIS flow); PSNR against the true frame, compared
    with repeating the previous frame and with a plain average."""

    h = gap // 2
    rows = []
    for t in frames:
        fr = read_frames(video, [t - h, t, t + h])
        a, m, b = fr[t - h], fr[t], fr[t + h]
        t0 = time.perf_counter()
        mid = interpolate_frame(a, b)
        dt = time.perf_counter() - t0
        avg = ((a.astype(np.uint16) + b) // 2).astype(np.uint8)
        rows.append({"frame": t, "psnr_dis_db": psnr_db(m, mid), "psnr_repeat_db": psnr_db(m, a),
                     "psnr_average_db": psnr_db(m, avg), "t_interp_s": dt})
    df = pd.DataFrame(rows)
    return {"gap": gap, "per_frame": rows, "mean": df.drop(columns="frame").mean().to_dict()}


def extractor_figure(frame: np.ndarray, background: np.ndarray, path: Path) -> dict:
    """Masks (red) and boxes (green) of the three extractors on one frame, side by side."""
    import cv2


    panels, stats = [], {}
    for name in ("bgdiff", "rembg", "hybrid"):
        m = extract_foreground(frame, background, ExtractorSettings(name))
        b = boxes_from_mask(m, 8, quantum_px=4)
        vis = frame.copy()
        vis[m] = (0.45 * vis[m] + 0.55 * np.array([255, 0, 0])).astype(np.uint8)
        for x1, y1, x2, y2 in b:
            cv2.rectangle(vis, (int(x1), int(y1)), (int(x2) - 1, int(y2) - 1), (0, 255, 0), 2)
        crop = vis[100:356, 150:662].copy()
        cv2.putText(crop, f"{name}: {100 * m.mean():.2f} % px, {len(b)} boxes", (6, 20), cv2.FONT_HERSHEY_SIMPLEX,
                    0.55, (255, 255, 255), 2, cv2.LINE_AA)
        panels.append(crop)
        stats[name] = {"foreground_percent": 100 * float(m.mean()), "boxes": len(b)}
    write_image(path, np.concatenate(panels, axis=1))
    return stats


def _plot_curves(df: pd.DataFrame, path: Path, title: str, by: str = "label") -> None:

    fig, axes = _subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, col, name in ((axes[0, 0], "psnr_direct_db", "direct deep JSCC (seed Fig. 6)"),
                          (axes[0, 1], "psnr_key_db", "key information (seed Fig. 7/9)")):
        for lab, g in df.groupby(by):
            m = g.groupby("snr_db")[col].mean()
            ax.plot(m.index, m.values, marker="o", label=str(lab))
        ax.set_title(name)
        ax.set_xlabel("channel SNR (dB)")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("PSNR of the whole image (dB)")
    axes[0, 1].legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _plot_video(df: pd.DataFrame, path: Path, title: str) -> None:

    fig, axs = _subplots(figsize=(6, 4))
    ax = axs[0, 0]
    for col, lab, ls in (("psnr_direct_db", "direct deep JSCC, whole frame", "-"),
                         ("psnr_key_db", "key information, whole frame", "-"),
                         ("psnr_fg_direct_db", "direct, inside the people", "--"),
                         ("psnr_fg_key_db", "key, inside the people", "--")):
        g = df.groupby("snr_db")[col]
        ax.errorbar(g.mean().index, g.mean().values, yerr=[g.mean() - g.min(), g.max() - g.mean()], marker="o",
                    capsize=3, ls=ls, label=f"{lab}")
    ax.set_xlabel("channel SNR (dB)")
    ax.set_ylabel("PSNR (dB)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(title + "\n(mean, bars: min-max over frames)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _video_experiment(out: Path, video: Path, model, snrs, n_video_frames: int, s: PipelineSettings) -> tuple[dict, object]:
    """Seed V.B: vtest frames against a library built from the video itself."""

    vb = video_background(video, 60)
    lib_v = BackgroundLibrary(orb_features=s.orb_features)
    lib_v.add("vtest_bg", vb.image, source="temporal median of 60 frames of vtest.avi")
    write_image(out / "pipeline_vtest_background.png", vb.image)
    idx = np.linspace(50, 750, n_video_frames).round().astype(int).tolist()
    images: dict = {}
    mid = idx[len(idx) // 2]
    frames_v = read_frames(video, idx)
    dfv = measure_pairs(frames_v, lib_v, model, snrs, s, keep=mid, images=images)
    write_table(dfv, out / "pipeline_video")
    mv = model.model_version
    _plot_video(dfv, out / "pipeline_psnr_vs_snr_video.png", f"vtest.avi, {len(idx)} frames, library from the video (JSCC {mv})")
    snr = 10.0 if 10.0 in snrs else float(snrs[len(snrs) // 2])
    top = [k for k in images if k[0] == "direct" and k[2] == snr]
    if top:
        d, k = images[top[0]], images[("key", top[0][1], snr)]
        y, x = slice(100, 356), slice(150, 662)  # the pedestrians' area at full resolution
        write_image(out / "pipeline_example_vtest.png", side_by_side(frames_v[mid][y, x], d[y, x], k[y, x], f"{snr:g} dB"))
    cols = ["psnr_direct_db", "psnr_key_db", "psnr_fg_direct_db", "psnr_fg_key_db", "q_direct", "q_key", "alpha",
            "D_bits", "C_bits", "reduction_vs_direct", "reduction_vs_raw", "box_fraction"]
    return {"frames": idx, "hole_fraction": vb.hole_fraction, "matched": float(dfv["matched"].mean()),
            "by_snr": dfv.groupby("snr_db")[cols].mean().reset_index().to_dict("records")}, lib_v


def _images_experiment(out: Path, video: Path, model, snrs, s: PipelineSettings) -> tuple[dict, BackgroundLibrary]:
    """Seed V.A: vtest frames and Kodak photographs against a library with distractors."""
    early = read_frames(video, range(0, 400, 10))
    lib_i = distractor_library(temporal_background(early).image, s.orb_features)
    items = {f"vtest#{i}": f for i, f in read_frames(video, [450, 550, 650, 750]).items()}
    for k in KODAK_TEST:
        items[k] = read_image(shared_data("kodak", f"{k}.png"))
    names = list(items)
    dfi = measure_pairs({j: items[n] for j, n in enumerate(names)}, lib_i, model, snrs, s)
    dfi["label"] = [names[j] for j in dfi["frame"]]
    write_table(dfi, out / "pipeline_images")
    _plot_curves(dfi, out / "pipeline_psnr_vs_snr_images.png",
                 f"images vs a {len(lib_i)}-background library (JSCC {model.model_version}); Kodak: no matching background -> direct")
    cols = ["matched", "psnr_direct_db", "psnr_key_db", "q_direct", "q_key", "alpha", "reduction_vs_raw",
            "reduction_vs_direct"]
    return {"library": lib_i.names[:1] + [f"... {len(lib_i) - 1} distractors"],
            "per_image": dfi.groupby("label")[cols].mean().reset_index().to_dict("records")}, lib_i


def _box_experiment(frames: dict, lib, model) -> list[dict]:
    """The seed's single box around all foreground vs one box per component (bgdiff, 10 dB)."""
    rows = []
    for single in (False, True):
        df = measure_pairs(frames, lib, model, (10.0,), PipelineSettings(single_box=single))
        rows.append(df.assign(single_box=single))
    cols = ["single_box", "C_bits", "D_bits", "box_fraction", "n_boxes", "psnr_key_db", "q_key", "reduction_vs_raw"]
    return pd.concat(rows)[cols].groupby("single_box").mean().reset_index().to_dict("records")


def run_all(out: str | Path, snrs=(0, 5, 10, 15, 20), n_video_frames: int = 6, checkpoint=None,
            compare_frames=(150, 450, 750), compare_snrs=(5, 20)) -> dict:
    """Every experiment of the module docstring; returns the numbers (also written as JSON and Markdown)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    video = shared_data("vtest.avi")
    if not video.is_file():
        raise FileNotFoundError(f"shared video missing: {video}")
    model = jscc_model(None if checkpoint is None else str(checkpoint))
    s = PipelineSettings()
    results: dict = {"model_version": model.model_version, "settings": s.as_dict(), "snrs_db": list(map(float, snrs))}
    t0 = time.time()
    results["video"], lib_v = _video_experiment(out, video, model, snrs, n_video_frames, s)
    results["images"], lib_i = _images_experiment(out, video, model, snrs, s)
    results["matching"] = matching_accuracy(read_frames(video, range(400, 795, 10)), lib_i, "vtest_bg", s)
    results["extractor_masks_frame300"] = extractor_figure(read_frames(video, [300])[300],
                                                           lib_v.entries[0].image, out / "pipeline_extractors_frame300.png")
    cf = read_frames(video, list(compare_frames))
    dfc = compare_extractors(cf, lib_v, compare_snrs, model)
    write_table(dfc, out / "pipeline_extractors")
    summ = dfc.groupby(["extractor", "alpha_mode", "snr_db"])[[
        "q_key", "psnr_key_db", "psnr_fg_key_db", "psnr_fg_direct_db", "fg_missed_fraction", "C_bits",
        "fg_fraction", "box_fraction", "t_extract_s"]].mean().reset_index()
    results["extractors"] = summ.to_dict("records")
    results["single_vs_per_person_boxes"] = _box_experiment(cf, lib_v, model)
    results["live_mode"] = live_mode_experiment(video, model)
    results["interpolation"] = {f"gap{g}": interpolation_experiment(video, gap=g) for g in (2, 4)}
    results["elapsed_s"] = time.time() - t0
    (out / "pipeline_results.json").write_text(json.dumps(results, indent=1, default=float))
    (out / "pipeline_results.md").write_text(render_markdown(json.loads(json.dumps(results, default=float))))
    return results


def _md_table(rows: list[dict], cols: list[tuple[str, str, str]]) -> str:
    """Markdown table; ``cols`` = (key, header, format)."""
    out = ["| " + " | ".join(h for _, h, _ in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = []
        for k, _, f in cols:
            v = r.get(k)
            cells.append(format(v, f) if isinstance(v, (int, float)) and f else str(v))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def render_markdown(res: dict) -> str:
    """The measured numbers of :func:`run_all` as Markdown (pasted into docs/pipeline.md)."""
    L = [f"JSCC checkpoint `{res['model_version']}`; run time {res['elapsed_s']:.0f} s. Quality over the channel "
         "(AWGN) at each SNR at the JSCC's full rate; D_n and C_n are the real bitstreams of the same options "
         "(`link.model = \"shannon\"`, 6 bits per latent value, entropy-coded).", ""]
    L += ["**Video (seed V.B, Fig. 9)**: vtest.avi frames " + ", ".join(map(str, res["video"]["frames"]))
          + f", library = temporal median of 60 frames of the video (holes {100 * res['video']['hole_fraction']:.2f} %), "
          f"matched {100 * res['video']['matched']:.0f} % of frames. Means over frames:", ""]
    L.append(_md_table(res["video"]["by_snr"], [
        ("snr_db", "SNR dB", "g"), ("psnr_direct_db", "PSNR direct dB", ".2f"), ("psnr_key_db", "PSNR key dB", ".2f"),
        ("psnr_fg_direct_db", "PSNR people direct", ".2f"), ("psnr_fg_key_db", "PSNR people key", ".2f"),
        ("q_direct", "SSIM direct", ".3f"), ("q_key", "SSIM key", ".3f"), ("alpha", "alpha", ".3f"),
        ("D_bits", "D_n bits", ",.0f"), ("C_bits", "C_n bits", ",.0f"), ("reduction_vs_direct", "D/C", ".1f"),
        ("reduction_vs_raw", "raw/C", ".1f")]))
    L += ["", "**Images with an existing library (seed V.A, Figs. 6-7)**: means over SNRs "
          + ", ".join(f"{s:g}" for s in res["snrs_db"]) + " dB:", ""]
    L.append(_md_table(res["images"]["per_image"], [
        ("label", "image", ""), ("matched", "matched", ".0%"), ("psnr_direct_db", "PSNR direct dB", ".2f"),
        ("psnr_key_db", "PSNR key dB", ".2f"), ("q_direct", "SSIM direct", ".3f"), ("q_key", "SSIM key", ".3f"),
        ("alpha", "alpha", ".3f"), ("reduction_vs_direct", "D/C", ".1f"), ("reduction_vs_raw", "raw/C", ".1f")]))
    m = res["matching"]
    L += ["", f"**Matching with distractors**: {m['correct']}/{m['frames']} frames (vtest 400-790, every 10th; "
          f"library built from frames 0-399) picked the true background; smallest N_k of the true background "
          f"{m['n_true_min']}, largest N_k of any distractor {m['n_distractor_max']} (N_min = {res['settings']['n_min']}, "
          f"T_h = {res['settings']['hamming_max']}).", ""]
    L += ["**Extractor x alpha mode** (frames 150, 450, 750; means; `fg_missed` = share of the reference "
          "foreground outside every box; `PSNR fg` = PSNR inside the reference foreground):", ""]
    L.append(_md_table(res["extractors"], [
        ("extractor", "extractor", ""), ("alpha_mode", "alpha mode", ""), ("snr_db", "SNR dB", "g"),
        ("q_key", "SSIM key", ".3f"), ("psnr_key_db", "PSNR key dB", ".2f"), ("psnr_fg_key_db", "PSNR fg key", ".2f"),
        ("psnr_fg_direct_db", "PSNR fg direct", ".2f"), ("fg_missed_fraction", "fg_missed", ".1%"),
        ("C_bits", "C_n bits (with mask bits when sent)", ",.0f"), ("box_fraction", "boxes/frame", ".1%"),
        ("t_extract_s", "extract s", ".3f")]))
    em = res.get("extractor_masks_frame300")
    if em:
        L += ["", "Frame 300 (figure `pipeline_extractors_frame300.png`): " + "; ".join(
            f"{k} marks {v['foreground_percent']:.2f} % of the pixels in {v['boxes']} boxes" for k, v in em.items()) + "."]
    sb = res.get("single_vs_per_person_boxes")
    if sb:
        L += ["", "**One box (seed) vs one box per person** (default settings, 10 dB, frames 150, 450, 750; means):", ""]
        L.append(_md_table(sb, [("single_box", "single box", ""), ("n_boxes", "boxes", ".1f"),
                                ("box_fraction", "boxes/frame", ".1%"), ("C_bits", "C_n bits", ",.0f"),
                                ("reduction_vs_raw", "raw/C", ".1f"), ("psnr_key_db", "PSNR key dB", ".2f"),
                                ("q_key", "SSIM key", ".3f")]))
    lm = res.get("live_mode")
    if lm:
        L += ["", f"**Live mode (seed III.D)**: {lm['frames_fed']} frames (every 5th), updates coded by the JSCC as "
              f"real bitstreams: {lm['updates']} updates, {lm['total_update_bits']:,} bits in all "
              f"({lm['first_update_bits']:,} for the first background, {lm['later_update_bits']:,} for later ones); "
              f"{100 * lm['seen_fraction']:.1f} % of pixels uncovered; receiver's library vs the offline median: "
              f"{lm['psnr_receiver_vs_offline_db']:.1f} dB PSNR (the transmitter's running estimate: "
              f"{lm['psnr_sent_vs_offline_db']:.1f} dB; the difference is the JSCC's coding loss)."]
    it = res.get("interpolation")
    if it:
        L += ["", "**Frame skipping (seed III.E)**, OpenCV DIS optical flow, PSNR of the skipped frame (means over "
              "frames 100, 300, 500, 700):", ""]
        rows = [{"gap": k, **v["mean"]} for k, v in it.items()]
        L.append(_md_table(rows, [("gap", "gap", ""), ("psnr_dis_db", "DIS interpolation dB", ".2f"),
                                  ("psnr_average_db", "average of neighbours dB", ".2f"),
                                  ("psnr_repeat_db", "repeat previous dB", ".2f"), ("t_interp_s", "time s", ".3f")]))
    return "\n".join(L) + "\n"


def update_docs(doc: str | Path, res: dict) -> None:
    """Replace the text between ``<!-- results:begin -->`` and ``<!-- results:end -->`` in ``doc``."""
    replace_section(doc, "results", render_markdown(res))
