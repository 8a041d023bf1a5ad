# Two commands for a newcomer: `make quick` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
SMK    := $(VENV)/bin/snakemake
STAMP  := $(VENV)/.installed
CORES  ?= 2

.PHONY: install slurm quick test paper report dryrun clean-results

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
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

## The test suite (unit tests and one small end-to-end Snakemake run).
test: $(STAMP)
	$(PY) -m pytest

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
