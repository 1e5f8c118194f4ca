# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
FLASK  := $(VENV)/bin/flask --app wsgi
STAMP  := $(VENV)/.installed
TRANSLATIONS := platform/translations

.PHONY: demo test lint bench worker cron babel babel-extract compile-translations serve smoke clean prod load drills

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11+ is needed (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -U pip

$(STAMP): $(PY) pyproject.toml setup.py
	@echo "Installing into $(VENV) (log: $(VENV)/install.log)"
	@$(PIP) install -e ".[dev]" > $(VENV)/install.log 2>&1 || { tail -30 $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

install: $(STAMP) compile-translations

compile-translations: $(STAMP)
	@$(VENV)/bin/pybabel -q compile -f -d $(TRANSLATIONS)

## demo: virtualenv, install, schema, demo data, serve on http://127.0.0.1:5000 (SQLite, jobs inline)
demo: install
	$(FLASK) db upgrade
	$(FLASK) demo load
	@echo "Serving on http://127.0.0.1:5000  (Ctrl-C to stop)"
	SESSION_COOKIE_SECURE=0 $(FLASK) run --host 127.0.0.1 --port 5000

## test: virtualenv, install, the whole suite
test: install
	$(VENV)/bin/pytest -q

## smoke: the embedded default from nothing (fresh SQLite, inline jobs, real HTTP)
smoke: install
	$(PY) bench/smoke_embedded.py

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/datagen.py --reuse
	$(PY) bench/tenancy_overhead.py
	$(PY) bench/login_throughput.py
	$(PY) bench/import_owners.py
	$(PY) bench/member_search.py
	$(PY) bench/points_api.py
	$(PY) bench/expiry.py
	$(PY) bench/settlement.py
	$(PY) bench/regional_rates.py
	$(PY) bench/churn.py
	$(PY) bench/care_list.py
	$(PY) bench/rsvp_burst.py

## prod: as in production on one machine (needs DATABASE_URL=postgresql+psycopg://… and
## REDIS_URL): schema upgrade, then gunicorn + two RQ workers + the one `rq cron` (Procfile)
## under honcho; JSON logs on stdout, metrics on http://$$BIND/metrics (loopback)
METRICS_DIR ?= /tmp/clubplatform-metrics
prod: install
	@case "$$DATABASE_URL" in postgresql*) ;; *) echo "make prod needs DATABASE_URL=postgresql+psycopg://…"; exit 1;; esac
	@test -n "$$REDIS_URL" || { echo "make prod needs REDIS_URL=redis://…"; exit 1; }
	$(FLASK) db upgrade
	rm -rf $(METRICS_DIR) && mkdir -p $(METRICS_DIR)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" PROMETHEUS_MULTIPROC_DIR=$(METRICS_DIR) \
	  BIND="$${BIND:-127.0.0.1:8000}" $(PY) deploy/procman.py start -f Procfile

## load: the mixed-workload load test against a running `make prod` (bench/load.py)
load: install
	$(PY) bench/load.py

## drills: the fault drills (kill workers mid-job, restart Redis/PostgreSQL, login abuse)
drills: install
	$(PY) bench/drills.py all

## worker / cron: production-style background processing (needs REDIS_URL)
worker: install
	$(FLASK) jobs worker

cron: install
	$(VENV)/bin/rq cron --url "$$REDIS_URL" clubplatform.schedule

## babel: extract messages, update catalogs, compile
babel: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o $(TRANSLATIONS)/messages.pot .
	$(VENV)/bin/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching
	$(VENV)/bin/pybabel compile -f -d $(TRANSLATIONS)

clean:
	rm -rf $(VENV) instance/clubplatform.db
