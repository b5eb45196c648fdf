# Coda: `make serve` runs it, `make test` tests it. Both install what they need first.
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install serve worker test lint schema bench clean

install:
	@bash scripts/install.sh

serve: install
	$(PY) manage.py migrate --noinput
	@echo "Coda: http://$(HOST):$(PORT)/graphql (GraphiQL, HTTP and websocket)  admin: http://$(HOST):$(PORT)/admin/"
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) backend.asgi:application

# Production-style worker; needs REDIS_URL and DATABASE_URL.
worker: install
	$(VENV)/bin/celery -A backend worker -Q coda --loglevel=INFO --concurrency=2

test: install
	@bash scripts/test.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Re-export schema.graphql from the live schema.
schema: install
	$(PY) manage.py export_schema schema --path schema.graphql
	$(PY) manage.py schema_changes

bench: install
	@bash scripts/bench.sh

clean:
	rm -rf var/media var/coda.sqlite3 .pytest_cache
