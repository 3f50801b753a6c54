"""``bssim run``, ``bssim sweep``, ``bssim plot``: thin wrappers over :mod:`bssim.sim` and :mod:`bssim.plot`."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from bssim.atomic import check_output_folder, output_lock
from bssim.cli._common import set_compute_threads, user_errors
from bssim.sim import run as sim_run
from bssim.sim.sweep import run_sweep
from bssim.plot import plot_results
from bssim.sim import prepare_scenario


def _parse_value(text: str):
    """'5' -> 5 (int), '2.5' -> 2.5, 'dp' -> 'dp', 'true' -> True."""
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    for cast in (int, float):
        try:
            return cast(t)
        except ValueError:
            pass
    return t


def _parse_overrides(items: list[str]) -> dict:
    out = {}
    for it in items:
        if "=" not in it:
            raise ValueError(f"--set {it!r}: expected FIELD=VALUE, e.g. --set users.count=50")
        k, v = it.split("=", 1)
        out[k.strip()] = _parse_value(v)
    return out


def _cell(value, fmt: str) -> str:
    """A table cell: numbers formatted, non-finite numbers (e.g. shares of zero requests) as 'n/a'."""
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "n/a"
    return format(value, fmt)


def _summary_table(title: str, rows: list[dict], cols: list[tuple[str, str, str]]) -> Table:
    t = Table(title=title)
    for _, label, _ in cols:
        t.add_column(label, justify="right")
    for r in rows:
        t.add_row(*[_cell(r.get(k), fmt) for k, _, fmt in cols])
    return t


def _vertical_table(title: str, row: dict) -> Table:
    t = Table(title=title)
    t.add_column("metric")
    t.add_column("value", justify="right")
    for key, label, fmt in RUN_COLS + [("served_share", "served", ".1%"), ("power_share", "power / P_max", ".1%"),
                                       ("items_dropped", "items dropped", "d"), ("content_source", "content", ""),
                                       ("user_epochs_per_s", "user-epochs / s", ".4g")]:
        t.add_row(label, _cell(row.get(key), fmt))
    return t


RUN_COLS = [
    ("scenario", "scenario", ""), ("seed", "seed", ""), ("solver", "solver", ""), ("p_max_w", "P_max W", ".4g"),
    ("epochs", "epochs", "d"), ("requests", "requests", "d"), ("objective_per_epoch", "objective / epoch", ".3f"),
    ("mean_quality", "quality / request", ".3f"), ("direct_share", "direct", ".1%"), ("key_share", "key", ".1%"),
    ("drop_share", "not served", ".1%"), ("mean_power_used_w", "power W", ".4g"), ("wall_s", "wall s", ".2f"),
]


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        scenario: Path = typer.Argument(..., help="scenario TOML file"),
        out: Optional[Path] = typer.Option(None, "--out", help="results folder (default results/<name>-seed<N>-<UTC time>)"),
        seed: Optional[int] = typer.Option(None, "--seed", min=0, help="master seed (overrides the scenario's)"),
        epochs: Optional[int] = typer.Option(None, "--epochs", min=1, help="epochs to simulate (overrides sim.epochs)"),
        set_: list[str] = typer.Option([], "--set", help="override a field: FIELD=VALUE (dotted path or short name), repeatable"),
        csv: bool = typer.Option(False, "--csv", help="also write the tables as CSV"),
        quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
        force: bool = typer.Option(False, "--force", help="replace an existing --out folder"),
    ) -> None:
        """Simulate one scenario and write a results folder (Parquet, summary.parquet/.csv, manifest.json)."""

        with user_errors():
            set_compute_threads()
            if out is None:

                sc, _ = prepare_scenario(scenario, _parse_overrides(set_), seed, epochs)
                stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
                out = Path("results") / f"{sc.name}-seed{sc.seed}-{stamp}"
            check_output_folder(out, "--out", must_not_exist=not force)
            with output_lock(out):  # a second run on the same --out: a clear error before any work
                check_output_folder(out, "--out", must_not_exist=not force)
                res = sim_run(scenario, seed=seed, epochs=epochs, overrides=_parse_overrides(set_),
                              progress=not quiet, out=out, csv=csv, overwrite=force)
        Console().print(_vertical_table(f"results in {out}", res.summary_dict()))

    @app.command()
    def sweep(
        scenario: Path = typer.Argument(..., help="scenario TOML file"),
        param: list[str] = typer.Option(..., "--param", help="field to sweep (dotted path or short name, e.g. p_max); repeat with --values for a grid"),
        values: list[str] = typer.Option(..., "--values", help="comma-separated values for the matching --param"),
        seeds: int = typer.Option(1, "--seeds", min=1, help="seeds per point: the scenario's seed, +1, ..."),
        out: Optional[Path] = typer.Option(None, "--out", help="sweep folder (default results/<name>-sweep-<params>)"),
        workers: int = typer.Option(1, "--workers", min=1, help="parallel worker processes"),
        dask: Optional[str] = typer.Option(None, "--dask", help="'local' (LocalCluster with --workers processes) or a scheduler ADDRESS"),
        epochs: Optional[int] = typer.Option(None, "--epochs", min=1, help="epochs per point (overrides sim.epochs)"),
        set_: list[str] = typer.Option([], "--set", help="fixed override FIELD=VALUE for every point, repeatable"),
        csv: bool = typer.Option(False, "--csv", help="also write CSV tables"),
    ) -> None:
        """Run a scenario over a grid of parameter values × seeds; finished points are skipped on rerun."""

        with user_errors():
            set_compute_threads()
            if len(param) != len(values):
                raise ValueError(f"give one --values per --param (got {len(param)} --param, {len(values)} --values)")
            grid = {p: [_parse_value(v) for v in vals.split(",") if v.strip()] for p, vals in zip(param, values)}
            for p, vs in grid.items():
                if not vs:
                    raise ValueError(f"--values for {p!r} is empty")
            if out is not None:
                check_output_folder(out, "--out")
            res = run_sweep(scenario, grid, seeds=seeds, out=out, workers=workers, dask=dask, epochs=epochs,
                            overrides=_parse_overrides(set_), csv=csv, progress=True)
        summary = res.summary
        console = Console()
        cols = [(c, c, ".4g") for c in res.swept] + [("seed", "seed", "d")] + RUN_COLS[6:12]
        console.print(_summary_table(f"sweep in {res.path}: {res.n_computed} computed, {res.n_skipped} already done",
                                     summary.to_dict("records"), cols))

    @app.command()
    def plot(
        results: Path = typer.Argument(..., help="a results folder (bssim run) or a sweep folder (bssim sweep)"),
        out: Optional[Path] = typer.Option(None, "--out", help="figure folder (default RESULTS/figures)"),
        x: Optional[str] = typer.Option(None, "--x", help="swept column on the x axis (default: p_max_w if swept, else the first)"),
        force: bool = typer.Option(False, "--force", help="write into an existing --out folder"),
    ) -> None:
        """Paper figures (PNG + PDF): quality, power, options served, deadline misses."""

        with user_errors():
            if out is not None:
                check_output_folder(out, "--out", must_not_exist=not force)
            files = plot_results(results, out=out, x=x)
        for f in files:
            typer.echo(str(f))
