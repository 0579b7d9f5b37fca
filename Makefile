# TellUs Coventry. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
export SPATIALITE_LIBRARY_PATH ?= mod_spatialite
PG_URL ?= postgresql://postgres@127.0.0.1:5432
# Debian packages the project needs: SpatiaLite, PostGIS, Chromium for the browser tests.
APT_PACKAGES := libsqlite3-mod-spatialite postgresql-15-postgis-3 chromium fonts-liberation
STAMP := .make

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  \033[1m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP):
	@mkdir -p $(STAMP)

system: ## Install the Debian packages (apt) if any is missing
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	python3 -m venv --help >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

$(STAMP)/venv: pyproject.toml constraints.txt | $(STAMP)
	test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $@

venv: $(STAMP)/venv ## Create the virtualenv and install Python packages

$(STAMP)/npm: package.json package-lock.json | $(STAMP)
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

assets: $(STAMP)/npm ## Build CSS and copy front-end assets from npm into app/static/build
	rm -rf app/static/build && mkdir -p app/static/build/govuk app/static/build/leaflet app/static/build/leaflet.heat
	npx sass --pkg-importer=node --style=compressed --quiet-deps --no-source-map app/static/scss/app.scss app/static/build/app.css
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js app/static/build/govuk/
	cp -r node_modules/govuk-frontend/dist/govuk/assets app/static/build/govuk/
	cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images app/static/build/leaflet/
	cp node_modules/leaflet.heat/dist/leaflet-heat.js app/static/build/leaflet.heat/

setup: system venv assets ## Everything `run` and `test` need

postgres: system ## Make sure PostgreSQL is running (PostGIS databases are created per use)
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect 15 main start || pg_ctlcluster 15 main start

# The mail worker runs in the background and is stopped when `flask run` exits (Ctrl-C).
run: setup ## Migrate, load wards and demo data, start the mail worker (mail in instance/mail/), serve on http://127.0.0.1:5000
	$(FLASK) db upgrade
	$(FLASK) geo load
	$(FLASK) demo load --if-empty
	$(FLASK) hotspots rebuild --if-empty
	@echo; $(FLASK) demo accounts; echo
	$(FLASK) worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; \
	$(FLASK) run --host 127.0.0.1 --port 5000

lint: venv ## ruff (lint and format check) and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

fmt: venv ## Format the code and apply safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: setup postgres lint ## The whole suite on SpatiaLite and on PostGIS, browser tests included
	$(VENV)/bin/pytest --db=spatialite
	$(VENV)/bin/pytest --db=postgis

BENCH_REPORTS ?= 1000000
bench: setup postgres ## Load BENCH_REPORTS reports and time the map API, PostGIS then SpatiaLite (~15 min at 1M; docs/benchmarks.md)
	$(PY) -m bench.bulk_load --db postgis --reports $(BENCH_REPORTS)
	$(PY) -m bench.bbox --db postgis --reports $(BENCH_REPORTS) --keep
	$(PY) -m bench.bulk_load --db spatialite --reports $(BENCH_REPORTS)
	$(PY) -m bench.bbox --db spatialite --reports $(BENCH_REPORTS) --keep

bench-inbox: setup postgres ## Time the partner inbox, its map and the performance page at BENCH_REPORTS reports all routed to one organisation (~40 min at 1M; docs/benchmarks.md)
	$(PY) -m bench.bench_inbox --db postgis --reports $(BENCH_REPORTS) --keep
	$(PY) -m bench.bench_inbox --db postgis --reports $(BENCH_REPORTS) --keep --without-index --cases sort-oldest,ward,map
	$(PY) -m bench.bench_inbox --db spatialite --reports $(BENCH_REPORTS) --keep
	$(PY) -m bench.bench_inbox --db spatialite --reports $(BENCH_REPORTS) --keep --without-index --cases sort-oldest,ward,map

bench-exports: setup postgres ## Stream CSV and GeoJSON exports of BENCH_REPORTS reports through the app: time and peak memory, PostGIS then SpatiaLite (~30 min at 1M with the loads; docs/benchmarks.md)
	$(PY) -m bench.bench_exports --db postgis --reports $(BENCH_REPORTS) --keep
	$(PY) -m bench.bench_exports --db spatialite --reports $(BENCH_REPORTS) --keep

bench-hotspots: setup postgres ## Time the ward dashboard at BENCH_REPORTS reports: hex count refresh and rebuild (with memory), city-wide Gi*, the dashboard page; PostGIS then SpatiaLite (~40 min at 1M with the loads; docs/benchmarks.md)
	$(PY) -m bench.bench_hotspots --db postgis --reports $(BENCH_REPORTS) --keep
	$(PY) -m bench.bench_hotspots --db spatialite --reports $(BENCH_REPORTS) --keep

.PHONY: help system venv assets setup postgres run lint fmt test bench bench-inbox bench-exports bench-hotspots
