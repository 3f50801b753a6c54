# Two commands on a fresh clone: `make run` and `make test` (`make check`: the fast unit tier).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test check install clean

$(BIN)/bssim: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,dask,pose]"
	$(BIN)/pip install --quiet --no-deps mediapipe==0.10.21  # extractor "pose"; see pyproject's pose extra
	touch $(BIN)/bssim

install: $(BIN)/bssim

run: install
	$(BIN)/bssim run scenarios/dense_cell.toml

test: install
	$(BIN)/python -m pytest -q

# the fast tier: tests/unit needs no shared data and runs in under a minute (two workers)
check: install
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2 tests/unit

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
