# Tendero: `make demo` serves the app with demo data; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/tendero

.PHONY: demo test system-packages lint types migrations-check test-sqlite test-postgres fuzz fuzz-short bench messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

# Debian packages the tests need: Chromium for the browser tests (driven by
# Playwright through executable_path; no browser is downloaded) and gettext for
# the catalogue's drift check (makemessages). Installed when missing and apt-get
# is there; otherwise those tests fail and say why.
SYSTEM_PACKAGES := chromium gettext
system-packages:
	@missing=""; for package in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			echo "installing Debian packages:$$missing"; \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null; \
		else \
			echo "!!! missing Debian packages:$$missing (apt-get install$$missing as root)"; \
		fi; \
	fi

messages: $(STAMP)
	$(BIN)/pybabel compile --domain django --directory tendero/locale --statistics 2>&1 | tail -n 1

demo: $(STAMP) messages
	$(BIN)/tendero demo

lint: $(STAMP)
	$(BIN)/ruff check tendero bench fuzz
	$(BIN)/ruff format --check tendero bench fuzz
	$(BIN)/lint-imports

types: $(STAMP)
	TENDERO_ENV=test $(BIN)/mypy tendero

migrations-check: $(STAMP)
	TENDERO_ENV=test $(BIN)/tendero makemigrations --check --dry-run

test-sqlite: $(STAMP) messages system-packages
	TENDERO_ENV=test $(BIN)/pytest -p no:cacheprovider tendero

# PostgreSQL is required in CI (REQUIRE_POSTGRES=1); on a laptop without it the
# suite says so loudly and runs on SQLite only.
test-postgres: $(STAMP) messages system-packages
	@if $(BIN)/python -m tendero.dbcheck "$(POSTGRES_URL)"; then \
		TENDERO_ENV=test DATABASE_URL="$(POSTGRES_URL)" $(BIN)/pytest -p no:cacheprovider tendero; \
	elif [ -n "$$REQUIRE_POSTGRES" ]; then \
		echo "PostgreSQL at $(POSTGRES_URL) is unreachable and REQUIRE_POSTGRES is set: failing."; exit 1; \
	else \
		echo "!!! PostgreSQL at $(POSTGRES_URL) is unreachable: PostgreSQL tests NOT run."; \
	fi

# Schema fuzzing of the whole API against a live server (schemathesis): 0 server
# errors is the bar. `make fuzz` is the long run; `make test` runs a short one.
FUZZ_DATABASES = $(if $(shell $(BIN)/python -m tendero.dbcheck "$(POSTGRES_URL)" 2>/dev/null && echo up),both,sqlite)
fuzz: $(STAMP) messages
	$(BIN)/python -m fuzz.api --database $(FUZZ_DATABASES) --examples 50 --max-time 600 --postgres-url "$(POSTGRES_URL)_fuzz"

fuzz-short: $(STAMP) messages
	@if [ -n "$$REQUIRE_POSTGRES" ] && [ "$(FUZZ_DATABASES)" != both ]; then \
		echo "PostgreSQL at $(POSTGRES_URL) is unreachable and REQUIRE_POSTGRES is set: failing."; exit 1; \
	fi
	$(BIN)/python -m fuzz.api --database $(FUZZ_DATABASES) --examples 5 --max-time 60 --postgres-url "$(POSTGRES_URL)_fuzz"

test: lint types migrations-check fuzz-short test-sqlite test-postgres

bench: $(BENCH_STAMP) messages
	$(BIN)/python -m bench.run

# `tendero serve` under 64 concurrent API clients on PostgreSQL (loopback only,
# at most 3,000 requests or 120 s): requests/s, latencies, errors, connections held.
.PHONY: bench-load
bench-load: $(BENCH_STAMP) messages
	$(BIN)/python -m bench.load

# The timeline's compiled-SQL cache against compiling each read, on SQLite and
# PostgreSQL, each in a database of its own with the demo company.
.PHONY: bench-timeline
bench-timeline: $(STAMP) messages
	$(BIN)/python -m bench.timeline_cache
	BENCH_DATABASE_URL="$(POSTGRES_URL)_bench" $(BIN)/python -m bench.timeline_cache

clean:
	rm -rf $(VENV) var staticfiles
