# Two commands: `make demo` and `make test`. Each sets up .venv by itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format clean venv browser validate

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sparsim demo -o out/demo

# every validation case (anchors + Timeloop folders) -> docs/validation.md
validate: $(STAMP)
	$(BIN)/python -m sparsim validate -o docs/validation.md

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# headless Chromium renders the HTML report in tests/test_report.py (Debian package; CI is root)
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  (apt-get update && apt-get install -y chromium) || \
	  echo "make: could not install chromium: tests/test_report.py will fail"

test: $(STAMP) lint browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf out sim_build hw/sim_build .pytest_cache .hypothesis
