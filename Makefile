# Cell-DINO companion. `make all` regenerates every table, figure and the book; `make test` runs the tests.
PYTHON ?= python3
PROFILE ?= default
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: all env data run book test lint lab publish clean

all: run book  ## environment, synthetic data, every notebook, the book

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name celldino --display-name "Python (celldino)" >/dev/null
	if git rev-parse --git-dir >/dev/null 2>&1; then $(BIN)/nbstripout --install --attributes .gitattributes; fi
	touch $@

env: $(STAMP)  ## create .venv from requirements.lock (once)

data: env  ## generate the profile's synthetic data sets (skipped when up to date)
	$(BIN)/celldino data --profile $(PROFILE)

run: data  ## execute notebooks/NN_*.ipynb in order with papermill
	$(BIN)/celldino run --profile $(PROFILE)

book: env  ## build the Jupyter Book from the executed notebooks into _build/html
	$(BIN)/celldino book

lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: env lint  ## lint, then the test suite
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

lab: env  ## JupyterLab on the project's environment
	$(BIN)/jupyter lab notebooks

publish: book  ## push _build/html to the gh-pages branch
	$(BIN)/ghp-import --no-jekyll --push --force _build/html

clean:  ## remove generated data, executed notebooks, figures and the book (keeps .venv)
	rm -rf data/synthetic data/photographs data/checkpoints data/embeddings data/profiles data/umap data/guide book/executed _build
	find figures -type f ! -name README.md -delete
