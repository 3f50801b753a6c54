"""The seed's claims re-measured with every codec (issue 17): key information against direct.

For each media (vtest.avi's evaluation frames with a library from the video, Megamind.avi
with one background per shot, Kodak photographs without a library) and each codec, every
frame is measured at full resolution over a dense ladder of rate settings (standard codecs:
quality 5…90; the JSCC: every channel level), direct and key. Per frame and key option
(C bits, whole-frame PSNR Q, PSNR inside the people Q_fg):

* **D/C at the same setting**: the seed's data ratio, direct's bits at the same codec setting
  over key's;
* **D/C at equal quality**: the bits direct needs to reach Q (or Q_fg inside the people),
  interpolated on its rate–distortion curve (PSNR against log bits; NaN where direct's ladder
  does not reach it), over C;
* **PSNR gain at equal bits**: Q − direct's PSNR at C bits (whole frame and inside the people).

The tables give medians over frames and key settings; Kodak (no shared background: no key
option) gives each codec's bits per pixel at 30 dB. Rows and tables are written to ``out``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bssim.codecs import CodecConfig, make_codec
from bssim.content.media import load_media
from bssim.options.catalog import measure_media
from bssim.options.measure import MeasureSpec
from bssim.paths import shared_data
from bssim.results import write_table
from bssim.scenario import Media
from bssim.studies.docs import cell

CODECS = ("avif", "webp", "jpeg2000", "jscc_digital")
QUALITIES = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90)
MEDIA = (
    ("vtest", Media(path="vtest.avi", frames="400:795:100")),
    ("Megamind", Media(path="Megamind.avi", frames="25:270:50", segment_threshold=0.03)),
    ("kodak", Media(path="kodak", files=6)),
)
SEED_CLAIM = 20.0  # seed 000: key information needs "> 20x" less data than direct transmission


def measure_rows(codecs=CODECS, qualities=QUALITIES, media=MEDIA, progress: bool = True) -> pd.DataFrame:
    """Every (media, frame, scheme, codec, setting) at scale 1: long rows with ``media``."""
    cfg = CodecConfig(qualities=tuple(qualities), channel_levels="model")
    built = [make_codec(n, cfg) for n in codecs]
    spec = MeasureSpec(scales=(1.0,))
    frames = []
    for name, entry in media:
        m = load_media(entry.model_copy(update={"path": str(shared_data(entry.path))}), None, f"media {name}")
        frames.append(pd.DataFrame(measure_media(m, built, spec)).assign(media=name))
    return pd.concat(frames, ignore_index=True)


def _interp_bits(direct: pd.DataFrame, column: str, target: float) -> float:
    """Bits direct needs for ``target`` of ``column`` (log-linear in bits; NaN outside its ladder)."""
    d = direct.sort_values("bits")
    q, b = np.maximum.accumulate(d[column].to_numpy(float)), np.log(d["bits"].to_numpy(float))
    if not np.isfinite(target) or target < q[0] or target > q[-1]:
        return float("nan")
    return float(np.exp(np.interp(target, q, b)))


def _interp_quality(direct: pd.DataFrame, column: str, bits: float) -> float:
    """Direct's ``column`` at ``bits`` (linear in log bits; NaN outside its ladder)."""
    d = direct.sort_values("bits")
    b = np.log(d["bits"].to_numpy(float))
    if np.log(bits) < b[0] or np.log(bits) > b[-1]:
        return float("nan")
    return float(np.interp(np.log(bits), b, d[column].to_numpy(float)))


