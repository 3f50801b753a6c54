"""Results of a run: tables, summary, manifest, and the results folder on disk.

A results folder (written by :func:`write_run`, read by :func:`load_run`)::

    user_epochs.parquet   one row per request (user, epoch): choice, power_w, bits, quality,
                          deadline_met, snr_db, distance_m, gain_db, content_source, ...
    epochs.parquet        one row per epoch: active users, requests, served, direct, key,
                          dropped, objective Σρ, power used, solve time
    summary.parquet/.csv  one row: the run's headline numbers (see :func:`summarise`)
    manifest.json         scenario as parsed, seed, package versions, git commit, checkpoint
                          hash (measured content), timings
    *.csv                 the two tables as CSV as well, on request (``csv=True``)

The folder appears atomically: everything is written into a hidden temporary sibling
folder which is then renamed (``os.replace``) to its final name, so a folder that exists
is complete (an interrupted run leaves only a ``.tmp-*`` folder, which is ignored).
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bssim.atomic import atomic_dir, atomic_path
from bssim.schemes import scheme_names
from bssim.paths import REPO_ROOT

MANIFEST = "manifest.json"
PACKAGES = ("bssim", "numpy", "pandas", "scipy", "simpy", "ortools", "pyarrow", "pydantic", "torch", "dask", "distributed")


@dataclass
class RunResult:
    """One run: per-request rows, per-epoch rows, a one-row summary and the manifest."""

    user_epochs: pd.DataFrame
    epochs: pd.DataFrame
    summary: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def summary_dict(self) -> dict[str, Any]:
        return {k: (v.item() if hasattr(v, "item") else v) for k, v in self.summary.iloc[0].items()}


def summarise(user_epochs: pd.DataFrame, epochs: pd.DataFrame, info: dict[str, Any]) -> pd.DataFrame:
    """One-row summary of a run.

    Shares are per request (user-epoch): ``served_share`` = served / requests,
    ``direct_share`` / ``key_share`` (every registered scheme) = served by that scheme /
    requests, ``codec_<name>_share`` = served through that codec / requests, ``drop_share`` =
    dropped (deadline missed) / requests. ``objective_per_epoch`` = mean over epochs of the
    scheduler's objective Σ u_n; ``mean_quality`` = mean quality Q per request (0 when not
    served), ``mean_quality_served`` over served requests only; ``power_share`` = mean power
    used / P_max.
    """
    n_req = len(user_epochs)
    scheme = user_epochs["scheme"].astype(str).to_numpy() if n_req else np.zeros(0, dtype=object)
    served = scheme != "none"
    codec = user_epochs["codec"].astype(str).to_numpy() if n_req and "codec" in user_epochs else np.full(n_req, "", object)
    nan = float("nan")
    share = (lambda m: float(m.sum()) / n_req) if n_req else (lambda m: nan)
    p_max = float(info.get("p_max_w", np.nan))
    mean_power = float(epochs["power_used_w"].mean()) if len(epochs) else nan
    quality = user_epochs["quality"].to_numpy(float) if n_req else np.zeros(0)
    row = {
        **info,
        "epochs": int(len(epochs)),
        "requests": int(n_req),
        "mean_active_users": float(epochs["n_active"].mean()) if len(epochs) else nan,
        "objective_per_epoch": float(epochs["objective"].mean()) if len(epochs) else nan,
        "mean_quality": float(quality.mean()) if n_req else nan,
        "mean_quality_served": float(quality[served].mean()) if served.any() else nan,
        "served_share": share(served),
        **{f"{s}_share": share(scheme == s) for s in scheme_names()},
        **{f"codec_{c}_share": share(codec == c) for c in sorted(set(codec[served]))},
        "drop_share": share(~served),
        "items_dropped": int(epochs["items_dropped"].sum()) if len(epochs) else 0,
        "mean_power_used_w": mean_power,
        "power_share": mean_power / p_max if p_max > 0 else nan,
        "mean_solve_time_s": float(epochs["solve_time_s"].mean()) if len(epochs) else nan,
    }
    return pd.DataFrame([row])


def option_shares(user_epochs: pd.DataFrame, by: list[str] | None = None, levels: bool = True) -> pd.DataFrame:
    """Share of requests served by each option (scheme × codec × rate level; ``none`` = not
    served), per group of ``by`` columns (e.g. the swept ``p_max_w`` and ``solver``): columns
    ``by + [option, share]``. ``levels=False``: by scheme × codec only."""
    by = list(by or [])
    codec = " " + user_epochs["codec"].astype(str) if "codec" in user_epochs else ""
    level = " " + user_epochs["rate_label"].astype(str) if levels else ""
    df = user_epochs.assign(option=np.where(user_epochs["scheme"].astype(str) == "none", "not served",
                                            user_epochs["scheme"].astype(str) + codec + level))
    counts = df.groupby(by + ["option"], observed=True).size().rename("n").reset_index()
    totals = counts.groupby(by, observed=True)["n"].transform("sum") if by else counts["n"].sum()
    return counts.assign(share=counts["n"] / totals).drop(columns="n")


# --------------------------------------------------------------------------- provenance
def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    out["python"] = platform.python_version()
    return out


def git_commit() -> dict[str, Any]:
    """{'commit': sha or None, 'dirty': bool or None} of the repository bssim runs from."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return {"commit": None, "dirty": None}
        st = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=5)
        return {"commit": sha.stdout.strip(), "dirty": bool(st.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def build_manifest(scenario, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Scenario as parsed, seeds, versions, git commit, time, command line."""
    return {
        "bssim_results": 1,
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "scenario": scenario.model_dump(mode="json"),
        "seeds": {"master": int(scenario.seed)},
        "packages": package_versions(),
        "git": git_commit(),
        "command": sys.argv,
        "host": platform.node(),
        **(extra or {}),
    }


# --------------------------------------------------------------------------- atomic IO
def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.bool_,)):
        return bool(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_json_atomic(path: Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=_json_default))


def write_parquet_atomic(df: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)


def write_csv_atomic(df: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)


def write_table(df: pd.DataFrame, stem: str | Path) -> tuple[Path, Path]:
    """``<stem>.parquet`` and ``<stem>.csv``, each written atomically."""
    stem = Path(stem)
    write_parquet_atomic(df, stem.with_suffix(".parquet"))
    write_csv_atomic(df, stem.with_suffix(".csv"))
    return stem.with_suffix(".parquet"), stem.with_suffix(".csv")


def is_complete(folder: Path) -> bool:
    """A results folder is complete when its manifest exists (it is written last, then the folder is renamed)."""
    return (Path(folder) / MANIFEST).is_file()


def write_run(result: RunResult, folder: str | Path, csv: bool = False, overwrite: bool = False) -> Path:
    """Write ``result`` into ``folder`` atomically (temp sibling folder + rename). Returns the folder."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    if folder.exists():
        if not overwrite:
            raise FileExistsError(f"{folder}: results folder already exists; choose another --out or remove it")
    with atomic_dir(folder) as tmp:
        result.user_epochs.to_parquet(tmp / "user_epochs.parquet", index=False)
        result.epochs.to_parquet(tmp / "epochs.parquet", index=False)
        result.summary.to_csv(tmp / "summary.csv", index=False)
        result.summary.to_parquet(tmp / "summary.parquet", index=False)  # the README's table; the CSV for eyes
        if csv:
            result.user_epochs.to_csv(tmp / "user_epochs.csv", index=False)
            result.epochs.to_csv(tmp / "epochs.csv", index=False)
        with open(tmp / MANIFEST, "w") as fh:
            json.dump(result.manifest, fh, indent=2, default=_json_default)
    result.path = folder
    return folder


def load_run(folder: str | Path) -> RunResult:
    """Read a results folder written by :func:`write_run`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: results folder not found")
    if not is_complete(folder):
        raise ValueError(f"{folder}: not a complete results folder (no {MANIFEST})")
    with open(folder / MANIFEST) as fh:
        manifest = json.load(fh)
    return RunResult(
        user_epochs=pd.read_parquet(folder / "user_epochs.parquet"),
        epochs=pd.read_parquet(folder / "epochs.parquet"),
        summary=pd.read_csv(folder / "summary.csv"),
        manifest=manifest,
        path=folder,
    )
