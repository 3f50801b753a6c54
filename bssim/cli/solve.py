"""``bssim solve``: one scheduling epoch of a scenario (or of a menu CSV), with every user's choice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import numpy as np
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from bssim.cli._common import json_safe, set_compute_threads, user_errors
from bssim.options.table import known_schemes
from bssim.sim import solve_epoch
from bssim.epoch import EpochConfig, schedule
from bssim.options.links import make_link
from bssim.options.objective import Objective
from bssim.sim.usercsv import read_menu_csv

SOLVER_HELP = "dp (seed's DP), cpsat, mip (OR-Tools), greedy, all_direct, all_key"


def _scenario_epoch(scenario: Path, epoch: int, overrides: dict, quiet: bool):

    res, table, sc = solve_epoch(scenario, epoch=epoch, overrides=overrides, progress=not quiet)
    return res, table, sc.scheduler.p_max_w, sc.objective.metric_column, str(scenario)


def _csv_epoch(users: Path, opts: dict):

    missing = [n for n in ("--p-max-w", "--T-s") if opts[n] is None]
    if missing:
        raise ValueError(f"--users needs {', '.join(missing)}")
    metric = {"psnr": "psnr_db"}.get(opts["metric"], opts["metric"])
    objective = Objective(kind=opts["objective"], metric=metric)
    inputs, user_ids = read_menu_csv(users, opts["--T-s"], metric, opts["--bandwidth-hz"],
                                     require="direct" if objective.kind == "seed" else None)
    config = EpochConfig(p_max_w=opts["--p-max-w"], link=make_link(opts["link"]), objective=objective,
                         solver=opts["solver"] or "dp", grid=opts["grid"], quantum_w=opts["quantum"],
                         solver_options={"polish": True} if opts["polish"] and (opts["solver"] or "dp") == "dp" else {})
    res = schedule(inputs, config)
    table = res.table(metric)
    table.insert(0, "user", user_ids)
    table["gain_db"] = 10 * np.log10(inputs.channels.gain)
    return res, table, opts["--p-max-w"], metric, str(users)


def _summary(res, table, p_max: float, label: str) -> dict:
    sol = res.solution
    counts = table["scheme"].astype(str).value_counts()
    detail_cols = ["user", "scheme", "codec", "rate_level", "rate_label", "snr_level_db", "power_w", "bits", "symbols",
                   "quality", "utility"] + list(res.menu.item_info)
    return {
        "source": label, "solver": sol.solver, "objective": float(sol.objective), "n_users": len(table),
        **{f"n_{s}": int(counts.get(s, 0)) for s in (*known_schemes(), "none")},
        "p_max_w": float(p_max), "power_used_w": float(sol.power_used_w), "solve_time_s": float(sol.solve_time_s),
        "menu_items": int(res.problem.n_options), "choices": [int(c) for c in res.choice],
        "choices_detail": table[[c for c in detail_cols if c in table]].to_dict("records"),
        "info": {k: v for k, v in sol.info.items() if isinstance(v, (int, float, str, bool, list)) or v is None},
    }


def _print_table(table, summary: dict, metric: str, show: int) -> None:
    console = Console()
    t = Table(title=f"{summary['source']}: first {min(show, len(table))} of {len(table)} users",
              box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for col in ("user", "gain/dB", "scheme", "codec", "rate level", "power/W", "kbit", metric, "utility"):
        t.add_column(col, justify="right")
    for r in table.head(show).itertuples():
        cost = r.bits / 1e3 if r.bits > 0 else (r.symbols / 1e3 if r.symbols > 0 else 0.0)
        t.add_row(str(r.user), f"{r.gain_db:.1f}" if hasattr(r, "gain_db") else "-", str(r.scheme), str(r.codec), str(r.rate_label),
                  f"{r.power_w:.3g}", f"{cost:.1f}", f"{r.quality:.3f}", f"{r.utility:.3f}")
    console.print(t)
    tally = ", ".join(f"{s} {summary[f'n_{s}']}" for s in known_schemes() if s in ("direct", "key") or summary[f"n_{s}"])
    console.print(
        f"solver [bold]{summary['solver']}[/]: objective {summary['objective']:.4f}, served "
        f"{summary['n_users'] - summary['n_none']}/{summary['n_users']} ({tally}), "
        f"power {summary['power_used_w']:.4g} / {summary['p_max_w']:.4g} W, "
        f"{summary['menu_items']} menu items, solve time {summary['solve_time_s'] * 1e3:.2f} ms")
    for w in summary["info"].get("warnings", []) or []:
        console.print(f"[yellow]warning:[/] {w}")


def register(app: typer.Typer) -> None:
    @app.command()
    def solve(
        scenario: Optional[Path] = typer.Argument(None, help="scenario TOML file (omit with --users)"),
        users: Optional[Path] = typer.Option(None, "--users", help="menu CSV: long (user, scheme, rate_level, bits|symbols, quality, gain, noise_w, loss_w) or the seed's (noise_w, gain, loss_w, D_bits, C_bits, alpha)"),
        solver: Optional[str] = typer.Option(None, "--solver", help=SOLVER_HELP + "; default: the scenario's"),
        seed: Optional[int] = typer.Option(None, "--seed", help="master seed (overrides the scenario's)"),
        epoch: int = typer.Option(0, "--epoch", min=0, help="which epoch of the simulation to solve"),
        grid: Optional[int] = typer.Option(None, "--grid", min=1, help="DP grid steps G (Δ = P_max/G); default: automatic power quantum"),
        quantum: Optional[float] = typer.Option(None, "--quantum-w", help="DP power step Δ in W"),
        p_max_w: Optional[float] = typer.Option(None, "--p-max-w", help="power budget P_max in W"),
        delay_s: Optional[float] = typer.Option(None, "--T-s", help="delay bound T in s"),
        bandwidth_hz: Optional[float] = typer.Option(None, "--bandwidth-hz", help="bandwidth B in Hz"),
        link: Optional[str] = typer.Option(None, "--link", help="--users: link model shannon (default) | analog"),
        objective: Optional[str] = typer.Option(None, "--objective", help="--users: sum (default) | log | seed"),
        metric: Optional[str] = typer.Option(None, "--metric", help="--users: quality metric the 'quality' column holds (default ssim)"),
        polish: Optional[bool] = typer.Option(None, "--polish/--no-polish", help="dp: spend the watts left by the grid rounding on upgrades"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object (choices_detail: per user scheme, rate level, power, quality)"),
        show: int = typer.Option(20, "--show", min=0, help="how many users to list in the table"),
    ) -> None:
        """Solve one scheduling epoch: per user the option (scheme, rate level) and its power."""
        with user_errors():
            if (scenario is None) == (users is None):
                raise ValueError("give a scenario file or --users FILE.csv (exactly one)")
            for name, v in (("--p-max-w", p_max_w), ("--T-s", delay_s), ("--bandwidth-hz", bandwidth_hz), ("--quantum-w", quantum)):
                if v is not None and not (np.isfinite(v) and v > (-1 if name == "--p-max-w" else 0)):
                    raise ValueError(f"{name} = {v!r}: must be a finite number {'>= 0' if name == '--p-max-w' else '> 0'}")
            set_compute_threads()
            if scenario is not None:
                given = [n for n, v in (("--link", link), ("--objective", objective), ("--metric", metric)) if v is not None]
                if given:
                    raise ValueError(f"{', '.join(given)}: only with --users; a scenario sets them in its [link] and "
                                     f"[objective] sections")
                overrides = {k: v for k, v in {"seed": seed, "scheduler.grid": grid, "scheduler.power_quantum_w": quantum,
                             "scheduler.p_max_w": p_max_w, "scheduler.delay_bound_s": delay_s,
                             "cell.bandwidth_hz": bandwidth_hz, "scheduler.solver": solver,
                             "scheduler.polish": polish}.items() if v is not None}
                res, table, p_max, metric_col, label = _scenario_epoch(scenario, epoch, overrides, as_json)
            else:
                opts = {"--p-max-w": p_max_w, "--T-s": delay_s, "--bandwidth-hz": bandwidth_hz, "link": link or "shannon",
                        "objective": objective or "sum", "metric": metric or "ssim", "solver": solver, "grid": grid, "quantum": quantum,
                        "polish": polish}
                res, table, p_max, metric_col, label = _csv_epoch(users, opts)
        summary = _summary(res, table, p_max, label)
        if as_json:
            typer.echo(json.dumps(json_safe(summary)))
            return
        _print_table(table, summary, metric_col, show)
