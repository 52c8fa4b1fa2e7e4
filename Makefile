# Two commands set everything up on a fresh machine with only Python 3.11, pip and gcc:
#   make serve   — create .venv if missing, install, start the service on 127.0.0.1:8000
#   make test    — same bootstrap, then every test (including notebooks), in 2 processes (pytest-xdist)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test browser postgres wrk bench install vendor-laws validate stats clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/shudi serve --host $(HOST) --port $(PORT)

# Headless Chromium, its driver and a CJK font for tests/test_web.py (Debian packages; idempotent).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && fc-list :lang=zh | grep -q . || \
	  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver fonts-wqy-zenhei)

# PostgreSQL server binaries for the platform tests (tests/platform_support.py starts a throw-away
# cluster from them on a free port); Debian package, idempotent.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql)

# wrk, the HTTP load generator of `make bench` (bench/speed.py); Debian package, idempotent.
wrk:
	@command -v wrk >/dev/null || \
	  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wrk)

test: $(STAMP) browser postgres
	$(PY) -m pytest -q -n 2 --dist loadfile --nbmake tests rules/tests notebooks

bench: $(STAMP) wrk postgres
	$(PY) -m bench.figures
	$(PY) bench/speed.py
	$(PY) bench/platform_bench.py
	$(PY) -m bench.real_messages --split tune
	$(PY) -m bench.real_messages --split holdout
	$(PY) -m bench.batch_bench

# Copy the statute texts the KB cites (all versions of each cited law) from ../shared/laws.
vendor-laws: $(STAMP)
	$(VENV)/bin/shudi kb vendor-laws --from ../shared/laws

validate: $(STAMP)
	$(VENV)/bin/shudi kb validate

stats: $(STAMP)
	$(VENV)/bin/shudi kb stats --json

clean:
	rm -rf $(VENV) .cache
