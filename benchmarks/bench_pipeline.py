"""Time per stage of the key-information pipeline per 768x576 vtest.avi frame, and options
measured per second per codec (what a fresh `make run` pays per item and codec).

Goal (issue 4): whole key path (match, extract, JSCC encode + bitstream + decode, synthesise)
< 100 ms per frame with bgdiff and < 500 ms with rembg, on the project's 2-core CPU.

    .venv/bin/python benchmarks/bench_pipeline.py [--frames 5] [--distractors] [--json]
        [--codecs avif,webp,jpeg2000,jscc_digital]

Options per second: every scheme × rate level of the dense_cell ladder (scales 1, 0.75, 0.5 ×
qualities 10, 30, 50 or channels 4, 8, 16) of one frame, measured (codec, receiver, SSIM and
PSNR) from scratch, divided by the wall time, per codec.

The key path is timed at the JSCC's full rate as a digital codec (the shannon link); quality
metrics are not part of the path and are not timed, except in the menu measurement.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import pandas as pd


def key_path_ms(frame, lib, s, model) -> dict:
    """Transmitter stages, then the crops' JSCC bitstreams, the receiver's alpha and compositing."""
    from bssim.jscc.digital import code_levels
    from bssim.pipeline.synthesis import composite, receiver_alpha
    from bssim.pipeline.transmitter import extract_key_info as transmit

    ki = transmit(frame, lib, s)
    t0 = time.perf_counter()
    crops = []
    for (x1, y1, x2, y2) in ki.boxes:
        [(_, dec)] = code_levels(model, np.ascontiguousarray(frame[y1:y2, x1:x2]))
        crops.append(((x1, y1, x2, y2), dec, receiver_alpha(s.alpha_mode, dec, ki.background[y1:y2, x1:x2], None)))
    t1 = time.perf_counter()
    composite(ki.background, crops)
    t2 = time.perf_counter()
    t_jscc = t1 - t0
    out = {k: 1000 * v for k, v in ki.times.items()}
    out.update(key_jscc_ms=1000 * t_jscc, synth_ms=1000 * (t2 - t1), n_boxes=len(ki.boxes))
    out["key_total_ms"] = sum(out.get(k, 0.0) for k in ("t_match_s", "t_extract_s", "t_boxes_s", "key_jscc_ms", "synth_ms"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=5)
    ap.add_argument("--extractors", default="bgdiff,rembg")
    ap.add_argument("--distractors", action="store_true", help="library of 64 backgrounds instead of 1")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--codecs", default="avif,webp,jpeg2000,jscc_digital")
    a = ap.parse_args()

    import torch

    from bssim.codecs import CodecConfig, make_codec
    from bssim.codecs.jscc_common import jscc_model
    from bssim.options.measure import MeasureSpec, measure_codec, prepare_frame
    from bssim.paths import shared_data
    from bssim.pipeline import BackgroundLibrary, PipelineSettings, read_frames
    from bssim.pipeline.extract import rembg_session, set_threads
    from bssim.pipeline.video import video_background
    from bssim.studies.seed_experiments import distractor_library

    set_threads(1)
    video = shared_data("vtest.avi")
    model = jscc_model(None)
    t = time.perf_counter()
    bg = video_background(video, 60).image
    t_lib = time.perf_counter() - t
    lib = distractor_library(bg) if a.distractors else BackgroundLibrary()
    if not a.distractors:
        lib.add("vtest_bg", bg)
    idx = np.linspace(100, 700, a.frames).round().astype(int).tolist()
    frames = read_frames(video, idx)
    rembg_session("u2netp")  # load once, outside the timings
    rows = []
    for ex in a.extractors.split(","):
        s = PipelineSettings(extractor=ex)
        key_path_ms(frames[idx[0]], lib, s, model)  # warm-up
        rows += [{"extractor": ex, "frame": i, **key_path_ms(f, lib, s, model)} for i, f in frames.items()]
    df = pd.DataFrame(rows).rename(columns={"t_match_s": "match_ms", "t_extract_s": "extract_ms", "t_boxes_s": "boxes_ms"})
    summ = df.groupby("extractor")[["match_ms", "extract_ms", "boxes_ms", "key_jscc_ms", "synth_ms", "key_total_ms"]].median().round(1)
    summ["goal_ms"] = [100 if e == "bgdiff" else 500 for e in summ.index]
    summ["meets_goal"] = summ["key_total_ms"] < summ["goal_ms"]
    spec = MeasureSpec(scales=(1.0, 0.75, 0.5))
    cfg = CodecConfig(qualities=(10, 30, 50), channel_levels=(4, 8, 16))
    prepared = [prepare_frame(f, lib, spec.pipeline) for f in frames.values()]
    per_codec = {}
    for name in a.codecs.split(","):
        codec = make_codec(name, cfg)
        t, n = time.perf_counter(), 0
        for frame in prepared:
            n += len(measure_codec(frame, codec, spec).rows)
        per_codec[name] = {"options": n, "options_per_s": round(n / (time.perf_counter() - t), 2)}
    info = {"library_size": len(lib), "library_build_s": round(t_lib, 2), "frames": idx,
            "options_per_s_by_codec": per_codec,
            "torch_threads": torch.get_num_threads(), "cpu": platform.processor() or platform.machine(),
            "model_version": model.model_version}
    if a.json:
        print(json.dumps({"info": info, "median_ms": summ.reset_index().to_dict("records")}, indent=1, default=str))
    else:
        print(info)
        print("median per frame (ms):")
        print(summ.to_string())


if __name__ == "__main__":
    main()
