# Set-up and the two everyday commands (see README.md):
#   make run    # create .venv when missing, run the default workflow end to end
#   make test   # create .venv when missing, run the test suite
# GPU machines: make run TF=gpu   (installs tensorflow[and-cuda] instead of tensorflow-cpu)

PYTHON ?= python3
TF ?= cpu
VENV := .venv
STAMP := $(VENV)/.installed-$(TF)
CORES ?= all

.PHONY: run test lint clean-results

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[$(TF),test]"
	rm -f $(VENV)/.installed-*
	touch $@

run: $(STAMP)
	$(VENV)/bin/snakemake --cores $(CORES)

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/snakemake --lint

clean-results:
	rm -rf results .snakemake
