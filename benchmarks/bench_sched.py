"""Benchmark of the schedulers: seed DP vs OR-Tools CP-SAT and MIP (SCIP), plus baselines.

    .venv/bin/python benchmarks/bench_sched.py            # N in {100, 1e3, 1e4, 1e5}, G in {1e3, 1e4}
    .venv/bin/python benchmarks/bench_sched.py --quick    # N in {100, 1000}, short time limits

Instances: :func:`bssim.sched.random_problem` (P_n0 lognormal, median 0.5 W, sigma 1;
P_n1 = P_n0·u, u ~ U(0.05, 0.6); alpha ~ U(0.5, 0.95); P_max = the sum of the N/2 smallest
key powers, so half the users could be served if all used the key option).

Measured: DP wall time (best of repeats, without tracing) with the default exact
reduction to core users and as the plain DP over all users (``reduce=False``; same integer
optimum, asserted), DP peak traced memory (tracemalloc, separate run: the traced run is
slower), DP with ``polish``, CP-SAT (one worker,
linearization level 2, presolve off) and MIP (SCIP) times on the same instance until one of them runs out
of its time limit (larger N are then skipped for that solver). Gaps are relative to the MIP
optimum; where the MIP was skipped, to the Lagrangian (LP) upper bound, marked "<=".
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tracemalloc

import numpy as np

from bssim.sched import lagrangian_upper_bound, random_problem, solve


def _dp(pb, grid, repeats, **kw):
    best = None
    for _ in range(repeats):
        s = solve(pb, "dp", grid=grid, bound=False, **kw)
        if best is None or s.solve_time_s < best.solve_time_s:
            best = s
    return best


def _peak_mib(pb, grid, **kw) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    solve(pb, "dp", grid=grid, bound=False, **kw)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes and short time limits (development)")
    ap.add_argument("--seed", type=int, default=2024, help="instance seed (default 2024)")
    ap.add_argument("--time-limit", type=float, default=None, help="CP-SAT / MIP time limit in s (default 60, quick 10)")
    ap.add_argument("--sizes", type=int, nargs="+", default=None, help="user counts to run (overrides the default)")
    args = ap.parse_args(argv)
    sizes = args.sizes or ([100, 1000] if args.quick else [100, 1_000, 10_000, 100_000])
    grids = [1000, 10000]
    limit = args.time_limit or (10.0 if args.quick else 60.0)

    import ortools

    print(f"# bench_sched  python {platform.python_version()}  numpy {np.__version__}  ortools {ortools.__version__}  "
          f"cpus {os.cpu_count()}  seed {args.seed}  time limit {limit:g} s", flush=True)
    rows = []
    cpsat_dead: set[int] = set()
    mip_dead = False
    goals = {}
    for n in sizes:
        pb = random_problem(n, args.seed)
        mip = None
        if not mip_dead:
            mip = solve(pb, "mip", time_limit_s=limit)
            if mip.info["status"] != "OPTIMAL":
                mip_dead = True
        ref = mip.objective if mip is not None and mip.info["status"] == "OPTIMAL" else None
        ub = lagrangian_upper_bound(pb)
        greedy = solve(pb, "greedy")
        for g in grids:
            reps = 3 if n * g <= 10**8 else 1
            dp = _dp(pb, g, reps)
            plain = _dp(pb, g, 1 if n * g > 10**7 else reps, reduce=False)
            assert plain.info["int_objective"] == dp.info["int_objective"]
            pol = _dp(pb, g, reps, polish=True)
            peak = _peak_mib(pb, g)
            peak_plain = _peak_mib(pb, g, reduce=False)
            cp = None
            if g not in cpsat_dead:
                cp = solve(pb, "cpsat", grid=g, time_limit_s=limit)
                if cp.info["status"] != "OPTIMAL":
                    cpsat_dead.add(g)

            def gap(obj):
                if ref is not None:
                    return f"{100 * (ref - obj) / ref:.3f}" if ref > 0 else "0"
                return f"<= {100 * (ub - obj) / ub:.3f}" if ub > 0 else "0"

            row = {
                "N": n,
                "G": g,
                "DP s": f"{dp.solve_time_s:.4f}",
                "DP peak MiB": f"{peak:.1f}",
                "core users": dp.info.get("n_core", "-"),
                "plain DP s": f"{plain.solve_time_s:.4f}",
                "plain DP peak MiB": f"{peak_plain:.1f}",
                "plain DP blocks": plain.info.get("n_blocks", 0),
                "DP+polish s": f"{pol.solve_time_s:.4f}",
                "CP-SAT s": "skipped" if cp is None else f"{cp.solve_time_s:.3f} {cp.info['status']}",
                "CP-SAT = DP": "-" if cp is None or cp.info["status"] != "OPTIMAL"
                else str(cp.info["int_objective"] == dp.info["int_objective"]),
                "MIP s": "skipped" if mip is None else f"{mip.solve_time_s:.3f} {mip.info['status']}",
                "MIP/DP time": "-" if mip is None else f"{mip.solve_time_s / dp.solve_time_s:.0f}",
                "DP gap %": gap(dp.objective),
                "DP+polish gap %": gap(pol.objective),
                "greedy gap %": gap(greedy.objective),
                "served DP/MIP": f"{dp.n_served}/{mip.n_served if mip is not None else '-'}",
            }
            rows.append(row)
            print("  " + "  ".join(f"{k}={v}" for k, v in row.items()), file=sys.stderr, flush=True)
            goals[(n, g)] = (dp, pol, mip)

    cols = list(rows[0])
    print()
    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join("---" for _ in cols) + "|")
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    print()
    if (10_000, 10_000) in goals:
        dp = goals[(10_000, 10_000)][0]
        print(f"goal: DP at N=10000, G=10000 in {dp.solve_time_s:.3f} s (target < 1 s)")
    if (1000, 10_000) in goals and goals[(1000, 10_000)][2] is not None:
        dp, pol, mip = goals[(1000, 10_000)]
        print(f"goal: N=1000, G=10000: MIP/DP time = {mip.solve_time_s / dp.solve_time_s:.0f}x (target >= 100x); "
              f"gap DP {100 * (mip.objective - dp.objective) / mip.objective:.3f} %, "
              f"DP+polish {100 * (mip.objective - pol.objective) / mip.objective:.4f} % (target <= 0.1 %)")
    return 0


if __name__ == "__main__":
    t0 = time.perf_counter()
    rc = main()
    print(f"total benchmark time {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    sys.exit(rc)
