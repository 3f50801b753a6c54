"""Seeds 001 and 003's claims re-measured at equal bits (docs/seeds.md).

**Seed 001** (:func:`seb_claim`): Seb + codec against the same codec alone.

Seed 001 reports +0.5–1.5 dB PSNR over the same codec without Seb. For each media (the first
Kodak photographs; vtest.avi's evaluation frames 400+ and Megamind.avi's 135+, never the
frames the codebooks were fitted on) and each digital codec, every frame is measured at full
resolution over a dense quality ladder, ``direct`` and ``seb`` (every shipped granularity).
Per frame and Seb option (C bits, PSNR Q): the **gain at equal bits** Q − direct's PSNR at C
bits, interpolated on direct's rate–distortion curve (PSNR against log bits; NaN where direct's
ladder does not reach C). The summary gives medians per media, codec and granularity, the
share of options with a gain of at least 0.5 dB, the Seb reference's own PSNR and the index
stream's share of the bits.

**Seed 003** (:func:`generative_claim`): ``generative`` against ``direct`` and ``key`` on the
videos' evaluation frames and the first Kodak photographs (no library: no ``key`` option).
Per frame and generative option: whole-frame PSNR and SSIM, PSNR inside the people and person
F1, minus those of direct and of key at the same bits (interpolated on their curves against
log bits; NaN outside them); medians per media, codec and description level.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from bssim.studies.codec_claims import QUALITIES, _interp_quality
from bssim.studies.docs import cell

CLAIM_DB = (0.5, 1.5)
SEB_MEDIA = (
    ("vtest", Media(path="vtest.avi", frames="400:795:100")),
    ("Megamind", Media(path="Megamind.avi", frames="150:270:40", segment_threshold=0.03)),
)


def seb_rows(codecs, kodak: int, qualities=QUALITIES) -> pd.DataFrame:
    """Every (media, frame, scheme, codec, setting) of ``direct`` and ``seb`` at scale 1."""
    cfg = CodecConfig(qualities=tuple(qualities), channel_levels="model")
    built = [make_codec(n, cfg) for n in codecs]
    spec = MeasureSpec(scales=(1.0,), schemes=("direct", "seb"))
    frames = []
    for name, entry in (*SEB_MEDIA, ("kodak", Media(path="kodak", files=kodak))):
        m = load_media(entry.model_copy(update={"path": str(shared_data(entry.path))}), None, f"media {name}")
        frames.append(pd.DataFrame(measure_media(m, built, spec)).assign(media=name))
    return pd.concat(frames, ignore_index=True)


def seb_pairs(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (media, frame, codec, Seb option): its gain over direct at equal bits."""
    out = []
    for (media, frame, codec), g in rows.groupby(["media", "frame", "codec"], sort=False):
        direct, seb = g[g.scheme == "direct"], g[g.scheme == "seb"]
        for _, s in seb.iterrows():
            gran, _, setting = s["setting"].partition("+")
            d_same = direct[direct.setting == setting]
            out.append({"media": media, "frame": frame, "codec": codec, "granularity": gran, "setting": setting,
                        "bits": s["bits"], "seb_bits": s["seb_bits"], "psnr_seb_db": s["psnr_db"],
                        "psnr_reference_db": s["seb_psnr_db"], "clip_fraction": s["clip_fraction"],
                        "psnr_direct_equal_bits_db": _interp_quality(direct, "psnr_db", s["bits"]),
                        "ssim_seb": s["ssim"], "ssim_direct_equal_bits": _interp_quality(direct, "ssim", s["bits"]),
                        "bits_direct_same_setting": float(d_same["bits"].iloc[0]) if len(d_same) else np.nan})
    p = pd.DataFrame(out)
    p["gain_db"] = p["psnr_seb_db"] - p["psnr_direct_equal_bits_db"]
    p["ssim_gain"] = p["ssim_seb"] - p["ssim_direct_equal_bits"]
    return p


def seb_summary(p: pd.DataFrame) -> pd.DataFrame:
    """Medians per media, codec and granularity (NaN-aware) and the share of gains >= 0.5 dB."""
    g = p.assign(seb_share=p["seb_bits"] / p["bits"]).groupby(["media", "codec", "granularity"], sort=False)
    s = g[["gain_db", "ssim_gain", "psnr_reference_db", "seb_share", "clip_fraction"]].median()
    s["gain_min_db"], s["gain_max_db"] = g["gain_db"].min(), g["gain_db"].max()
    s["share_gain_over_0_5"] = g["gain_db"].apply(lambda r: float((r.dropna() >= CLAIM_DB[0]).mean()) if r.notna().any() else np.nan)
    s["options_compared"] = g["gain_db"].count()
    return s.reset_index()


def write_claim(out: str | Path | None, prefix: str, rows: pd.DataFrame, pairs: pd.DataFrame,
                summary: pd.DataFrame) -> dict:
    """With ``out``: ``{prefix}_rows``, ``_pairs`` and ``_summary`` as Parquet + CSV; the summary's records."""
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        for name, table in (("rows", rows.drop(columns=["background"], errors="ignore")), ("pairs", pairs),
                            ("summary", summary)):
            write_table(table, out / f"{prefix}_{name}")
    return {"summary": summary.to_dict("records")}


def seb_claim(codecs, kodak: int, out: str | Path | None = None) -> dict:
    """Measure, compare and (with ``out``) write ``seb_rows``, ``seb_pairs``, ``seb_summary``."""
    rows = seb_rows(codecs, kodak)
    p = seb_pairs(rows)
    s = seb_summary(p)
    return write_claim(out, "seb", rows, p, s)


