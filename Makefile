# llem: the two commands a fresh machine needs are `make demo` and `make test`.
SHELL := /bin/bash
UV := $(shell scripts/ensure-uv.sh)
SYNC := --locked --all-packages --extra tiny-model
RUN := $(UV) run $(SYNC)

.PHONY: help install infra web web-install test chaos lint typecheck schemas demo demo-down gpu-check bench-meter bench-scheduler bench-ingest bench-live bench-api bench-web

help:
	@echo "make demo       start the local stack and run examples/demo.yaml"
	@echo "make demo-down  stop the local stack"
	@echo "make test       install everything, lint, type-check and run the test suite"
	@echo "make chaos      faults under load against the whole stack; writes docs/reliability.md (~15 min)"
	@echo "make schemas    regenerate schemas/dist (JSON Schema + AsyncAPI), the API's OpenAPI document and the web app's API types"
	@echo "make web        build the web app (web/dist), served by llem-api at /"
	@echo "make bench-meter, bench-scheduler, bench-ingest, bench-live, bench-api, bench-web   benchmarks (results in bench/results)"

# Offline first: this machine's package index sends no cache headers, so an online sync revalidates
# llama-cpp-python's sdist and rebuilds it (5 minutes) even when the built wheel is in uv's cache.
install:
	$(UV) sync $(SYNC) --offline 2>/dev/null || $(UV) sync $(SYNC)

infra:
	scripts/install-timescaledb.sh

# Node.js + npm ci + Debian's Chromium for the browser tests
web-install:
	scripts/install-web.sh

web: web-install
	cd web && npm run build

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: install
	$(RUN) mypy

schemas: install web-install
	$(RUN) llem-schemas docs
	$(RUN) llem-api openapi
	cd web && npm run gen:api

test: install infra web-install
	$(RUN) llem-schemas docs --check
	$(RUN) llem-api openapi --check
	cd web && npm run check:api
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	cd web && npm run typecheck && npm test && npm run build
	$(RUN) pytest

# The reliability ledger (tests/chaos): faults under load, then docs/reliability.md from what it
# recorded (written also when a fault was not clean, so the table shows it).
chaos: install infra
	scripts/install-chaos.sh
	rm -f bench/results/chaos.jsonl
	LLEM_CHAOS=1 $(RUN) pytest tests/chaos; status=$$?; $(RUN) python -m tests.chaos.report; exit $$status

demo: install infra web
	$(RUN) llem demo

demo-down: install
	$(RUN) llem stack down

gpu-check:
	scripts/gpu-check.sh

bench-meter: install
	$(RUN) python bench/bench_meter.py

bench-scheduler: install
	$(RUN) python bench/bench_scheduler.py

bench-ingest: install infra
	$(RUN) python bench/bench_ingest.py

bench-live: install infra
	$(RUN) python bench/bench_live.py

# BENCH_API_DATA=DIR keeps the seeded database (10,000 runs, 10 M samples, ~3 min to seed) for the next run
bench-api: install infra
	$(RUN) python bench/bench_api.py $(if $(BENCH_API_DATA),--data $(BENCH_API_DATA))

bench-web: install infra web
	$(RUN) python bench/bench_web.py
