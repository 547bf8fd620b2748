# make demo / make test: each sets up .venv itself on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The CPU build of torch (on this project's machines pip finds it on disk); override for CUDA.
TORCH_SPEC ?= torch==2.13.0
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
WEB_STAMP  := $(VENV)/.installed-web

.PHONY: demo test test-all lint serve screenshots bench experiments clean

# wplus itself (demo, bench, experiments); its web UI only for serve; the test tools
# (pytest, ruff, playwright) and the web UI for tests. The demo skips Gradio: a minute less.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q "$(TORCH_SPEC)"
	$(BIN)/pip install -q -e .
	touch $@

$(WEB_STAMP): $(STAMP)
	$(BIN)/pip install -q -e ".[web]"
	touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install -q -e ".[test,web]"
	touch $@

demo: $(STAMP)
	$(BIN)/wplus info default
	$(BIN)/wplus embed src/wplus/data/astronaut.png --align --steps 500 --video --out demo-out
	@echo "demo results: demo-out/ (astronaut.npz latent, astronaut_recon.png, astronaut_compare.png, astronaut.mp4)"

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests scripts benchmarks

test: lint
	$(BIN)/python -m pytest -q

test-all: lint
	$(BIN)/python -m pytest -q --runslow

# The browser UI on http://127.0.0.1:7860 (Ctrl-C stops it and deletes its session files).
serve: $(WEB_STAMP)
	$(BIN)/wplus serve

# Screenshots of each tab of the web UI, taken by its browser tests (needs Debian's chromium).
screenshots: $(TEST_STAMP)
	WPLUS_SCREENSHOTS=docs/img $(BIN)/python -m pytest -q tests/test_web.py -k screenshots

bench: $(STAMP)
	$(BIN)/python benchmarks/embed_throughput.py

# Regenerates docs/experiments/ (tables, figures, experiments.md) on the embedded default model,
# then the applications: morph, crossover style transfer and latent arithmetic on the aligned
# astronaut photo and three of the model's own samples (seeds 1-3).
EXP  := docs/experiments
APPS := $(EXP)/applications
EDIT := --steps 1000 --cache-dir $(APPS)/cache
experiments: $(STAMP)
	$(BIN)/wplus experiment all --steps 1000 --out $(EXP)
	$(BIN)/wplus align src/wplus/data/astronaut.png --size 256 --out $(APPS)/inputs
	$(BIN)/wplus generate --seeds 1-3 --out $(APPS)/inputs
	$(BIN)/wplus morph $(APPS)/inputs/astronaut.png $(APPS)/inputs/seed0001.png --frames 16 $(EDIT) --out $(APPS)/morph
	$(BIN)/wplus mix $(APPS)/inputs/astronaut.png $(APPS)/inputs/seed0002.png --layers 0-3 $(EDIT) --out $(APPS)/mix-coarse
	$(BIN)/wplus mix $(APPS)/inputs/astronaut.png $(APPS)/inputs/seed0002.png --layers 6-9 $(EDIT) --out $(APPS)/mix-fine
	$(BIN)/wplus transfer $(APPS)/inputs/astronaut.png --from $(APPS)/inputs/seed0001.png --to $(APPS)/inputs/seed0003.png $(EDIT) --out $(APPS)/transfer
	rm -rf $(APPS)/cache

clean:
	rm -rf $(VENV) demo-out wplus-out