def render_seb(res: dict) -> str:
    """The table of docs/seeds.md's seed-001 section."""
    lines = ["| media | codec | granularity | PSNR gain at equal bits, median (min…max) dB | share ≥ +0.5 dB | "
             "SSIM gain | Seb reference PSNR (dB) | index share of bits | residual clipped | options |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in res["summary"]:
        lines.append(f"| {r['media']} | {r['codec']} | {r['granularity']} | {cell(r['gain_db'], '+.2f')} "
                     f"({cell(r['gain_min_db'], '+.1f')}…{cell(r['gain_max_db'], '+.1f')}) | {cell(r['share_gain_over_0_5'], '.0%')} | "
                     f"{cell(r['ssim_gain'], '+.3f')} | {cell(r['psnr_reference_db'], '.1f')} | {cell(r['seb_share'], '.0%')} | "
                     f"{cell(r['clip_fraction'], '.2%')} | {r['options_compared']} |")
    return "\n".join(lines)


GEN_MEDIA = (
    ("vtest", Media(path="vtest.avi", frames="450:795:100")),
    ("Megamind", Media(path="Megamind.avi", frames="150:270:40", segment_threshold=0.03)),
)
GEN_COLUMNS = ("psnr_db", "ssim", "psnr_fg_db", "person_f1")
GEN_QUALITIES = (5, 10, 20, 30, 50, 70, 90)


def generative_rows(codecs, kodak: int, qualities=GEN_QUALITIES) -> pd.DataFrame:
    """Every (media, frame, scheme, codec, setting) of ``direct``, ``key`` and ``generative`` at
    scale 1, with person F1 (:mod:`bssim.semantic.task`)."""
    cfg = CodecConfig(qualities=tuple(qualities), channel_levels="model")
    built = [make_codec(n, cfg) for n in codecs]
    spec = MeasureSpec(scales=(1.0,), schemes=("direct", "key", "generative"), metrics=("ssim", "psnr_db", "person_f1"))
    frames = []
    for name, entry in (*GEN_MEDIA, ("kodak", Media(path="kodak", files=kodak))):
        m = load_media(entry.model_copy(update={"path": str(shared_data(entry.path))}), None, f"media {name}")
        frames.append(pd.DataFrame(measure_media(m, built, spec)).assign(media=name))
    return pd.concat(frames, ignore_index=True)


def equal_bits(rows: pd.DataFrame, scheme: str, against: Sequence[str], columns=GEN_COLUMNS) -> pd.DataFrame:
    """One row per (media, frame, codec, option of ``scheme``): its ``columns`` and those of each
    scheme of ``against`` at the same bits (interpolated on that scheme's curve; NaN outside it)."""
    out = []
    for (media, frame, codec), g in rows.groupby(["media", "frame", "codec"], sort=False):
        refs = {a: g[g.scheme == a] for a in against}
        for _, o in g[g.scheme == scheme].iterrows():
            r = {"media": media, "frame": frame, "codec": codec, "setting": o["setting"], "bits": o["bits"]}
            for c in columns:
                r[c] = o[c]
                for a, d in refs.items():
                    r[f"{c}_{a}"] = _interp_quality(d, c, o["bits"]) if len(d) and d[c].notna().any() else np.nan
                    r[f"d_{c}_vs_{a}"] = r[c] - r[f"{c}_{a}"]
            out.append(r)
    return pd.DataFrame(out)


def generative_summary(p: pd.DataFrame, against: Sequence[str] = ("direct", "key")) -> pd.DataFrame:
    """Medians per media, codec and description level of the differences at equal bits."""
    p = p.assign(level=p["setting"].str.partition("+")[0])
    cols = [c for c in p.columns if c.startswith("d_")] + list(GEN_COLUMNS)
    g = p.groupby(["media", "codec", "level"], sort=False)
    s = g[cols].median()
    for a in against:
        s[f"compared_{a}"] = g[f"d_psnr_db_vs_{a}"].count()
    return s.reset_index()


def generative_claim(codecs, kodak: int, out: str | Path | None = None) -> dict:
    """Measure, compare and (with ``out``) write ``generative_rows``, ``generative_pairs``, ``generative_summary``."""
    rows = generative_rows(codecs, kodak)
    p = equal_bits(rows, "generative", ("direct", "key"))
    s = generative_summary(p)
    return write_claim(out, "generative", rows, p, s)


def render_generative(res: dict) -> str:
    """The table of docs/seeds.md's seed-003 section: generative minus direct / key at equal bits."""
    lines = ["| media | codec | description | ΔPSNR vs direct / key (dB) | ΔSSIM vs direct / key | "
             "ΔPSNR in people vs direct / key (dB) | Δperson F1 vs direct / key | generative PSNR / in people (dB) | "
             "options vs direct / key |", "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in res["summary"]:
        pair = lambda c, spec: f"{cell(r[f'd_{c}_vs_direct'], spec)} / {cell(r[f'd_{c}_vs_key'], spec)}"  # noqa: E731
        lines.append(f"| {r['media']} | {r['codec']} | {r['level']} | {pair('psnr_db', '+.1f')} | {pair('ssim', '+.3f')} | "
                     f"{pair('psnr_fg_db', '+.1f')} | {pair('person_f1', '+.2f')} | {cell(r['psnr_db'], '.1f')} / "
                     f"{cell(r['psnr_fg_db'], '.1f')} | {r['compared_direct']} / {r['compared_key']} |")
    return "\n".join(lines)
