"""Simulation API: one run of a scenario (:func:`run`) and parameter sweeps (:mod:`bssim.sim.sweep`).

>>> from bssim.sim import run
>>> res = run("scenarios/dense_cell.toml", epochs=5, seed=3)      # doctest: +SKIP
>>> res.user_epochs.groupby("choice_name").size()                  # doctest: +SKIP
>>> res.summary                                                      # doctest: +SKIP

See :mod:`bssim.sim.engine` for the model, :mod:`bssim.sim.content` for declared and
measured content and the operating-point SNR, :mod:`bssim.results` for the results folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from bssim.results import RunResult, build_manifest, summarise, write_run
from bssim.scenario import DeclaredContent, Scenario, apply_overrides, load_scenario, parse_scenario

__all__ = ["run", "prepare_scenario", "first_epoch_users", "RunResult", "write_run"]


def prepare_scenario(
    scenario: Scenario | str | Path,
    overrides: dict[str, Any] | None = None,
    seed: int | None = None,
    epochs: int | None = None,
) -> tuple[Scenario, Path | None]:
    """A validated scenario with overrides (dotted paths or short names), seed and epochs applied.

    Returns (scenario, its file or None). Overrides are validated like the file itself.
    """
    ov = dict(overrides or {})
    if seed is not None:
        ov["seed"] = int(seed)
    if epochs is not None:
        ov["sim.epochs"] = int(epochs)
    if isinstance(scenario, Scenario):
        if not ov:
            return scenario, None
        data = apply_overrides(scenario.model_dump(mode="python", exclude_unset=True), ov)
        return parse_scenario(data, source=f"scenario {scenario.name!r}"), None
    path = Path(scenario)
    return load_scenario(path, ov), path


def make_source(scenario: Scenario, scenario_path: Path | None = None, progress: bool = False):
    """The content source of a scenario: declared distributions, or the pipeline's measurements."""
    from bssim.sim.content import DeclaredSource

    if isinstance(scenario.content, DeclaredContent):
        return DeclaredSource(scenario.content)
    from bssim.sim.measured import measured_source

    return measured_source(scenario, scenario_path, progress=progress)


def run(
    scenario: Scenario | str | Path,
    *,
    seed: int | None = None,
    epochs: int | None = None,
    overrides: dict[str, Any] | None = None,
    progress: bool | Callable[[int], None] = False,
    out: str | Path | None = None,
    csv: bool = False,
    source: Any = None,
) -> RunResult:
    """Simulate one scenario; returns a :class:`~bssim.results.RunResult` (written to ``out`` if given).

    ``scenario``: a file or a :class:`~bssim.scenario.Scenario`; ``seed`` / ``epochs``
    override the scenario's; ``overrides`` sets other fields by dotted path or short name
    (``{"p_max": 5}``); ``progress``: True for a tqdm bar, or a callable receiving epoch
    increments; ``source``: a prepared content source (sweeps reuse one measurement table).
    """
    from bssim.sim.engine import Engine

    sc, path = prepare_scenario(scenario, overrides, seed, epochs)
    if source is None:
        source = make_source(sc, path, progress=bool(progress))
    n_epochs = sc.sim.epochs
    bar = None
    cb: Callable[[int], None] | None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_epochs, desc=f"{sc.name} seed {sc.seed}", unit="epoch")
        cb = bar.update
    else:
        cb = progress or None
    try:
        engine = Engine(sc, source=source, progress=cb)
        user_epochs, epoch_df, wall = engine.run(n_epochs)
    finally:
        if bar is not None:
            bar.close()
    info = {
        "scenario": sc.name,
        "seed": sc.seed,
        "solver": sc.scheduler.solver,
        "p_max_w": sc.scheduler.p_max_w,
        "users": sc.users.count,
        "content_source": source.source,
        "wall_s": wall,
        "user_epochs_per_s": len(user_epochs) / wall if wall > 0 else float("nan"),
    }
    summary = summarise(user_epochs, epoch_df, info)
    extra: dict[str, Any] = {"scenario_file": str(path) if path else None, "wall_s": wall,
                             "content_source": source.source}
    extra.update(getattr(source, "provenance", {}) or {})
    result = RunResult(user_epochs, epoch_df, summary, build_manifest(sc, extra))
    if out is not None:
        write_run(result, out, csv=csv)
    return result


def first_epoch_users(
    scenario: Scenario | str | Path, *, seed: int | None = None, overrides: dict[str, Any] | None = None,
    progress: bool = False,
) -> "pd.DataFrame":
    """The users requesting in epoch 0 as a users table for :func:`bssim.epoch.solve_epoch`.

    This is how ``bssim solve`` gets measured content: the engine runs one epoch (the
    initial users, epoch-0 fading and their measured D_n, C_n, α_n at their operating
    SNR) and its rows become the table. Columns: ``user, distance_m, gain, gain_db, noise_w,
    loss_w, bandwidth_hz, D_bits, C_bits, alpha, key_available, content_source`` (+ ``content,
    frame, operating_snr_db`` for measured content). ``key_available`` is False where the
    background match failed (no key option).
    """
    import numpy as np
    import pandas as pd

    sc, path = prepare_scenario(scenario, overrides, seed, 1)
    res = run(path if path is not None else sc, seed=seed, epochs=1, overrides=overrides, progress=progress)
    ue = res.user_epochs
    ue = ue[ue["epoch"] == 0]
    items = ue["items"].to_numpy(float)
    users = pd.DataFrame(
        {
            "user": ue["user"].to_numpy(),
            "distance_m": ue["distance_m"].to_numpy(float),
            "gain": np.power(10.0, ue["gain_db"].to_numpy(float) / 10.0),
            "gain_db": ue["gain_db"].to_numpy(float),
            "noise_w": sc.noise_w(),
            "loss_w": sc.cell.loss_w,
            "bandwidth_hz": sc.cell.bandwidth_hz,
            "D_bits": items * ue["D_bits"].to_numpy(float),
            "C_bits": items * ue["C_bits"].to_numpy(float),
            "alpha": ue["alpha"].to_numpy(float),
            # the engine marks a failed background match with P_n1 = inf (as it does an infeasible power)
            "key_available": np.isfinite(ue["p_key_w"].to_numpy(float)),
            "content_source": ue["content_source"].astype(str).to_numpy(),
        }
    )
    for col in ("content", "frame", "operating_snr_db"):
        if col in ue:
            users[col] = ue[col].to_numpy()
    return users.reset_index(drop=True)
