"""Compare link models on one scenario: power per user, options chosen, quality (docs/model.md "nr").

    python benchmarks/compare_links.py scenarios/dense_cell.toml --links shannon,nr,analog --epochs 3

Each link model schedules the same users, channels and requests (same seed; ``[link] model``
overridden); digital links share one measured content source with the scenario's codecs, the
analog link sends the analog codecs ``--analog-codecs`` (default the deep JSCC's symbols,
``jscc``) instead. Printed as a Markdown table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd


def link_summary(table: pd.DataFrame, metric: str) -> dict[str, float]:
    """Served share, power per served user (mean, median W), scheme shares, rate level, quality."""
    served = table["scheme"].astype(str) != "none"
    s = table[served]
    out = {
        "served": float(served.mean()), "power_mean_w": float(s["power_w"].mean()),
        "power_median_w": float(s["power_w"].median()), "direct": float((s["scheme"] == "direct").mean()),
        "key": float((s["scheme"] == "key").mean()), "rate_level_mean": float(s["rate_level"].mean()),
        f"{metric}_scheduled": float(table["quality"].where(served, 0.0).mean()),
    }
    if "delivered" in table:
        ok = table["delivered"].astype(bool)
        out["delivered"] = float(ok[served].mean())
        out[f"{metric}_delivered"] = float(table["quality"].where(ok, 0.0).mean())
    return out


def compare(scenario: Path, links: list[str], epochs: int, overrides: dict | None = None,
            analog_codecs: tuple[str, ...] = ("jscc",)) -> pd.DataFrame:
    """One row per link model over the requests of epochs 0..epochs−1 (``bssim run`` rows)."""
    from bssim.options.links import make_link
    from bssim.sim import make_source, prepare_scenario, run

    sources: dict[str, object] = {}
    rows = []
    for name in links:
        ov = {**(overrides or {}), "link.model": name}
        if name == "analog":
            ov["content.codecs"] = list(analog_codecs)
        sc, path = prepare_scenario(scenario, ov, epochs=epochs)
        mode = make_link(name, sc.link).mode
        if mode not in sources:
            sources[mode] = make_source(sc, path)
        res = run(sc, source=sources[mode])
        rows.append({"link": name, **link_summary(res.user_epochs, sc.objective.metric_column)})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", type=Path)
    ap.add_argument("--links", default="shannon,nr")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--p-max-w", type=float, default=None)
    ap.add_argument("--solver", default=None, help="one solver for every link (the DP takes <= 126 items per user)")
    ap.add_argument("--analog-codecs", default="jscc", help="comma-separated codecs of the analog link (default jscc)")
    a = ap.parse_args(argv)
    ov = {"scheduler.p_max_w": a.p_max_w} if a.p_max_w is not None else {}
    if a.solver:
        ov["scheduler.solver"] = a.solver
    df = compare(a.scenario, a.links.split(","), a.epochs, ov, tuple(a.analog_codecs.split(",")))
    print(markdown(df))


def markdown(df: pd.DataFrame) -> str:
    """A Markdown table, numbers to 4 significant digits."""
    cell = lambda v: f"{v:.4g}" if isinstance(v, (float, np.floating)) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
