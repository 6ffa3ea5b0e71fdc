# HydroTwin: `make run` opens the app on the demo basin, `make test` runs every check
# (ruff, import-linter layer contracts, mypy on the headless layers, pytest).
# Both set everything up on a fresh Debian/Ubuntu machine (apt-get as root, pip into .venv).

PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
SYSPKGS := xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 \
           libegl1 libgl1 fonts-wqy-microhei mosquitto postgresql netcdf-bin \
           poppler-utils
PYTEST_ARGS ?=

.PHONY: install sysdeps run broker test lint translations bench clean bundle bundle-build bundle-archive bundle-test

$(VENV)/.installed: pyproject.toml plugins/demo_basin/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q -e '.[test]' -e plugins/demo_basin
	touch $@

install: $(VENV)/.installed

# System packages for headless GL tests, Chinese fonts, the MQTT broker and PostgreSQL.
sysdeps:
	@missing=""; for p in $(SYSPKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "system packages present"; \
	elif [ "$$(id -u)" = "0" ]; then \
	  echo "installing:$$missing"; apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "missing system packages:$$missing"; \
	  echo "install them with: sudo apt-get install -y$$missing"; exit 1; fi

translations: install
	$(PY) -m hydrotwin.app.i18n_build

run: install
	$(VENV)/bin/hydrotwin --basin demo

# The MQTT broker the live feed expects (persistent sessions; packaging/mosquitto.conf).
broker:
	mkdir -p .mosquitto && mosquitto -c packaging/mosquitto.conf

lint: install
	$(VENV)/bin/ruff check hydrotwin plugins tests bench
	$(VENV)/bin/ruff format --check hydrotwin plugins tests bench
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test: install sysdeps lint
	$(PY) -m pytest --xvfb-backend xvfb $(PYTEST_ARGS)

bench: install
	for b in bench/*.py; do $(PY) $$b || exit 1; done

# The desktop bundle (issue 20, packaging/README.md): PyInstaller one-folder build in dist/,
# then an archive with the .desktop entry and the icon. Not part of `make test`.
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)
ARCHIVE := dist/hydrotwin-$(VERSION)-linux-x86_64.tar.gz

$(VENV)/.bundle-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q -e '.[bundle]'
	touch $@

bundle: $(VENV)/.bundle-installed
	$(MAKE) bundle-build

bundle-build:  # the build alone, with whatever $(PY) has PyInstaller
	@start=$$(date +%s); \
	PYTHONPATH=$(CURDIR):$(CURDIR)/plugins/demo_basin nice -n 10 $(PY) -m PyInstaller \
	  --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
	  packaging/hydrotwin.spec && \
	echo "PyInstaller build: $$(( $$(date +%s) - start )) s"
	$(MAKE) bundle-archive

bundle-archive:  # dist/hydrotwin + the .desktop entry, icon and installer → the archive
	cp packaging/hydrotwin.desktop packaging/hydrotwin.svg packaging/install-desktop-entry.sh \
	  dist/hydrotwin/
	tar -C dist -czf $(ARCHIVE) hydrotwin
	@echo "bundle: dist/hydrotwin $$(du -sh dist/hydrotwin | cut -f1)," \
	  "archive $(ARCHIVE) $$(du -h $(ARCHIVE) | cut -f1)"

bundle-test:
	@test -f $(ARCHIVE) || { echo "no $(ARCHIVE): run make bundle first"; exit 1; }
	packaging/smoke.sh $(ARCHIVE) $(PY)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
