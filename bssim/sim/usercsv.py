"""Menus a researcher brings as CSV (``bssim solve --users FILE.csv``).

Two layouts, recognised by their columns:

* **long** (any menu): one row per (user, option[, SNR level]) with ``user, scheme,
  rate_level`` (and optionally ``codec``, default ``declared``, and ``rate_label``), the cost ``bits`` (shannon link) or ``symbols`` (analog link), the quality
  (``quality``, taken as the objective's metric, or the metric's own column ``ssim``,
  ``psnr_db``, ``ms_ssim``), ``snr_db`` for analog items, and the user's channel ``gain,
  noise_w, loss_w`` (optional ``bandwidth_hz``, ``items``; the same on all of a user's rows).
* **seed** (the seed's three-way choice): one row per user with ``noise_w, gain, loss_w,
  D_bits, C_bits, alpha``: direct (D_n bits, quality 1) and key (C_n bits, quality α_n, any
  α_n > 0), optional ``key_available`` (False: no key option).

Long-layout qualities must lie in the metric's range (:func:`bssim.metrics.metric_range`:
SSIM in [-1, 1], MS-SSIM and task metrics in [0, 1], PSNR in [0, 100] dB); schemes must be
known (:func:`bssim.options.table.known_schemes`).

Every value is checked; an error names the file, the column, the line and the rule.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bssim.epoch import EpochInput
from bssim.metrics import metric_range
from bssim.options.links import Channels
from bssim.options.table import DECLARED_CODEC, OptionTable, known_schemes

SEED_COLUMNS = ("noise_w", "gain", "loss_w", "D_bits", "C_bits", "alpha")
LONG_COLUMNS = ("user", "scheme", "rate_level", "gain", "noise_w", "loss_w")
QUALITY_COLUMNS = ("quality", "ssim", "psnr_db", "ms_ssim")
RULES = {
    "noise_w": (lambda v: v > 0, "> 0"), "gain": (lambda v: v > 0, "> 0"), "loss_w": (lambda v: v >= 0, ">= 0"),
    "bandwidth_hz": (lambda v: v > 0, "> 0"), "bits": (lambda v: v >= 0, ">= 0"), "symbols": (lambda v: v >= 0, ">= 0"),
    "D_bits": (lambda v: v >= 0, ">= 0"), "C_bits": (lambda v: v >= 0, ">= 0"), "alpha": (lambda v: v > 0, "> 0"),
    "items": (lambda v: (v >= 1) & (v == np.round(v)), "an integer >= 1"), "rate_level": (lambda v: v == np.round(v), "an integer"),
    "snr_db": (lambda v: np.isfinite(v), ""), **{q: (lambda v: np.isfinite(v), "") for q in QUALITY_COLUMNS},
}


def _plain(value) -> str:
    """A cell value as the user wrote it (no numpy reprs such as np.float64(nan))."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: users file not found")
    try:
        df = pd.read_csv(path, encoding="utf-8-sig")  # a UTF-8 byte-order mark is accepted
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text (byte {err.start}); save the CSV as UTF-8") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ValueError(f"{path}: not a readable CSV: {err}") from None
    if df.empty:
        raise ValueError(f"{path}: has a header but no rows; a menu needs one row per user and option")
    return df


def _numeric(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Check every known numeric column: a finite number obeying its rule (module docstring)."""
    df = df.copy()
    for col, (ok_fn, rule) in RULES.items():
        if col not in df:
            continue
        values = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(values) & ok_fn(values)
        if not np.all(ok):
            i = int(np.argmin(ok))
            raise ValueError(f"{path}: column '{col}' line {i + 2} = {_plain(df[col].iloc[i])}: must be a finite "
                             f"number{' ' + rule if rule else ''}")
        df[col] = values
    return df


def _seed_to_long(df: pd.DataFrame) -> pd.DataFrame:
    users = df.get("user", pd.Series(np.arange(len(df))))
    common = {c: df[c].to_numpy() for c in ("gain", "noise_w", "loss_w", "bandwidth_hz", "items") if c in df}
    direct = pd.DataFrame({"user": users, "scheme": "direct", "rate_level": 0, "bits": df["D_bits"], "quality": 1.0, **common})
    key = pd.DataFrame({"user": users, "scheme": "key", "rate_level": 0, "bits": df["C_bits"], "quality": df["alpha"], **common})
    if "key_available" in df:
        key = key[df["key_available"].astype(str).str.lower().isin(["true", "1", "yes"]).to_numpy()]
    return pd.concat([direct, key], ignore_index=True)


def _channels(df: pd.DataFrame, path: Path, bandwidth_hz: float | None, delay_s: float) -> tuple[Channels, np.ndarray, np.ndarray]:
    cols = [c for c in ("gain", "noise_w", "loss_w", "bandwidth_hz", "items") if c in df]
    per_user = df.groupby("user", sort=False)[cols]
    if (per_user.nunique() > 1).any().any():
        bad = per_user.nunique().gt(1).any()
        raise ValueError(f"{path}: column(s) {', '.join(bad[bad].index)} differ between rows of the same user")
    first = per_user.first()
    if "bandwidth_hz" not in first and bandwidth_hz is None:
        raise ValueError(f"{path}: no 'bandwidth_hz' column: give --bandwidth-hz")
    bw = first["bandwidth_hz"].to_numpy(float) if "bandwidth_hz" in first else np.full(len(first), float(bandwidth_hz))
    items = first["items"].to_numpy(np.int64) if "items" in first else np.ones(len(first), np.int64)
    ch = Channels(first["gain"].to_numpy(float), first["noise_w"].to_numpy(float), first["loss_w"].to_numpy(float),
                  bw, float(delay_s))
    return ch, first.index.to_numpy(), items


def _check_quality_range(df: pd.DataFrame, qcol: str, metric: str, path: Path) -> None:
    """Every quality within the metric's range (:func:`bssim.metrics.metric_range`)."""
    lo, hi = metric_range(metric)
    values = df[qcol].to_numpy(float)
    bad = (values < lo) | (values > hi)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{path}: column '{qcol}' line {i + 2} = {values[i]:g}: the metric {metric!r} lies in "
                         f"[{lo:g}, {hi:g}]")


