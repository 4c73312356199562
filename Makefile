# DefectDesk: `make demo` runs the demo marketplace; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test lint typecheck check-browser clean messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP) $(TEST_STAMP)

demo: $(STAMP)
	DEFECTDESK_EMBEDDED=1 $(BIN)/defectdesk demo

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/vulture
	@# bandit logs a warning for each marked line that no test flags; its findings go to stdout.
	$(BIN)/bandit -q -r src -c pyproject.toml 2>/dev/null

typecheck: $(TEST_STAMP)
	DEFECTDESK_TESTING=1 $(BIN)/mypy src

# The suite runs on every core, a test file per process (files that share a fixed port or a
# module-wide server stay in one process); PYTEST_ARGS="-n 0" runs it in one process.
PYTEST_ARGS ?= -n auto --dist loadfile

test: $(TEST_STAMP) lint typecheck
	DEFECTDESK_TESTING=1 $(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var build src/*.egg-info

# Extract the strings to translate into the Simplified Chinese catalogue (needs GNU gettext's
# xgettext and msgmerge) and compile it with Babel (pure Python). Both files are committed.
messages: $(TEST_STAMP)
	cd src/defectdesk && DEFECTDESK_TESTING=1 DEFECTDESK_VAR_DIR=$(CURDIR)/var \
	  $(CURDIR)/$(BIN)/django-admin makemessages -l zh_Hans --no-obsolete --add-location file \
	  --settings=defectdesk.settings
	$(BIN)/pybabel compile -d src/defectdesk/locale -D django -l zh_Hans
