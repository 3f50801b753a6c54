"""Parameter sweeps: a grid of scenario-field values × seeds, in parallel, resumable.

    from bssim.sim.sweep import run_sweep
    res = run_sweep("scenarios/dense_cell.toml", {"p_max": [1, 5, 10]}, seeds=2, workers=2)
    res.summary            # one row per point: swept column(s), seed, the run's summary
    pd.read_parquet(res.path / "summary.parquet")

Layout of a sweep folder::

    sweep.json                 the grid, seeds, base scenario file and fixed overrides
    points/<point id>/         one complete results folder per point (bssim.results), written
                               atomically: it exists only when the point finished
    summary.parquet / .csv     one row per point (swept columns named by the field's last part,
                               e.g. ``p_max_w``, plus ``seed`` and ``point``)
    epochs.parquet             every point's per-epoch rows with the swept columns and seed
    user_epochs.parquet        every point's per-request rows with the swept columns and seed

Resuming: a point whose folder exists (complete, same scenario as parsed) is not
recomputed; a point folder computed from a *different* scenario is an error (use another
``out``). Interrupted points leave only ``points/.tmp-*`` folders, which are removed.

Execution: ``workers`` = 1 runs the points one after another in this process; more uses a
process pool (``concurrent.futures``, spawn); ``dask="local"`` starts a
``distributed.LocalCluster`` with ``workers`` single-threaded processes, any other string is
the address of a running Dask scheduler (``tcp://host:8786``). Workers only simulate and
return the tables; this process writes every point as it arrives, so the folder need not be
shared with remote workers. The content is measured once, in this process, and each task carries
its options as Parquet bytes (:mod:`bssim.sim.portable`): workers need no cache and never measure.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bssim.atomic import check_output_folder, output_lock
from bssim.results import RunResult, is_complete, load_run, write_json_atomic, write_parquet_atomic, write_csv_atomic, write_run
from bssim.scenario import Scenario, resolve_field_path
from bssim.sim.portable import pack, unpack
from bssim.sim import run
from bssim.sim import prepare_scenario
from bssim.sim import make_source, source_key


@dataclass
class SweepResult:
    path: Path
    summary: pd.DataFrame
    swept: list[str]
    n_computed: int
    n_skipped: int

    def epochs(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "epochs.parquet")

    def user_epochs(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "user_epochs.parquet")


def _fmt(v: Any) -> str:
    s = f"{v:g}" if isinstance(v, float) else str(v)
    return re.sub(r"[^A-Za-z0-9_.+\-]", "_", s)


def point_id(values: dict[str, Any], seed: int) -> str:
    """Folder name of a point: ``p_max_w=5_seed=1`` (column names, values, seed)."""
    return "_".join(f"{k}={_fmt(v)}" for k, v in values.items()) + f"_seed={seed}"


def _column_names(dotted: list[str]) -> list[str]:
    leaves = [d.rsplit(".", 1)[-1] for d in dotted]
    return [d if leaves.count(leaf) > 1 else leaf for d, leaf in zip(dotted, leaves)]


def _simulate_point(scenario: Scenario, source: Any, point: dict[str, Any]) -> RunResult:
    """Worker: simulate one point (no disk writes); top level so that processes and Dask can pickle it.
    ``source`` is a :func:`bssim.sim.portable.pack` result: the measured options travel with the
    task, so a worker never reads a cache or measures."""

    res = run(scenario, source=unpack(source))
    res.manifest["sweep_point"] = point
    return res


def _add_columns(df: pd.DataFrame, cols: dict[str, Any]) -> pd.DataFrame:
    df = df.copy()
    for i, (k, v) in enumerate(cols.items()):
        if k in df.columns:
            df[k] = v
        else:
            df.insert(i, k, v)
    return df


def _grid_columns(grid: dict[str, list[Any]], seeds: int, workers: int) -> tuple[list[str], list[str]]:
    """Dotted field paths and result column names of a sweep grid; clear errors for bad grids."""
    if not grid:
        raise ValueError("sweep: give at least one parameter to sweep")
    if seeds < 1:
        raise ValueError(f"sweep: seeds must be >= 1, got {seeds}")
    if workers < 1:
        raise ValueError(f"sweep: workers must be >= 1, got {workers}")
    dotted = [resolve_field_path(k) for k in grid]
    if len(set(dotted)) != len(dotted):
        raise ValueError(f"sweep: a field is given twice: {dotted}")
    for name, values in grid.items():
        seen = [v for i, v in enumerate(values) if v in values[:i]]
        if seen:
            raise ValueError(f"sweep: --values for {name!r} repeats {seen[0]!r}; give each value once")
    return dotted, _column_names(dotted)


def _points(scenario, grid, dotted, cols, seeds, base_over, epochs, base_seed) -> list[dict]:
    """Every (combination, seed) point with its validated scenario (all checked before any work)."""

    points = []
    for combo in itertools.product(*grid.values()):
        for s in range(seeds):
            values = dict(zip(cols, combo))
            sc, _ = prepare_scenario(scenario, {**base_over, **dict(zip(dotted, combo))}, base_seed + s, epochs)
            points.append({"id": point_id(values, sc.seed), "values": values, "seed": sc.seed, "scenario": sc})
    return points


def _prepare_folder(out: Path, meta: dict) -> Path:
    """The sweep folder with ``points/`` (stale temporary folders removed) and ``sweep.json``."""
    points_dir = out / "points"
    points_dir.mkdir(parents=True, exist_ok=True)
    for stale in points_dir.glob(".tmp-*"):  # left by an interrupted run
        shutil.rmtree(stale, ignore_errors=True)
    write_json_atomic(out / "sweep.json", meta)
    return points_dir


def _pending(points: list[dict], points_dir: Path) -> tuple[list[dict], int]:
    """Points still to compute; finished points of the same scenario are skipped, others are an error."""
    todo, n_skipped, stale = [], 0, []
    for p in points:
        folder = points_dir / p["id"]
        if is_complete(folder):
            with open(folder / "manifest.json") as fh:
                done = json.load(fh).get("scenario")
            if done != p["scenario"].model_dump(mode="json"):
                raise ValueError(f"{folder}: this point was computed from a different scenario; "
                                 "remove it or sweep into another --out")
            n_skipped += 1
        else:
            stale += [folder] if folder.exists() else []
            todo.append(p)
    for folder in stale:  # only once every point is checked: a refused sweep changes nothing
        shutil.rmtree(folder)
    return todo, n_skipped


def _execute(todo: list[dict], source_for, finish, workers: int, dask: str | None) -> None:
    def meta(p):
        return {"id": p["id"], "values": p["values"], "seed": p["seed"]}

    if dask is not None:
        _run_dask(todo, source_for, finish, meta, dask, workers)
    elif workers == 1 or len(todo) <= 1:
        for p in todo:
            finish(p, _simulate_point(p["scenario"], source_for(p), meta(p)))
    else:
        import multiprocessing as mp

        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as ex:
            futs = {ex.submit(_simulate_point, p["scenario"], source_for(p), meta(p)): p for p in todo}
            for f in as_completed(futs):
                finish(futs[f], f.result())


def run_sweep(
    scenario: str | Path,
    grid: dict[str, list[Any]],
    *,
    seeds: int = 1,
    out: str | Path | None = None,
    workers: int = 1,
    dask: str | None = None,
    epochs: int | None = None,
    overrides: dict[str, Any] | None = None,
    csv: bool = False,
    progress: bool = False,
    combine_user_epochs: bool = True,
) -> SweepResult:
    """Simulate every combination of ``grid`` values (field → list) for ``seeds`` seeds.

    Seeds are the scenario's seed, +1, ..., +seeds-1. Every point's scenario is validated
    before the folder is touched. Returns the combined summary; see the module docstring for
    the folder layout and resuming.
    """

    dotted, cols = _grid_columns(grid, seeds, workers)
    base_over = dict(overrides or {})
    base, base_path = prepare_scenario(scenario, base_over, None, epochs)
    points = _points(scenario, grid, dotted, cols, seeds, base_over, epochs, base.seed)
    out = Path(out) if out is not None else Path("results") / (f"{base.name}-sweep-" + "-".join(cols))
    check_output_folder(out, "sweep --out")
    with output_lock(out, "sweep --out"):  # a second sweep on the same folder: a clear error before any work
        todo, n_skipped = _pending(points, out / "points")  # refused before sweep.json is touched
        _prepare_folder(out, {
            "scenario_file": str(scenario), "grid": {d: list(v) for d, v in zip(dotted, grid.values())},
            "columns": cols, "seeds": seeds, "epochs": epochs, "overrides": base_over,
        })
        return _run_points(out, points, todo, n_skipped, cols, workers, dask, csv, progress,
                           combine_user_epochs, base_path)


def _run_points(out, points, todo, n_skipped, cols, workers, dask, csv, progress, combine_user_epochs,
                base_path) -> SweepResult:
    """Simulate the pending points (one content source per distinct measurement setup),
    write each as it finishes, then combine every finished point."""

    points_dir = out / "points"
    sources: dict[str, Any] = {}

    def source_for(p):
        """Points whose content measurements agree share one source (one measurement pass)."""
        key = source_key(p["scenario"])
        if key not in sources:
            sources[key] = pack(make_source(p["scenario"], base_path, progress=progress))
        return sources[key]

    bar = None
    if progress and todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=f"sweep {out.name}", unit="point")

    def finish(p, res: RunResult) -> None:
        res.summary = _add_columns(res.summary, {**p["values"], "seed": p["seed"], "point": p["id"]})
        write_run(res, points_dir / p["id"], csv=csv)
        if bar is not None:
            bar.update(1)

    try:
        _execute(todo, source_for, finish, workers, dask)
    finally:
        if bar is not None:
            bar.close()
    summary = combine(out, points, cols, csv=csv, user_epochs=combine_user_epochs)
    return SweepResult(out, summary, cols, len(todo), n_skipped)


def _run_dask(todo, source_for, finish, meta, address: str, workers: int) -> None:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError:  # pragma: no cover - optional dependency
        raise ValueError("--dask needs dask.distributed: pip install 'bssim[dask]'") from None
    cluster = None
    if address == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)
    else:
        try:
            client = Client(address, timeout=10)
        except (OSError, TimeoutError) as err:
            raise ValueError(f"--dask {address}: cannot reach a Dask scheduler there ({err})") from None
    try:
        futs = {}
        for p in todo:
            f = client.submit(_simulate_point, p["scenario"], source_for(p), meta(p), pure=False, key=f"bssim-{p['id']}")
            futs[f.key] = (f, p)
        for f in dask_completed([f for f, _ in futs.values()]):
            finish(futs[f.key][1], f.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def combine(out: Path, points: list[dict], cols: list[str], csv: bool = False, user_epochs: bool = True) -> pd.DataFrame:
    """Concatenate every finished point into the sweep's summary / epochs / user_epochs tables."""
    sums, eps, ues = [], [], []
    for p in points:
        folder = out / "points" / p["id"]
        if not is_complete(folder):
            continue
        r = load_run(folder)
        extra = {**p["values"], "seed": p["seed"], "point": p["id"]}
        sums.append(_add_columns(r.summary, extra))
        eps.append(_add_columns(r.epochs, extra))
        if user_epochs:
            ues.append(_add_columns(r.user_epochs, extra))
    summary = pd.concat(sums, ignore_index=True) if sums else pd.DataFrame()
    write_parquet_atomic(summary, out / "summary.parquet")
    write_csv_atomic(summary, out / "summary.csv")
    if eps:
        e = pd.concat(eps, ignore_index=True)
        write_parquet_atomic(e, out / "epochs.parquet")
        if csv:
            write_csv_atomic(e, out / "epochs.csv")
    if ues:
        write_parquet_atomic(pd.concat(ues, ignore_index=True), out / "user_epochs.parquet")
    return summary
