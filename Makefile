# Every target is a one-liner over the `sentiment-hpo` CLI; `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
CLI := $(VENV)/bin/sentiment-hpo
# the default campaign: wide & deep on the GOP tweets (see README, "Which GOP campaign")
EXP ?= gop_debate_wide
NAME ?= $(EXP)
# Use the shared data folder when it sits beside the checkout (CI, developers); else data/.
SENTIMENT_HPO_DATA_DIR ?= $(if $(wildcard ../shared/data/*.csv),$(abspath ../shared/data),data)
export SENTIMENT_HPO_DATA_DIR

.PHONY: help setup demo campaign table ui reproduce train inspect test test-full audit bench bench-quick clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml constraints-cpu.txt
	@echo "setup: creating $(VENV) (CPU-only TensorFlow, torch and Ax, Ray; about 3.6 GB, 1-3 min)"
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -c constraints-cpu.txt -e '.[test,ray,postgres]' > $(VENV)/install.log 2>&1 || (tail -40 $(VENV)/install.log; exit 1)
	touch $@

setup: $(VENV)/.installed ## Create .venv and install the package (CPU-only)

DEMO := demo-$(shell date +%Y%m%d-%H%M%S)
demo: setup ## Fetch the GOP tweets if needed; run a 10-trial campaign; print Table 5 and the UI command
	$(CLI) data fetch gop-debate
	$(CLI) campaign run gop_debate_demo --trials 10 --name $(DEMO)

campaign: setup ## Run or resume a campaign: make campaign [EXP=gop_debate_wide] NAME=gop-1 TRIALS=20
	$(CLI) campaign run $(EXP) --name $(NAME) $(if $(TRIALS),--trials $(TRIALS)) $(ARGS)

table: setup ## Print a campaign's Table 5: make table NAME=gop-1
	$(CLI) table $(NAME)

ui: setup ## MLflow UI on a campaign's trials (serves the store on 127.0.0.1:5000): make ui [NAME=gop-1]
	$(CLI) ui $(NAME)

reproduce: setup ## Retrain a campaign's best trial from MLflow, 3 extra seeds: make reproduce NAME=gop-1
	$(CLI) reproduce $(NAME) --seeds 3

train: setup ## One trial: make train EXP=gop_debate_lstm ARGS="--param lstm_units=32"
	$(CLI) train $(EXP) $(ARGS)

inspect: setup ## Data summary of an experiment: make inspect EXP=...
	$(CLI) data inspect $(EXP)

test: setup ## Fast tests (tiny generated data, 1-epoch trials; real-data checks when present)
	$(PY) -m pytest -n 2 --dist worksteal

test-full: setup ## All tests, slow ones included
	SENTIMENT_HPO_FUZZ_EXAMPLES=300 $(PY) -m pytest -m "slow or not slow"

BENCH_STORE := $(shell mktemp -u /tmp/sentiment-hpo-bench-XXXXXX)
# the peers benchmark's Optuna and KerasTuner: for the benchmarks, not for users
$(VENV)/.bench-installed: $(VENV)/.installed
	$(PY) -m pip install -q -c constraints-cpu.txt -e '.[bench]'
	touch $@

bench: setup $(VENV)/.bench-installed ## All benchmarks (about 3.5 h on 2 cores); figures into benchmarks/RESULTS.md
	$(PY) -m benchmarks.platform_tax
	$(PY) -m benchmarks.overhead
	$(PY) -m benchmarks.training_speed
	$(PY) -m benchmarks.scaling
	$(PY) -m benchmarks.executors --store $(BENCH_STORE)
	$(PY) -m benchmarks.bo_vs_random
	$(PY) -m benchmarks.optimizer_scale
	$(PY) -m benchmarks.peers

bench-quick: setup $(VENV)/.bench-installed ## Smaller versions of each benchmark (under 10 min); into benchmarks/RESULTS.md
	time $(PY) -m benchmarks.platform_tax --quick
	time $(PY) -m benchmarks.overhead --quick
	time $(PY) -m benchmarks.training_speed --quick
	time $(PY) -m benchmarks.scaling --quick
	time $(PY) -m benchmarks.optimizer_scale --quick
	time $(PY) -m benchmarks.peers --quick

audit: setup ## Check the installed packages against PyPI's advisories (needs pypi.org): make audit [AUDIT_ARGS=--strict]
	$(PY) -m pip_audit --skip-editable --progress-spinner off $(AUDIT_ARGS)

clean: ## Remove the store's contents (runs, campaigns, cache), keeping mlruns/.gitkeep
	find mlruns -mindepth 1 ! -name .gitkeep -delete
