# TwinViewer: `make run` opens the demo twin, `make test` runs the whole suite (installing what it needs).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
APT_PACKAGES := xvfb xauth libegl1 libegl-mesa0 libopengl0 libgl1 libglx-mesa0 libgl1-mesa-dri libxkbcommon-x11-0 \
	libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 \
	libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libdbus-1-3 libfontconfig1 mosquitto poppler-utils postgresql \
	shared-mime-info desktop-file-utils

.PHONY: run test test-fast test-core lint bench system-deps venv demo-assets clean dist test-dist

# The core, io and sources tests also run in .venv-core, which has no PySide6, VTK or pyvista: proof that the
# lower layers need none of them (docs/architecture.md). tests/core_env.py derives what it installs (the
# dependencies of pyproject.toml minus the Qt/VTK ones) and which test modules it runs (those that import no
# Qt or VTK), so neither list is kept by hand.
CORE_VENV ?= .venv-core
CORE_PY := $(CORE_VENV)/bin/python

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test,step,draco]"
	touch $@

venv: $(VENV)/.installed

system-deps:
	@bash installer/install-system-deps.sh $(APT_PACKAGES)

run: system-deps venv
	$(VENV)/bin/twinviewer

test: system-deps venv lint test-core
	$(PY) -m pytest -q -p no:cacheprovider

$(CORE_VENV)/.installed: pyproject.toml Makefile tests/core_env.py
	$(PYTHON) -m venv $(CORE_VENV)
	$(CORE_PY) -m pip install -q --upgrade pip
	$(CORE_PY) -m pip install -q "tomli>=2; python_version < '3.11'"
	$(CORE_PY) tests/core_env.py packages | $(CORE_PY) -m pip install -q -r /dev/stdin
	$(CORE_PY) -m pip install -q --no-deps -e .
	touch $@

test-core: $(CORE_VENV)/.installed
	@$(CORE_PY) -c "import importlib.util as u, sys; found = [m for m in ('PySide6', 'vtkmodules', 'pyvista') \
		if u.find_spec(m)]; sys.exit(f'$(CORE_VENV) must not have {found}' if found else 0)"
	$(CORE_PY) -m pytest -q -p no:cacheprovider -W ignore::pytest.PytestConfigWarning -m "not gui and not slow" \
		$$($(CORE_PY) tests/core_env.py tests)

test-fast: venv
	$(PY) -m pytest -q -m "not gui and not slow"

# Style (ruff, line length 110), layer rules (import-linter contracts in pyproject.toml) and types (mypy on
# core/, io/, sources/): see docs/architecture.md.
lint: venv
	$(VENV)/bin/ruff check twinviewer tests assets
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

bench: venv
	$(PY) -m pip install -q -e ".[bench]"
	for b in tests/benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

demo-assets: venv
	$(PY) assets/build_demo.py

# The installable app (installer/README.md): dist/twinviewer/ (one folder) and dist/twinviewer-*-linux-*.tar.gz.
dist: venv
	$(PY) -m pip install -q -e ".[dist]"
	rm -rf dist/twinviewer
	@start=$$(date +%s); \
	PYTHONPATH=$(CURDIR) $(PY) -m PyInstaller --noconfirm --log-level WARN --distpath dist \
		--workpath build/pyinstaller installer/twinviewer.spec && \
	echo "pyinstaller: $$(( $$(date +%s) - start )) s"
	bash installer/linux/package.sh dist/twinviewer
	$(PY) installer/bundle_report.py dist/twinviewer --top 15

# Builds the bundle, then installs and uses it from a clean folder (tests/test_dist_bundle.py).
test-dist: system-deps dist
	TWINVIEWER_DIST_ARCHIVE="$$(ls -t dist/twinviewer-*-linux-*.tar.gz | head -1)" \
		$(PY) -m pytest -q -p no:cacheprovider tests/test_dist_bundle.py

clean:
	rm -rf $(VENV) $(CORE_VENV) build dist *.egg-info
