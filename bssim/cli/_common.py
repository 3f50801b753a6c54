"""Shared CLI helpers: turning API errors into one clear line and exit code 2."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import typer


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


def is_tty() -> bool:
    return sys.stdout.isatty()
