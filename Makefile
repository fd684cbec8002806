# The two commands a newcomer needs: `make run` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1
STAMP := $(VENV)/.installed

.PHONY: run test lint messages screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --address http://$(HOST):$(PORT)
	$(PY) manage.py seed_demo_people
	$(PY) manage.py seed_demo_cases
	$(PY) manage.py seed_demo_funds
	@echo ""
	@echo "Serving the web interface at http://$(HOST):$(PORT)/  (demo accounts above; a current"
	@echo "  code: .venv/bin/python manage.py totp_now demo-caseworker). Stop with Ctrl-C."
	$(PY) manage.py runserver $(HOST):$(PORT)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# Extract every translatable string into locale/*/LC_MESSAGES/django.po (needs GNU gettext's
# xgettext; skipped with a plain message without it), then compile the catalogues with Babel,
# so `make run` needs no system gettext. The compiled .mo files are committed.
messages: $(STAMP)
	@if command -v xgettext >/dev/null 2>&1; then \
		$(PY) manage.py makemessages --locale ru --add-location file --no-obsolete \
			--ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*' --ignore 'bench/*' --ignore 'staticfiles/*'; \
	else \
		echo "GNU gettext (xgettext) is not installed: catalogues not re-extracted, only compiled."; \
	fi
	$(VENV)/bin/pybabel compile --directory locale --domain django --statistics

# Run the browser tests (they save a screenshot of every page under var/screenshots/) and copy
# the screenshots into docs/screenshots/ for the README.
screenshots: $(STAMP)
	$(PY) -m pytest -m browser -q tests/web
	mkdir -p docs/screenshots
	cp var/screenshots/*.png docs/screenshots/

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) staticfiles
