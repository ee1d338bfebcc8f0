"""The notebooks in ``notebooks/`` run headless, on small budgets, and draw their figures.

Each notebook is executed in a fresh ``python3`` kernel (the kernelspec of the environment
running pytest: ``jupyter_client`` starts it with this interpreter) with the repository root
as working directory and small values for the notebooks' parameter cells
(``BGENV_NB_*`` environment variables). Models are trained into a temporary directory; the
committed notebooks are never written to.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TIMEOUT_S = 600  # per notebook; they take seconds once numba's cache is warm (a cold compile is slower)
SMALL = {
    "BGENV_NB_STEPS": "4096",
    "BGENV_NB_EPISODES": "4",
    "BGENV_NB_DEVICES": "16",
    "BGENV_NB_DAYS": "2",
    "BGENV_NB_MODEL": "",  # never reuse a model from runs/: train a fresh tiny one
    "BGENV_NB_RUN": "",
}


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS] == [
        "01_quickstart.ipynb",
        "02_compare_policies.ipynb",
        "03_tensorboard_analysis.ipynb",
        "04_platforms.ipynb",
        "05_fleets.ipynb",
        "06_distribution_shift.ipynb",
    ]


def test_kernel_runs_this_python():
    """``python3`` must be this environment's interpreter (a user-wide kernelspec of another
    Python would run the notebooks without bgenv or with another copy of it)."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import sys; print(sys.executable)")])
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    assert Path(nb.cells[0].outputs[0].text.strip()).resolve() == Path(sys.executable).resolve()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear the outputs"
    assert "parameters" in nb.cells[1].metadata.get("tags", []), f"{path.name}: the second cell holds the parameters"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    for key, value in SMALL.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("BGENV_NB_RUNS", str(tmp_path / "runs"))
    # headless; the notebooks select the inline backend themselves (%matplotlib inline)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)  # executed in memory, never written back
    deadline = time.monotonic() + TIMEOUT_S

    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT)}},
        timeout=TIMEOUT_S,
        timeout_func=lambda cell: max(1, int(deadline - time.monotonic())),
        allow_errors=False,
    )
    client.execute()

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: {errors}"
    stderr = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stderr")
    assert "Traceback" not in stderr, stderr
    images = [o for o in outputs if o.output_type in ("display_data", "execute_result") and "image/png" in o.data]
    assert images, f"{path.name} drew no figure"
