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

from bssim.options.catalog import measure_content
from bssim.results import RunResult, build_manifest, summarise, write_run
from bssim.scenario import DeclaredContent, Scenario, apply_overrides, load_scenario, parse_scenario
from bssim.sim.sources import DeclaredSource, MeasuredSource
from bssim.sim.engine import Engine
from bssim.sim.network import NetworkEngine

__all__ = ["run", "prepare_scenario", "solve_epoch", "make_source", "RunResult", "write_run"]


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
    if isinstance(scenario.content, DeclaredContent):
        return DeclaredSource(scenario.content, scenario.objective.metric_column)
    return MeasuredSource(measure_content(scenario, scenario_path, progress=progress))


def source_key(scenario: Scenario) -> str:
    """What a scenario's content measurements depend on, as a string: scenarios with equal keys
    can share one content source (sweeps over P_max or the solver measure once)."""
    import json

    parts = {"content": scenario.content.model_dump(mode="json"), "link": scenario.link.model_dump(mode="json"),
             "metric": scenario.objective.metric}
    if scenario.link.model == "analog":  # the channel noise of analog measurements follows the seed
        parts["seed"] = scenario.seed
    if isinstance(scenario.content, DeclaredContent):
        parts = {"declared": id(scenario)}  # declared sources are cheap: never shared
    return json.dumps(parts, sort_keys=True)


def engine_class(scenario: Scenario):
    """The engine that simulates ``scenario``: the network's when it has a ``[network]`` section."""
    if scenario.network is not None:

        return NetworkEngine

    return Engine


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
    overwrite: bool = False,
) -> RunResult:
    """Simulate one scenario; returns a :class:`~bssim.results.RunResult` (written to ``out`` if
    given; an existing ``out`` is replaced only with ``overwrite``).

    ``scenario``: a file or a :class:`~bssim.scenario.Scenario`; ``seed`` / ``epochs``
    override the scenario's; ``overrides`` sets other fields by dotted path or short name
    (``{"p_max": 5}``); ``progress``: True for a tqdm bar, or a callable receiving epoch
    increments; ``source``: a prepared content source (sweeps reuse one measurement table).
    """

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
        engine = engine_class(sc)(sc, source=source, progress=cb)
        user_epochs, epoch_df, wall = engine.run(n_epochs)
    finally:
        if bar is not None:
            bar.close()
    info = {
        "scenario": sc.name,
        "seed": sc.seed,
        "solver": sc.scheduler.solver,
        "link": sc.link.model,
        "objective": sc.objective.kind,
        "metric": sc.objective.metric_column,
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
        write_run(result, out, csv=csv, overwrite=overwrite)
    return result


def solve_epoch(
    scenario: Scenario | str | Path, *, epoch: int = 0, seed: int | None = None,
    overrides: dict[str, Any] | None = None, progress: bool = False, source: Any = None,
):
    """One epoch of a scenario, exactly as ``bssim run`` schedules it: returns
    (:class:`~bssim.epoch.EpochResult`, per-request table, scenario).

    The engine runs epochs 0..``epoch`` (the users, their channels and requests come from
    the same seeded streams) and returns that epoch's result. The table has one row per
    request with the decision columns of :meth:`~bssim.epoch.EpochResult.per_user` and
    ``user, distance_m, gain_db, content, frame, key_available``."""

    sc, path = prepare_scenario(scenario, overrides, seed, epoch + 1)
    if source is None:
        source = make_source(sc, path, progress=progress)
    if sc.network is not None:
        raise ValueError("solve_epoch: a [network] scenario schedules one problem per sector; use run()")
    engine = Engine(sc, source=source, keep_results=True)
    user_epochs, _, _ = engine.run(epoch + 1)
    table = user_epochs[user_epochs["epoch"] == epoch].reset_index(drop=True)
    return engine.results[epoch], table, sc
