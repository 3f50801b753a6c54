"""Benchmark of the simulation engine: user-epochs simulated per second.

    .venv/bin/python benchmarks/bench_sim.py                       # 100, 1 000, 10 000 users
    .venv/bin/python benchmarks/bench_sim.py --users 1000 --epochs 1000   # the goal: < 60 s
    .venv/bin/python benchmarks/bench_sim.py --content measured    # cached pipeline measurements

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", default="100,1000,10000", help="comma-separated user counts")
    ap.add_argument("--epochs", default="1000,1000,100", help="epochs per user count (one value or one per count)")
    ap.add_argument("--content", choices=["declared", "measured", "both"], default="declared")
    ap.add_argument("--solver", default="dp")
    ap.add_argument("--grid", type=int, default=None, help="DP grid steps G (default: the automatic power quantum)")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    a = ap.parse_args()
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
