# make demo / make test: each sets up .venv itself on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The CPU build of torch (on this project's machines pip finds it on disk); override for CUDA.
TORCH_SPEC ?= torch==2.13.0
STAMP  := $(VENV)/.installed

.PHONY: demo test test-all bench experiments clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q "$(TORCH_SPEC)"
	$(BIN)/pip install -q -e ".[test]"
	touch $@

demo: $(STAMP)
	$(BIN)/wplus info default
	$(BIN)/wplus embed src/wplus/data/astronaut.png --align --steps 500 --video --out demo-out
	@echo "demo results: demo-out/ (astronaut.npz latent, astronaut_recon.png, astronaut_compare.png, astronaut.mp4)"

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-all: $(STAMP)
	$(BIN)/python -m pytest -q --runslow

bench: $(STAMP)
	$(BIN)/python benchmarks/embed_throughput.py

# Regenerates docs/experiments/ (tables, figures, experiments.md) on the embedded default model.
experiments: $(STAMP)
	$(BIN)/wplus experiment all --steps 1000 --out docs/experiments

clean:
	rm -rf $(VENV) demo-out wplus-out
