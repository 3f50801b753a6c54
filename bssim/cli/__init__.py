"""The ``bssim`` command: a thin typer layer over the Python API.

Each command group lives in its own module and is registered here:

- ``bssim solve``                      :mod:`bssim.cli.solve`
- ``bssim jscc train|eval``            :mod:`bssim.cli.jscc`
- ``bssim pipeline ...``, ``bssim library ...``  :mod:`bssim.cli.pipeline`
- ``bssim semantic compare``           :mod:`bssim.cli.semantic`
- ``bssim network calibrate|figure``   :mod:`bssim.cli.network`
- ``bssim seeds ...``                   :mod:`bssim.cli.seeds`
"""

from __future__ import annotations

import importlib
import importlib.util

import typer
from bssim.scenario import ScenarioWarning
from bssim import __version__

app = typer.Typer(
    name="bssim",
    help="Base-station scheduling simulator for semantic-aware image and video transmission.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _register(module_name: str) -> None:
    """Import a command module; each registers its commands on :data:`app` (or sub-apps).

    A group whose third-party dependency is not installed (e.g. a training machine with torch
    and OpenCV only) becomes a command that says so, so ``bssim jscc train`` works there."""
    try:
        module = importlib.import_module(f"bssim.cli.{module_name}")
    except ModuleNotFoundError as err:
        if not err.name or err.name.split(".")[0] == "bssim":
            raise
        missing = err.name

        def unavailable() -> None:
            typer.echo(f"error: bssim {module_name} needs the package {missing!r}, which is not installed "
                       "(install bssim with its dependencies: pip install -e .)", err=True)
            raise typer.Exit(2)

        app.command(module_name, help=f"(unavailable here: needs {missing})")(unavailable)
        return
    module.register(app)


def _print_version(value: bool) -> None:
    if value:

        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True,
                                 callback=_print_version),
) -> None:
    """Base-station scheduling simulator for semantic-aware image and video transmission."""
    _one_line_scenario_warnings()


def _one_line_scenario_warnings() -> None:
    """Show a ScenarioWarning (a setting the chosen link or objective ignores) as one
    ``warning: ...`` line on stderr, once per message; other warnings as Python shows them."""
    import warnings


    default = warnings.showwarning
    if getattr(default, "bssim_one_line", False):  # already installed (several commands in one process)
        return

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, ScenarioWarning):
            typer.echo(f"warning: {message}", err=True)
        else:
            default(message, category, filename, lineno, file, line)

    show.bssim_one_line = True  # type: ignore[attr-defined]
    warnings.showwarning = show


for _name in ("solve", "jscc", "pipeline", "run", "semantic", "network", "seeds"):
    if importlib.util.find_spec(f"bssim.cli.{_name}") is not None:
        _register(_name)


def main() -> None:  # pragma: no cover - console entry point
    app()
