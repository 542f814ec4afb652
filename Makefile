# TwinViewer: `make run` opens the demo twin, `make test` runs the whole suite (installing what it needs).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
APT_PACKAGES := xvfb xauth libegl1 libopengl0 libgl1 libglx-mesa0 libgl1-mesa-dri libxkbcommon-x11-0 \
	libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 \
	libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libdbus-1-3 libfontconfig1 mosquitto

.PHONY: run test test-fast lint bench system-deps venv demo-assets clean dist test-dist

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

test: system-deps venv
	$(VENV)/bin/ruff check twinviewer tests assets
	$(PY) -m pytest -q -p no:cacheprovider

test-fast: venv
	$(PY) -m pytest -q -m "not gui and not slow"

lint: venv
	$(VENV)/bin/ruff check twinviewer tests assets

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
	PYTHONPATH=$(CURDIR) $(VENV)/bin/pyinstaller --noconfirm --log-level WARN --distpath dist \
		--workpath build/pyinstaller installer/twinviewer.spec && \
	echo "pyinstaller: $$(( $$(date +%s) - start )) s"
	bash installer/linux/package.sh dist/twinviewer
	$(PY) installer/bundle_report.py dist/twinviewer --top 15

# Builds the bundle, then installs and uses it from a clean folder (tests/test_dist_bundle.py).
test-dist: system-deps dist
	TWINVIEWER_DIST_ARCHIVE="$$(ls -t dist/twinviewer-*-linux-*.tar.gz | head -1)" \
		$(PY) -m pytest -q -p no:cacheprovider tests/test_dist_bundle.py

clean:
	rm -rf $(VENV) build dist *.egg-info
