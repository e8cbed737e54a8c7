# Two entry points (see README): `make run` and `make test`. Everything else is setup.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint eval clean

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

clean:
	rm -rf $(VENV) .rag-index eval/out test-artifacts
