# Set-up and the two everyday commands (see README.md):
#   make run    # create .venv when missing, run the default workflow end to end
#   make run CONFIG=config/experiments/zoo.yaml   # another experiment, its YAML checked first
#   make test   # create .venv when missing, run the whole test suite (what CI runs)
#   make test-fast   # the unit tests only: every test not marked slow (under 2 minutes on 2 cores)
#   (both run one pytest worker per core: TEST_WORKERS=1 runs them in one process)
#   make test-slurm  # the SLURM profile on a one-node SLURM cluster (root; installs Debian's slurm)
#   make photographs # the example samples stores from bundled photos, in examples/photographs/
# GPU machines: make run TF=gpu   (installs tensorflow[and-cuda] instead of tensorflow-cpu)

PYTHON ?= python3
TF ?= cpu
VENV := .venv
STAMP := $(VENV)/.installed-$(TF)
CORES ?= all
# pytest-xdist workers. --dist loadfile runs each test module in one worker (module
# fixtures, UMAP's compiled kernels); tests/conftest.py puts modules that share the
# tiny run in one worker too.
TEST_WORKERS ?= auto
PYTEST := $(VENV)/bin/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

.PHONY: run test test-fast test-slurm lint clean-results photographs

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[$(TF),test]"
	rm -f $(VENV)/.installed-*
	touch $@

# make run CONFIG=path.yaml: that experiment instead of the default one. The file is read
# first by isoflat's YAML reader, whose errors name FILE:LINE:COL (Snakemake's do not).
run: $(STAMP)
ifneq ($(CONFIG),)
	$(VENV)/bin/python -m isoflat_tf.yaml_file $(CONFIG)
	$(VENV)/bin/snakemake --cores $(CORES) --configfile $(CONFIG)
else
	$(VENV)/bin/snakemake --cores $(CORES)
endif

test: $(STAMP)
	$(PYTEST)

# Markers in pyproject.toml: `slow` (end-to-end snakemake runs, whole trainings in
# fresh processes, heavy numerical checks) and `slurm` (never part of the default run).
test-fast: $(STAMP)
	$(PYTEST) -m "not slow and not slurm"

test-slurm: $(STAMP)
	$(VENV)/bin/python -m pytest -q -m slurm -rs --durations=5 tests/test_slurm.py

# The example samples stores (README, "Your own samples"): window.zarr and rotation.zarr.
photographs: $(STAMP)
	$(VENV)/bin/python -m isoflat_tf.photographs examples/photographs

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/snakemake --lint

clean-results:
	rm -rf results .snakemake
