"""Benchmark of the simulation engine: user-epochs simulated per second.

    .venv/bin/python benchmarks/bench_sim.py                       # 100, 1 000, 10 000 users
    .venv/bin/python benchmarks/bench_sim.py --users 1000 --epochs 1000   # the goal: < 60 s
    .venv/bin/python benchmarks/bench_sim.py --content measured    # cached pipeline measurements
    .venv/bin/python benchmarks/bench_sim.py --network             # the network goals (issue 21)

``--network`` (goals, issue 21): ``scenarios/network.toml`` (19 sites x 3 sectors, measured
menus) with 100 users per sector for 100 epochs (goal < 60 s on 2 cores); one epoch of 10^5
users with declared content in the same network (goal < 5 s); and a P_max x interference sweep
of a small declared network on the local process pool against a Dask ``LocalCluster`` of 2
workers (the speed-up, measured; the content travels with each task).

Scenario: ``scenarios/declared_cell.toml`` with the user count and epochs replaced (declared
content: 2 options per user), or ``scenarios/dense_cell.toml`` (measured content: every item's
menu of schemes x rate levels is read from the measurement cache once, outside the timed part,
as a sweep does). Timed: the whole simulation (SimPy processes, channel, option powers, scheduler, recording)
and building the result tables; not writing files. ``solve`` is the share spent inside the
scheduler. Not a test: speed goals live here, not in the test suite.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench(users: int, epochs: int, content: str, solver: str, grid: int | None, source=None) -> dict:
    from bssim.sim import run

    over = {"users.count": users, "scheduler.solver": solver}
    if grid:
        over["scheduler.grid"] = grid
    if content == "declared":
        scenario = ROOT / "scenarios" / "declared_cell.toml"
    else:
        scenario = ROOT / "scenarios" / "dense_cell.toml"
    t0 = time.perf_counter()
    res = run(scenario, epochs=epochs, overrides=over, source=source)
    wall = time.perf_counter() - t0
    s = res.summary_dict()
    solve_s = float(res.epochs["solve_time_s"].sum())
    return {"users": users, "epochs": epochs, "content": content, "solver": solver,
            "menu_items": int(res.user_epochs["menu_items"].max()) if len(res.user_epochs) else 0,
            "user_epochs": s["requests"], "wall_s": round(wall, 3), "user_epochs_per_s": round(s["requests"] / wall),
            "solve_share": round(solve_s / wall, 3), "objective_per_epoch": round(s["objective_per_epoch"], 3)}


def bench_network(users: int, epochs: int, content: str, source=None) -> dict:
    """scenarios/network.toml with ``users`` in the whole network (declared: declared_cell's content)."""
    from bssim.scenario import read_scenario_dict
    from bssim.sim import prepare_scenario, run

    over = {"users.count": users}
    if content == "declared":
        over["content"] = read_scenario_dict(ROOT / "scenarios" / "declared_cell.toml")["content"]
    sc, _ = prepare_scenario(ROOT / "scenarios" / "network.toml", over, epochs=epochs)
    import sionna.sys  # noqa: F401  (imported once per process, ~5 s: not part of the timing)

    t0 = time.perf_counter()
    res = run(sc, source=source)
    wall = time.perf_counter() - t0
    s = res.summary_dict()
    solve_s = float(res.epochs["solve_time_s"].sum())
    return {"bench": f"network {content}", "users": users, "epochs": epochs, "sectors": int(res.epochs["n_sectors"][0]),
            "user_epochs": s["requests"], "wall_s": round(wall, 2), "user_epochs_per_s": round(s["requests"] / wall),
            "solve_share": round(solve_s / wall, 3)}


def bench_dask(out: Path, workers: int = 2) -> dict:
    """A P_max x interference sweep of a 7-site declared network: local pool vs Dask LocalCluster."""
    import shutil

    from bssim.scenario import read_scenario_dict
    from bssim.sim.sweep import run_sweep

    base = ROOT / "scenarios" / "network.toml"
    over = {"network.rings": 1, "users.count": 210, "content": read_scenario_dict(ROOT / "scenarios" / "declared_cell.toml")["content"]}
    grid = {"p_max": [1.0, 2.0, 5.0, 10.0], "network.interference": ["none", "load"]}
    times = {}
    for mode in ("pool", "dask"):
        folder = out / mode
        shutil.rmtree(folder, ignore_errors=True)
        t0 = time.perf_counter()
        run_sweep(base, grid, out=folder, workers=workers, dask="local" if mode == "dask" else None, epochs=20,
                  overrides=over)
        times[mode] = time.perf_counter() - t0
    return {"bench": "sweep 8 points, 7 sites x 3 sectors, 210 users, 20 epochs", "workers": workers,
            "pool_s": round(times["pool"], 1), "dask_s": round(times["dask"], 1),
            "dask_speedup_vs_pool": round(times["pool"] / times["dask"], 2)}


def network_main(json_out: Path | None) -> None:
    from bssim.scenario import load_scenario
    from bssim.sim import make_source

    path = ROOT / "scenarios" / "network.toml"
    source = make_source(load_scenario(path), path, progress=True)
    rows = [bench_network(5700, 100, "measured", source), bench_network(100_000, 1, "declared")]
    for r in rows:
        print(json.dumps(r), flush=True)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        rows.append(bench_dask(Path(tmp)))
    print(json.dumps(rows[-1]), flush=True)
    if json_out:
        json_out.write_text(json.dumps(rows, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", default="100,1000,10000", help="comma-separated user counts")
    ap.add_argument("--epochs", default="1000,1000,100", help="epochs per user count (one value or one per count)")
    ap.add_argument("--content", choices=["declared", "measured", "both"], default="declared")
    ap.add_argument("--solver", default="dp")
    ap.add_argument("--grid", type=int, default=None, help="DP grid steps G (default: the automatic power quantum)")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    ap.add_argument("--network", action="store_true", help="the network goals instead (module docstring)")
    a = ap.parse_args()
    if a.network:
        network_main(a.json)
        return
    users = [int(v) for v in a.users.split(",")]
    epochs = [int(v) for v in a.epochs.split(",")]
    if len(epochs) == 1:
        epochs = epochs * len(users)
    if len(epochs) != len(users):
        ap.error("--epochs: give one value or one per --users value")
    contents = ["declared", "measured"] if a.content == "both" else [a.content]
    rows = []
    for content in contents:
        source = None
        if content == "measured":
            from bssim.scenario import load_scenario
            from bssim.sim import make_source

            path = ROOT / "scenarios" / "dense_cell.toml"
            t0 = time.perf_counter()
            source = make_source(load_scenario(path), path, progress=True)
            print(f"measurements ready in {time.perf_counter() - t0:.1f} s ({source.catalog.table.n_items} items)")
        for n, e in zip(users, epochs):
            row = bench(n, e, content, a.solver, a.grid, source)
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    cols = list(rows[0])
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
