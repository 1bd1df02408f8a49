# Tarn Lambda: `make run` runs the stack, `make test` runs every check CI runs.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip

.PHONY: install system-deps run test lint typecheck pytest bench

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
	@# The Docker tests build stand-in runtime images from a Debian root file system.
	@command -v debootstrap >/dev/null || { \
		echo "installing debootstrap (Debian package)"; \
		apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }

install: system-deps
	$(PIP) install -q --disable-pip-version-check -e '.[test]'

run: install
	$(PYTHON) -m services.cli up

lint:
	ruff check .
	ruff format --check .

typecheck:
	mypy bus services workers

pytest:
	$(PYTHON) -m pytest -q

test: install lint typecheck pytest

bench: install
	$(PYTHON) -m bench.invoke
