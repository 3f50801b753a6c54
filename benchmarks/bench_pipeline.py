"""Time per stage of the key-information pipeline per 768x576 vtest.avi frame.

Goal (issue 4): whole key path (match, extract, JSCC encode+channel+decode, synthesise)
< 100 ms per frame with bgdiff and < 500 ms with rembg, on the project's 2-core CPU.

    .venv/bin/python benchmarks/bench_pipeline.py [--frames 5] [--snr 10] [--distractors] [--json]

Quality metrics are not part of the path and are not timed (MS-SSIM is skipped).
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import pandas as pd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=5)
    ap.add_argument("--snr", type=float, default=10.0)
    ap.add_argument("--extractors", default="bgdiff,rembg,hybrid")
    ap.add_argument("--distractors", action="store_true", help="library of 64 backgrounds instead of 1")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads (0: torch's default). On a shared, oversubscribed CPU 1 is much faster")
    a = ap.parse_args()

    import torch


    from bssim.paths import shared_data
    from bssim.pipeline import BackgroundLibrary, PipelineSettings, read_frames, run_frame
    from bssim.pipeline.experiments import distractor_library
    from bssim.pipeline.extract import rembg_session, set_threads
    from bssim.pipeline.measure import extract_key_info, get_model
    from bssim.pipeline.video import video_background

    video = shared_data("vtest.avi")
    model = get_model()
    t = time.perf_counter()
    bg = video_background(video, 60).image
    t_lib = time.perf_counter() - t
    lib = distractor_library(bg) if a.distractors else BackgroundLibrary()
    if not a.distractors:
        lib.add("vtest_bg", bg)
    idx = np.linspace(100, 700, a.frames).round().astype(int).tolist()
    frames = read_frames(video, idx)
    if a.threads:
        set_threads(a.threads)
    rembg_session("u2netp")  # load once, outside the timings
    rows = []
    for ex in a.extractors.split(","):
        s = PipelineSettings(extractor=ex)
        f0 = frames[idx[0]]
        run_frame(f0, lib, a.snr, s, model, extract_key_info(f0, lib, s), with_msssim=False)  # warm-up
        for i, f in frames.items():
            ki = extract_key_info(f, lib, s)
            r = run_frame(f, lib, a.snr, s, model, key_info=ki, with_msssim=False).row
            rows.append({"extractor": ex, "frame": i, **{k: r[k] for k in r if k.startswith("t_")},
                         "n_boxes": r["n_boxes"], "box_fraction": r["box_fraction"]})
    df = pd.DataFrame(rows)
    cols = ["t_match_s", "t_extract_s", "t_boxes_s", "t_key_jscc_s", "t_synth_s", "t_key_total_s", "t_direct_jscc_s"]
    summ = (df.groupby("extractor")[cols].median() * 1000).round(1)
    summ.columns = [c[:-2] + "_ms" for c in cols]
    summ["goal_ms"] = [100 if e == "bgdiff" else 500 for e in summ.index]
    summ["meets_goal"] = summ["t_key_total_ms"] < summ["goal_ms"]
    info = {"library_size": len(lib), "library_build_s": round(t_lib, 2), "frames": idx, "snr_db": a.snr,
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
