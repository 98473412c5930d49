# The two quick-start commands: `make run` and `make test`. Both make their own
# virtual environment (.venv) with nothing but python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONFIG ?= config/feeder.toml

.PHONY: run build test bench clean

$(BIN)/feeder: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## run: build the feeds from seeds/ and keep them up to date, served on http://127.0.0.1:8080/
run: $(BIN)/feeder
	$(BIN)/feeder run -c $(CONFIG)

## build: build the feeds once into public/
build: $(BIN)/feeder
	$(BIN)/feeder build -c $(CONFIG)

## test: run the test suite
test: $(BIN)/feeder
	$(BIN)/python -m pytest -q

## bench: the benchmarks of docs/benchmarks.md (about 30 minutes; see bench/README.md for quick runs)
bench: $(BIN)/feeder
	$(BIN)/python bench/bench_build.py
	$(BIN)/python bench/bench_service.py
	$(BIN)/python bench/bench_telegram.py

clean:
	rm -rf public state bench/out
