"""``bssim network calibrate|figure``: the TR 38.901 calibration of the network layout and
channel, and the layout figure of a network run (:mod:`bssim.studies.network`)."""

from __future__ import annotations

from pathlib import Path

import typer

from bssim.cli._common import user_errors
from bssim.studies.network import markdown, run_calibration
from bssim.results import load_run
from bssim.scenario import parse_scenario
from bssim.studies.network import network_figure
from bssim.cli.run import _parse_overrides
from bssim.sim import make_source, prepare_scenario
from bssim.studies.network import load_check, markdown

network_app = typer.Typer(help="Multi-cell network: calibration and figures.", no_args_is_help=True)


@network_app.command("calibrate")
def calibrate_cmd(
    out: Path = typer.Option(Path("docs/figures/network"), "--out", help="Folder for the figure and table."),
    users: int = typer.Option(5700, "--users", min=57, help="Users dropped over the 19 x 3 sectors."),
    seed: int = typer.Option(0, "--seed", help="Drop seed."),
) -> None:
    """19 sites x 3 sectors UMa 6 GHz: CDFs of coupling loss and geometry beside 3GPP R1-165974."""

    with user_errors():
        table = run_calibration(out, users=users, seed=seed)
    typer.echo(markdown(table.round(1)))
    typer.echo(f"wrote {out}/network_calibration.png, .pdf, .csv, .md")


@network_app.command("figure")
def figure_cmd(
    run_folder: Path = typer.Argument(..., help="A results folder of a [network] run (bssim run --out)."),
    epoch: int = typer.Option(0, "--epoch", help="Which epoch's users to draw."),
    out: Path = typer.Option(None, "--out", help="Folder for network_layout.png/.pdf (default: the run folder)."),
) -> None:
    """Sites, sectors and the users of one epoch coloured by the scheme they were served with."""

    with user_errors():
        res = load_run(run_folder)
        sc = parse_scenario(res.manifest["scenario"], source=f"{run_folder}/manifest.json")
        if sc.network is None:
            raise ValueError(f"{run_folder}: not a [network] run (its scenario has no [network] section)")
        files = network_figure(res.user_epochs, sc, out or run_folder, epoch=epoch)
    typer.echo("wrote " + ", ".join(str(f) for f in files))


@network_app.command("load-check")
def load_check_cmd(
    scenario: Path = typer.Argument(..., help="A scenario with a [network] section."),
    epochs: int = typer.Option(40, "--epochs", min=3, help="Epochs per case."),
    set_: list[str] = typer.Option([], "--set", help="override a field: FIELD=VALUE, repeatable"),
) -> None:
    """Does the 'load' interference lag oscillate? Sector power dynamics, full buffer vs load."""

    with user_errors():
        sc, path = prepare_scenario(scenario, _parse_overrides(set_))
        if sc.network is None:
            raise ValueError(f"{scenario}: no [network] section")
        table = load_check(sc, epochs, make_source(sc, path))
    typer.echo(markdown(table.round(3)))


def register(app: typer.Typer) -> None:
    app.add_typer(network_app, name="network")
