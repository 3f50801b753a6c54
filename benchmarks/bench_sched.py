"""Benchmark of the schedulers: the DP (automatic power quantum) against OR-Tools CP-SAT and
the MIP (SCIP), and the baselines, on menu instances; plus a short seed-style (K = 2) table.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_sched.py           # N in {1e3, 1e4}, K in {3, 10, 30}
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_sched.py --quick   # N = 1000 only, short limits
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_sched.py --hetero-only   # the heterogeneous-gain family only

Heterogeneous-gain instances (issue 19): :func:`bssim.sched.hetero_menu_problem` -- gains
log-uniform in 1e-12..1e-9 (option powers over three decades), direct + key at K/2 levels each,
the same quality ladder for all, P_max = 50 W, T = 0.1 s, B = 1 MHz; ``--write-csv FILE`` writes
the 1 000-user, K = 10 instance as the long-format CSV of ``bssim solve --users``. Measured: DP
and greedy times (best of 3), peak memory the DP allocates (tracemalloc, numpy included), the
DP's work (``info["dp_cells"]``), its gap to the MIP or to the LP bound, and the goals (N = 1 000,
K = 10: <= 20x greedy's time, gap <= 0.01 %, < 200 MB; N = 100 000, K = 20: < 10 s, < 2 GB).

Menu instances: :func:`bssim.sched.random_menu_problem` (channel gains over ~55 dB, schemes
direct/key x rate levels with bits over 10x, Shannon-inversion powers, concave qualities,
some options unavailable, P_max = the cheapest options of half the users). Seed instances:
:func:`bssim.sched.random_problem` (K = 2).

Measured: DP wall time (``solve_time_s``, best of 3; default options: automatic quantum,
reduction, greedy fallback, no polish), the DP's gap to the MIP optimum (returned answer,
pure grid answer, and with ``polish``), CP-SAT on the same integer model (time, and whether
its optimum equals the DP's integer optimum), MIP time, and the gaps of the baselines
(``greedy``, ``greedy`` with ``hull=True``, ``all_key``). Gaps are (MIP - x) / MIP; where
the MIP stopped at its time limit, relative to the Lagrangian (LP) upper bound, marked "<=".
CP-SAT and MIP run single-threaded (CP-SAT: one worker).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
import tracemalloc

import numpy as np

from bssim.sched import hetero_menu_problem, lagrangian_upper_bound, random_menu_problem, random_problem, solve
from bssim.sched.instances import hetero_menu_rows


def _dp(pb, repeats: int = 3, **kw):
    """Best-of-``repeats`` DP solution (by solve_time_s)."""
    runs = [solve(pb, "dp", bound=False, **kw) for _ in range(repeats)]
    return min(runs, key=lambda s: s.solve_time_s)


def _reference(pb, limit: float):
    """(MIP solution, reference objective, exact?): the MIP optimum, or the LP bound."""
    mip = solve(pb, "mip", time_limit_s=limit)
    if mip.info["status"] == "OPTIMAL":
        return mip, mip.objective, True
    return mip, lagrangian_upper_bound(pb), False


def _gap(ref: float, exact: bool, obj: float) -> str:
    g = 100 * (ref - obj) / ref if ref > 0 else 0.0
    return f"{g:.4f}" if exact else f"<= {g:.4f}"


def _cpsat(pb, dp, limit: float, **kw) -> str:
    cp = solve(pb, "cpsat", time_limit_s=limit, **kw)
    if cp.info["status"] != "OPTIMAL":
        return f"{cp.solve_time_s:.2f} ({cp.info['status']})"
    same = "=" if cp.info["int_objective"] == dp.info["int_objective"] else "≠"
    return f"{cp.solve_time_s:.2f} ({same})"


def menu_row(n: int, k: int, seed: int, limit: float) -> dict:
    pb = random_menu_problem(n, k, seed)
    dp = _dp(pb)
    pol = _dp(pb, 1, polish=True)
    mip, ref, exact = _reference(pb, limit)
    gap = lambda obj: _gap(ref, exact, obj)  # noqa: E731
    base = {name: solve(pb, solver, **kw).objective for name, solver, kw in
            (("greedy", "greedy", {}), ("hull", "greedy", {"hull": True}), ("all_key", "all_key", {}))}
    i = dp.info
    return {
        "N": n, "K": k, "C steps": i["capacity"], "core users": i.get("n_core", "-"),
        "DP s": f"{dp.solve_time_s:.3f}", "fallback": i["fallback"] or "-",
        "CP-SAT s (= DP)": _cpsat(pb, dp, limit),
        "MIP s": f"{mip.solve_time_s:.2f}" + ("" if exact else f" ({mip.info['status']})"),
        "MIP/DP": f"{mip.solve_time_s / dp.solve_time_s:.0f}x",
        "DP gap %": gap(dp.objective), "grid-only gap %": gap(i["grid_objective"]),
        "DP+polish gap %": gap(pol.objective), "greedy gap %": gap(base["greedy"]),
        "hull greedy gap %": gap(base["hull"]), "all_key gap %": gap(base["all_key"]),
        "_dp": dp, "_mip": mip, "_exact": exact, "_ref": ref,
    }


def seed_row(n: int, grid: int | None, seed: int, limit: float, ref_cache: dict) -> dict:
    pb = random_problem(n, seed)
    if n not in ref_cache:
        ref_cache[n] = _reference(pb, limit)
    mip, ref, exact = ref_cache[n]
    kw = {"grid": grid} if grid else {}
    dp = _dp(pb, **kw)
    return {
        "N": n, "grid": grid or "auto", "C steps": dp.info["capacity"],
        "DP s": f"{dp.solve_time_s:.3f}", "fallback": dp.info["fallback"] or "-",
        "CP-SAT s (= DP)": _cpsat(pb, dp, limit, **kw),
        "MIP s": f"{mip.solve_time_s:.2f}" + ("" if exact else f" ({mip.info['status']})"),
        "MIP/DP": f"{mip.solve_time_s / dp.solve_time_s:.0f}x",
        "DP gap %": _gap(ref, exact, dp.objective),
        "grid-only gap %": _gap(ref, exact, dp.info["grid_objective"]),
        "greedy gap %": _gap(ref, exact, solve(pb, "greedy").objective),
    }


def _peak_mb(fn) -> tuple[object, float]:
    """(fn(), peak MB traced while it ran)."""
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def hetero_row(n: int, k: int, seed: int, limit: float, mip: bool) -> dict:
    pb = hetero_menu_problem(n, k, seed)
    dp = _dp(pb)
    greedy = min((solve(pb, "greedy") for _ in range(3)), key=lambda s: s.solve_time_s)
    _, peak = _peak_mb(lambda: solve(pb, "dp", bound=False))
    if mip:
        m, ref, exact = _reference(pb, limit)
        mip_s = f"{m.solve_time_s:.2f}" + ("" if exact else f" ({m.info['status']})")
    else:
        ref, exact, mip_s = lagrangian_upper_bound(pb), False, "-"
    i = dp.info
    return {
        "N": n, "K": k, "C steps": i["capacity"], "core users": i.get("n_core", "-"),
        "DP kind": i.get("dp_kind", "-"), "DP cells": i.get("dp_cells", 0) + i.get("subcore_cells", 0),
        "DP s": f"{dp.solve_time_s:.3f}", "greedy s": f"{greedy.solve_time_s:.4f}",
        "DP/greedy": f"{dp.solve_time_s / greedy.solve_time_s:.1f}x", "DP peak MB": f"{peak:.0f}",
        "status": i["status"], "fallback": i["fallback"] or "-", "MIP s": mip_s,
        "DP gap %": _gap(ref, exact, dp.objective), "greedy gap %": _gap(ref, exact, greedy.objective),
        "_dp": dp, "_greedy": greedy, "_peak": peak, "_gap": 100 * (ref - dp.objective) / ref,
    }


def hetero_goals(rows: list[dict]) -> None:
    by = {(r["N"], r["K"]): r for r in rows}
    if (1000, 10) in by:
        r = by[1000, 10]
        ratio = r["_dp"].solve_time_s / r["_greedy"].solve_time_s
        print(f"- goal: heterogeneous N = 1000, K = 10: <= 20x greedy's time ({ratio:.1f}x), gap <= 0.01 % "
              f"({r['DP gap %']} %), < 200 MB ({r['_peak']:.0f} MB)")
    if (100_000, 20) in by:
        r = by[100_000, 20]
        print(f"- goal: heterogeneous N = 100 000, K = 20: < 10 s ({r['_dp'].solve_time_s:.2f} s), "
              f"< 2 GB ({r['_peak']:.0f} MB)")


def write_hetero_csv(path: str, seed: int) -> None:
    rows = hetero_menu_rows(1000, 10, seed)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {path}: bssim solve --users {path} --p-max-w 50 --T-s 0.1 --bandwidth-hz 1e6", file=sys.stderr)


def print_table(rows: list[dict]) -> None:
    cols = [c for c in rows[0] if not c.startswith("_")]
    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join("---:" for _ in cols) + "|")
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    print()


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import ortools

    return (f"{cpu}, {os.cpu_count()} cores, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; "
            f"python {platform.python_version()}, numpy {np.__version__}, ortools {ortools.__version__}")


def goals(menu: list[dict]) -> None:
    by = {(r["N"], r["K"]): r for r in menu}
    if (10_000, 10) in by:
        print(f"- goal: N = 10 000, K = 10 under 1 s: DP {by[10_000, 10]['_dp'].solve_time_s:.3f} s")
    if (1000, 10) in by:
        r = by[1000, 10]
        dp, mip = r["_dp"], r["_mip"]
        print(f"- goal: N = 1000, K = 10 at least 100x faster than the MIP with gap <= 0.1 %: "
              f"MIP/DP = {mip.solve_time_s / dp.solve_time_s:.0f}x, gap {r['DP gap %']} %")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="N = 1000 only and short time limits")
    ap.add_argument("--seed", type=int, default=2024, help="instance seed (default 2024)")
    ap.add_argument("--time-limit", type=float, default=None, help="CP-SAT / MIP limit in s (default 120, quick 20)")
    ap.add_argument("--sizes", type=int, nargs="+", default=None, help="user counts (default 1000 10000)")
    ap.add_argument("--options", type=int, nargs="+", default=[3, 10, 30], help="menu sizes K (default 3 10 30)")
    ap.add_argument("--hetero-only", action="store_true", help="only the heterogeneous-gain family")
    ap.add_argument("--hetero-sizes", type=str, nargs="+", default=["1000x10", "100000x20"],
                    help="heterogeneous N x K (default 1000x10 100000x20); the MIP runs for N <= 10000")
    ap.add_argument("--write-csv", metavar="FILE", help="write the 1000-user K = 10 heterogeneous menu CSV and exit")
    args = ap.parse_args(argv)
    if args.write_csv:
        write_hetero_csv(args.write_csv, args.seed)
        return 0
    sizes = args.sizes or ([1000] if args.quick else [1000, 10_000])
    limit = args.time_limit or (20.0 if args.quick else 120.0)
    cmd = "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_sched.py " + " ".join(argv or sys.argv[1:])
    print(f"Machine: {machine()}. Command: `{cmd.strip()}`. Seed {args.seed}, CP-SAT / MIP limit {limit:g} s.\n")
    hetero = []
    for nk in args.hetero_sizes:
        n, k = (int(x) for x in nk.split("x"))
        hetero.append(hetero_row(n, k, args.seed, limit, n <= 10_000))
        print("  done hetero", n, k, file=sys.stderr, flush=True)
    print("Heterogeneous-gain instances (hetero_menu_problem: gains log-uniform 1e-12..1e-9):\n")
    print_table(hetero)
    hetero_goals(hetero)
    if args.hetero_only:
        return 0
    print()
    menu = []
    for n in sizes:
        for k in args.options:
            menu.append(menu_row(n, k, args.seed, limit))
            print("  done", n, k, file=sys.stderr, flush=True)
    print("Menu instances (random_menu_problem):\n")
    print_table(menu)
    seed, cache = [], {}
    for n in sizes:
        for grid in (1000, 10_000, None):
            seed.append(seed_row(n, grid, args.seed, limit, cache))
    print("Seed instances (random_problem, K = 2):\n")
    print_table(seed)
    goals(menu)
    return 0


if __name__ == "__main__":
    t0 = time.perf_counter()
    rc = main()
    print(f"total benchmark time {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    sys.exit(rc)
