# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: demo test lint format bench clean install browser docs docs-check

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) torch==2.13.0
	$(PIP) -e ".[all,test]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/spectrakit demo --out demo-output

test: install browser
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -n 2 --durations=15
	$(MAKE) docs-check

# The docs site: every example runs with --quick so its figures appear on its page, then a strict
# build (a broken reference or docstring fails). `make test` runs the strict build alone.
docs: install
	for f in examples/[0-9]*.py examples/seed_*.py; do \
	  [ -f "$$f" ] || continue; \
	  $(PY) "$$f" --quick --out "example-output/$$(basename "$$f" .py)" >/dev/null || exit 1; \
	done
	$(MAKE) docs-check

docs-check: install
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

lint: install
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format src tests benchmarks examples
	$(VENV)/bin/ruff check --fix src tests benchmarks examples

bench: install
	for f in benchmarks/*.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) demo-output build dist .pytest_cache site

# The report test renders report.html in headless Chromium (a Debian package); install it when
# missing and possible, otherwise that one test is skipped with a reason.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    apt-get update -qq >/dev/null 2>&1 && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; } || \
	  echo "chromium unavailable: the report screenshot test will be skipped"