def _check_schemes(df: pd.DataFrame, path: Path, require: str | None) -> None:
    """Scheme names known (:func:`bssim.options.table.known_schemes`); with ``require``, every
    user has a row of that scheme."""
    known = known_schemes()
    bad = ~df["scheme"].astype(str).isin(known)
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise ValueError(f"{path}: column 'scheme' line {i + 2} = {_plain(df['scheme'].iloc[i])}: not a known scheme; "
                         f"known: {', '.join(known)}")
    if require is not None:
        has = df.groupby("user", sort=False)["scheme"].agg(lambda s: require in set(s.astype(str)))
        if not has.all():
            user = has.index[int(np.argmax(~has.to_numpy()))]
            raise ValueError(f"{path}: user {_plain(user)} has no '{require}' row, which this objective needs "
                             f"(--objective seed divides by the quality of the user's top direct level)")


def read_menu_csv(path: str | Path, delay_s: float, metric: str, bandwidth_hz: float | None = None,
                  require: str | None = None) -> tuple[EpochInput, np.ndarray]:
    """(epoch input, user ids) from a long or seed-layout CSV (module docstring). ``require``:
    a scheme every user must offer (``"direct"`` for the seed objective)."""
    path = Path(path)
    df = _read(path)
    seed_layout = all(c in df for c in SEED_COLUMNS) and "scheme" not in df
    if seed_layout:  # qualities relative to direct = 1 (any α > 0): not in a metric's range
        df = _seed_to_long(_numeric(df, path))
    missing = [c for c in LONG_COLUMNS if c not in df]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; a menu needs {', '.join(LONG_COLUMNS)}, "
                         f"bits or symbols and a quality column (or the seed layout {', '.join(SEED_COLUMNS)})")
    if "bits" not in df and "symbols" not in df:
        raise ValueError(f"{path}: give the cost of each option as a 'bits' (shannon link) or 'symbols' (analog) column")
    qcol = "quality" if "quality" in df else (metric if metric in df else None)
    if qcol is None:
        raise ValueError(f"{path}: no quality column: give 'quality' or '{metric}'")
    df = _numeric(df, path)
    if not seed_layout:
        _check_quality_range(df, qcol, metric, path)
    _check_schemes(df, path, require)
    df = df if "codec" in df else df.assign(codec=DECLARED_CODEC)
    key = ["user", "scheme", "codec", "rate_level"] + (["snr_db"] if "snr_db" in df else [])
    dup = df.duplicated(key)
    if dup.any():
        raise ValueError(f"{path}: line {int(np.argmax(dup)) + 2} repeats the option "
                         f"({', '.join(_plain(v) for v in df.loc[dup.idxmax(), key])}) of its user")
    channels, users, items = _channels(df, path, bandwidth_hz, delay_s)
    rows = df.assign(item=df["user"].astype(str), rate_level=df["rate_level"].astype(np.int64),
                     rate_label=df.get("rate_label", "r" + df["rate_level"].astype(np.int64).astype(str)),
                     bits=df.get("bits", np.nan), symbols=df.get("symbols", np.nan),
                     snr_db=df.get("snr_db", np.nan), **{metric: df[qcol]})
    table = OptionTable.from_rows(rows)
    order = {u: i for i, u in enumerate(table.item_names)}
    offers = table.offers(np.array([order[str(u)] for u in users]), items)
    return EpochInput(offers, channels), users
