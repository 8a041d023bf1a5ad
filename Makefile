# Two commands for a newcomer: `make quick` and `make test`. Both create .venv when it is missing.
# Python 3.11-3.13 (pyproject.toml): the newest of python3.13, python3.12, python3.11, then python3
# if its version fits, that runs (a pyenv shim of a version not selected does not).
# `make test-fast PYTHON=python3.12 VENV=.venv312`: the fast tests in another interpreter's venv.
SUPPORTED := python3.13 python3.12 python3.11 python3
PYTHON ?= $(firstword $(foreach p,$(SUPPORTED),$(shell $(p) -c 'import sys; \
	sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 14))' >/dev/null 2>&1 && echo $(p))))
VENV   ?= .venv
PY     := $(VENV)/bin/python
SMK    := $(VENV)/bin/snakemake
STAMP  := $(VENV)/.installed
CORES  ?= 2

.PHONY: install slurm quick test test-fast paper report dryrun clean-results

$(STAMP): pyproject.toml
	@test -x $(PY) || { test -n "$(PYTHON)" || { echo "no Python 3.11-3.13 found (tried $(SUPPORTED));" \
	  "install one, or name it: make PYTHON=/path/to/python3.12" >&2; exit 1; }; \
	  echo "creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"; $(PYTHON) -m venv $(VENV); }
	@echo "$(VENV): $$($(PY) --version)"
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

## SLURM for tests/test_slurm.py (a one-node cluster on localhost) and the [slurm] extra
## (profiles/slurm). Debian/Ubuntu packages, needs root; does nothing when they are present.
slurm: $(STAMP)
	@command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && \
	  command -v sbatch >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null; }
	@$(PY) -c "import snakemake_executor_plugin_slurm" 2>/dev/null || $(PY) -m pip install --quiet -e '.[slurm]'

## The whole DAG on the offline CPU default: tables into results/, figures into figures/.
quick: $(STAMP)
	$(SMK) all --configfile config/quick.yaml --cores $(CORES) --show-failed-logs

## The test suite (unit tests and the end-to-end Snakemake runs), in TEST_WORKERS pytest-xdist
## processes: one test file per worker, so a file's shared fixtures are built once per file.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

## The tests not marked slow (no end-to-end DAG runs): CI's check of Python 3.12 and 3.13.
test-fast: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not slow" -q

## The paper's settings (GPU machine with internet).
paper: $(STAMP)
	$(SMK) all --cores 8 --show-failed-logs

## An HTML report of the tables, figures and runs of the last `make quick`.
report: $(STAMP)
	$(SMK) all --configfile config/quick.yaml --report report.html

dryrun: $(STAMP)
	$(SMK) -n all --configfile config/quick.yaml

clean-results:
	rm -rf results/runs results/*.csv results/*.md figures/*.png figures/*.pdf logs .snakemake/ganem-config
