"""``bssim solve``: draw one epoch of users from a scenario (or read them from CSV) and solve it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import numpy as np
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from bssim.cli._common import user_errors

SOLVER_HELP = "dp (seed's DP), cpsat, mip (OR-Tools), greedy, all_direct, all_key"


def _fmt_power(p: float) -> str:
    return "infeasible" if not np.isfinite(p) else f"{p:.3g}"


def register(app: typer.Typer) -> None:
    @app.command()
    def solve(
        scenario: Optional[Path] = typer.Argument(None, help="scenario TOML file (omit with --users)"),
        users: Optional[Path] = typer.Option(None, "--users", help="CSV of users: noise_w, gain, loss_w, D_bits, C_bits, alpha"),
        solver: Optional[str] = typer.Option(None, "--solver", help=SOLVER_HELP + "; default: the scenario's"),
        seed: Optional[int] = typer.Option(None, "--seed", help="master seed (overrides the scenario's)"),
        epoch: int = typer.Option(0, "--epoch", min=0, help="which epoch's fading to draw"),
        grid: Optional[int] = typer.Option(None, "--grid", min=1, help="DP power-grid steps G"),
        p_max_w: Optional[float] = typer.Option(None, "--p-max-w", help="power budget P_max in W"),
        delay_s: Optional[float] = typer.Option(None, "--T-s", help="delay bound T in s"),
        bandwidth_hz: Optional[float] = typer.Option(None, "--bandwidth-hz", help="bandwidth B in Hz"),
        polish: Optional[bool] = typer.Option(None, "--polish/--no-polish", help="dp: spend the watts left by the grid rounding on upgrades"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object instead of tables"),
        show: int = typer.Option(20, "--show", min=0, help="how many users to list in the table"),
    ) -> None:
        """Solve one scheduling epoch: per user P_n0, P_n1 and the choice {none, direct, key}."""
        from bssim.epoch import read_users_csv, solve_epoch
        from bssim.scenario import load_scenario

        with user_errors():
            if (scenario is None) == (users is None):
                raise ValueError("give a scenario file or --users FILE.csv (exactly one)")
            if scenario is not None:
                overrides = {k: v for k, v in {"seed": seed, "scheduler.grid": grid, "scheduler.p_max_w": p_max_w,
                             "scheduler.delay_bound_s": delay_s, "cell.bandwidth_hz": bandwidth_hz,
                             "scheduler.solver": solver, "scheduler.polish": polish}.items() if v is not None}
                sc = load_scenario(scenario, overrides)
                if sc.content.source == "declared":
                    from bssim.cell import draw_users

                    table = draw_users(sc, epoch=epoch)
                else:  # measured content: the engine's epoch-0 users (measurements cached on disk)
                    if epoch != 0:
                        raise ValueError("--epoch: measured content is solved at epoch 0 only; use 'bssim run' for later epochs")
                    from bssim.sim import first_epoch_users

                    table = first_epoch_users(scenario, overrides=overrides, progress=not as_json)
                p_max, t_s, bw, g, solver_name = (sc.scheduler.p_max_w, sc.scheduler.delay_bound_s,
                                                  sc.cell.bandwidth_hz, sc.scheduler.grid, sc.scheduler.solver)
                solver_opts = sc.scheduler.solver_options()
                label = str(scenario)
            else:
                missing = [n for n, v in (("--p-max-w", p_max_w), ("--T-s", delay_s), ("--bandwidth-hz", bandwidth_hz)) if v is None]
                if missing:
                    raise ValueError(f"--users needs {', '.join(missing)}")
                table = read_users_csv(users)  # type: ignore[arg-type]
                table["bandwidth_hz"] = bandwidth_hz
                p_max, t_s, bw, g, solver_name = p_max_w, delay_s, bandwidth_hz, grid or 1000, solver or "dp"
                solver_opts = {"polish": True} if polish and solver_name == "dp" else {}
                label = str(users)
            result, sol = solve_epoch(table, p_max, t_s, bw, solver=solver_name, grid=g, **solver_opts)

        choices = [int(c) for c in sol.choice]
        summary = {
            "source": label,
            "solver": sol.solver,
            "objective": float(sol.objective),
            "n_users": len(choices),
            "n_direct": choices.count(0),
            "n_key": choices.count(1),
            "n_none": choices.count(-1),
            "p_max_w": float(p_max),
            "power_used_w": float(sol.power_used_w),
            "grid": int(g),
            "delay_s": float(t_s),
            "bandwidth_hz": float(bw),
            "choices": choices,
            "solve_time_s": float(sol.solve_time_s),
            "info": {k: (v if isinstance(v, (int, float, str, bool)) or v is None else str(v)) for k, v in sol.info.items()},
        }
        if as_json:
            typer.echo(json.dumps(summary))
            return
        console = Console()
        t = Table(title=f"{label}: first {min(show, len(result))} of {len(result)} users",
                  box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        for col in ("user", "dist/m", "gain/dB", "D/kbit", "C/kbit", "α", "P_n0/W", "P_n1/W", "choice"):
            t.add_column(col, justify="right")
        for row in result.head(show).itertuples():
            t.add_row(
                str(row.user),
                f"{row.distance_m:.0f}" if hasattr(row, "distance_m") else "-",
                f"{10 * np.log10(row.gain):.1f}",
                f"{row.D_bits / 1e3:.0f}",
                f"{row.C_bits / 1e3:.0f}",
                f"{row.alpha:.3f}",
                _fmt_power(row.p_direct_w),
                _fmt_power(row.p_key_w),
                row.choice_name,
            )
        console.print(t)
        console.print(
            f"solver [bold]{sol.solver}[/]: objective Σρ = {sol.objective:.4f}, served {len(choices) - summary['n_none']}"
            f"/{len(choices)} (direct {summary['n_direct']}, key {summary['n_key']}), power "
            f"{sol.power_used_w:.4g} / {p_max:.4g} W, solve time {sol.solve_time_s * 1e3:.2f} ms"
        )
