# Two entry points (see README): `make run` and `make test`. Everything else is setup.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint eval bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU torch first, from the wheel on disk: otherwise pip pulls a multi-GB CUDA build
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# Debian's chromium for the real-browser tests (never a browser download)
/usr/bin/chromium:
	if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null

run: $(BIN)/.installed
	$(BIN)/python app.py

test: $(BIN)/.installed /usr/bin/chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(BIN)/.installed
	$(BIN)/ruff check .

eval: $(BIN)/.installed
	$(BIN)/rag eval --qa eval/qa_dev.jsonl --out eval/out --baseline

# The benchmark (bench/README.md): ingestion, queries at 1k/10k/100k articles, recall, cold start;
# about 25-30 min on 2 cores; writes bench/results/results.json and results.md
bench: $(BIN)/.installed
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .rag-index eval/out test-artifacts
