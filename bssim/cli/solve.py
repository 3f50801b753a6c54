"""``bssim solve`` (placeholder until written)."""

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def solve() -> None:
        """Solve one scheduling epoch."""
        raise typer.Exit(1)
