"""Shared CLI helpers: turning API errors into one clear line and exit code 2."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer
from bssim.pipeline.extract import set_threads


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Print ValueError / FileNotFoundError (incl. ScenarioError) messages without a traceback, exit 2."""
    try:
        yield
    except (ValueError, FileNotFoundError) as err:
        fail(err)


def fail(exc: Exception) -> None:
    """Print ``error: <message>`` on stderr and exit with code 2 (bad input, no traceback)."""
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(2)


#: The SNRs (dB) a --snr option accepts: 10^(SNR/10) stays a meaningful noise ratio (and a float).
SNR_RANGE_DB = (-50.0, 100.0)


def parse_snr_list(text: str, name: str = "--snr (dB)") -> list[float]:
    """:func:`parse_float_list` for SNRs in dB, each in :data:`SNR_RANGE_DB`."""
    values = parse_float_list(text, name)
    lo, hi = SNR_RANGE_DB
    bad = [v for v in values if not lo <= v <= hi]
    if bad:
        raise ValueError(f"{name}: {bad[0]:g} dB is outside the allowed range [{lo:g}, {hi:g}] dB")
    return values


def parse_float_list(text: str, name: str) -> list[float]:
    """'0,5,10' -> [0.0, 5.0, 10.0]; a clear error naming the option for anything else
    (non-numbers, an empty list, nan or inf)."""
    import math

    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"{name}: expected comma-separated numbers, e.g. 0,10,20; got {text!r}") from None
    if not values:
        raise ValueError(f"{name}: expected at least one number, got {text!r}")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{name}: expected finite numbers, got {text!r}")
    return values


def set_compute_threads() -> None:
    """One torch thread unless ``BSSIM_THREADS`` says otherwise: on the project's 2 shared cores
    two threads made the JSCC 10-40x slower (OpenMP spin-waiting; docs/pipeline.md). The CLI
    sets it for the process it runs; library code never does."""
    import os


    set_threads(max(1, int(os.environ.get("BSSIM_THREADS", "1"))))


def json_safe(value):
    """``value`` with every non-finite float (inf, NaN) replaced by None and numpy scalars made
    plain, so that ``json.dumps`` writes standard JSON (no ``Infinity`` or ``NaN``)."""
    import math

    import numpy as np

    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
