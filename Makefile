# The commands of the README:
#   make app    install what the app needs (once) and start it (make app PORT=8502: another port)
#   make test   install what the tests need (once, Chromium too where apt-get
#               and PostgreSQL where apt-get and root allow) and run every test
#   make lint   ruff (style, imports, no Streamlit in network/) and mypy (network/)
# Installs take exact pins from requirements*.txt and every indirect
# dependency's version from constraints.txt.
# Everything goes into .venv; nothing is installed system-wide but Chromium
# and PostgreSQL (whose tests start a throwaway server of their own).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: app test lint bench chromium postgresql

# MALLOC_ARENA_MAX=1: memory freed by training goes back to the system (network/memory.py).
app: $(VENV)/.app-installed
	MALLOC_ARENA_MAX=1 $(PY) -m streamlit run streamlit_app.py --server.port $(PORT)

test: $(VENV)/.test-installed chromium postgresql
	$(PY) -m pytest

lint: $(VENV)/.test-installed
	$(PY) -m ruff check .
	$(PY) -m mypy

bench: $(VENV)/.app-installed
	$(PY) -m network bench

$(VENV)/.app-installed: requirements.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.test-installed: requirements-test.txt constraints.txt $(VENV)/.app-installed
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt -c constraints.txt
	touch $@

# Browser tests drive Debian's Chromium; where it cannot be installed they skip.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
	      || echo "Could not install Chromium: the browser tests will be skipped"; \
	  else echo "Chromium not found: the browser tests will be skipped (apt-get install chromium)"; fi; }

# The store's tests run on SQLite and on a throwaway PostgreSQL server (Debian's
# binaries; the tests start their own); where it cannot be installed they skip.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; } \
	      || echo "Could not install PostgreSQL: its store tests will be skipped"; \
	  else echo "PostgreSQL not found: its store tests will be skipped (apt-get install postgresql)"; fi; }
