"""The notebooks in notebooks/ execute end to end (nbclient) on a tiny scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).parent.parent.parent / "notebooks").glob("*.ipynb"))

TINY = """
name = "tiny_nb"
seed = 2
[users]
count = 12
[scheduler]
p_max_w = 2.0

[content]
source = "declared"
D_bits = { dist = "uniform", low = 2.0e5, high = 1.0e6 }
C_fraction = { dist = "uniform", low = 0.05, high = 0.3 }
alpha = { dist = "uniform", low = 0.6, high = 0.95 }
[sim]
epochs = 3
"""


def test_there_are_at_least_two_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path, tmp_path, monkeypatch):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY)
    out = tmp_path / "out"
    monkeypatch.setenv("BSSIM_NB_SCENARIO", str(scenario))
    monkeypatch.setenv("BSSIM_NB_OUT", str(out))
    monkeypatch.setenv("BSSIM_NB_EPOCHS", "3")
    monkeypatch.setenv("BSSIM_NB_SEEDS", "2")
    monkeypatch.setenv("BSSIM_NB_VALUES", "0.5,2")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError on any failing cell
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the notebook should draw figures"
    assert list(out.rglob("*.parquet")), "the notebook should write results with pandas-readable Parquet"