def pairs(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (media, frame, codec, key setting): the comparisons of the module docstring."""
    out = []
    for (media, frame, codec), g in rows.groupby(["media", "frame", "codec"], sort=False):
        direct, key = g[g.scheme == "direct"], g[g.scheme == "key"]
        same = direct.set_index("setting")
        for _, k in key.iterrows():
            d_same = same.loc[k["setting"]]
            out.append({
                "media": media, "frame": frame, "codec": codec, "setting": k["setting"], "C_bits": k["bits"],
                "D_bits_same_setting": d_same["bits"], "ratio_same_setting": d_same["bits"] / k["bits"],
                "ratio_equal_psnr": _interp_bits(direct, "psnr_db", k["psnr_db"]) / k["bits"],
                "ratio_equal_psnr_fg": _interp_bits(direct, "psnr_fg_db", k["psnr_fg_db"]) / k["bits"],
                "gain_equal_bits_db": k["psnr_db"] - _interp_quality(direct, "psnr_db", k["bits"]),
                "gain_fg_equal_bits_db": k["psnr_fg_db"] - _interp_quality(direct, "psnr_fg_db", k["bits"]),
                "psnr_key_db": k["psnr_db"], "psnr_direct_same_db": d_same["psnr_db"],
                "psnr_fg_key_db": k["psnr_fg_db"], "psnr_fg_direct_same_db": d_same["psnr_fg_db"],
                "ssim_key": k["ssim"], "ssim_direct_same": d_same["ssim"],
            })
    return pd.DataFrame(out)


def summary(p: pd.DataFrame) -> pd.DataFrame:
    """Medians per media and codec (NaN-aware), with the share of key options whose D/C at equal
    whole-frame PSNR exceeds the seed's 20x."""
    cols = ["ratio_same_setting", "ratio_equal_psnr", "ratio_equal_psnr_fg", "gain_equal_bits_db",
            "gain_fg_equal_bits_db", "psnr_key_db", "psnr_direct_same_db", "psnr_fg_key_db", "psnr_fg_direct_same_db",
            "ssim_key", "ssim_direct_same"]
    g = p.groupby(["media", "codec"], sort=False)
    s = g[cols].median()
    s["share_over_20x_same_setting"] = g["ratio_same_setting"].apply(lambda r: float((r > SEED_CLAIM).mean()))
    s["options"] = g.size()
    return s.reset_index()


def kodak_bits_at(rows: pd.DataFrame, psnr_target_db: float = 30.0) -> pd.DataFrame:
    """Each codec's bits per pixel for ``psnr_target_db`` on the Kodak images (median over images)."""
    out = []
    k = rows[(rows["media"] == "kodak") & (rows["scheme"] == "direct")]
    for codec, g in k.groupby("codec", sort=False):
        bpp = [_interp_bits(f, "psnr_db", psnr_target_db) / (f["height"].iloc[0] * f["width"].iloc[0])
               for _, f in g.groupby("frame")]
        out.append({"codec": codec, "bpp_at_target": float(np.nanmedian(bpp)) if np.isfinite(bpp).any() else np.nan,
                    "images_reaching": int(np.isfinite(bpp).sum()), "images": len(bpp), "psnr_target_db": psnr_target_db})
    return pd.DataFrame(out)


def run(out: str | Path, codecs=CODECS, qualities=QUALITIES, media=MEDIA) -> dict:
    """Measure, compare, write ``codec_claims_rows``, ``codec_claims_pairs``, ``codec_claims_summary``
    (Parquet + CSV) under ``out``; returns the summary and the Kodak table as records."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = measure_rows(codecs, qualities, media)
    p = pairs(rows[rows["media"] != "kodak"])
    s = summary(p)
    k = kodak_bits_at(rows)
    write_table(rows.drop(columns=["background"], errors="ignore"), out / "codec_claims_rows")
    write_table(p, out / "codec_claims_pairs")
    write_table(s, out / "codec_claims_summary")
    return {"summary": s.to_dict("records"), "kodak": k.to_dict("records")}


def render_markdown(res: dict) -> str:
    """The two tables of docs/pipeline.md's codec section."""
    lines = ["| media | codec | D/C same setting | share > 20× | D/C equal PSNR | D/C equal PSNR in people | "
             "PSNR gain at equal bits (dB) | in people (dB) | key / direct PSNR same setting (dB) | "
             "key / direct SSIM |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in res["summary"]:
        lines.append(f"| {r['media']} | {r['codec']} | {cell(r['ratio_same_setting'], '.1f')} | "
                     f"{cell(r['share_over_20x_same_setting'], '.0%')} | {cell(r['ratio_equal_psnr'], '.1f')} | "
                     f"{cell(r['ratio_equal_psnr_fg'], '.2f')} | {cell(r['gain_equal_bits_db'], '+.1f')} | "
                     f"{cell(r['gain_fg_equal_bits_db'], '+.1f')} | {cell(r['psnr_key_db'], '.1f')} / "
                     f"{cell(r['psnr_direct_same_db'], '.1f')} | {cell(r['ssim_key'], '.3f')} / {cell(r['ssim_direct_same'], '.3f')} |")
    lines += ["", "| Kodak (no library: direct only) | bits per pixel at 30 dB PSNR (median) | images reaching 30 dB |",
              "|---|---:|---:|"]
    for r in res["kodak"]:
        lines.append(f"| {r['codec']} | {cell(r['bpp_at_target'], '.3f')} | {r['images_reaching']} / {r['images']} |")
    return "\n".join(lines) + "\n"
